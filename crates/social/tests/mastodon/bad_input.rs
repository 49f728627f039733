//! Hostile replies from a Mastodon instance (a real socket, one scripted reply each) through
//! the real client: each ends in a clear error code and sentence, never a panic or a post.

use shopcast_social::mastodon::MastodonPublisher;
use shopcast_social::{PublishError, Publisher};

use crate::garbage::{self, Garbage, post};
use crate::tally::{Tally, got};

#[tokio::test]
async fn hostile_instance_replies_give_clear_errors() {
    let mut tally = Tally::new("Mastodon replies");
    let mut replies = garbage::replies("network_bad_response");
    replies.push((
        "200 with wrong types",
        Garbage::json(200, r#"{"id":12,"acct":["shop"],"url":false}"#),
        "network_bad_response",
    ));
    for (name, reply, code) in replies {
        let base = garbage::serve(reply).await;
        let publisher = MastodonPublisher::new(&base, "token-123").unwrap();
        let who = publisher.verify_credentials().await;
        tally.refused(
            &format!("verify_credentials, {name}"),
            got(&who, PublishError::code),
            code,
        );
        let posted = publisher.publish(&post()).await;
        tally.refused(
            &format!("publish, {name}"),
            got(&posted, PublishError::code),
            code,
        );
    }
    let tried = tally.finish();
    assert!(tried >= 30, "{tried}");
}

/// Sends `request` as written to the catcher's port; the status (0 when it closed first).
async fn raw(redirect: &str, request: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = redirect
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap();
    let mut socket = tokio::net::TcpStream::connect(host).await.unwrap();
    let _ = socket.write_all(request).await;
    let mut reply = Vec::new();
    let _ = socket.read_to_end(&mut reply).await;
    String::from_utf8_lossy(&reply)
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn callback(query: &str) -> Vec<u8> {
    format!("GET /callback?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .into_bytes()
}

/// OAuth callbacks that are not this sign-in's (wrong, missing or oversized state, other
/// paths and methods) are refused and ignored: the sign-in keeps waiting for its own.
#[tokio::test]
async fn hostile_oauth_callbacks_are_ignored_and_the_sign_in_waits_on() {
    use shopcast_social::oauth::LoopbackCatcher;
    use std::time::Duration;
    let mut tally = Tally::new("OAuth callbacks");
    let catcher = LoopbackCatcher::bind(0).await.unwrap();
    let redirect = catcher.redirect_uri().to_string();
    let waiting = tokio::spawn(catcher.wait_for_code("st-good", Duration::from_secs(20)));
    let ignored: Vec<(&str, Vec<u8>)> = vec![
        ("wrong state", callback("code=evil&state=st-bad")),
        ("no state", callback("code=evil")),
        ("empty state", callback("code=evil&state=")),
        ("state in capitals", callback("code=evil&state=ST-GOOD")),
        ("state with more after it", callback("code=evil&state=st-good-x")),
        ("state with a NUL", callback("code=evil&state=st-good%00")),
        ("no query at all", callback("")),
        ("a 100 KB state", callback(&format!("code=evil&state={}", "s".repeat(100_000)))),
        ("a 1 MB query", callback(&format!("code=evil&pad={}", "p".repeat(1 << 20)))),
        ("script in the error", callback("error=%3Cscript%3Ealert(1)%3C/script%3E&state=st-bad")),
        ("another path", b"GET /callback/../admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()),
        ("POST", b"POST /callback?code=evil&state=st-good HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()),
        ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec()),
    ];
    for (name, request) in ignored {
        let status = raw(&redirect, &request).await;
        tally.check(name, status == 0 || (400..500).contains(&status), || {
            format!("status {status}")
        });
        tally.also(name, !waiting.is_finished(), || {
            "the sign-in ended on a callback that was not its own".into()
        });
    }
    // Its own callback still ends it, with its code.
    let status = raw(&redirect, &callback("code=the-code&state=st-good")).await;
    assert_eq!(status, 200);
    assert_eq!(waiting.await.unwrap().unwrap(), "the-code");

    // The right state without a usable code ends the sign-in with a clear error.
    let decisive = [
        ("no code", "state=st-good", "oauth_no_code"),
        ("empty code", "code=&state=st-good", "oauth_no_code"),
        ("blank code", "code=%20%20&state=st-good", "oauth_no_code"),
        (
            "refused",
            "error=access_denied&state=st-good",
            "oauth_denied",
        ),
        (
            "refused with HTML",
            "error=x&error_description=%3Cb%3Eno%3C/b%3E&state=st-good",
            "oauth_denied",
        ),
    ];
    for (name, query, code) in decisive {
        let catcher = LoopbackCatcher::bind(0).await.unwrap();
        let redirect = catcher.redirect_uri().to_string();
        let waiting = tokio::spawn(catcher.wait_for_code("st-good", Duration::from_secs(20)));
        raw(&redirect, &callback(query)).await;
        let outcome = waiting.await.unwrap();
        tally.refused(name, got(&outcome, |e| e.code()), code);
    }
    let catcher = LoopbackCatcher::bind(0).await.unwrap();
    let outcome = catcher
        .wait_for_code("st-good", Duration::from_millis(200))
        .await;
    tally.refused(
        "no callback at all",
        got(&outcome, |e| e.code()),
        "oauth_timed_out",
    );
    let tried = tally.finish();
    assert!(tried >= 18, "{tried}");
}
