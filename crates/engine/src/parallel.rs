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
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len() / worth_a_thread.max(1))
        .max(1);
    if threads == 1 {
        return vec![work(0, items)];
    }
    let run_length = items.len().div_ceil(threads * RUNS_PER_THREAD);
    let runs: Vec<&[T]> = items.chunks(run_length).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let take_runs = || {
        let mut done = Vec::new();
        loop {
            let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(run) = runs.get(at) else {
                return done;
            };
            done.push((at, work(at * run_length, run)));
        }
    };
    let mut done = std::thread::scope(|scope| {
        let take_runs = &take_runs;
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(take_runs)).collect();
        let mut done = take_runs();
        for helper in helpers {
            match helper.join() {
                Ok(theirs) => done.extend(theirs),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done
    });
    done.sort_unstable_by_key(|&(at, _)| at);
    done.into_iter().map(|(_, result)| result).collect()
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
}
