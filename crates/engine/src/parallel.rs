//! Order-keeping work on every core, for the phases of a large stack that
//! are a loop over independent items: checking documents, comparing
//! resources, rendering changes. Scoped threads, one run of items each:
//! no pool to keep, nothing to share but the borrowed items.

/// `work` on runs of `items`, one run a thread, each given the index of its
/// first item; the results in the items' order. Fewer than
/// `worth_a_thread` items a thread and the calling thread does it all.
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
    let per_thread = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let work = &work;
        let workers: Vec<_> = items
            .chunks(per_thread)
            .enumerate()
            .map(|(n, run)| scope.spawn(move || work(n * per_thread, run)))
            .collect();
        workers
            .into_iter()
            .map(|worker| match worker.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_the_items_order_with_each_runs_first_index() {
        let items: Vec<usize> = (0..10_000).collect();
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
