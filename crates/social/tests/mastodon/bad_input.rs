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
        "401 HTML",
        Garbage::html(401, garbage::ERROR_PAGE),
        "account_reconnect",
    ));
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
