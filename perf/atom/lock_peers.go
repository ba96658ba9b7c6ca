// perf/atom/lock_peers.go: Go's sync.Mutex on lock_2t of perf/atom/bench_atom.c: two goroutines
// (GOMAXPROCS 2) take the mutex around a shared counter until it reaches ops, each counting its
// own acquisitions. Prints CSV rows as perf/harness.h: median, min and max per op of
// RF_BENCH_REPS runs (default 5), then the smaller goroutine's share of an equal split, as
// bench_atom prints its *_fairness rows: the worst of the runs in which the threads that ran
// the goroutines together waited on a run queue for at most runqMax of the run's time, or of
// all runs if none was that undisturbed.
package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const ops = 4000000
const runqMax = 0.01

// schedstat gives each thread of the process's time on a CPU and time runnable but waiting
// for one, in ns (/proc/self/task/*/schedstat; empty if the kernel does not say).
func schedstat() map[string][2]int64 {
	st := map[string][2]int64{}
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if f := strings.Fields(string(b)); err == nil && len(f) >= 2 {
			on, _ := strconv.ParseInt(f[0], 10, 64)
			waited, _ := strconv.ParseInt(f[1], 10, 64)
			st[t.Name()] = [2]int64{on, waited}
		}
	}
	return st
}

// runqNs is how long the threads that ran the goroutines (those on a CPU for a tenth of the
// run at least: goroutines move between threads, the runtime's helpers hardly run) waited
// on a run queue between two schedstat readings.
func runqNs(before, after map[string][2]int64, d time.Duration) int64 {
	var sum int64
	for tid, a := range after {
		b := before[tid]
		if 10*(a[0]-b[0]) >= d.Nanoseconds() {
			sum += a[1] - b[1]
		}
	}
	return sum
}

func lock2t() (time.Duration, float64) {
	var mu sync.Mutex
	var counter int64
	var took [2]int64
	var start, done sync.WaitGroup
	start.Add(1)
	done.Add(2)
	for id := 0; id < 2; id++ {
		go func(id int) {
			defer done.Done()
			start.Wait()
			var mine int64
			for {
				mu.Lock()
				end := counter >= ops
				if !end {
					counter++
					mine++
				}
				mu.Unlock()
				if end {
					break
				}
			}
			took[id] = mine
		}(id)
	}
	t0 := time.Now()
	start.Done()
	done.Wait()
	d := time.Since(t0)
	if took[0]+took[1] != ops {
		panic("wrong count")
	}
	small := took[0]
	if took[1] < small {
		small = took[1]
	}
	return d, 2 * float64(small) / ops
}

func main() {
	runtime.GOMAXPROCS(2)
	reps := 5
	if s := os.Getenv("RF_BENCH_REPS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			reps = n
		}
	}
	ts := make([]float64, reps)
	worst, worstAll, quiet := 1.0, 1.0, 0
	for r := range ts {
		q := schedstat()
		d, share := lock2t()
		waited := runqNs(q, schedstat(), d)
		ts[r] = float64(d.Nanoseconds()) / ops
		if share < worstAll {
			worstAll = share
		}
		if float64(waited) <= runqMax*float64(d.Nanoseconds()) {
			quiet++
			if share < worst {
				worst = share
			}
		}
	}
	those := math.NaN()
	if quiet > 0 {
		those = worst
	}
	fmt.Fprintf(os.Stderr, "lock_2t go_mutex: %d of %d runs left alone by the OS (on a run "+
		"queue <= %.0f%% of the time); smaller share of an equal split: worst of those %.3f, "+
		"of all %.3f\n", quiet, reps, 100*runqMax, those,
		worstAll)
	if quiet == 0 {
		worst = worstAll
	}
	sort.Float64s(ts)
	med := (ts[(reps-1)/2] + ts[reps/2]) / 2
	fmt.Printf("lock_2t,go_mutex,%.3f,%d,%.3f,%.3f,%d,ns\n", med, ops, ts[0], ts[reps-1], reps)
	fmt.Printf("lock_2t,go_mutex_fairness,%.3f,%d,%.3f,%.3f,1,share\n", worst, ops, worst, worst)
}
