//! Stripe webhooks (`POST /hooks/stripe`): `Stripe-Signature` checked with the endpoint
//! secret from the keychain, then the event goes to the ledger like a polled one.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use shopcast_payments::stripe::{WebhookEvent, read_webhook};
use shopcast_payments::{ProviderEvent, ProviderKind};
use tokio::sync::oneshot::{self, error::TryRecvError};

use crate::Shop;
use crate::error::{CoreError, Result};
use crate::payments::callbacks::CallbackOutcome;
use crate::payments::ledger;
use crate::payments::providers;
use crate::payments::store::unreadable;

const PROVIDER: &str = "stripe";

fn refused(message: String) -> CoreError {
    CoreError::CallbackRefused {
        provider: PROVIDER,
        message,
    }
}

/// Deliveries that arrive together are written together. Checking signatures runs in
/// parallel, but SQLite takes one writer at a time, and each ingest is a transaction of about
/// ten statements; so whoever gets the write turn ingests every delivery waiting then, in one
/// transaction, and tells each what it recorded.
#[derive(Default)]
struct WriteTurns {
    turn: tokio::sync::Mutex<()>,
    waiting: std::sync::Mutex<Vec<Waiting>>,
}

struct Waiting {
    event: ProviderEvent,
    /// Payments this delivery recorded; `None` when the group failed (the delivery is then
    /// tried alone, so it gets its own error).
    done: oneshot::Sender<Option<usize>>,
}

/// One group per shop file (tests open many shops in one process).
fn write_turns(data_dir: &Path) -> Arc<WriteTurns> {
    static ALL: LazyLock<Mutex<HashMap<PathBuf, Arc<WriteTurns>>>> =
        LazyLock::new(Default::default);
    ALL.lock()
        .expect("lock")
        .entry(data_dir.to_path_buf())
        .or_default()
        .clone()
}

impl Shop {
    /// Records one webhook delivery: verified with the signing secret, read as the poll reads
    /// events, and ingested by event id, so Stripe's retries, replays and a poll that saw the
    /// same event add nothing. The poll cursor is left alone (the watcher still catches up
    /// after downtime). `CallbackRefused` when it cannot be verified: nothing is stored.
    pub async fn record_stripe_webhook(
        &self,
        signature_header: &str,
        payload: &[u8],
    ) -> Result<CallbackOutcome> {
        let secret = providers::stripe_webhook_secret(&self.secrets)?.ok_or_else(|| {
            refused(
                "No Stripe webhook signing secret is set, so no delivery can be checked: set it \
                 in Settings → Payments, or give $SHOPCAST_STRIPE_WEBHOOK_SECRET (whsec_…) to \
                 `shopcast providers add stripe`."
                    .into(),
            )
        })?;
        let event = read_webhook(&secret, signature_header, payload, jiff::Timestamp::now())
            .map_err(|error| {
                refused(format!(
                    "This Stripe webhook was refused and nothing was recorded: {error}."
                ))
            })?;
        match event {
            WebhookEvent::Payment(event) => Ok(CallbackOutcome {
                recorded: self.ingest_with_others(event).await?,
                ignored: 0,
            }),
            WebhookEvent::Other { .. } => Ok(CallbackOutcome {
                recorded: 0,
                ignored: 1,
            }),
            // Stripe's own but unreadable: kept for review like a polled one, and acknowledged
            // (a retry would not read any better).
            WebhookEvent::Unreadable(odd) => {
                let turns = write_turns(&self.data_dir);
                let _turn = turns.turn.lock().await;
                unreadable::keep(&self.pool, ProviderKind::Stripe, &[odd]).await?;
                Ok(CallbackOutcome {
                    recorded: 0,
                    ignored: 1,
                })
            }
        }
    }

    /// Ingests `event` with whatever other deliveries wait for the write turn (see
    /// [`WriteTurns`]); the payments this one recorded.
    async fn ingest_with_others(&self, event: ProviderEvent) -> Result<usize> {
        let turns = write_turns(&self.data_dir);
        let (done, mut answer) = oneshot::channel();
        // Kept to try alone: a writer that took it may fail, or stop midway (its request
        // dropped); ingesting again is harmless, the ledger keys on the event id.
        let mine = event.clone();
        turns
            .waiting
            .lock()
            .expect("lock")
            .push(Waiting { event, done });
        let _turn = turns.turn.lock().await;
        let taken = match answer.try_recv() {
            Ok(taken) => taken,
            Err(TryRecvError::Closed) => None,
            Err(TryRecvError::Empty) => {
                let group = std::mem::take(&mut *turns.waiting.lock().expect("lock"));
                self.ingest_group(group).await;
                answer.try_recv().ok().flatten()
            }
        };
        match taken {
            Some(recorded) => Ok(recorded),
            None => {
                let report = self
                    .payments
                    .ingest(ProviderKind::Stripe, &[mine], None)
                    .await?;
                Ok(report.changed.len())
            }
        }
    }

    /// One transaction for the whole group. A payment that several deliveries of the group
    /// move is counted for the first of them (20 copies of one event record one payment).
    async fn ingest_group(&self, group: Vec<Waiting>) {
        let events: Vec<ProviderEvent> = group.iter().map(|w| w.event.clone()).collect();
        let changed = match self
            .payments
            .ingest(ProviderKind::Stripe, &events, None)
            .await
        {
            Ok(report) if group.len() == 1 => Ok(vec![report.changed.len()]),
            Ok(report) => ledger::get_many(&self.pool, &report.changed)
                .await
                .map(|payments| {
                    let mut moved: HashSet<String> =
                        payments.into_iter().map(|p| p.provider_ref).collect();
                    events
                        .iter()
                        .map(|e| usize::from(moved.remove(&e.provider_ref)))
                        .collect()
                }),
            Err(error) => Err(error),
        };
        match changed {
            Ok(counts) => {
                for (waiting, recorded) in group.into_iter().zip(counts) {
                    let _ = waiting.done.send(Some(recorded));
                }
            }
            Err(error) => {
                tracing::warn!(%error, deliveries = group.len(), "a group of Stripe webhooks was not recorded; each is tried alone");
                for waiting in group {
                    let _ = waiting.done.send(None);
                }
            }
        }
    }

    /// Stores the Stripe webhook signing secret (`whsec_…`) in the keychain, or removes it
    /// when `None` or empty. The settings keep only whether one is set.
    pub async fn set_stripe_webhook_secret(&self, secret: Option<&str>) -> Result<()> {
        providers::set_stripe_webhook_secret(&self.pool, &self.secrets, secret).await
    }
}
