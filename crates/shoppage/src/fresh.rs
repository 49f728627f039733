//! Short-lived copies of what the public pages show, so a burst of visitors (a post going
//! round) costs the shop file one read per page a second rather than one per visitor.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Values kept for `fresh_for`, at most `capacity` of them: a stranger asking for random
/// SKUs or searches can fill it, never grow it.
pub(crate) struct Fresh<K, V> {
    entries: Mutex<HashMap<K, (Instant, V)>>,
    fresh_for: Duration,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V: Clone> Fresh<K, V> {
    pub(crate) fn new(fresh_for: Duration, capacity: usize) -> Self {
        Fresh {
            entries: Mutex::new(HashMap::new()),
            fresh_for,
            capacity: capacity.max(1),
        }
    }

    /// The kept value for `key` if it is still fresh, else what `load` reads (kept when Ok).
    pub(crate) async fn get_or_load<E, F>(&self, key: &K, load: F) -> Result<V, E>
    where
        F: Future<Output = Result<V, E>>,
    {
        if let Some((at, value)) = self.entries.lock().expect("lock").get(key)
            && at.elapsed() < self.fresh_for
        {
            return Ok(value.clone());
        }
        let value = load.await?;
        let mut entries = self.entries.lock().expect("lock");
        if entries.len() >= self.capacity {
            let fresh_for = self.fresh_for;
            entries.retain(|_, (at, _)| at.elapsed() < fresh_for);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key.clone(), (Instant::now(), value.clone()));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
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
