/* Executor: fibers created and joined in bulk, concurrent sleeps, cross-core wake-ups,
 * the waiter protocol with timeouts on fibers and threads, yield, per-fiber context. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fiber_check.h"
#include "latch.h"
#include "ringfold/var.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"
#include "runtime/var/convey.h"

static void count_fn(void *arg)
{
	latch *l = arg;
	latch_down(l);
}

/* A capture that must succeed here (the tests do not run out of memory). */
static void *capture(void)
{
	void *frame;
	RF_CHECK(var_bindings_capture(&frame) == 0);
	return frame;
}

static void spawn_join_100k_from_thread(void **state)
{
	enum { N = 100000 / SCALE };
	latch l;
	latch_init(&l, N);
	for (int i = 0; i < N; i++)
		assert_int_equal(fiber_spawn(count_fn, &l, SCHED_WORKER_ANY, NULL), 0);
	assert_int_equal(latch_wait(&l, WAIT_MS), 0);
	assert_int_equal(atomic_load(&l.count), 0);
}

struct spawner {
	latch *inner;
	latch done;
	long n;
};

static void spawner_fn(void *arg)
{
	struct spawner *s = arg;
	latch inner;
	latch_init(&inner, s->n); /* the waiter belongs to this fiber */
	for (long i = 0; i < s->n; i++) {
		RF_CHECK(fiber_spawn(count_fn, &inner, (int)(i % sched_workers()), NULL) == 0);
		if (i % 128 == 127)
			fiber_yield(); /* let the children run: their stacks are reused */
	}
	RF_CHECK((latch_wait(&inner, WAIT_MS)) == (0));
	latch_down(&s->done);
}

static void spawn_join_100k_from_fiber(void **state)
{
	struct spawner s = {.n = 100000 / SCALE};
	latch_init(&s.done, 1);
	assert_int_equal(fiber_spawn(spawner_fn, &s, 0, NULL), 0);
	assert_int_equal(latch_wait(&s.done, WAIT_MS), 0);
}

struct sleeper {
	latch *l;
	uint64_t deadline;
	_Atomic int *early;
};

static void sleep_fn(void *arg)
{
	struct sleeper *s = arg;
	sched_sleep_until(s->deadline);
	if (time_now_ns() < s->deadline)
		atomic_fetch_add(s->early, 1);
	latch_down(s->l);
}

static void sleep_10k_concurrently(void **state)
{
	enum { N = 10000 / SCALE };
	static struct sleeper s[N];
	_Atomic int early = 0;
	latch l;
	latch_init(&l, N);
	uint64_t t0 = time_now_ns();
	for (int i = 0; i < N; i++) {
		s[i] = (struct sleeper){&l, t0 + 100000000u, &early};
		assert_int_equal(fiber_spawn(sleep_fn, &s[i], SCHED_WORKER_ANY, NULL), 0);
	}
	assert_int_equal(latch_wait(&l, WAIT_MS), 0);
	uint64_t took = time_now_ns() - t0;
	assert_int_equal(atomic_load(&early), 0);
	assert_true(took >= 100000000u);
	assert_true(took < 10000000000u); /* in turn they would take 1,000 s */
}

/* Ping-pong between two fibers, on two workers when there are two. */
struct pingpong {
	handoff to[2];
	long rounds;
	long seen[2];
	latch done;
};

static void pp_side(struct pingpong *p, int me)
{
	for (long i = 0; i < p->rounds; i++) {
		if (me == 0)
			handoff_post(&p->to[1]);
		RF_CHECK((handoff_wait(&p->to[me], WAIT_MS)) == (0));
		p->seen[me]++;
		if (me == 1)
			handoff_post(&p->to[0]);
	}
	latch_down(&p->done);
}

static void pp0(void *arg)
{
	pp_side(arg, 0);
}
static void pp1(void *arg)
{
	pp_side(arg, 1);
}

static void wake_cross_core_fibers(void **state)
{
	struct pingpong p = {.rounds = 5000 / SCALE};
	latch_init(&p.done, 2);
	int n = sched_workers();
	assert_int_equal(fiber_spawn(pp0, &p, 0, NULL), 0);
	assert_int_equal(fiber_spawn(pp1, &p, 1 % n, NULL), 0);
	assert_int_equal(latch_wait(&p.done, WAIT_MS), 0);
	assert_int_equal(p.seen[0], p.rounds);
	assert_int_equal(p.seen[1], p.rounds);
}

/* A plain thread wakes fibers parked on every worker, one at a time. */
struct parked {
	waiter *_Atomic w;
	rf_val got;
	latch *l;
};

static void park_fn(void *arg)
{
	struct parked *p = arg;
	waiter w;
	waiter_init(&w);
	atomic_store(&p->w, &w);
	RF_CHECK((waiter_wait(&w, DEADLINE_NONE)) == (0));
	p->got = w.value;
	latch_down(p->l);
}

static void wake_from_plain_thread(void **state)
{
	enum { N = 2000 / SCALE };
	static struct parked p[N];
	latch l;
	latch_init(&l, N);
	for (int i = 0; i < N; i++) {
		p[i] = (struct parked){.l = &l};
		assert_int_equal(fiber_spawn(park_fn, &p[i], i % sched_workers(), NULL), 0);
	}
	for (int i = 0; i < N; i++) {
		waiter *w;
		while (!(w = atomic_load(&p[i].w)))
			sched_yield();
		assert_true(waiter_claim(w));
		w->value = 1000 + i;
		waiter_complete(w);
	}
	assert_int_equal(latch_wait(&l, WAIT_MS), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(p[i].got, 1000 + i);
}

/* Timeouts of the waiter protocol, on a fiber and on a thread. */
static void timeout_check(void)
{
	waiter w;
	waiter_init(&w);
	uint64_t t0 = time_now_ns();
	RF_CHECK((waiter_wait(&w, t0 + 30000000u)) == (-ETIMEDOUT));
	RF_CHECK(time_now_ns() - t0 >= 30000000u);
	assert_false(waiter_claim(&w)); /* after a timeout no claimer can win */
	waiter_init(&w);
	assert_int_equal(waiter_wait(&w, 0), -ETIMEDOUT); /* past deadline: a poll */
	waiter_init(&w);
	RF_CHECK(waiter_claim(&w));
	w.value = 7;
	waiter_complete(&w);
	assert_int_equal(waiter_wait(&w, t0), 0); /* completed beats an expired deadline */
	RF_CHECK((w.value) == (7));
}

static void timeout_fiber(void *arg)
{
	RF_CHECK((fiber_self()) != NULL);
	timeout_check();
	latch_down(arg);
}

static void waiter_timeouts(void **state)
{
	assert_null(fiber_self());
	timeout_check();
	latch l;
	latch_init(&l, 1);
	assert_int_equal(fiber_spawn(timeout_fiber, &l, SCHED_WORKER_ANY, NULL), 0);
	assert_int_equal(latch_wait(&l, WAIT_MS), 0);
}

/* Completion racing the deadline: exactly one side wins, and the waiter agrees. */
struct race {
	waiter w; /* not on the fiber's stack: the fiber may be gone when main claims */
	_Atomic int listed;
	_Atomic int claimed;
	int rc;
	uint64_t wait_ns;
	latch *l;
};

static void race_fn(void *arg)
{
	struct race *r = arg;
	waiter_init(&r->w);
	atomic_store(&r->listed, 1);
	r->rc = waiter_wait(&r->w, time_now_ns() + r->wait_ns);
	latch_down(r->l);
}

/* The race must happen: rounds go on, the deadline steered towards the claimer's pace,
 * until both sides have won somewhere (a bounded number of rounds). */
static void waiter_timeout_races(void **state)
{
	enum { N = 3000 / SCALE, ROUNDS = 40 };
	static struct race r[N];
	uint64_t wait_ns = 200000u;
	int wins = 0, losses = 0, round = 0;
	for (; round < ROUNDS && (wins == 0 || losses == 0); round++) {
		latch l;
		latch_init(&l, N);
		for (int i = 0; i < N; i++) {
			r[i] = (struct race){.l = &l, .wait_ns = wait_ns};
			assert_int_equal(fiber_spawn(race_fn, &r[i], SCHED_WORKER_ANY, NULL), 0);
		}
		for (int i = 0; i < N; i++) {
			while (!atomic_load(&r[i].listed))
				sched_yield();
			if (waiter_claim(&r[i].w)) {
				atomic_store(&r[i].claimed, 1);
				waiter_complete(&r[i].w);
			}
		}
		assert_int_equal(latch_wait(&l, WAIT_MS), 0);
		int won = 0;
		for (int i = 0; i < N; i++) {
			assert_int_equal(r[i].rc, atomic_load(&r[i].claimed) ? 0 : -ETIMEDOUT);
			won += atomic_load(&r[i].claimed);
		}
		wins += won;
		losses += N - won;
		if (won == N) /* the claimer always came first: shorter deadlines */
			wait_ns = wait_ns / 4 + 1;
		else if (won == 0) /* always late: longer ones */
			wait_ns *= 4;
	}
	print_message("claims won %d, timeouts %d, in %d rounds\n", wins, losses, round);
	assert_true(wins > 0);
	assert_true(losses > 0);
}

/* Plain threads waiting, fibers completing them. */
struct thread_wait {
	waiter w;
	_Atomic int listed;
};

static void complete_fn(void *arg)
{
	struct thread_wait *t = arg;
	while (!atomic_load(&t->listed))
		fiber_yield();
	if (waiter_claim(&t->w)) {
		t->w.value = 42;
		waiter_complete(&t->w);
	}
}

static void thread_woken_by_fiber(void **state)
{
	for (int i = 0; i < 200; i++) {
		struct thread_wait t;
		waiter_init(&t.w);
		atomic_init(&t.listed, 0);
		assert_int_equal(fiber_spawn(complete_fn, &t, i % sched_workers(), NULL), 0);
		atomic_store(&t.listed, 1);
		assert_int_equal(waiter_wait(&t.w, time_deadline_after_ms(WAIT_MS)), 0);
		assert_int_equal(t.w.value, 42);
	}
}

/* Yield lets the other ready fibers of the worker run. */
struct yielders {
	_Atomic int turn;
	int bad;
	latch l;
};

static void yield_fn(void *arg)
{
	struct yielders *y = arg;
	for (int i = 0; i < 1000; i++) {
		int t = atomic_fetch_add(&y->turn, 1);
		fiber_yield();
		if (atomic_load(&y->turn) != t + 2 && i < 999)
			y->bad++;
	}
	latch_down(&y->l);
}

/* Spawns both yielders on its own worker, so both are ready before either runs. */
static void yield_parent(void *arg)
{
	RF_CHECK(fiber_spawn(yield_fn, arg, SCHED_WORKER_ANY, NULL) == 0);
	RF_CHECK(fiber_spawn(yield_fn, arg, SCHED_WORKER_ANY, NULL) == 0);
}

static void yield_alternates(void **state)
{
	struct yielders y = {0};
	latch_init(&y.l, 2);
	fiber_yield(); /* no-op on a thread */
	assert_int_equal(fiber_spawn(yield_parent, &y, 0, NULL), 0);
	assert_int_equal(latch_wait(&y.l, WAIT_MS), 0);
	assert_int_equal(y.bad, 0);
}

/* Each fiber has its own exec_ctx; bindings given at spawn are there, the rest zero. */
struct ctxcheck {
	void *frame; /* a real binding frame, captured for this fiber */
	exec_ctx *seen;
	int worker;
	latch l;
};

static void ctx_fn(void *arg)
{
	struct ctxcheck *c = arg;
	exec_ctx *ctx = ctx_self();
	RF_CHECK(rf_var_ctx.innermost == c->frame); /* the running fiber's innermost frame */
	RF_CHECK((ctx->tx) == NULL);
	RF_CHECK((ctx->agent_action) == NULL);
	RF_CHECK((ctx->go) == NULL);
	RF_CHECK((ctx->fj_task) == NULL);
	ctx->tx = c;
	fiber_yield();
	RF_CHECK((ctx_self()) == (ctx));
	RF_CHECK((ctx->tx) == (c));
	c->seen = ctx;
	c->worker = sched_worker_self();
	latch_down(&c->l);
}

/* Spawns both on its own worker: both are alive (ready) at once, so their contexts are
 * distinct objects, not one stack reused. */
static void ctx_parent(void *arg)
{
	struct ctxcheck **c = arg;
	RF_CHECK(fiber_spawn(ctx_fn, c[0], SCHED_WORKER_ANY, c[0]->frame) == 0);
	RF_CHECK(fiber_spawn(ctx_fn, c[1], SCHED_WORKER_ANY, c[1]->frame) == 0);
}

static void per_fiber_ctx(void **state)
{
	struct ctxcheck a = {0}, b = {0};
	latch_init(&a.l, 1);
	latch_init(&b.l, 1);
	exec_ctx *mine = ctx_self();
	rf_var *v;
	assert_int_equal(rf_var_new_dynamic(0, &v), 0);
	assert_int_equal(rf_var_push_binding(v, 1), 0);
	a.frame = capture(); /* each reference passes to its fiber */
	b.frame = capture();
	assert_non_null(a.frame);
	assert_int_equal(sched_worker_self(), -1);
	struct ctxcheck *both[2] = {&a, &b};
	assert_int_equal(fiber_spawn(ctx_parent, both, 0, NULL), 0);
	assert_int_equal(latch_wait(&a.l, WAIT_MS), 0);
	assert_int_equal(latch_wait(&b.l, WAIT_MS), 0);
	assert_true(a.seen != b.seen && a.seen != mine);
	assert_int_equal(a.worker, 0);
	assert_null(mine->tx);
	assert_int_equal(rf_var_pop_binding(v), 0);
	rf_var_free(v);
}

static void bad_input(void **state)
{
	assert_int_equal(fiber_spawn(NULL, NULL, SCHED_WORKER_ANY, NULL), -EINVAL);
	assert_int_equal(fiber_spawn(count_fn, NULL, sched_workers(), NULL), -EINVAL);
	assert_int_equal(fiber_spawn(count_fn, NULL, -2, NULL), -EINVAL);
	assert_int_equal(rf_init(NULL), RF_ESTARTED);
	assert_int_equal(sched_on_shutdown(NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bad_input),
	    cmocka_unit_test(per_fiber_ctx),
	    cmocka_unit_test(yield_alternates),
	    cmocka_unit_test(spawn_join_100k_from_thread),
	    cmocka_unit_test(spawn_join_100k_from_fiber),
	    cmocka_unit_test(sleep_10k_concurrently),
	    cmocka_unit_test(wake_cross_core_fibers),
	    cmocka_unit_test(wake_from_plain_thread),
	    cmocka_unit_test(thread_woken_by_fiber),
	    cmocka_unit_test(waiter_timeouts),
	    cmocka_unit_test(waiter_timeout_races),
	};
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
