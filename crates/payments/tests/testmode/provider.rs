//! The provider's memory: cursors that survive a restart of the app, and pruning.

use shopcast_payments::PaymentProvider;

use crate::{request, test_mode};

#[tokio::test]
async fn a_cursor_from_an_earlier_run_reads_this_runs_events_from_the_start() {
    let before = test_mode();
    before
        .serve("127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let charge = before.create_charge(&request("O-1", 100)).await.unwrap();
    before.settle(&charge.charge_ref, true).unwrap();
    let saved = before.poll(None, &[]).await.unwrap().cursor.unwrap();

    // A restart: a new provider numbers its events from 1 again.
    let after = test_mode();
    let _server = after
        .serve("127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let charge = after.create_charge(&request("O-2", 200)).await.unwrap();
    after.settle(&charge.charge_ref, true).unwrap();
    let outcome = after.poll(Some(&saved), &[]).await.unwrap();
    assert_eq!(
        outcome.events.len(),
        1,
        "the first payment after a restart is read"
    );
    assert_eq!(outcome.events[0].order_ref.as_deref(), Some("O-2"));
    // An old plain-number cursor reads from the start too.
    assert_eq!(after.poll(Some("1"), &[]).await.unwrap().events.len(), 1);
    // Its own cursor reads nothing twice.
    let next = outcome.cursor.unwrap();
    assert!(
        after
            .poll(Some(&next), &[])
            .await
            .unwrap()
            .events
            .is_empty()
    );
}

#[tokio::test]
async fn stored_events_and_old_settled_charges_leave_memory() {
    let mode = test_mode();
    let _server = mode
        .serve("127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    for n in 0..10_050 {
        let charge = mode
            .create_charge(&request(&format!("O-{n}"), 100))
            .await
            .unwrap();
        mode.settle(&charge.charge_ref, n % 2 == 0).unwrap();
    }
    let first = mode.poll(None, &[]).await.unwrap();
    assert_eq!(first.events.len(), 10_050);
    // The engine passes back the cursor once it stored them: they are dropped.
    mode.poll(first.cursor.as_deref(), &[]).await.unwrap();
    let (charges, events) = mode.held();
    assert_eq!(events, 0, "stored events are dropped");
    assert!(charges <= 10_000, "settled charges are capped: {charges}");
}
