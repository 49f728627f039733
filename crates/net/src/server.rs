//! The hardened HTTP server every page Shopcast serves shares (the test checkout, the shop page):
//! a header-read timeout, a per-request deadline, a send deadline and a cap on each connection's
//! life, a body cap, and connection caps (per client and in all) that make room for a newcomer
//! by closing an idle connection, never one answering a request.

use std::collections::BTreeMap;
use std::future::Future as _;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tower::ServiceExt as _;

use crate::rate::client_key;

/// How much the server lets any client take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLimits {
    /// Open connections at most; past it the oldest idle one is closed for the newcomer, and
    /// when none is idle the newcomer is refused (a request being answered is never cut off).
    pub max_connections: usize,
    /// Open connections one client (an IPv4 address, an IPv6 /64) may hold; past it that
    /// client's oldest idle one is closed (else the newcomer), so one client cannot fill the
    /// server.
    pub max_connections_per_client: usize,
    /// A request's headers must arrive within this (slow-loris clients are cut off).
    pub header_timeout: Duration,
    /// Reading the body and answering must finish within this.
    pub request_timeout: Duration,
    /// Once the client stops taking what is sent, the answer must be on its way within this
    /// (a client that reads nothing cannot hold the answer in memory).
    pub send_timeout: Duration,
    /// A connection is closed after this however busy it is (a client reading a byte at a
    /// time, or asking forever, cannot keep one). Idle keep-alive connections are closed
    /// sooner, after `header_timeout` without the next request.
    pub max_connection_life: Duration,
    /// Largest request body announced in Content-Length (the app's own body limit catches
    /// chunked ones).
    pub max_body_bytes: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: 1024,
            max_connections_per_client: 32,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(15),
            // A phone on a poor network takes a few seconds for a photo.
            send_timeout: Duration::from_secs(60),
            max_connection_life: Duration::from_secs(10 * 60),
            max_body_bytes: 4 * 1024,
        }
    }
}

/// Raises this process's soft limit of open files to at least `wanted` (up to the hard limit)
/// and returns the limit now: a server capped at 1,024 connections needs more than the usual
/// soft limit of 1,024 descriptors.
pub fn raise_open_file_limit(wanted: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < wanted {
            let raised = libc::rlimit {
                rlim_cur: wanted.min(limit.rlim_max),
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}

/// Renders the server's own refusals (413 for a body over the cap, 408 past the deadline) as
/// the app's pages.
pub type Refusal = Arc<dyn Fn(StatusCode) -> Response + Send + Sync>;

/// A running server; dropping it stops accepting and closes its connections.
pub struct Server {
    pub addr: SocketAddr,
    stop: Arc<Notify>,
    connections: Arc<Connections>,
    /// The accept loop, which owns the listening socket.
    accepting: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.notify_one();
        self.connections.close_all();
    }
}

impl Server {
    /// Stops accepting and returns once the port is free again, so a server started next on
    /// the same port cannot find it still taken (dropping only asks the loop to stop).
    pub async fn stop(mut self) {
        self.stop.notify_one();
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.await;
        }
    }

    /// Connections open now (for tests of the cap).
    pub fn open_connections(&self) -> usize {
        self.connections.count()
    }

    /// Requests being answered now, over all connections.
    pub fn in_flight(&self) -> usize {
        self.connections.busy()
    }
}

/// Serves `router` on `listener` within `limits`; `refusal` renders the 413 and 408 pages.
/// The router sees the peer as `ConnectInfo<SocketAddr>`.
pub fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: ServerLimits,
    refusal: Refusal,
) -> std::io::Result<Server> {
    let addr = listener.local_addr()?;
    let stop = Arc::new(Notify::new());
    let connections = Arc::new(Connections::default());
    let accepting = tokio::spawn(accept_loop(
        listener,
        router,
        Arc::new(limits),
        refusal,
        stop.clone(),
        connections.clone(),
    ));
    Ok(Server {
        addr,
        stop,
        connections,
        accepting: Some(accepting),
    })
}

/// The open connections, oldest first, with who opened each and how many requests each is
/// answering.
#[derive(Default)]
struct Connections {
    open: Mutex<BTreeMap<u64, Connection>>,
    next_id: Mutex<u64>,
}

struct Connection {
    /// The client it counts for (see [`client_key`]).
    client: IpAddr,
    load: Arc<Load>,
    close: Arc<Notify>,
}

/// What a connection is doing now.
#[derive(Default)]
struct Load {
    /// Requests in flight (headers in, answer not yet handed over).
    busy: AtomicUsize,
    /// Of those, requests whose body has not all arrived: a slow (or never-ending) body is
    /// not yet a request being answered.
    receiving: AtomicUsize,
}

impl Load {
    fn idle(&self) -> bool {
        self.busy.load(Ordering::Acquire) == 0
    }

    /// Busy only waiting for a body.
    fn only_receiving(&self) -> bool {
        self.receiving.load(Ordering::Acquire) >= self.busy.load(Ordering::Acquire)
    }
}

impl Connections {
    /// Makes room for one more connection from `peer` and registers it; `None` refuses it.
    /// A client at its own cap, or a full server, loses its oldest idle connection, else its
    /// oldest one still waiting for a request body (slow bodies); when every one is answering
    /// a request, the newcomer is refused rather than a buyer cut off midway.
    fn admit(&self, peer: IpAddr, limits: &ServerLimits) -> Option<(u64, Arc<Load>, Arc<Notify>)> {
        let client = client_key(peer);
        let mut open = self.open.lock().expect("lock");
        let room = |mine: &dyn Fn(&Connection) -> bool| {
            let oldest = |wanted: fn(&Load) -> bool| {
                open.iter()
                    .find(|(_, c)| mine(c) && wanted(&c.load))
                    .map(|(id, _)| *id)
            };
            oldest(Load::idle).or_else(|| oldest(Load::only_receiving))
        };
        let theirs = open.values().filter(|c| c.client == client).count();
        let evict = if theirs >= limits.max_connections_per_client.max(1) {
            Some(room(&|c| c.client == client))
        } else if open.len() >= limits.max_connections.max(1) {
            Some(room(&|_| true))
        } else {
            None
        };
        match evict {
            Some(None) => return None,
            Some(Some(id)) => {
                if let Some(evicted) = open.remove(&id) {
                    evicted.close.notify_one();
                }
            }
            None => {}
        }
        let id = {
            let mut next = self.next_id.lock().expect("lock");
            *next += 1;
            *next
        };
        let connection = Connection {
            client,
            load: Arc::default(),
            close: Arc::new(Notify::new()),
        };
        let handles = (id, connection.load.clone(), connection.close.clone());
        open.insert(id, connection);
        Some(handles)
    }

    fn leave(&self, id: u64) {
        self.open.lock().expect("lock").remove(&id);
    }

    fn close_all(&self) {
        for (_, connection) in std::mem::take(&mut *self.open.lock().expect("lock")) {
            connection.close.notify_one();
        }
    }

    fn count(&self) -> usize {
        self.open.lock().expect("lock").len()
    }

    fn busy(&self) -> usize {
        let open = self.open.lock().expect("lock");
        open.values()
            .map(|c| c.load.busy.load(Ordering::Acquire))
            .sum()
    }
}

/// Counts one in `counter` for as long as it lives (a request in flight, a body arriving).
struct Counted(Arc<Load>, fn(&Load) -> &AtomicUsize);

impl Counted {
    fn new(load: &Arc<Load>, counter: fn(&Load) -> &AtomicUsize) -> Counted {
        counter(load).fetch_add(1, Ordering::AcqRel);
        Counted(load.clone(), counter)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        (self.1)(&self.0).fetch_sub(1, Ordering::AcqRel);
    }
}

/// A request body that counts as arriving until its end (or until the app drops it).
struct Arriving {
    inner: Incoming,
    receiving: Option<Counted>,
}

impl hyper::body::Body for Arriving {
    type Data = hyper::body::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let frame = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(frame, Poll::Ready(None | Some(Err(_)))) || self.inner.is_end_stream() {
            self.receiving = None;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

async fn accept_loop(
    listener: TcpListener,
    router: axum::Router,
    limits: Arc<ServerLimits>,
    refusal: Refusal,
    stop: Arc<Notify>,
    connections: Arc<Connections>,
) {
    loop {
        let accepted = tokio::select! {
            _ = stop.notified() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                // Out of file descriptors and the like: pause instead of spinning.
                tracing::warn!(%error, "could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some((id, load, close)) = connections.admit(peer.ip(), &limits) else {
            // Every connection is answering someone: this one is closed unanswered.
            drop(stream);
            continue;
        };
        let connections = connections.clone();
        let router = router.clone();
        let limits = limits.clone();
        let refusal = refusal.clone();
        tokio::spawn(async move {
            serve_connection(stream, peer, router, &limits, refusal, load, close).await;
            connections.leave(id);
        });
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    limits: &ServerLimits,
    refusal: Refusal,
    load: Arc<Load>,
    close: Arc<Notify>,
) {
    let max_body = limits.max_body_bytes;
    let deadline = limits.request_timeout;
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        let in_flight = Counted::new(&load, |l| &l.busy);
        let receiving = (!hyper::body::Body::is_end_stream(request.body()))
            .then(|| Counted::new(&load, |l| &l.receiving));
        let router = router.clone();
        let refusal = refusal.clone();
        async move {
            let _in_flight = in_flight;
            request.extensions_mut().insert(ConnectInfo(peer));
            let declared = request
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|length| length > max_body as u64) {
                return Ok::<_, std::convert::Infallible>(refusal(StatusCode::PAYLOAD_TOO_LARGE));
            }
            let request = request.map(|inner| axum::body::Body::new(Arriving { inner, receiving }));
            Ok(
                match tokio::time::timeout(deadline, router.oneshot(request)).await {
                    Ok(Ok(response)) => response,
                    Ok(Err(never)) => match never {},
                    Err(_) => refusal(StatusCode::REQUEST_TIMEOUT),
                },
            )
        }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        // Headers beyond 16 KiB are refused (431) rather than buffered.
        .max_buf_size(16 * 1024);
    let stream = SendDeadline {
        inner: stream,
        limit: limits.send_timeout,
        stalled: None,
    };
    let connection = http.serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        _ = close.notified() => {}
        _ = tokio::time::sleep(limits.max_connection_life) => {}
    }
}

/// The connection's socket, failing a write that the client has not taken for `limit`: the
/// clock starts when the socket stops taking bytes and stops only when everything queued is
/// sent, so an answer cannot wait on a client that reads nothing.
struct SendDeadline {
    inner: TcpStream,
    limit: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl SendDeadline {
    /// Called when the socket is not taking bytes: an error once it has not for `limit`.
    fn waiting(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Error> {
        let limit = self.limit;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client took nothing of the answer in time",
            )),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for SendDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Pending => self.waiting(cx).map(Err),
            ready => ready,
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => self.waiting(cx).map(Err),
            ready => ready,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Pending => self.waiting(cx).map(Err),
            Poll::Ready(Ok(())) => {
                // All of it is sent (hyper flushes after each answer): the clock stops.
                self.stalled = None;
                Poll::Ready(Ok(()))
            }
            ready => ready,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpSocket;

    use super::*;

    /// A server with one 16 MiB answer (more than both sockets' buffers hold) and a small one.
    async fn start(limits: ServerLimits) -> Server {
        let router = axum::Router::new()
            .route("/big", get(|| async { vec![b'x'; 16 * 1024 * 1024] }))
            .route("/small", get(|| async { "ok" }))
            .route(
                "/echo",
                axum::routing::post(|body: String| async move { body }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(800)).await;
                    "slow"
                }),
            );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        serve(
            listener,
            router,
            limits,
            Arc::new(|status| status.into_response()),
        )
        .unwrap()
    }

    use axum::response::IntoResponse as _;

    /// Waits (up to `within`) until the server holds no connection; how long it took.
    async fn until_closed(server: &Server, within: Duration) -> Duration {
        let started = Instant::now();
        while server.open_connections() > 0 {
            assert!(started.elapsed() < within, "still open after {within:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        started.elapsed()
    }

    #[tokio::test]
    async fn a_client_that_reads_nothing_is_cut_off() {
        let server = start(ServerLimits {
            send_timeout: Duration::from_millis(500),
            ..Default::default()
        })
        .await;
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut stream = socket.connect(server.addr).await.unwrap();
        stream
            .write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            server.open_connections(),
            1,
            "served while within the limit"
        );
        let took = until_closed(&server, Duration::from_secs(5)).await;
        assert!(took < Duration::from_secs(2), "closed after {took:?}");
        drop(stream);
    }

    #[tokio::test]
    async fn a_client_that_reads_slowly_but_steadily_gets_the_whole_answer() {
        let server = start(ServerLimits {
            send_timeout: Duration::from_secs(2),
            ..Default::default()
        })
        .await;
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        // A pause shorter than the limit, then everything.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await.unwrap();
        assert!(reply.starts_with(b"HTTP/1.1 200 "));
        assert!(reply.len() > 16 * 1024 * 1024, "{} bytes", reply.len());
    }

    #[tokio::test]
    async fn a_busy_connection_is_closed_at_the_end_of_its_life() {
        let server = start(ServerLimits {
            max_connection_life: Duration::from_millis(800),
            ..Default::default()
        })
        .await;
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let started = Instant::now();
        let mut answered = 0;
        // Keep asking on one keep-alive connection, never idle.
        loop {
            let asked = stream
                .write_all(b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n")
                .await;
            let mut reply = [0u8; 512];
            let read = match asked {
                Ok(()) => stream.read(&mut reply).await.unwrap_or(0),
                Err(_) => 0,
            };
            if read == 0 {
                break;
            }
            answered += 1;
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "still answering after {:?}",
                started.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let took = started.elapsed();
        assert!(answered >= 5, "answered {answered}");
        assert!(took >= Duration::from_millis(700), "closed after {took:?}");
    }

    #[tokio::test]
    async fn an_idle_keep_alive_connection_is_closed() {
        let server = start(ServerLimits {
            header_timeout: Duration::from_millis(500),
            ..Default::default()
        })
        .await;
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut reply = [0u8; 512];
        assert!(stream.read(&mut reply).await.unwrap() > 0);
        let took = until_closed(&server, Duration::from_secs(3)).await;
        assert!(took >= Duration::from_millis(300), "closed after {took:?}");
    }

    /// Sends a GET for `path` on a new connection.
    async fn ask(server: &Server, path: &str) -> tokio::net::TcpStream {
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
            )
            .await
            .unwrap();
        stream
    }

    async fn reply(mut stream: tokio::net::TcpStream) -> String {
        let mut reply = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut reply)).await;
        String::from_utf8_lossy(&reply).into_owned()
    }

    #[tokio::test]
    async fn a_full_server_refuses_the_newcomer_rather_than_cut_off_an_answer() {
        let server = start(ServerLimits {
            max_connections: 2,
            ..Default::default()
        })
        .await;
        let first = ask(&server, "/slow").await;
        let second = ask(&server, "/slow").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(server.in_flight(), 2);
        let newcomer = ask(&server, "/small").await;
        let started = Instant::now();
        let refused = reply(newcomer).await;
        assert!(refused.is_empty(), "{refused}");
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "closed at once"
        );
        for answer in [first, second] {
            let answer = reply(answer).await;
            assert!(
                answer.starts_with("HTTP/1.1 200 ") && answer.ends_with("slow"),
                "{answer}"
            );
        }
    }

    #[tokio::test]
    async fn idle_connections_make_room_for_a_newcomer() {
        let server = start(ServerLimits {
            max_connections: 2,
            max_connections_per_client: 2,
            ..Default::default()
        })
        .await;
        let busy = ask(&server, "/slow").await;
        let mut idle = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let newcomer = reply(ask(&server, "/small").await).await;
        assert!(newcomer.starts_with("HTTP/1.1 200 "), "{newcomer}");
        // The idle one was closed for it, the busy one answered.
        let mut byte = [0u8; 1];
        assert_eq!(idle.read(&mut byte).await.unwrap_or(0), 0);
        assert!(reply(busy).await.ends_with("slow"));
    }

    #[tokio::test]
    async fn a_body_that_never_arrives_makes_room_but_an_answer_is_kept() {
        let server = start(ServerLimits {
            max_connections: 2,
            max_connections_per_client: 2,
            ..Default::default()
        })
        .await;
        let mut slow_body = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        slow_body
            .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
            .await
            .unwrap();
        let answering = ask(&server, "/slow").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(server.in_flight(), 2);
        let newcomer = reply(ask(&server, "/small").await).await;
        assert!(newcomer.starts_with("HTTP/1.1 200 "), "{newcomer}");
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(2), slow_body.read_to_end(&mut rest))
            .await
            .expect("closed for the newcomer")
            .ok();
        assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
        assert!(reply(answering).await.ends_with("slow"));
    }
}
