//! How often a QR provider (Alipay, WeChat Pay) asks about each open charge: fast while the
//! customer is likely at the till, slower after, and once more right after it expires.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::provider::{OpenCharge, PollOutcome, ProviderError, ProviderEvent};

/// How often one open charge is queried: the watcher may call
/// [`crate::PaymentProvider::poll`] every 250 ms, but a QR only needs asking about about once
/// a second while the customer is likely at the till, and less often after that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollSchedule {
    /// Gap between queries while the charge is young.
    pub fast: Duration,
    /// How long a charge counts as young, from the first poll that saw it.
    pub fast_for: Duration,
    /// Gap between queries afterwards.
    pub slow: Duration,
}

impl Default for PollSchedule {
    fn default() -> Self {
        Self {
            fast: Duration::from_secs(1),
            fast_for: Duration::from_secs(30),
            slow: Duration::from_secs(3),
        }
    }
}

/// When one open charge was first seen and when it may next be queried.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    first_seen: Instant,
    next_at: Instant,
    /// Queried at least once after its expiry: expired charges get one immediate check.
    checked_expired: bool,
}

/// Per-charge backoff following one [`PollSchedule`].
#[derive(Debug, Default)]
pub struct DueCharges {
    schedule: PollSchedule,
    backoff: Mutex<HashMap<String, Backoff>>,
}

impl DueCharges {
    /// Backoff following `schedule`, with no charge seen yet.
    pub fn new(schedule: PollSchedule) -> Self {
        Self {
            schedule,
            backoff: Mutex::new(HashMap::new()),
        }
    }

    /// The schedule this follows.
    pub fn schedule(&self) -> PollSchedule {
        self.schedule
    }

    /// The open charges due for a query now, and the next time each may be asked again.
    /// Charges no longer open are forgotten.
    pub fn due<'a>(&self, open: &'a [OpenCharge]) -> Vec<&'a OpenCharge> {
        let now = Instant::now();
        let wall = Timestamp::now();
        let mut backoff = self.backoff.lock().unwrap_or_else(|p| p.into_inner());
        backoff.retain(|charge_ref, _| open.iter().any(|c| &c.charge_ref == charge_ref));
        let mut due = Vec::new();
        for charge in open {
            let entry = backoff.entry(charge.charge_ref.clone()).or_insert(Backoff {
                first_seen: now,
                next_at: now,
                checked_expired: false,
            });
            let expired = wall > charge.expires_at;
            let first_look_since_expiry = expired && !entry.checked_expired;
            if now < entry.next_at && !first_look_since_expiry {
                continue;
            }
            let gap = if now.duration_since(entry.first_seen) < self.schedule.fast_for {
                self.schedule.fast
            } else {
                self.schedule.slow
            };
            entry.next_at = now + gap;
            entry.checked_expired |= expired;
            due.push(charge);
        }
        due
    }

    /// Asks `check` about each due open charge (see [`Self::due`]). One failing query does
    /// not hide the others' results; only when every query failed is the first error returned.
    pub async fn poll_each<'a, F, Fut>(
        &self,
        open: &'a [OpenCharge],
        check: F,
    ) -> Result<PollOutcome, ProviderError>
    where
        F: Fn(&'a OpenCharge) -> Fut,
        Fut: Future<Output = Result<Option<ProviderEvent>, ProviderError>>,
    {
        let mut events = Vec::new();
        let mut first_error = None;
        let mut answered = false;
        for charge in self.due(open) {
            match check(charge).await {
                Ok(found) => {
                    answered = true;
                    events.extend(found);
                }
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        match first_error {
            Some(err) if !answered => Err(err),
            _ => Ok(PollOutcome {
                events,
                cursor: None,
                unreadable: Vec::new(),
            }),
        }
    }

    /// Drops one charge's backoff (it was cancelled or settled).
    pub fn forget(&self, charge_ref: &str) {
        self.backoff
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(charge_ref);
    }
}
