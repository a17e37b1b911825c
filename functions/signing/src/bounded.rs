//! A bounded cache: at most `capacity` entries, each trusted for `max_age` (measured on
//! the clock port's time, so that tests move it), the oldest evicted first. An entry is
//! computed once however many callers miss it at once (single flight: one computes, the
//! others await its result through the entry's `OnceCell`); a failed computation is not
//! kept, so the next caller tries again.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use jiff::{SignedDuration, Timestamp};
use tokio::sync::OnceCell;

/// The cache.
pub struct Bounded<K, V> {
    capacity: usize,
    max_age: SignedDuration,
    inner: Mutex<Entries<K, V>>,
}

struct Slot<V> {
    /// When the entry was made or last confirmed; its age counts from here.
    since: Timestamp,
    /// Which record of `Entries::order` is this slot's.
    serial: u64,
    cell: Arc<OnceCell<V>>,
}

struct Entries<K, V> {
    slots: HashMap<K, Slot<V>>,
    /// Keys oldest first; a record whose serial is not its slot's is left over from an
    /// entry since replaced, and skipped.
    order: VecDeque<(K, u64)>,
    serial: u64,
}

impl<K: Hash + Eq + Clone, V: Clone> Bounded<K, V> {
    /// An empty cache of at most `capacity` entries (at least one), each trusted for `max_age`.
    pub fn new(capacity: usize, max_age: SignedDuration) -> Self {
        Self {
            capacity: capacity.max(1),
            max_age,
            inner: Mutex::new(Entries {
                slots: HashMap::new(),
                order: VecDeque::new(),
                serial: 0,
            }),
        }
    }

    /// The value under `key`: the cached one if it is younger than the maximum age at
    /// `now`, else the one `compute` gives (computed by one caller for all who ask meanwhile).
    pub async fn get_or_try_init<E>(&self, key: K, now: Timestamp, compute: impl Future<Output = Result<V, E>>) -> Result<V, E> {
        let cell = self.cell(key, now);
        cell.get_or_try_init(|| compute).await.cloned()
    }

    /// Restarts the age of the entry under `key` at `now`, if it is still there and
    /// fresh: the store has just confirmed what it was computed from.
    pub fn confirm(&self, key: &K, now: Timestamp) {
        let mut entries = lock(&self.inner);
        if let Some(cell) = entries
            .slots
            .get(key)
            .filter(|slot| self.fresh(slot, now))
            .map(|slot| slot.cell.clone())
        {
            self.put(&mut entries, key.clone(), cell, now);
        }
    }

    /// How many entries are fresh at `now`.
    pub fn fresh_entries(&self, now: Timestamp) -> usize {
        lock(&self.inner).slots.values().filter(|slot| self.fresh(slot, now)).count()
    }

    fn fresh(&self, slot: &Slot<V>, now: Timestamp) -> bool {
        // A clock set back makes an entry look younger than it is: not trusted either.
        let age = now.duration_since(slot.since);
        !age.is_negative() && age < self.max_age
    }

    /// The cell of a fresh entry under `key`, or of a new one in its place.
    fn cell(&self, key: K, now: Timestamp) -> Arc<OnceCell<V>> {
        let mut entries = lock(&self.inner);
        if let Some(slot) = entries.slots.get(&key).filter(|slot| self.fresh(slot, now)) {
            return slot.cell.clone();
        }
        let cell = Arc::new(OnceCell::new());
        self.put(&mut entries, key, cell.clone(), now);
        cell
    }

    /// Puts `cell` under `key` as of `now`, then drops expired entries and, beyond the
    /// capacity, the oldest ones (at the front of `order`, as entries are put in time order).
    fn put(&self, entries: &mut Entries<K, V>, key: K, cell: Arc<OnceCell<V>>, now: Timestamp) {
        entries.serial += 1;
        let serial = entries.serial;
        entries.slots.insert(key.clone(), Slot { since: now, serial, cell });
        entries.order.push_back((key, serial));
        while let Some((key, serial)) = entries.order.front() {
            let Some(slot) = entries.slots.get(key).filter(|slot| slot.serial == *serial) else {
                entries.order.pop_front();
                continue;
            };
            if self.fresh(slot, now) && entries.slots.len() <= self.capacity {
                break;
            }
            entries.slots.remove(key);
            entries.order.pop_front();
        }
        // Records of replaced entries behind a fresh one: swept when they outnumber the live ones.
        if entries.order.len() > 2 * self.capacity {
            let Entries { slots, order, .. } = entries;
            order.retain(|(key, serial)| slots.get(key).is_some_and(|slot| slot.serial == *serial));
        }
    }
}

/// Locks `mutex`; a panic elsewhere while it was held leaves plain data, still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const AGE: SignedDuration = SignedDuration::from_secs(15);

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + seconds).unwrap()
    }

    /// The value under `key` at `now`, counting computations in `computed`.
    async fn get(cache: &Bounded<u32, u32>, key: u32, now: Timestamp, computed: &AtomicUsize) -> u32 {
        let result: Result<u32, Infallible> = cache
            .get_or_try_init(key, now, async {
                computed.fetch_add(1, Ordering::SeqCst);
                Ok(key * 10)
            })
            .await;
        result.unwrap()
    }

    #[tokio::test]
    async fn entries_are_kept_for_their_age_and_then_computed_again() {
        let cache = Bounded::new(10, AGE);
        let computed = AtomicUsize::new(0);
        assert_eq!(get(&cache, 1, at(0), &computed).await, 10);
        assert_eq!(get(&cache, 1, at(14), &computed).await, 10);
        assert_eq!(computed.load(Ordering::SeqCst), 1);
        get(&cache, 1, at(15), &computed).await;
        assert_eq!(computed.load(Ordering::SeqCst), 2, "expired at its age");
        get(&cache, 1, at(10), &computed).await;
        assert_eq!(computed.load(Ordering::SeqCst), 3, "a clock set back does not keep it fresh");
    }

    #[tokio::test]
    async fn beyond_the_capacity_the_oldest_entries_go() {
        let cache = Bounded::new(3, AGE);
        let computed = AtomicUsize::new(0);
        for key in 0..100 {
            get(&cache, key, at(0), &computed).await;
            assert!(cache.fresh_entries(at(0)) <= 3);
        }
        assert!(lock(&cache.inner).order.len() <= 2 * 3, "no record piles up");
        let before = computed.load(Ordering::SeqCst);
        for key in 97..100 {
            get(&cache, key, at(1), &computed).await;
        }
        assert_eq!(computed.load(Ordering::SeqCst), before, "the newest three are still there");
        get(&cache, 0, at(1), &computed).await;
        assert_eq!(computed.load(Ordering::SeqCst), before + 1, "an evicted one is computed again");
    }

    #[tokio::test]
    async fn expired_entries_leave_when_others_come() {
        let cache = Bounded::new(100, AGE);
        let computed = AtomicUsize::new(0);
        for key in 0..50 {
            get(&cache, key, at(0), &computed).await;
        }
        get(&cache, 1000, at(20), &computed).await;
        assert_eq!(lock(&cache.inner).slots.len(), 1, "only the new entry is held");
    }

    #[tokio::test]
    async fn a_confirmed_entry_restarts_its_age_and_an_expired_one_is_not_revived() {
        let cache = Bounded::new(10, AGE);
        let computed = AtomicUsize::new(0);
        get(&cache, 1, at(0), &computed).await;
        get(&cache, 2, at(0), &computed).await;
        cache.confirm(&1, at(10));
        cache.confirm(&2, at(15));
        get(&cache, 1, at(20), &computed).await;
        assert_eq!(computed.load(Ordering::SeqCst), 2, "1 confirmed at 10 is fresh at 20");
        get(&cache, 2, at(20), &computed).await;
        assert_eq!(computed.load(Ordering::SeqCst), 3, "2 had expired when confirmed");
        for _ in 0..100 {
            cache.confirm(&1, at(20));
        }
        assert!(lock(&cache.inner).order.len() <= 2 * 10, "confirmations do not pile up");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_misses_compute_once_and_a_failure_is_not_kept() {
        let cache = Arc::new(Bounded::<u32, u32>::new(10, AGE));
        let computed = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (cache, computed, gate) = (cache.clone(), computed.clone(), gate.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_try_init(7, at(0), async {
                            computed.fetch_add(1, Ordering::SeqCst);
                            // Held until every task has asked, so that they all miss together.
                            let _permit = gate.acquire().await.unwrap();
                            Ok::<_, Infallible>(70)
                        })
                        .await
                })
            })
            .collect();
        // Every task has reached the cache once it holds the entry's cell: the map's one, plus each task's.
        let cell = cache.cell(7, at(0));
        while Arc::strong_count(&cell) < 2 + 8 {
            tokio::task::yield_now().await;
        }
        gate.add_permits(8);
        for task in tasks {
            assert_eq!(task.await.unwrap(), Ok(70));
        }
        assert_eq!(computed.load(Ordering::SeqCst), 1);

        let failed: Result<u32, &str> = cache.get_or_try_init(8, at(0), async { Err("down") }).await;
        assert_eq!(failed, Err("down"));
        let again: Result<u32, &str> = cache.get_or_try_init(8, at(0), async { Ok(80) }).await;
        assert_eq!(again, Ok(80), "the failure was not kept");
    }
}
