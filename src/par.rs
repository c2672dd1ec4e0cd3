//! Work split over the machine's cores, for the few steps that handle a million of something
//! (claim request lines) or hash hundreds of megabytes several times (signature checks).

/// `f` applied to `items` in consecutive parts, one per core, with the results in the items'
/// order. Fewer than `min_items` items (or one core): one part, on this thread. A part whose
/// thread panicked yields `failed(part)` instead, so that the caller decides what a lost part
/// means (a signature check that does not count, say).
pub(crate) fn map_parts<T: Sync, R: Send>(
    items: &[T],
    min_items: usize,
    f: impl Fn(&[T]) -> Vec<R> + Sync,
    failed: impl Fn(&[T]) -> Vec<R>,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len());
    if items.len() < min_items || threads < 2 {
        return f(items);
    }
    let f = &f;
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| (part, scope.spawn(move || f(part))))
            .collect();
        handles
            .into_iter()
            .flat_map(|(part, h)| h.join().unwrap_or_else(|_| failed(part)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_keep_the_order_and_a_lost_part_is_the_callers_to_fill() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled = map_parts(
            &items,
            10,
            |p| p.iter().map(|x| x * 2).collect(),
            |_| vec![],
        );
        assert_eq!(doubled, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        // Below the minimum: one part, same result.
        let few = map_parts(&items[..5], 10, |p| p.to_vec(), |_| vec![]);
        assert_eq!(few, items[..5]);
        if std::thread::available_parallelism().map_or(1, usize::from) > 1 {
            let out = map_parts(
                &items,
                10,
                |p: &[u32]| {
                    assert!(!p.contains(&0), "a part that fails");
                    p.to_vec()
                },
                |p| vec![u32::MAX; p.len()],
            );
            assert_eq!(out.len(), items.len());
            assert_eq!(out[0], u32::MAX);
            assert_eq!(out[999], 999);
        }
    }
}
