/* Executor: the runnext slot. A parked fiber woken by a fiber of its own worker runs
 * as soon as the waker switches out, ahead of fibers already queued; one woken from
 * another thread goes behind them. Two fibers that keep waking each other (a channel
 * ping-pong) cannot starve a queued fiber: it runs within RUNNEXT_MAX + 1 of their
 * turns. Every fiber here is placed on worker 0, so the orders are exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include <ringfold.h>

#include "fiber_check.h"
#include "latch.h"
#include "runtime/sched/fiber.h"

/* ---- who runs first after a wake ---- */

struct order {
	waiter *_Atomic sleeper; /* S's waiter, once S waits on it */
	_Atomic int from_thread; /* the test thread completes S's waiter (not P) */
	_Atomic int ready;       /* P saw S parked and queued the others: wake S now */
	_Atomic int woken;       /* the test thread did */
	char log[8];
	int nlog;
	latch done;
};

static void log_run(struct order *o, char c)
{
	RF_CHECK(o->nlog < (int)sizeof(o->log) - 1);
	o->log[o->nlog++] = c;
}

static void sleeper(void *arg)
{
	struct order *o = arg;
	waiter w;
	waiter_init(&w);
	atomic_store(&o->sleeper, &w);
	RF_CHECK_EQ(waiter_wait(&w, DEADLINE_NONE), 0);
	log_run(o, 'S');
	latch_down(&o->done);
}

static void queued1(void *arg)
{
	log_run(arg, '1');
	latch_down(&((struct order *)arg)->done);
}
static void queued2(void *arg)
{
	log_run(arg, '2');
	latch_down(&((struct order *)arg)->done);
}

/* P: park S, queue two fibers, wake S (or let the test thread wake it), then end. */
static void parent(void *arg)
{
	struct order *o = arg;
	RF_CHECK_EQ(fiber_spawn(sleeper, o, 0, NULL), 0);
	waiter *w;
	long spins = 0;
	/* S runs on this worker only when P yields; then it parks. */
	while (!(w = atomic_load(&o->sleeper)) ||
	       !(atomic_load_explicit(&w->state, memory_order_relaxed) & WAITER_PARKED)) {
		RF_CHECK(++spins < 1000000);
		fiber_yield();
	}
	RF_CHECK_EQ(fiber_spawn(queued1, o, 0, NULL), 0);
	RF_CHECK_EQ(fiber_spawn(queued2, o, 0, NULL), 0);
	if (atomic_load(&o->from_thread)) {
		/* Hold the worker (no yield) until the wake from the test thread is in. */
		atomic_store(&o->ready, 1);
		while (!atomic_load(&o->woken))
			cpu_relax();
	} else {
		RF_CHECK(waiter_claim(w));
		waiter_complete(w);
	}
	log_run(o, 'P');
	latch_down(&o->done);
}

static void run_order(struct order *o, bool from_thread)
{
	*o = (struct order){.from_thread = from_thread};
	latch_init(&o->done, 4);
	assert_int_equal(fiber_spawn(parent, o, 0, NULL), 0);
	if (from_thread) {
		/* P holds worker 0 from now until woken is set: S's resume waits in the
		 * inbox behind the two fibers already queued. */
		while (!atomic_load(&o->ready))
			sched_yield();
		waiter *w = atomic_load(&o->sleeper);
		assert_true(waiter_claim(w));
		waiter_complete(w);
		atomic_store(&o->woken, 1);
	}
	assert_int_equal(latch_wait(&o->done, WAIT_MS), 0);
	o->log[o->nlog] = 0;
}

static void woken_by_local_fiber_runs_next(void **state)
{
	struct order o;
	for (int i = 0; i < 100 / SCALE; i++) {
		run_order(&o, false);
		assert_string_equal(o.log, "PS12");
	}
}

static void woken_from_thread_is_queued(void **state)
{
	struct order o;
	for (int i = 0; i < 100 / SCALE; i++) {
		run_order(&o, true);
		assert_string_equal(o.log, "P12S");
	}
}

/* ---- no starvation by a ping-pong pair ---- */

#define TURN_LIMIT 1000000L /* the pair stops by itself here: a failure, not a hang */

struct pair {
	rf_chan *to_b, *to_a;
	_Atomic long turns; /* resumes of A and B (relaxed: one worker) */
	_Atomic int stop;
	long max_wait, min_wait; /* turns a queued fiber waited, over the samples */
	long c_waited;
	long at_spawn;
	waiter c_done;
	latch done;
};

static void side_a(void *arg)
{
	struct pair *p = arg;
	rf_val v;
	while (!atomic_load(&p->stop) && atomic_load(&p->turns) < TURN_LIMIT) {
		RF_CHECK_EQ(rf_chan_put(p->to_b, 1), 0);
		RF_CHECK_EQ(rf_chan_take(p->to_a, &v), 0);
		atomic_fetch_add(&p->turns, 1);
	}
	rf_chan_close(p->to_b);
	latch_down(&p->done);
}

static void side_b(void *arg)
{
	struct pair *p = arg;
	rf_val v;
	while (rf_chan_take(p->to_b, &v) == 0) {
		atomic_fetch_add(&p->turns, 1);
		RF_CHECK_EQ(rf_chan_put(p->to_a, v), 0);
	}
	latch_down(&p->done);
}

static void late(void *arg)
{
	struct pair *p = arg;
	p->c_waited = atomic_load(&p->turns) - p->at_spawn;
	if (waiter_claim(&p->c_done))
		waiter_complete(&p->c_done);
}

/* On worker 0, with the pair running: how many of its turns pass while this fiber sits
 * in the run queue after a yield, and while a fiber spawned here waits for its first run. */
static void observer(void *arg)
{
	struct pair *p = arg;
	RF_CHECK_EQ(fiber_spawn(side_a, p, 0, NULL), 0);
	RF_CHECK_EQ(fiber_spawn(side_b, p, 0, NULL), 0);
	p->min_wait = TURN_LIMIT;
	for (int i = 0; i < 200; i++) {
		long t0 = atomic_load(&p->turns);
		fiber_yield();
		long waited = atomic_load(&p->turns) - t0;
		if (i >= 2) { /* the pair has started */
			p->max_wait = waited > p->max_wait ? waited : p->max_wait;
			p->min_wait = waited < p->min_wait ? waited : p->min_wait;
		}
	}
	waiter_init(&p->c_done);
	p->at_spawn = atomic_load(&p->turns);
	RF_CHECK_EQ(fiber_spawn(late, p, 0, NULL), 0);
	RF_CHECK_EQ(waiter_wait(&p->c_done, DEADLINE_NONE), 0);
	atomic_store(&p->stop, 1);
	latch_down(&p->done);
}

static void runnext_cannot_starve_queue(void **state)
{
	struct pair p = {0};
	assert_int_equal(rf_chan_new(&p.to_b), 0);
	assert_int_equal(rf_chan_new(&p.to_a), 0);
	latch_init(&p.done, 3);
	assert_int_equal(fiber_spawn(observer, &p, 0, NULL), 0);
	assert_int_equal(latch_wait(&p.done, WAIT_MS), 0);
	printf("queued fiber waited %ld..%ld turns of the pair; a new one %ld (bound %d)\n",
	       p.min_wait, p.max_wait, p.c_waited, RUNNEXT_MAX + 1);
	assert_true(atomic_load(&p.turns) < TURN_LIMIT);
	/* The pair ran ahead of the queue through the slot, but only so far. */
	assert_true(p.max_wait >= 2);
	assert_true(p.max_wait <= RUNNEXT_MAX + 1);
	assert_true(p.c_waited <= RUNNEXT_MAX + 1);
	rf_chan_release(p.to_a);
	rf_chan_release(p.to_b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(woken_by_local_fiber_runs_next),
	    cmocka_unit_test(woken_from_thread_is_queued),
	    cmocka_unit_test(runnext_cannot_starve_queue),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
