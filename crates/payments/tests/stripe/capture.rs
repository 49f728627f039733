//! A local HTTP server standing in for Stripe in contract tests: it records every request
//! (method, path, query, headers, decoded form) and answers what the test scripts.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use reqwest::Url;
use shopcast_payments::stripe::{StripeConfig, StripeProvider};

pub const SECRET_KEY: &str = "sk_test_51ContractKeyDoNotLog";

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    /// The body decoded as `application/x-www-form-urlencoded`, in order.
    pub form: Vec<(String, String)>,
}

impl Captured {
    /// The one value of form field `name`; panics if it is missing or repeated.
    pub fn field(&self, name: &str) -> &str {
        let values = values(&self.form, name);
        assert_eq!(values.len(), 1, "form field {name} in {:?}", self.form);
        values[0]
    }

    pub fn query_values(&self, name: &str) -> Vec<&str> {
        values(&self.query, name)
    }

    /// The one value of query parameter `name`, if present.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        let values = values(&self.query, name);
        assert!(
            values.len() <= 1,
            "query {name} repeated in {:?}",
            self.query
        );
        values.first().copied()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }
}

fn values<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .collect()
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }
}

type Script = Arc<dyn Fn(&Captured) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    script: Script,
    requests: Arc<Mutex<Vec<Captured>>>,
}

/// The running server; stops when dropped.
pub struct CaptureServer {
    pub base: Url,
    requests: Arc<Mutex<Vec<Captured>>>,
    task: tokio::task::JoinHandle<()>,
}

impl CaptureServer {
    /// Starts a server on 127.0.0.1 that answers every request with `script(request)`.
    pub async fn start(script: impl Fn(&Captured) -> Reply + Send + Sync + 'static) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            script: Arc::new(script),
            requests: requests.clone(),
        };
        let router = axum::Router::new().fallback(answer).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        CaptureServer {
            base,
            requests,
            task,
        }
    }

    /// Always answers `reply`.
    pub async fn always(reply: Reply) -> Self {
        CaptureServer::start(move |_| reply.clone()).await
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.requests.lock().unwrap().clone()
    }

    /// The only request received; panics unless exactly one came.
    pub fn only_request(&self) -> Captured {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "requests: {requests:#?}");
        requests.into_iter().next().unwrap()
    }

    pub fn config(&self) -> StripeConfig {
        StripeConfig {
            api_base: self.base.clone(),
            ..StripeConfig::new(SECRET_KEY)
        }
    }

    pub fn provider(&self) -> StripeProvider {
        StripeProvider::new(self.config()).unwrap()
    }
}

impl Drop for CaptureServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let decode = |text: &[u8]| -> Vec<(String, String)> {
        url::form_urlencoded::parse(text)
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect()
    };
    let captured = Captured {
        method,
        path: uri.path().to_string(),
        query: decode(uri.query().unwrap_or("").as_bytes()),
        headers,
        form: decode(&body),
    };
    let reply = (shared.script)(&captured);
    shared.requests.lock().unwrap().push(captured);
    let mut headers = HeaderMap::new();
    for (name, value) in reply.headers {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    (
        StatusCode::from_u16(reply.status).unwrap(),
        headers,
        reply.body,
    )
        .into_response()
}
