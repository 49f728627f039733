//! mastodon-mock (PyPI), run per test through `tests/peers/mastodon-mock.sh`: in memory, on a
//! free 127.0.0.1 port, with its files in the test's temp dir; killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct MastodonMock {
    child: Child,
    base: String,
    state: tempfile::TempDir,
    http: reqwest::Client,
}

/// A local account on the mock with its own user token.
pub struct MockAccount {
    pub id: String,
    pub username: String,
    pub token: String,
}

impl MastodonMock {
    /// Starts a fresh mastodon-mock. Fails (never skips) when it is not installed.
    pub async fn start() -> MastodonMock {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|dir| dir.join("tests/peers/mastodon-mock.sh"))
            .find(|path| path.exists())
            .expect("tests/peers/mastodon-mock.sh above the crate");
        let binary = venv().join("bin/mastodon_mock");
        assert!(
            binary.exists(),
            "mastodon-mock is not installed ({} is missing): run tests/peers/setup.sh",
            binary.display()
        );
        let http = shopcast_social::http::client();
        // A port just freed by the OS can be taken by another test before the mock binds it.
        for _ in 0..3 {
            let state = tempfile::tempdir().unwrap();
            let port = free_port();
            let log = std::fs::File::create(state.path().join("server.log")).unwrap();
            let child = Command::new("bash")
                .arg(&script)
                .arg(port.to_string())
                .arg(state.path())
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("bash runs tests/peers/mastodon-mock.sh");
            let mut mock = MastodonMock {
                child,
                base: format!("http://127.0.0.1:{port}"),
                state,
                http: http.clone(),
            };
            if mock.wait_until_ready().await {
                return mock;
            }
            let log = mock.log();
            if !log.contains("address already in use") {
                panic!("mastodon-mock did not start; run tests/peers/setup.sh\n--- log ---\n{log}");
            }
        }
        panic!("mastodon-mock found no free port in 3 tries");
    }

    async fn wait_until_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            let ready = self
                .http
                .get(format!("{}/api/v2/instance", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "mastodon-mock did not answer within 30 s\n--- log ---\n{}",
            self.log()
        );
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.state.path().join("server.log")).unwrap_or_default()
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Self-service sign-up (`POST /api/v1/accounts`), as a new shop owner would.
    pub async fn create_account(&self, username: &str) -> MockAccount {
        let email = format!("{username}@shop.test");
        let reply: Value = self
            .http
            .post(format!("{}/api/v1/accounts", self.base))
            .form(&[
                ("username", username),
                ("email", email.as_str()),
                ("password", "correct horse battery"),
                ("agreement", "true"),
                ("locale", "en"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = reply["access_token"].as_str().expect("a token").to_string();
        let me: Value = self
            .get_json(&token, "/api/v1/accounts/verify_credentials")
            .await;
        MockAccount {
            id: me["id"].as_str().unwrap().to_string(),
            username: username.to_string(),
            token,
        }
    }

    pub async fn get_json(&self, token: &str, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "GET {path}: {response:?}");
        response.json().await.unwrap()
    }

    /// The account's statuses, newest first, as anyone reading the profile sees them.
    pub async fn statuses_of(&self, account: &MockAccount) -> Vec<Value> {
        let statuses = self
            .get_json(
                &account.token,
                &format!("/api/v1/accounts/{}/statuses", account.id),
            )
            .await;
        statuses.as_array().unwrap().clone()
    }
}

impl Drop for MastodonMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn venv() -> PathBuf {
    match std::env::var_os("SHOPCAST_VENV") {
        Some(venv) => PathBuf::from(venv),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
            .join(".cache/shopcast-venv"),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The hidden fields of the instance's account-picker form, as a browser would submit them.
pub fn hidden_inputs(page: &str) -> std::collections::HashMap<String, String> {
    page.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|tag| {
            let name = tag.split("name=\"").nth(1)?.split('"').next()?;
            let value = tag.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}
