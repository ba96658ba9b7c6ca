/* Executor: bursts of spawns. 10,000 fibers that each sleep, spawned at once from a plain
 * thread and from a fiber (onto its own worker and onto every worker), twice in a row so
 * the second burst runs on pooled stacks; several threads spawning at one worker at the
 * same moment. Every fiber must run exactly once and no sleep may end early. */
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
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"

#define SLEEP_NS 100000000u

enum { N = 10000 / SCALE };

struct burst {
	latch done;
	_Atomic int runs[N];
	_Atomic int early; /* sleeps that ended before their deadline */
	bool spread;       /* from a fiber: spawn onto every worker, not just its own */
	latch spawned;     /* the spawner fiber's own join */
};

struct slot {
	struct burst *b;
	int i;
};

static struct slot slots[N];

static void sleeper(void *arg)
{
	struct slot *s = arg;
	uint64_t deadline = time_now_ns() + SLEEP_NS;
	sched_sleep_until(deadline);
	if (time_now_ns() < deadline)
		atomic_fetch_add(&s->b->early, 1);
	atomic_fetch_add(&s->b->runs[s->i], 1);
	latch_down(&s->b->done);
}

static int spawn_all(struct burst *b)
{
	int workers = sched_workers();
	for (int i = 0; i < N; i++) {
		slots[i] = (struct slot){b, i};
		int where = b->spread ? i % workers : SCHED_WORKER_ANY;
		int rc = fiber_spawn(sleeper, &slots[i], where, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

static void check_burst(struct burst *b)
{
	assert_int_equal(latch_wait(&b->done, WAIT_MS), 0);
	assert_int_equal(atomic_load(&b->early), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(atomic_load(&b->runs[i]), 1);
}

static struct burst *burst_new(bool spread)
{
	struct burst *b = calloc(1, sizeof(*b));
	assert_non_null(b);
	latch_init(&b->done, N); /* the spawner fiber inits it again as its own */
	latch_init(&b->spawned, 1);
	b->spread = spread;
	return b;
}

static void burst_from_thread(void **state)
{
	for (int round = 0; round < 2; round++) {
		struct burst *b = burst_new(false);
		assert_int_equal(spawn_all(b), 0);
		check_burst(b);
		free(b);
	}
}

/* The spawner fiber also waits for its children (a fiber joining 10k fibers). */
static void spawner(void *arg)
{
	struct burst *b = arg;
	latch_init(&b->done, N); /* its waiter belongs to this fiber */
	RF_CHECK(spawn_all(b) == 0);
	RF_CHECK(latch_wait(&b->done, WAIT_MS) == 0);
	latch_down(&b->spawned);
}

static void burst_from_fiber(bool spread)
{
	for (int round = 0; round < 2; round++) {
		struct burst *b = burst_new(spread);
		assert_int_equal(fiber_spawn(spawner, b, 0, NULL), 0);
		assert_int_equal(latch_wait(&b->spawned, WAIT_MS), 0);
		assert_int_equal(atomic_load(&b->early), 0);
		for (int i = 0; i < N; i++)
			assert_int_equal(atomic_load(&b->runs[i]), 1);
		free(b);
	}
}

static void burst_from_fiber_own_worker(void **state)
{
	burst_from_fiber(false);
}

static void burst_from_fiber_all_workers(void **state)
{
	burst_from_fiber(true);
}

/* Several plain threads spawn onto worker 0 at the same moment, while it sleeps: the
 * wake-up is shared among them, and no fiber may be left in the inbox unseen. */
enum { THREADS = 4, PER_THREAD = 2000 / SCALE };

struct crowd {
	pthread_barrier_t go;
	latch done;
	_Atomic int runs[THREADS * PER_THREAD];
};

struct crowd_slot {
	struct crowd *c;
	int i;
};

static struct crowd_slot crowd_slots[THREADS * PER_THREAD];

static void crowd_fiber(void *arg)
{
	struct crowd_slot *s = arg;
	atomic_fetch_add(&s->c->runs[s->i], 1);
	latch_down(&s->c->done);
}

struct crowd_thread {
	struct crowd *c;
	int t;
	int rc;
};

static void *crowd_main(void *arg)
{
	struct crowd_thread *ct = arg;
	pthread_barrier_wait(&ct->c->go);
	for (int k = 0; k < PER_THREAD && !ct->rc; k++) {
		int i = ct->t * PER_THREAD + k;
		crowd_slots[i] = (struct crowd_slot){ct->c, i};
		ct->rc = fiber_spawn(crowd_fiber, &crowd_slots[i], 0, NULL);
	}
	return NULL;
}

static void crowd_spawns_at_one_worker(void **state)
{
	for (int round = 0; round < 20; round++) {
		struct crowd *c = calloc(1, sizeof(*c));
		assert_non_null(c);
		latch_init(&c->done, THREADS * PER_THREAD);
		pthread_barrier_init(&c->go, NULL, THREADS);
		pthread_t t[THREADS];
		struct crowd_thread ct[THREADS];
		for (int i = 0; i < THREADS; i++) {
			ct[i] = (struct crowd_thread){c, i, 0};
			assert_int_equal(pthread_create(&t[i], NULL, crowd_main, &ct[i]), 0);
		}
		for (int i = 0; i < THREADS; i++) {
			pthread_join(t[i], NULL);
			assert_int_equal(ct[i].rc, 0);
		}
		assert_int_equal(latch_wait(&c->done, WAIT_MS), 0);
		for (int i = 0; i < THREADS * PER_THREAD; i++)
			assert_int_equal(atomic_load(&c->runs[i]), 1);
		pthread_barrier_destroy(&c->go);
		free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(burst_from_thread),
	    cmocka_unit_test(burst_from_fiber_own_worker),
	    cmocka_unit_test(burst_from_fiber_all_workers),
	    cmocka_unit_test(crowd_spawns_at_one_worker),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
