//! The rayon peer of perf/fold that runs in its own process: fj_fib30, printing CSV rows
//! like perf/harness.c (median, min and max of RF_BENCH_REPS runs). The fold rows are in
//! the library (lib.rs), which bench_fold links.
use std::time::Instant;

const FIB_CALLS: u64 = 2_692_537;

fn reps() -> usize {
    std::env::var("RF_BENCH_REPS").ok().and_then(|s| s.parse().ok()).unwrap_or(5).max(1)
}

/// Every run's wall ns, sorted; each run's answer is checked.
fn timings<F: FnMut() -> i64>(want: i64, mut f: F) -> Vec<f64> {
    let mut ts: Vec<f64> = (0..reps())
        .map(|_| {
            let t = Instant::now();
            let got = f();
            let ns = t.elapsed().as_nanos() as f64;
            assert_eq!(got, want, "rayon peer gave a wrong answer");
            ns
        })
        .collect();
    ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    ts
}

/// One CSV row as perf/harness.h: median, ops, min, max per op, reps, unit.
fn report(bench: &str, ts: &[f64], ops: u64) {
    let n = ts.len();
    let med = (ts[(n - 1) / 2] + ts[n / 2]) / 2.0;
    let per = |x: f64| x / ops as f64;
    println!("{},rayon,{:.3},{},{:.3},{:.3},{},ns", bench, per(med), ops, per(ts[0]), per(ts[n - 1]), n);
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
    if wanted("fj_fib30") {
        report("fj_fib30", &timings(832040, || fib(30)), FIB_CALLS);
    }
}
