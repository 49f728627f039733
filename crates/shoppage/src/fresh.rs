//! Short-lived copies of what the public pages show, so a burst of visitors (a post going
//! round) costs the shop file one read per page a second rather than one per visitor.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Values kept for `fresh_for`, at most `capacity` of them: a stranger asking for random
/// SKUs or searches can fill it, never grow it. When a kept value goes stale, the first
/// visitor reads it again while the others are still given the stale one, so a busy page
/// does not send every visitor of that moment to the shop file at once.
pub(crate) struct Fresh<K, V> {
    entries: Mutex<HashMap<K, Entry<V>>>,
    fresh_for: Duration,
    capacity: usize,
}

struct Entry<V> {
    at: Instant,
    value: V,
    /// When a visitor started reading it again; a read that was given up (the visitor left)
    /// counts for no longer than `fresh_for`.
    refreshing_since: Option<Instant>,
}

impl<K: Eq + Hash + Clone, V: Clone> Fresh<K, V> {
    pub(crate) fn new(fresh_for: Duration, capacity: usize) -> Self {
        Fresh {
            entries: Mutex::new(HashMap::new()),
            fresh_for,
            capacity: capacity.max(1),
        }
    }

    /// The kept value for `key` if it is still fresh (or being read again by another
    /// visitor), else what `load` reads (kept when Ok).
    pub(crate) async fn get_or_load<E, F>(&self, key: &K, load: F) -> Result<V, E>
    where
        F: Future<Output = Result<V, E>>,
    {
        if let Some(entry) = self.entries.lock().expect("lock").get_mut(key) {
            if entry.at.elapsed() < self.fresh_for {
                return Ok(entry.value.clone());
            }
            match entry.refreshing_since {
                Some(since) if since.elapsed() < self.fresh_for => {
                    return Ok(entry.value.clone());
                }
                _ => entry.refreshing_since = Some(Instant::now()),
            }
        }
        let loaded = load.await;
        let mut entries = self.entries.lock().expect("lock");
        let value = match loaded {
            Ok(value) => value,
            Err(error) => {
                if let Some(entry) = entries.get_mut(key) {
                    entry.refreshing_since = None;
                }
                return Err(error);
            }
        };
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            let stale_after = self.fresh_for * 2;
            entries.retain(|_, entry| entry.at.elapsed() < stale_after);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(
            key.clone(),
            Entry {
                at: Instant::now(),
                value: value.clone(),
                refreshing_since: None,
            },
        );
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_value_is_read_once_while_fresh_and_again_after() {
        let fresh = Fresh::new(Duration::from_millis(200), 10);
        let reads = std::sync::atomic::AtomicU32::new(0);
        let load =
            || async { Ok::<_, ()>(reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst)) };
        assert_eq!(fresh.get_or_load(&"a", load()).await, Ok(0));
        assert_eq!(fresh.get_or_load(&"a", load()).await, Ok(0));
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(fresh.get_or_load(&"a", load()).await, Ok(1));
    }

    #[tokio::test]
    async fn while_one_visitor_reads_a_stale_page_again_the_others_get_the_stale_one() {
        let fresh = Arc::new(Fresh::new(Duration::from_millis(100), 10));
        fresh
            .get_or_load(&"a", async { Ok::<_, ()>(1) })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        let (release, wait) = tokio::sync::oneshot::channel::<()>();
        let slow = tokio::spawn({
            let fresh = fresh.clone();
            async move {
                fresh
                    .get_or_load(&"a", async {
                        wait.await.ok();
                        Ok::<_, ()>(2)
                    })
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        // The reader is busy: others are not sent to the shop file too.
        let reads = std::sync::atomic::AtomicU32::new(0);
        for _ in 0..5 {
            let value = fresh
                .get_or_load(&"a", async {
                    reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    Ok::<_, ()>(3)
                })
                .await;
            assert_eq!(value, Ok(1));
        }
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 0);
        release.send(()).unwrap();
        assert_eq!(slow.await.unwrap(), Ok(2));
        assert_eq!(
            fresh.get_or_load(&"a", async { Ok::<_, ()>(4) }).await,
            Ok(2)
        );
    }

    #[tokio::test]
    async fn a_reader_that_gave_up_does_not_keep_a_stale_page_for_ever() {
        let fresh = Fresh::new(Duration::from_millis(50), 10);
        fresh
            .get_or_load(&"a", async { Ok::<_, ()>(1) })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
        // A visitor starts reading again and leaves (its future is dropped).
        let gave_up = fresh.get_or_load(&"a", std::future::pending::<Result<u32, ()>>());
        assert!(
            tokio::time::timeout(Duration::from_millis(5), gave_up)
                .await
                .is_err()
        );
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(
            fresh.get_or_load(&"a", async { Ok::<_, ()>(2) }).await,
            Ok(2)
        );
    }

    #[tokio::test]
    async fn errors_are_not_kept_and_the_capacity_holds() {
        let fresh = Fresh::new(Duration::from_secs(60), 3);
        assert_eq!(
            fresh.get_or_load(&0, async { Err::<u32, _>("down") }).await,
            Err("down")
        );
        assert_eq!(fresh.get_or_load(&0, async { Ok::<_, ()>(7) }).await, Ok(7));
        for key in 1..100 {
            fresh
                .get_or_load(&key, async { Ok::<_, ()>(key) })
                .await
                .unwrap();
            assert!(fresh.entries.lock().unwrap().len() <= 3);
        }
    }
}
