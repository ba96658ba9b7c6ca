;; perf/deref/peers.clj: Clojure 1.11's own figures for the deref family's benchmarks,
;; measured the way bench_deref.c measures ringfold (RF_BENCH_REPS runs).
;; Prints CSV rows as perf/harness.h (median, min, max per op); impl "clojure".
(def only (second *command-line-args*))
(def reps (or (some-> (System/getenv "RF_BENCH_REPS") parse-long) 5))

(defn timings [f] (vec (sort (repeatedly reps f))))

(defn report [bench ts ops]
  (let [n (count ts)
        med (if (odd? n) (ts (quot n 2)) (/ (+ (ts (dec (quot n 2))) (ts (quot n 2))) 2.0))
        per #(/ (double %) ops)]
    (println (format "%s,clojure,%.3f,%d,%.3f,%.3f,%d,ns"
                     bench (per med) ops (per (first ts)) (per (peek ts)) n))))

(defn wanted? [b] (or (nil? only) (= only b)))

;; 100,000 futures in batches of 256, each batch then derefed
(when (wanted? "future_create_deref")
  (let [n 100000]
    (report "future_create_deref"
            (timings #(let [t0 (System/nanoTime)]
                        (doseq [b (partition-all 256 (range n))]
                          (let [fs (mapv (fn [i] (future i)) b)]
                            (doseq [f fs] @f)))
                        (- (System/nanoTime) t0)))
            n)))

;; two threads hand a value back and forth through one-shot promises
(when (wanted? "promise_pingpong")
  (let [n 100000]
    (report "promise_pingpong"
            (timings #(let [ping (vec (repeatedly n promise))
                            pong (vec (repeatedly n promise))
                            other (future (dotimes [i n] (deliver (pong i) (inc @(ping i)))))
                            t0 (System/nanoTime)]
                        (dotimes [i n] (deliver (ping i) i) @(pong i))
                        (let [ns (- (System/nanoTime) t0)] @other ns)))
            n)))

;; two threads deref the same fresh delays in the same order
(when (wanted? "delay_contended")
  (let [n 100000]
    (report "delay_contended"
            (timings #(let [ds (vec (repeatedly n (fn [] (delay 7))))
                            t0 (System/nanoTime)
                            other (future (doseq [d ds] @d))]
                        (doseq [d ds] @d)
                        @other
                        (- (System/nanoTime) t0)))
            n)))

;; submit 100,000 tiny tasks to a 2-thread pool and deref every future
(when (wanted? "executor_submit")
  (let [n 100000 pool (java.util.concurrent.Executors/newFixedThreadPool 2)]
    (report "executor_submit"
            (timings #(let [t0 (System/nanoTime)
                            fs (mapv (fn [i] (.submit pool ^Callable (fn [] i))) (range n))]
                        (doseq [^java.util.concurrent.Future f fs] (.get f))
                        (- (System/nanoTime) t0)))
            n)
    (.shutdown pool)))

(shutdown-agents)
