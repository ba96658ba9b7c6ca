//! The rayon peer of bench_fold's memory-bound rows, linked into bench_fold (C ABI): the
//! rows read bench_fold's own array, alternated with ringfold's and the C peers', so that
//! the same pages and the same moments of the machine are under every implementation.

use rayon::prelude::*;

/// `v.par_iter().sum()` over the n int64 at a: fold_sum_1e8.
///
/// # Safety
/// a points to n readable int64 that nobody writes during the call.
#[no_mangle]
pub unsafe extern "C" fn rayon_sum(a: *const i64, n: usize) -> i64 {
    let v = std::slice::from_raw_parts(a, n);
    v.par_iter().sum()
}

/// The sum of 3x over the even x of the n int64 at a: fold_map_filter_1e8.
///
/// # Safety
/// As rayon_sum.
#[no_mangle]
pub unsafe extern "C" fn rayon_map_filter(a: *const i64, n: usize) -> i64 {
    let v = std::slice::from_raw_parts(a, n);
    v.par_iter().filter(|x| *x % 2 == 0).map(|x| 3 * x).sum()
}
