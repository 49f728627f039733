//! Hostile replies from a Bluesky PDS (a real socket, one scripted reply each) through the
//! real client: signing in and posting end in a clear error code and sentence, never a panic.

use shopcast_social::bluesky::{BlueskyPublisher, Session};
use shopcast_social::{PublishError, Publisher};

use crate::garbage::{self, Garbage, post};
use crate::tally::{Tally, got};

#[tokio::test]
async fn hostile_pds_replies_give_clear_errors() {
    let mut tally = Tally::new("Bluesky replies");
    let mut replies = garbage::replies("network_bad_response");
    replies.push((
        "200 with wrong types",
        Garbage::json(
            200,
            r#"{"did":7,"handle":null,"accessJwt":[],"uri":{},"cid":false}"#,
        ),
        "network_bad_response",
    ));
    for (name, reply, code) in replies {
        let base = garbage::serve(reply).await;
        let signed_in = BlueskyPublisher::connect(&base, "shop.bsky.social", "app-pass-word")
            .await
            .map(|_| ());
        tally.refused(
            &format!("sign in, {name}"),
            got(&signed_in, PublishError::code),
            code,
        );
        let session = Session {
            did: "did:plc:shopcastbadinput".into(),
            handle: "shop.bsky.social".into(),
            access_jwt: "access".into(),
            refresh_jwt: "refresh".into(),
        };
        let publisher = BlueskyPublisher::resume(&base, session).unwrap();
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
