// perf/chan/crossbeam: crossbeam-channel on chan_100go_1e6 of perf/chan/bench_chan.c: 100
// threads take 1e6 numbers from a bounded(100) channel that one thread fills, each sends its
// partial sum on a second bounded(100) channel. Prints CSV rows as perf/harness.h: median, min
// and max ns per value of RF_BENCH_REPS runs (default 5).
use crossbeam_channel::bounded;
use std::thread;
use std::time::Instant;

const OPS: i64 = 1_000_000;

fn go100() -> f64 {
    let (numbers_tx, numbers_rx) = bounded::<i64>(100);
    let (parts_tx, parts_rx) = bounded::<i64>(100);
    let t0 = Instant::now();
    let takers: Vec<_> = (0..100)
        .map(|_| {
            let rx = numbers_rx.clone();
            let tx = parts_tx.clone();
            thread::spawn(move || {
                let sum: i64 = rx.iter().sum();
                tx.send(sum).unwrap();
            })
        })
        .collect();
    drop(numbers_rx);
    let filler = thread::spawn(move || {
        for x in 0..OPS {
            numbers_tx.send(x).unwrap();
        }
    });
    let mut sum = 0;
    for _ in 0..100 {
        sum += parts_rx.recv().unwrap();
    }
    let ns = t0.elapsed().as_nanos() as f64;
    filler.join().unwrap();
    for t in takers {
        t.join().unwrap();
    }
    assert_eq!(sum, OPS * (OPS - 1) / 2, "wrong sum");
    ns / OPS as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let only = match args.iter().position(|a| a == "--only") {
        Some(i) => args.get(i + 1).cloned(),
        None => None,
    };
    if only.as_deref().map_or(false, |o| o != "chan_100go_1e6") {
        return;
    }
    let reps = std::env::var("RF_BENCH_REPS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5);
    let mut ts: Vec<f64> = (0..reps).map(|_| go100()).collect();
    ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let med = (ts[(reps - 1) / 2] + ts[reps / 2]) / 2.0;
    println!(
        "chan_100go_1e6,crossbeam_bounded100,{:.3},{},{:.3},{:.3},{},ns",
        med, OPS, ts[0], ts[reps - 1], reps
    );
}
