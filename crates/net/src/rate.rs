//! Rate limits for what the public pages let anyone do: a token bucket per client (an IPv4
//! address or an IPv6 /64) for each kind of action, so one phone or attacker cannot flood the
//! shop, and one bucket for everyone in front of it, so many addresses cannot either.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Who a peer address counts as: an IPv4 address as itself (also when it arrives v4-mapped,
/// `::ffff:a.b.c.d`), an IPv6 address as its /64, since one device picks freely inside its /64.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & (u128::MAX << 64))),
        },
    }
}

/// Most clients remembered; beyond it, full buckets (clients that went quiet) are forgotten.
const MAX_CLIENTS: usize = 10_000;

pub struct RateLimit {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimit {
    /// `burst` tries at once, refilled at `per_minute`.
    pub fn new(burst: u32, per_minute: u32) -> RateLimit {
        RateLimit {
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_minute.max(1)) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one try for the client at `peer`, or says how long until the next one is allowed.
    pub fn take(&self, peer: IpAddr) -> Result<(), Duration> {
        let client = client_key(peer);
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
        let bucket = buckets.entry(client).or_insert((self.burst, now));
        take_from(bucket, self.burst, self.per_second, now)
    }
}

/// Refills `(tokens, at)` up to `burst` at `per_second` and takes one, or says how long until
/// one is there.
fn take_from(
    (tokens, at): &mut (f64, Instant),
    burst: f64,
    per_second: f64,
    now: Instant,
) -> Result<(), Duration> {
    *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * per_second).min(burst);
    *at = now;
    if *tokens >= 1.0 {
        *tokens -= 1.0;
        Ok(())
    } else {
        Err(Duration::from_secs_f64((1.0 - *tokens) / per_second))
    }
}

/// One bucket shared by every client: the most the shop takes in all, however many
/// addresses ask (a /48 of IPv6 holds 65,536 /64s, each with its own per-client bucket).
pub struct SharedLimit {
    burst: f64,
    per_second: f64,
    bucket: Mutex<(f64, Instant)>,
}

impl SharedLimit {
    /// `burst` tries at once, refilled at `per_minute`.
    pub fn new(burst: u32, per_minute: u32) -> SharedLimit {
        let burst = f64::from(burst.max(1));
        SharedLimit {
            burst,
            per_second: f64::from(per_minute.max(1)) / 60.0,
            bucket: Mutex::new((burst, Instant::now())),
        }
    }

    /// Takes one try, or says how long until the next one is allowed.
    pub fn take(&self) -> Result<(), Duration> {
        let mut bucket = self.bucket.lock().expect("lock");
        take_from(&mut bucket, self.burst, self.per_second, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ip: &str) -> String {
        client_key(ip.parse().unwrap()).to_string()
    }

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(key("192.168.1.20"), "192.168.1.20");
        assert_eq!(key("::ffff:192.168.1.20"), "192.168.1.20");
        assert_eq!(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::1"), "::");
    }

    #[test]
    fn the_shared_limit_counts_everyone_together() {
        let limit = SharedLimit::new(3, 1);
        for _ in 0..3 {
            assert!(limit.take().is_ok());
        }
        let wait = limit.take().unwrap_err();
        assert!(wait > Duration::from_secs(50), "{wait:?}");
    }

    #[test]
    fn rotating_inside_a_64_does_not_dodge_the_limit() {
        let limit = RateLimit::new(2, 1);
        assert!(limit.take("2001:db8::1".parse().unwrap()).is_ok());
        assert!(limit.take("2001:db8::2".parse().unwrap()).is_ok());
        assert!(limit.take("2001:db8::3".parse().unwrap()).is_err());
        assert!(limit.take("::ffff:10.0.0.1".parse().unwrap()).is_ok());
        assert!(limit.take("10.0.0.1".parse().unwrap()).is_ok());
        assert!(limit.take("10.0.0.1".parse().unwrap()).is_err());
        assert!(limit.take("2001:db8:0:1::1".parse().unwrap()).is_ok());
    }
}
