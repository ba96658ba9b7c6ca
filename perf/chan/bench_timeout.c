/* perf/chan/bench_timeout.c: timeout channels, on the executor's timers with core.async's
 * 10 ms coalescing ("ringfold") beside the previous design, a timer thread with a heap
 * under a global mutex ("timer-thread", timer_thread.c).
 *
 *   chan_alts_timeout         a go process loops (alts! [c (timeout 100)]) with c ready
 *                             (priority: c wins); ns per turn, timeout creation included
 *   chan_alts_timeout_thread  the same loop on a plain thread (alts!!)
 *   chan_timeout_spread       a go process makes (timeout ms) for ms spread over 1..2000
 *                             and drops it; ns per timeout
 */
#include <stdlib.h>

#include <ringfold.h>

#include "harness.h"
#include "timer_thread.h"

typedef int (*timeout_fn)(int64_t ms, rf_chan **out);

typedef struct loop_args {
	timeout_fn make;
	uint64_t ops;
	uint64_t ns;
} loop_args;

static uint64_t alts_loop(timeout_fn make, uint64_t ops)
{
	rf_chan *c;
	if (rf_chan_new_buf(RF_BUF_FIXED, 1, &c) < 0)
		abort();
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		rf_chan *t;
		if (make(100, &t) < 0 || rf_chan_put(c, (rf_val)i) < 0)
			abort();
		rf_alt alt[] = {{.ch = c}, {.ch = t}};
		int which;
		rf_val v;
		if (rf_alts(alt, 2, RF_ALT_PRIORITY, &which, &v) < 0 || which != 0)
			abort();
		rf_chan_release(t);
	}
	uint64_t ns = bench_now_ns() - t0;
	rf_chan_release(c);
	return ns;
}

static uint64_t spread_loop(timeout_fn make, uint64_t ops)
{
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		rf_chan *t;
		if (make(1 + (int64_t)((i * 7919) % 2000), &t) < 0)
			abort();
		rf_chan_release(t);
	}
	return bench_now_ns() - t0;
}

static int go_alts(rf_val arg, rf_val *out)
{
	loop_args *a = rf_to_ptr(arg);
	a->ns = alts_loop(a->make, a->ops);
	return 0;
}

static int go_spread(rf_val arg, rf_val *out)
{
	loop_args *a = rf_to_ptr(arg);
	a->ns = spread_loop(a->make, a->ops);
	return 0;
}

static uint64_t on_fiber(rf_body_fn body, timeout_fn make, uint64_t ops)
{
	loop_args a = {.make = make, .ops = ops};
	rf_chan *done;
	rf_val v;
	if (rf_go(body, rf_from_ptr(&a), &done) < 0 || rf_chan_take(done, &v) < 0)
		abort();
	rf_chan_release(done);
	return a.ns;
}

static uint64_t alts_fiber(uint64_t ops, void *make)
{
	return on_fiber(go_alts, (timeout_fn)make, ops);
}
static uint64_t alts_thread(uint64_t ops, void *make)
{
	return alts_loop((timeout_fn)make, ops);
}
static uint64_t spread_fiber(uint64_t ops, void *make)
{
	return on_fiber(go_spread, (timeout_fn)make, ops);
}

void bench_timeouts(void)
{
	void *rf = (void *)rf_chan_timeout, *tt = (void *)thread_timeout;
	if (bench_wanted("chan_alts_timeout")) {
		bench_run("chan_alts_timeout", "ringfold", 200000, alts_fiber, rf);
		bench_run("chan_alts_timeout", "timer-thread", 200000, alts_fiber, tt);
	}
	if (bench_wanted("chan_alts_timeout_thread")) {
		bench_run("chan_alts_timeout_thread", "ringfold", 200000, alts_thread, rf);
		bench_run("chan_alts_timeout_thread", "timer-thread", 200000, alts_thread, tt);
	}
	if (bench_wanted("chan_timeout_spread")) {
		bench_run("chan_timeout_spread", "ringfold", 100000, spread_fiber, rf);
		bench_run("chan_timeout_spread", "timer-thread", 100000, spread_fiber, tt);
	}
}
