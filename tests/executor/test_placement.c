/* Executor: where new fibers run. Explicit placement (a worker, a node, the spawner's
 * worker) is exact and never moved; out-of-range options are -EINVAL; a burst of
 * CPU-bound go processes from one go process runs on every worker of its node; unstarted
 * fibers piled on one worker are shared with an idle peer, pinned ones are not, nor are
 * those placement sent away from a worker carrying more; a go
 * process may have a stack of its own size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ringfold.h>

#include "fiber_check.h"
#include "latch.h"
#include "runtime/sched/sched.h"

static int where(rf_val arg, rf_val *out)
{
	*out = (rf_val)rf_worker_self();
	return 0;
}

static int go_where(const rf_spawn_opts *o, int *rc)
{
	rf_chan *ch = NULL;
	rf_val v = (rf_val)-100;
	*rc = rf_go_with(o, where, 0, &ch);
	if (*rc)
		return -100;
	RF_CHECK(rf_chan_take_timeout(ch, WAIT_MS, &v) == 0);
	rf_chan_release(ch);
	return (int)v;
}

static void test_explicit_worker(void **state)
{
	int n = sched_workers(), rc;
	rf_spawn_opts o;
	assert_int_equal(rf_spawn_opts_default(&o), 0);
	for (int w = 0; w < n; w++) {
		o.worker = w;
		for (int k = 0; k < 20; k++) {
			assert_int_equal(go_where(&o, &rc), w);
			assert_int_equal(rc, 0);
		}
	}
	assert_int_equal(rf_worker_self(), -1);
}

static void test_node(void **state)
{
	rf_stats *st = calloc(1, sizeof(*st));
	rf_stats_get(st);
	rf_spawn_opts o;
	rf_spawn_opts_default(&o);
	int rc;
	for (int node = 0; node < st->nodes; node++) {
		o.node = node;
		int w = go_where(&o, &rc);
		assert_int_equal(rc, 0);
		assert_true(w >= 0 && w < st->workers);
		assert_int_equal(st->executor[w].node, node);
	}
	free(st);
}

static void test_bad_options(void **state)
{
	rf_spawn_opts o;
	rf_chan *ch = NULL;
	rf_future *f = NULL;
	assert_int_equal(rf_spawn_opts_default(NULL), -EINVAL);
	rf_spawn_opts_default(&o);
	o.worker = sched_workers();
	assert_int_equal(rf_go_with(&o, where, 0, &ch), -EINVAL);
	assert_int_equal(rf_future_call_with(&o, where, 0, &f), -EINVAL);
	o.worker = -2;
	assert_int_equal(rf_go_with(&o, where, 0, &ch), -EINVAL);
	rf_spawn_opts_default(&o);
	o.node = 64;
	assert_int_equal(rf_go_with(&o, where, 0, &ch), -EINVAL);
	o.node = -2;
	assert_int_equal(rf_go_with(&o, where, 0, &ch), -EINVAL);
	rf_spawn_opts_default(&o);
	o.stack_size = 1000;
	assert_int_equal(rf_go_with(&o, where, 0, &ch), -EINVAL);
	o.stack_size = (size_t)2 << 30;
	assert_int_equal(rf_go_with(&o, where, 0, &ch), -EINVAL);
	rf_spawn_opts_default(&o);
	o.size = 4;
	assert_int_equal(rf_go_with(&o, where, 0, &ch), -EINVAL);
	assert_int_equal(rf_go_with(NULL, NULL, 0, &ch), -EINVAL);
	assert_null(ch);
	assert_null(f);
	/* no options: as rf_go / rf_future_call */
	int rc;
	int w = go_where(NULL, &rc);
	assert_int_equal(rc, 0);
	assert_true(w >= 0 && w < sched_workers());
	assert_int_equal(rf_future_call_with(NULL, where, 0, &f), 0);
	rf_val v;
	assert_int_equal(rf_future_deref_timeout(f, WAIT_MS, &v), 0);
	rf_future_free(f);
}

/* ---- stay_local, and a burst that spreads ---- */

enum { BURST = 200 };

struct burst {
	_Atomic int ran_on[256];
	bool local;
	int spawner;
};

static void burn_us(int us)
{
	uint64_t until = time_now_ns() + (uint64_t)us * 1000;
	while (time_now_ns() < until)
		;
}

static int busy(rf_val arg, rf_val *out)
{
	struct burst *b = rf_to_ptr(arg);
	burn_us(200);
	atomic_fetch_add(&b->ran_on[rf_worker_self()], 1);
	return 0;
}

static int burst_root(rf_val arg, rf_val *out)
{
	struct burst *b = rf_to_ptr(arg);
	static rf_chan *res[BURST];
	rf_spawn_opts o;
	rf_spawn_opts_default(&o);
	o.stay_local = b->local;
	b->spawner = rf_worker_self();
	for (int i = 0; i < BURST; i++)
		RF_CHECK(rf_go_with(&o, busy, arg, &res[i]) == 0);
	for (int i = 0; i < BURST; i++) {
		rf_val v;
		RF_CHECK(rf_chan_take_timeout(res[i], WAIT_MS, &v) == 0);
		rf_chan_release(res[i]);
	}
	return 0;
}

static void run_burst(struct burst *b)
{
	rf_chan *done;
	rf_val v;
	assert_int_equal(rf_go(burst_root, rf_from_ptr(b), &done), 0);
	assert_int_equal(rf_chan_take_timeout(done, WAIT_MS, &v), 0);
	rf_chan_release(done);
	int total = 0;
	for (int i = 0; i < 256; i++)
		total += b->ran_on[i];
	assert_int_equal(total, BURST);
}

/* Workers sharing the first worker's node (placement and sharing stay in a node). */
static int node_peers(void)
{
	rf_stats *st;
	RF_CHECK(rf_stats_new(&st) == 0);
	RF_CHECK(rf_stats_get(st) == 0);
	RF_CHECK(st->workers == sched_workers());
	int n = 0;
	for (int i = 0; i < st->workers; i++)
		n += st->executor[i].node == st->executor[0].node;
	rf_stats_free(st);
	return n;
}

static void test_stay_local(void **state)
{
	struct burst b = {.local = true};
	run_burst(&b);
	assert_int_equal(b.ran_on[b.spawner], BURST);
}

static void test_burst_spreads(void **state)
{
	if (node_peers() < 2)
		skip();
	struct burst b = {.local = false};
	run_burst(&b);
	/* every worker of the node took a real share: none left idle */
	int n = 0;
	for (int i = 0; i < sched_workers(); i++)
		if (b.ran_on[i] >= BURST / 10)
			n++;
	assert_true(n >= 2);
}

/* ---- sharing a backlog ---- */

struct share {
	latch parked_up, parked_done, done;
	rf_chan *release_parked; /* closed to end the parked fibers */
	_Atomic int ran_on[256];
	bool pinned;
	int parked_on; /* the worker carrying the parked fibers (the piler runs on 0) */
};

static void parked(void *arg)
{
	struct share *s = arg;
	latch_down(&s->parked_up);
	rf_val v;
	RF_CHECK(rf_chan_take_timeout(s->release_parked, WAIT_MS, &v) == RF_ECLOSED);
	latch_down(&s->parked_done);
}

static void heavy(void *arg)
{
	struct share *s = arg;
	burn_us(500);
	atomic_fetch_add(&s->ran_on[sched_worker_self()], 1);
	latch_down(&s->done);
}

enum { PARKED = 64, HEAVY = 40 };

static void piler(void *arg)
{
	struct share *s = arg;
	/* With the parked fibers on worker 1, placement keeps every new fiber here on 0 and
	 * only sharing can move them; with them here, placement sends every one away. */
	sched_spawn how = {.worker = SCHED_WORKER_ANY, .node = -1, .pinned = s->pinned};
	for (int i = 0; i < HEAVY; i++)
		RF_CHECK(fiber_spawn_at(heavy, s, &how, NULL) == 0);
}

static void run_share(struct share *s)
{
	latch_init(&s->parked_up, PARKED);
	latch_init(&s->parked_done, PARKED);
	assert_int_equal(rf_chan_new(&s->release_parked), 0);
	latch_init(&s->done, HEAVY);
	for (int i = 0; i < PARKED; i++)
		assert_int_equal(fiber_spawn(parked, s, s->parked_on, NULL), 0);
	assert_int_equal(latch_wait(&s->parked_up, WAIT_MS), 0);
	assert_int_equal(fiber_spawn(piler, s, 0, NULL), 0);
	assert_int_equal(latch_wait(&s->done, WAIT_MS), 0);
	rf_chan_close(s->release_parked);
	assert_int_equal(latch_wait(&s->parked_done, WAIT_MS), 0);
	rf_chan_release(s->release_parked);
}

static void test_idle_peer_takes_unstarted(void **state)
{
	if (node_peers() < 2)
		skip();
	struct share *s = calloc(1, sizeof(*s));
	s->parked_on = 1;
	run_share(s);
	assert_int_equal(s->ran_on[0] + s->ran_on[1], HEAVY);
	assert_true(s->ran_on[1] >= 1); /* worker 1 was idle: it took a share */
	free(s);
}

/* Fibers that placement sent away from a worker carrying more are not handed back to it
 * when it idles (its fibers parked): connections spread by placement stay spread. */
static void test_spread_not_handed_back(void **state)
{
	if (node_peers() < 2)
		skip();
	struct share *s = calloc(1, sizeof(*s));
	s->parked_on = 0;
	run_share(s);
	int total = 0;
	for (int i = 0; i < 256; i++)
		total += s->ran_on[i];
	assert_int_equal(total, HEAVY);
	assert_int_equal(s->ran_on[0], 0);
	free(s);
}

static void test_pinned_stay(void **state)
{
	if (node_peers() < 2)
		skip();
	struct share *s = calloc(1, sizeof(*s));
	s->pinned = true;
	s->parked_on = 1;
	run_share(s);
	assert_int_equal(s->ran_on[0], HEAVY);
	free(s);
}

/* ---- a stack of its own size ---- */

static int deep(rf_val arg, rf_val *out)
{
	volatile char big[512 * 1024];
	for (size_t i = 0; i < sizeof(big); i += 4096)
		big[i] = (char)i;
	*out = big[4096] + 1;
	return 0;
}

static void test_stack_size(void **state)
{
	rf_spawn_opts o;
	rf_spawn_opts_default(&o);
	o.stack_size = 1 << 20;
	for (int k = 0; k < 3; k++) {
		rf_chan *ch;
		rf_val v = 0;
		assert_int_equal(rf_go_with(&o, deep, 0, &ch), 0);
		assert_int_equal(rf_chan_take_timeout(ch, WAIT_MS, &v), 0);
		assert_int_equal(v, (rf_val)((char)4096) + 1);
		rf_chan_release(ch);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_explicit_worker),
	    cmocka_unit_test(test_node),
	    cmocka_unit_test(test_bad_options),
	    cmocka_unit_test(test_stay_local),
	    cmocka_unit_test(test_burst_spreads),
	    cmocka_unit_test(test_idle_peer_takes_unstarted),
	    cmocka_unit_test(test_spread_not_handed_back),
	    cmocka_unit_test(test_pinned_stay),
	    cmocka_unit_test(test_stack_size),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
