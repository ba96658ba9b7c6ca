//! The rayon peer of perf/fold: fold_sum_1e8, fold_map_filter_1e8, fj_fib30, printing
//! "bench,impl,ns_per_op,ops" lines like perf/harness.c (best of RF_BENCH_REPS runs).
use rayon::prelude::*;
use std::time::Instant;

const N_FOLD: usize = 100_000_000;
const FIB_CALLS: u64 = 2_692_537;

fn reps() -> usize {
    std::env::var("RF_BENCH_REPS").ok().and_then(|s| s.parse().ok()).unwrap_or(5).max(1)
}

fn best<F: FnMut() -> i64>(want: i64, mut f: F) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..reps() {
        let t = Instant::now();
        let got = f();
        let ns = t.elapsed().as_nanos() as f64;
        assert_eq!(got, want, "rayon peer gave a wrong answer");
        best = best.min(ns);
    }
    best
}

fn fib(n: i64) -> i64 {
    if n < 2 {
        return n;
    }
    let (a, b) = rayon::join(|| fib(n - 1), || fib(n - 2));
    a + b
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    let wanted = |b: &str| only.as_deref().map_or(true, |o| o == b);
    if wanted("fold_sum_1e8") || wanted("fold_map_filter_1e8") {
        let v: Vec<i64> = (0..N_FOLD as i64).into_par_iter().collect();
        if wanted("fold_sum_1e8") {
            let want: i64 = v.iter().sum();
            let ns = best(want, || v.par_iter().sum::<i64>());
            println!("fold_sum_1e8,rayon,{:.3},{}", ns / N_FOLD as f64, N_FOLD);
        }
        if wanted("fold_map_filter_1e8") {
            let want: i64 = v.iter().filter(|x| *x % 2 == 0).map(|x| 3 * x).sum();
            let ns = best(want, || v.par_iter().filter(|x| *x % 2 == 0).map(|x| 3 * x).sum());
            println!("fold_map_filter_1e8,rayon,{:.3},{}", ns / N_FOLD as f64, N_FOLD);
        }
    }
    if wanted("fj_fib30") {
        let ns = best(832040, || fib(30));
        println!("fj_fib30,rayon,{:.3},{}", ns / FIB_CALLS as f64, FIB_CALLS);
    }
}
