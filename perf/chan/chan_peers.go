// perf/chan/chan_peers.go: Go's channels on the benchmarks of perf/chan/bench_chan.c,
// printing CSV rows as perf/harness.h: median, min and max per op of RF_BENCH_REPS runs
// (default 5).
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"
)

func go100(ops int) time.Duration {
	numbers := make(chan int64, 100)
	parts := make(chan int64, 100)
	t0 := time.Now()
	for i := 0; i < 100; i++ {
		go func() {
			var sum int64
			for v := range numbers {
				sum += v
			}
			parts <- sum
		}()
	}
	go func() {
		for x := 0; x < ops; x++ {
			numbers <- int64(x)
		}
		close(numbers)
	}()
	var sum int64
	for i := 0; i < 100; i++ {
		sum += <-parts
	}
	d := time.Since(t0)
	if sum != int64(ops)*int64(ops-1)/2 {
		panic("wrong sum")
	}
	return d
}

func pingpong(ops int) time.Duration {
	ping, pong := make(chan int64), make(chan int64)
	done := make(chan int64)
	t0 := time.Now()
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	go func() {
		var v int64
		for i := 0; i < ops; i++ {
			ping <- v
			v = <-pong
		}
		close(ping)
		done <- v
	}()
	v := <-done
	d := time.Since(t0)
	if v != int64(ops) {
		panic("wrong count")
	}
	return d
}

func selectBench(ops int) time.Duration {
	a, b := make(chan int64, 64), make(chan int64, 64)
	fill := func(c chan int64) {
		for i := 0; i < ops/2; i++ {
			c <- 1
		}
		close(c)
	}
	t0 := time.Now()
	go fill(a)
	go fill(b)
	var sum int64
	for a != nil || b != nil {
		select {
		case v, ok := <-a:
			if !ok {
				a = nil
				continue
			}
			sum += v
		case v, ok := <-b:
			if !ok {
				b = nil
				continue
			}
			sum += v
		}
	}
	d := time.Since(t0)
	if sum != int64(ops/2*2) {
		panic("wrong sum")
	}
	return d
}

func main() {
	only := flag.String("only", "", "run only this benchmark")
	flag.Parse()
	reps := 5
	if s := os.Getenv("RF_BENCH_REPS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			reps = n
		}
	}
	run := func(name string, ops int, f func(int) time.Duration) {
		if *only != "" && *only != name {
			return
		}
		ts := make([]float64, reps)
		for r := range ts {
			ts[r] = float64(f(ops).Nanoseconds()) / float64(ops)
		}
		sort.Float64s(ts)
		med := (ts[(reps-1)/2] + ts[reps/2]) / 2
		fmt.Printf("%s,go,%.3f,%d,%.3f,%.3f,%d,ns\n", name, med, ops, ts[0], ts[reps-1], reps)
	}
	run("chan_100go_1e6", 1000000, go100)
	run("chan_pingpong", 200000, pingpong)
	run("chan_select", 1000000, selectBench)
}
