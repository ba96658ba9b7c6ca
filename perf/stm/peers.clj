;; perf/stm/peers.clj: Clojure 1.11's own STM and vars on the same benchmarks as
;; bench_stm.c, printing CSV rows as perf/harness.h (median, min, max of RF_BENCH_REPS runs).
(def reps (max 1 (Integer/parseInt (or (System/getenv "RF_BENCH_REPS") "5"))))
(def only (first *command-line-args*))
(defn wanted? [b] (or (nil? only) (= only b)))

(defn run-threads [nthreads ops work]
  (let [per (quot ops nthreads)
        start (java.util.concurrent.CountDownLatch. 1)
        ts (doall (for [i (range nthreads)]
                    (doto (Thread. #(do (.await start) (work i per))) .start)))
        t0 (System/nanoTime)]
    (.countDown start)
    (doseq [^Thread t ts] (.join t))
    (- (System/nanoTime) t0)))

(defn report [bench ops f]
  (f) ;; warm-up run
  (let [ts (vec (sort (repeatedly reps f)))
        n (count ts)
        med (if (odd? n) (ts (quot n 2)) (/ (+ (ts (dec (quot n 2))) (ts (quot n 2))) 2.0))
        per #(/ (double %) ops)]
    (println (format "%s,clojure,%.3f,%d,%.3f,%.3f,%d,ns"
                     bench (per med) ops (per (first ts)) (per (peek ts)) n))))

(when (wanted? "stm_bank_2t")
  (let [accounts (vec (repeatedly 100 #(ref 1000)))
        ops 200000]
    (report "stm_bank_2t" ops
            #(run-threads 2 ops
                          (fn [i n]
                            (let [rnd (java.util.Random. (inc i))]
                              (dotimes [_ n]
                                (let [from (.nextInt rnd 100)
                                      to (mod (+ from 1 (.nextInt rnd 99)) 100)
                                      x (.nextInt rnd 64)]
                                  (dosync (alter (accounts from) - x)
                                          (alter (accounts to) + x))))))))
    (assert (= (* 100 1000) (reduce + (map deref accounts))))))

(when (wanted? "stm_donations_9t")
  (let [total-donations (ref 0) count-donations (ref 0) ops 90000]
    (report "stm_donations_9t" ops
            #(run-threads 9 ops
                          (fn [_ n]
                            (dotimes [_ n]
                              (dosync (alter total-donations + 10)
                                      (alter count-donations inc))))))
    (assert (= @total-donations (* 10 @count-donations)))))

(def ^:dynamic *v* 0)
(when (wanted? "var_binding")
  (let [ops 1000000 sink (volatile! 0)]
    (report "var_binding" ops
            #(let [t0 (System/nanoTime)]
               (dotimes [i ops] (binding [*v* i] (vreset! sink *v*)))
               (- (System/nanoTime) t0)))))
