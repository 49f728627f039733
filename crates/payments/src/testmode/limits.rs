//! Per-device rate limits for the test checkout: a token bucket per client IP for each kind
//! of action, so one phone (or one attacker on the Wi-Fi) cannot flood the shop with orders.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most clients remembered; beyond it, full buckets (clients that went quiet) are forgotten.
const MAX_CLIENTS: usize = 10_000;

pub(crate) struct RateLimit {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimit {
    /// `burst` tries at once, refilled at `per_minute`.
    pub(crate) fn new(burst: u32, per_minute: u32) -> RateLimit {
        RateLimit {
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_minute.max(1)) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one try for `client`, or says how long until the next one is allowed.
    pub(crate) fn take(&self, client: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("lock");
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&client) {
            let (burst, rate) = (self.burst, self.per_second);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
            if buckets.len() >= MAX_CLIENTS {
                // Everyone is busy: treat the newcomer as out of tries rather than grow.
                return Err(Duration::from_secs_f64(1.0 / rate));
            }
        }
        let (tokens, at) = buckets.entry(client).or_insert((self.burst, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_second))
        }
    }
}
