//! The reference Bluesky PDS as a test peer: `node tests/peers/pds/start.js <dir>` on a free
//! loopback port, one per test, stopped on drop. Accounts are made the way an owner would.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

/// Fixed in `tests/peers/pds/start.js`: the PDS signs access tokens with it (HS256).
pub const JWT_SECRET: &str = "shopcast-test-jwt-secret";

pub struct Pds {
    pub url: String,
    child: Child,
    /// Held open: the peer stops by itself when it closes (a test that dies leaves nothing).
    _stdin: ChildStdin,
    _data: tempfile::TempDir,
    client: reqwest::Client,
}

/// An account as created on the PDS, with its full-access (not app password) session.
pub struct Account {
    pub did: String,
    pub handle: String,
    pub access_jwt: String,
}

impl Pds {
    pub fn start() -> Pds {
        // Shared by tests of several crates: look upwards for the repository's peers.
        let peer = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|dir| dir.join("tests/peers/pds"))
            .find(|dir| dir.join("start.js").is_file())
            .expect("tests/peers/pds above the crate");
        assert!(
            peer.join("node_modules/@atproto/pds").is_dir(),
            "the reference PDS is not installed in {}: run tests/peers/setup.sh",
            peer.display()
        );
        let data = tempfile::tempdir().expect("temp dir");
        let log = std::fs::File::create(data.path().join("pds.log")).expect("log file");
        let mut child = Command::new("node")
            .arg(peer.join("start.js"))
            .arg(data.path().join("pds"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("node runs (Node 20+ is needed for the reference PDS)");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut first = String::new();
            let _ = BufReader::new(stdout).read_line(&mut first);
            let _ = tx.send(first);
        });
        let first = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_default();
        let Some(url) = first.trim().strip_prefix("PDS ").map(str::to_string) else {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(data.path().join("pds.log")).unwrap_or_default();
            panic!("the reference PDS did not start (stdout: {first:?}):\n{log}");
        };
        let stdin = child.stdin.take().expect("piped stdin");
        Pds {
            url,
            child,
            _stdin: stdin,
            _data: data,
            client: shopcast_social::http::client(),
        }
    }

    fn xrpc(&self, nsid: &str) -> String {
        format!("{}/xrpc/{nsid}", self.url)
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Value {
        let response = request.send().await.expect("PDS reachable");
        let status = response.status();
        let body = response.text().await.expect("PDS reply");
        assert!(status.is_success(), "PDS said {status}: {body}");
        if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&body).expect("PDS JSON")
        }
    }

    /// `com.atproto.server.createAccount` (invites are off on the test PDS).
    pub async fn create_account(&self, handle: &str) -> Account {
        let reply = self
            .call(
                self.client
                    .post(self.xrpc("com.atproto.server.createAccount"))
                    .json(&json!({
                        "handle": handle,
                        "email": format!("{}@example.com", handle.replace('.', "-")),
                        "password": "main-password-not-for-apps",
                    })),
            )
            .await;
        Account {
            did: reply["did"].as_str().unwrap().to_string(),
            handle: reply["handle"].as_str().unwrap().to_string(),
            access_jwt: reply["accessJwt"].as_str().unwrap().to_string(),
        }
    }

    /// `com.atproto.server.createAppPassword`, as the owner does in Bluesky's settings.
    pub async fn create_app_password(&self, account: &Account, name: &str) -> String {
        let reply = self
            .call(
                self.client
                    .post(self.xrpc("com.atproto.server.createAppPassword"))
                    .bearer_auth(&account.access_jwt)
                    .json(&json!({"name": name})),
            )
            .await;
        reply["password"].as_str().unwrap().to_string()
    }

    pub async fn revoke_app_password(&self, account: &Account, name: &str) {
        self.call(
            self.client
                .post(self.xrpc("com.atproto.server.revokeAppPassword"))
                .bearer_auth(&account.access_jwt)
                .json(&json!({"name": name})),
        )
        .await;
    }

    /// `com.atproto.repo.getRecord` of one post: `{uri, cid, value}`.
    pub async fn get_post(&self, at_uri: &str) -> Value {
        let parts: Vec<&str> = at_uri.trim_start_matches("at://").split('/').collect();
        assert_eq!(parts.len(), 3, "{at_uri}");
        self.call(
            self.client
                .get(self.xrpc("com.atproto.repo.getRecord"))
                .query(&[
                    ("repo", parts[0]),
                    ("collection", parts[1]),
                    ("rkey", parts[2]),
                ]),
        )
        .await
    }

    /// Every `app.bsky.feed.post` in the account's repository.
    pub async fn posts(&self, did: &str) -> Vec<Value> {
        let reply = self
            .call(
                self.client
                    .get(self.xrpc("com.atproto.repo.listRecords"))
                    .query(&[
                        ("repo", did),
                        ("collection", "app.bsky.feed.post"),
                        ("limit", "100"),
                    ]),
            )
            .await;
        reply["records"].as_array().unwrap().clone()
    }

    /// `com.atproto.sync.getBlob`: the stored bytes.
    pub async fn blob(&self, did: &str, cid: &str) -> Vec<u8> {
        let response = self
            .client
            .get(self.xrpc("com.atproto.sync.getBlob"))
            .query(&[("did", did), ("cid", cid)])
            .send()
            .await
            .expect("PDS reachable");
        assert!(
            response.status().is_success(),
            "getBlob: {}",
            response.status()
        );
        response.bytes().await.expect("blob").to_vec()
    }
}

impl Drop for Pds {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
