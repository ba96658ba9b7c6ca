;; perf/persistent/peers.clj: Clojure 1.11's persistent collections on the benchmarks of
;; bench_persistent.c, printing CSV rows as perf/harness.h (median, min, max of
;; RF_BENCH_REPS runs, after the warm-up below). Primitive longs where Clojure allows, as a Clojure
;; programmer tuning this loop would write it; values are boxed Longs inside the
;; collections, as they always are.
(require '[clojure.core.reducers :as r])
(set! *warn-on-reflection* true)
(set! *unchecked-math* true)

(def reps (max 1 (Integer/parseInt (or (System/getenv "RF_BENCH_REPS") "5"))))
(def only (first *command-line-args*))
(defn wanted? [b] (or (nil? only) (= only b)))

(def n6 1000000)
(def n7 10000000)

;; Steady state, as a long-running Clojure program sees it: the JIT's tiers and G1's young
;; generation settle over the first seconds of a loop, and a single warm-up run left the
;; first timed runs 5-50 times slower than the later ones. So f runs untimed at least 10
;; times and for at least 3 s (60 s at most) before the timed runs. The heap's pages are
;; touched before any of it (run-peers: fixed heap, -XX:+AlwaysPreTouch): a heap growing
;; into fresh pages during the timed runs made the conj median 40 times its min.
(defn warm-up [bench want f]
  (let [t0 (System/nanoTime)]
    (loop [n 1]
      (let [[_ got] (f)
            el (- (System/nanoTime) t0)]
        (assert (= want got) (str bench " gave " got ", expected " want))
        (when (and (< el 60e9) (or (< n 10) (< el 3e9)))
          (recur (inc n)))))))

(defn report [bench ops want f]
  (warm-up bench want f)
  (let [ts (vec (sort (for [_ (range reps)]
                        (let [[ns got] (f)]
                          (assert (= want got))
                          ns))))
        n (count ts)
        med (if (odd? n) (ts (quot n 2)) (/ (+ (ts (dec (quot n 2))) (ts (quot n 2))) 2.0))
        per #(/ (double %) ops)]
    (println (format "%s,clojure,%.3f,%d,%.3f,%.3f,%d,ns"
                     bench (per med) ops (per (first ts)) (per (peek ts)) n))
    (flush)))

(defmacro timed [& body]
  `(let [t0# (System/nanoTime) r# (do ~@body)] [(- (System/nanoTime) t0#) r#]))

(defn key-of ^long [^long i] (unchecked-multiply i (unchecked-long 0x9E3779B97F4A7C15)))

(def idx
  (let [a (long-array n6)]
    (loop [i 0 s 88172645463325252]
      (when (< i n6)
        (let [s (bit-xor s (bit-shift-left s 13))
              s (bit-xor s (unsigned-bit-shift-right s 7))
              s (bit-xor s (bit-shift-left s 17))]
          (aset a i (Long/remainderUnsigned s n6))
          (recur (inc i) s))))
    a))
(def idx-sum (areduce ^longs idx i acc 0 (+ acc (aget ^longs idx i))))

(when (wanted? "pvec_conj_1e6")
  (report "pvec_conj_1e6" n6 (dec n6)
          #(timed (loop [v [] i 0]
                    (if (< i n6) (recur (conj v i) (inc i)) (peek v))))))

(when (wanted? "pvec_nth_1e6")
  (let [v (vec (range n6))]
    (report "pvec_nth_1e6" n6 idx-sum
            #(timed (loop [i 0 s 0]
                      (if (< i n6)
                        (recur (inc i) (+ s (long (nth v (aget ^longs idx i)))))
                        s))))))

(when (wanted? "phm_assoc_1e6")
  (report "phm_assoc_1e6" n6 n6
          #(timed (loop [m {} i 1]
                    (if (<= i n6) (recur (assoc m (key-of i) i) (inc i)) (count m))))))

(when (wanted? "phm_get_1e6")
  (let [m (persistent! (reduce (fn [t ^long i] (assoc! t (key-of i) i)) (transient {})
                               (range 1 (inc n6))))]
    (report "phm_get_1e6" n6 (+ idx-sum n6)
            #(timed (loop [i 0 s 0]
                      (if (< i n6)
                        (recur (inc i) (+ s (long (get m (key-of (inc (aget ^longs idx i))) -1))))
                        s))))))

(when (wanted? "pvec_transient_1e6")
  (report "pvec_transient_1e6" n6 n6
          #(timed (loop [t (transient []) i 0]
                    (if (< i n6) (recur (conj! t i) (inc i)) (count (persistent! t)))))))

(when (wanted? "pvec_fold_1e7")
  (let [v (vec (range n7))]
    (report "pvec_fold_1e7" n7 (quot (* n7 (dec n7)) 2)
            #(timed (r/fold + v)))))

(shutdown-agents)
