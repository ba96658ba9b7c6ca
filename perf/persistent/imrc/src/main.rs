//! The im-rc peer of perf/persistent: Rust's persistent Vector and HashMap on the same
//! benchmarks as bench_persistent.c, printing CSV rows as perf/harness.h (median, min and
//! max of RF_BENCH_REPS runs). Persistent forms: each step makes a new version from the old one
//! (clone, then change the clone) and drops the old, as Clojure's conj/assoc and
//! ringfold's rf_pvec_conj + rf_pvec_release do. Transient: push_back on a uniquely owned
//! vector (im's in-place path). Maps hash with the same 64-bit mix as ringfold's
//! rf_hash_int (im's default SipHash would be slower). Fold: a serial sum over
//! iter(): im-rc's Rc nodes are not Send, so rayon cannot split it (im, the Arc flavour,
//! can).
use im_rc::{HashMap, Vector};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Instant;

const N6: usize = 1_000_000;
const N7: usize = 10_000_000;

#[derive(Default)]
struct Mix(u64);
impl Hasher for Mix {
    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51afd7ed558ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ceb9fe1a85ec53);
        x ^ (x >> 33)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ *b as u64).wrapping_mul(0x100000001b3);
        }
    }
    fn write_i64(&mut self, i: i64) {
        self.0 = i as u64;
    }
}
type Map = HashMap<i64, i64, BuildHasherDefault<Mix>>;

fn reps() -> usize {
    std::env::var("RF_BENCH_REPS").ok().and_then(|s| s.parse().ok()).unwrap_or(5).max(1)
}

/// Every run's ns of the measured part (f returns it with its answer), sorted; each
/// answer is checked.
fn timings<F: FnMut() -> (f64, i64)>(want: i64, mut f: F) -> Vec<f64> {
    let mut ts: Vec<f64> = (0..reps())
        .map(|_| {
            let (ns, got) = f();
            assert_eq!(got, want, "im-rc peer gave a wrong answer");
            ns
        })
        .collect();
    ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    ts
}

fn key_of(i: u64) -> i64 {
    i.wrapping_mul(0x9E3779B97F4A7C15) as i64
}

fn indexes() -> Vec<usize> {
    let mut s: u64 = 88172645463325252;
    (0..N6)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % N6 as u64) as usize
        })
        .collect()
}

/// One CSV row as perf/harness.h: median, ops, min, max per op, reps, unit.
fn report(bench: &str, ts: &[f64], ops: usize) {
    let n = ts.len();
    let med = (ts[(n - 1) / 2] + ts[n / 2]) / 2.0;
    let per = |x: f64| x / ops as f64;
    println!("{},im_rc,{:.3},{},{:.3},{:.3},{},ns", bench, per(med), ops, per(ts[0]), per(ts[n - 1]), n);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    let wanted = |b: &str| only.as_deref().map_or(true, |o| o == b);
    let idx = indexes();
    if wanted("pvec_conj_1e6") {
        let ns = timings(N6 as i64 - 1, || {
            let t = Instant::now();
            let mut v: Vector<i64> = Vector::new();
            for i in 0..N6 as i64 {
                let mut n = v.clone();
                n.push_back(i);
                v = n;
            }
            (t.elapsed().as_nanos() as f64, *v.back().unwrap())
        });
        report("pvec_conj_1e6", &ns, N6);
    }
    if wanted("pvec_nth_1e6") {
        let v: Vector<i64> = (0..N6 as i64).collect();
        let want: i64 = idx.iter().map(|&i| i as i64).sum();
        let ns = timings(want, || {
            let t = Instant::now();
            let mut s = 0i64;
            for &i in &idx {
                s += v[i];
            }
            (t.elapsed().as_nanos() as f64, s)
        });
        report("pvec_nth_1e6", &ns, N6);
    }
    if wanted("phm_assoc_1e6") {
        let ns = timings(N6 as i64, || {
            let t = Instant::now();
            let mut m = Map::default();
            for i in 1..=N6 as u64 {
                m = m.update(key_of(i), i as i64);
            }
            (t.elapsed().as_nanos() as f64, m.len() as i64)
        });
        report("phm_assoc_1e6", &ns, N6);
    }
    if wanted("phm_get_1e6") {
        let mut m = Map::default();
        for i in 1..=N6 as u64 {
            m.insert(key_of(i), i as i64);
        }
        let want: i64 = idx.iter().map(|&i| i as i64 + 1).sum();
        let ns = timings(want, || {
            let t = Instant::now();
            let mut s = 0i64;
            for &i in &idx {
                s += m.get(&key_of(i as u64 + 1)).copied().unwrap_or(-1);
            }
            (t.elapsed().as_nanos() as f64, s)
        });
        report("phm_get_1e6", &ns, N6);
    }
    if wanted("pvec_transient_1e6") {
        let ns = timings(N6 as i64, || {
            let t = Instant::now();
            let mut v: Vector<i64> = Vector::new();
            for i in 0..N6 as i64 {
                v.push_back(i);
            }
            (t.elapsed().as_nanos() as f64, v.len() as i64)
        });
        report("pvec_transient_1e6", &ns, N6);
    }
    if wanted("pvec_fold_1e7") {
        let v: Vector<i64> = (0..N7 as i64).collect();
        let want = (N7 as i64) * (N7 as i64 - 1) / 2;
        let ns = timings(want, || {
            let t = Instant::now();
            let s: i64 = v.iter().sum();
            (t.elapsed().as_nanos() as f64, s)
        });
        report("pvec_fold_1e7", &ns, N7);
    }
}
