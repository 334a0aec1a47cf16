//! A write-once cell for a `Copy` value larger than a word, lock-free in
//! the manner of `once_cell::race`: racing first callers may each compute
//! the value, the first to claim the cell stores it, and nobody ever
//! waits. `once_cell::race` itself only holds words (or boxes, which need
//! an allocator this `no_std` crate does not assume).

// Used by the geometry probes of some targets only.
#![allow(dead_code)]

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU8, Ordering};

const EMPTY: u8 = 0;
const WRITING: u8 = 1;
const READY: u8 = 2;

/// A cell written at most once, by whichever thread claims it first.
pub(crate) struct RaceCell<T> {
    state: AtomicU8,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the value is written once, by the single thread whose
// compare-exchange moved `state` from EMPTY to WRITING, before it stores
// READY with Release; it is read only after an Acquire load sees READY, and
// never written again. So no access races, and sharing needs `T: Send +
// Sync` (a value written on one thread is read on others).
unsafe impl<T: Copy + Send + Sync> Sync for RaceCell<T> {}

impl<T: Copy> RaceCell<T> {
    pub(crate) const fn new() -> RaceCell<T> {
        RaceCell {
            state: AtomicU8::new(EMPTY),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// The stored value, if one is.
    #[inline]
    pub(crate) fn get(&self) -> Option<T> {
        if self.state.load(Ordering::Acquire) == READY {
            // SAFETY: READY is stored (Release) only after the value was
            // written, and the Acquire load above makes that write visible;
            // the value is never written again.
            Some(unsafe { self.value.get().cast::<T>().read() })
        } else {
            None
        }
    }

    /// The stored value, or `init()`'s, which is stored if no other thread
    /// has claimed the cell. `init` may run on several racing threads; each
    /// gets the value it computed unless the cell was ready before it
    /// started, so `init` must give the same answer wherever it runs for
    /// every caller to see one value.
    #[inline]
    pub(crate) fn get_or_init(&self, init: impl FnOnce() -> T) -> T {
        if let Some(v) = self.get() {
            return v;
        }
        let v = init();
        if self
            .state
            .compare_exchange(EMPTY, WRITING, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            // SAFETY: the compare-exchange succeeded, so this thread alone
            // moved the cell out of EMPTY: no other thread writes, and none
            // reads before READY is stored below.
            unsafe { self.value.get().cast::<T>().write(v) };
            self.state.store(READY, Ordering::Release);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::RaceCell;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    #[test]
    fn first_value_stays() {
        let c = RaceCell::new();
        assert_eq!(c.get(), None);
        assert_eq!(c.get_or_init(|| [1u64; 9]), [1; 9]);
        assert_eq!(c.get_or_init(|| [2; 9]), [1; 9]);
        assert_eq!(c.get(), Some([1; 9]));
    }

    /// Racing initialisers: everybody gets a value some thread computed,
    /// and once the cell is ready everybody gets the stored one.
    #[test]
    fn racing_threads() {
        const THREADS: usize = 8;
        static CELL: RaceCell<[u64; 9]> = RaceCell::new();
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let start = Arc::new(Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|i| {
                let start = start.clone();
                std::thread::spawn(move || {
                    start.wait();
                    CELL.get_or_init(|| {
                        RUNS.fetch_add(1, Ordering::Relaxed);
                        [i as u64; 9]
                    })
                })
            })
            .collect();
        let seen: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let stored = CELL.get().expect("some thread stored");
        assert!(seen.iter().all(|v| v.iter().all(|&x| x < THREADS as u64)));
        assert!(seen.contains(&stored));
        let runs = RUNS.load(Ordering::Relaxed);
        assert!((1..=THREADS).contains(&runs), "{runs}");
        assert_eq!(CELL.get_or_init(|| [99; 9]), stored);
    }
}
