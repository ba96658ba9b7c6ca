// perf/atom/lock_peers.go: Go's sync.Mutex on lock_2t of perf/atom/bench_atom.c: two goroutines
// (GOMAXPROCS 2) take the mutex around a shared counter until it reaches ops, each counting its
// own acquisitions. Prints CSV rows as perf/harness.h: median, min and max per op of
// RF_BENCH_REPS runs (default 5), then the smaller goroutine's share of an equal split (worst
// rep), as bench_atom prints its *_fairness rows.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"
)

const ops = 4000000

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
	worst := 1.0
	for r := range ts {
		d, share := lock2t()
		ts[r] = float64(d.Nanoseconds()) / ops
		if share < worst {
			worst = share
		}
	}
	sort.Float64s(ts)
	med := (ts[(reps-1)/2] + ts[reps/2]) / 2
	fmt.Printf("lock_2t,go_mutex,%.3f,%d,%.3f,%.3f,%d,ns\n", med, ops, ts[0], ts[reps-1], reps)
	fmt.Printf("lock_2t,go_mutex_fairness,%.3f,%d,%.3f,%.3f,1,share\n", worst, ops, worst, worst)
}
