//! Order-keeping work on every core, for the phases of a large stack that
//! are a loop over independent items: checking documents, comparing
//! resources, rendering changes. Scoped threads taking short runs of
//! items in turn: no pool to keep, nothing to share but the borrowed items
//! and the number of the next run.

/// `work` on runs of `items`, each given the index of its first item; the
/// results in the items' order. Fewer than `worth_a_thread` items a thread
/// and the calling thread does it all.
///
/// Each thread takes the next run not yet taken until none is left, the
/// calling thread among them: items that cost unevenly (a role's view is
/// ten times a profile's, and a plan lists the roles first) still keep
/// every core busy to the end, where one run a thread left one core idle
/// for most of the phase.
pub fn runs<T: Sync, R: Send>(
    items: &[T],
    worth_a_thread: usize,
    work: impl Fn(usize, &[T]) -> R + Sync,
) -> Vec<R> {
    let threads = threads_for(items.len(), worth_a_thread);
    if threads == 1 {
        return vec![work(0, items)];
    }
    let run_length = items.len().div_ceil(threads * RUNS_PER_THREAD);
    let runs: Vec<&[T]> = items.chunks(run_length).collect();
    in_turn(runs.len(), threads, |at| work(at * run_length, runs[at]))
}

/// The threads for `items` items, `worth_a_thread` of them at least a
/// thread: one a core at most, and at least the calling thread.
pub fn threads_for(items: usize, worth_a_thread: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items / worth_a_thread.max(1))
        .max(1)
}

/// [`runs`] of owned items, on `threads` threads ([`threads_for`]), the
/// calling one among them: `work` on `items` cut into contiguous parts,
/// each consumed by the thread that takes it; the results in the items'
/// order. For work that takes its items apart (a large stack's
/// declarations, built into the model). One thread: the calling thread
/// does it all, in one part.
///
/// Parts are taken in turn, several a thread, as runs are: a stack's
/// files often keep one kind together (all its roles, then its profiles),
/// and a role costs many times an instance.
pub fn parts<T: Send, R: Send>(
    mut items: Vec<T>,
    threads: usize,
    work: impl Fn(Vec<T>) -> R + Sync,
) -> Vec<R> {
    if threads <= 1 {
        return vec![work(items)];
    }
    let length = items.len().div_ceil(threads * RUNS_PER_THREAD).max(1);
    // Cut from the end, so each cut moves only the part it takes; the
    // first part gives back the room the others took.
    let mut parts = Vec::new();
    while items.len() > length {
        parts.push(items.split_off(items.len() - length));
    }
    items.shrink_to_fit();
    parts.push(items);
    parts.reverse();
    let parts: Vec<std::sync::Mutex<Option<Vec<T>>>> = parts
        .into_iter()
        .map(|part| std::sync::Mutex::new(Some(part)))
        .collect();
    in_turn(parts.len(), threads, |at| {
        // Each part is taken once: its lock is never contended.
        let part = parts[at]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .unwrap_or_default();
        work(part)
    })
}

/// `work(at)` for every `at` below `count`, on `threads` scoped threads
/// (the calling one among them), each taking the next `at` not taken yet
/// until none is left; the results in `at` order.
fn in_turn<R: Send>(count: usize, threads: usize, work: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let take_in_turn = || {
        let mut done = Vec::new();
        loop {
            let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if at >= count {
                return done;
            }
            done.push((at, work(at)));
        }
    };
    let mut done = std::thread::scope(|scope| {
        let take_in_turn = &take_in_turn;
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(take_in_turn)).collect();
        let mut done = take_in_turn();
        for helper in helpers {
            done.extend(joined(helper));
        }
        done
    });
    done.sort_unstable_by_key(|&(at, _)| at);
    done.into_iter().map(|(_, result)| result).collect()
}

/// `(a(), b())`: `a` on a thread of its own beside `b` when `beside` (both
/// are worth a thread), else one after the other on the calling thread.
pub fn both<A: Send, B>(
    beside: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B,
) -> (A, B) {
    if !beside {
        return (a(), b());
    }
    std::thread::scope(|scope| {
        let a = scope.spawn(a);
        let b = b();
        (joined(a), b)
    })
}

/// A scoped thread's result; its panic, passed on to the thread joining it.
pub fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Runs a thread's share is cut into: enough that the last run taken is
/// short, few enough that taking one costs nothing beside its work.
const RUNS_PER_THREAD: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_the_items_order_with_each_runs_first_index() {
        // Not a multiple of any run's length: the last run is short.
        let items: Vec<usize> = (0..10_007).collect();
        let parts = runs(&items, 100, |first, run| {
            assert_eq!(run[0], first);
            run.to_vec()
        });
        assert!(
            parts.len() > 1 || std::thread::available_parallelism().map_or(1, usize::from) == 1
        );
        assert_eq!(parts.concat(), items);
        // Too few items for a thread: one run, on the calling thread.
        assert_eq!(runs(&items[..50], 100, |_, run| run.len()), vec![50]);
    }

    #[test]
    fn both_gives_each_result_its_place_beside_or_not() {
        let caller = std::thread::current().id();
        for beside in [true, false] {
            let (a, b) = both(
                beside,
                || (1, std::thread::current().id()),
                || (2, std::thread::current().id()),
            );
            assert_eq!((a.0, b.0), (1, 2));
            assert_eq!(b.1, caller);
            assert_eq!(a.1 == caller, !beside);
        }
    }

    #[test]
    fn parts_come_back_in_the_items_order_each_owned_whole() {
        for count in [0, 1, 99, 100, 10_007] {
            let items: Vec<String> = (0..count).map(|n| n.to_string()).collect();
            // On three threads, whatever the machine: parts of every item,
            // none empty, in order.
            let parted = parts(items.clone(), 3, |part| part);
            assert!(parted.len() > 1 || count < 2, "{count} items");
            assert!(parted.iter().all(|part| !part.is_empty()) || count == 0);
            assert_eq!(parted.concat(), items, "{count} items");
            // One thread: one part, on the calling thread.
            assert_eq!(parts(items.clone(), 1, |part| part), vec![items.clone()]);
            assert_eq!(threads_for(count, usize::MAX), 1);
        }
    }
}
