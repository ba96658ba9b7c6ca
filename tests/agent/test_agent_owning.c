/* Agents that own their values (a release function): persistent vectors and maps built
 * by actions from many threads and fibers while readers deref in read sections; every
 * version is released once (no leak, no double free under ASan and TSan); a result the
 * validator rejects, an action's failure, an unchanged value, RF_NIL and restart. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "agent_test_util.h"
#include "check.h"
#include "ringfold/agent.h"
#include "ringfold/atom.h"
#include "ringfold/coll.h"
#include "ringfold/future.h"
#include "ringfold/phm.h"
#include "ringfold/pvec.h"

enum { THREADS = 3, FIBERS = 3, PER = 700, N = (THREADS + FIBERS) * PER, KEYS = 64 };

/* Elements are counted as the collections retain and release them: when every version
 * is gone, nothing is alive. */
static _Atomic long live;
static void v_retain(rf_val x, rf_val ctx)
{
	atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
}
static void v_release(rf_val x, rf_val ctx)
{
	RF_CHECK(atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed) > 0);
}
static const rf_coll_ops counted = {
    .size = sizeof(rf_coll_ops), .retain = v_retain, .release = v_release};

static rf_agent *target;
static rf_update_fn op;
static _Atomic int senders_done;

static void *send_thread(void *p)
{
	intptr_t base = (intptr_t)p;
	for (intptr_t i = 0; i < PER; i++)
		RF_CHECK_EQ(rf_agent_send(target, op, op == rf_pvec_conj_op ? base + i : i % KEYS),
		            0);
	atomic_fetch_add(&senders_done, 1);
	return NULL;
}

static int send_fiber(rf_val base, rf_val *out)
{
	for (rf_val i = 0; i < PER; i++)
		RF_CHECK_EQ(
		    rf_agent_send_off(target, op, op == rf_pvec_conj_op ? base + i : i % KEYS), 0);
	atomic_fetch_add(&senders_done, 1);
	return 0;
}

/* Reads the agent's current version while actions replace it. */
static void *reader(void *p)
{
	size_t last = 0;
	while (atomic_load(&senders_done) < THREADS + FIBERS) {
		rf_val v;
		rf_reclaim_read_begin();
		RF_CHECK_EQ(rf_agent_deref(target, &v), 0);
		size_t n = op == rf_pvec_conj_op ? rf_pvec_count(rf_to_ptr(v))
		                                 : rf_phm_count(rf_to_ptr(v));
		rf_reclaim_read_end();
		if (op == rf_pvec_conj_op) {
			RF_CHECK(n >= last); /* one agent's versions only grow */
			last = n;
		}
	}
	return NULL;
}

static void send_from_everywhere(void)
{
	atomic_store(&senders_done, 0);
	pthread_t r, t[THREADS];
	assert_int_equal(pthread_create(&r, NULL, reader, NULL), 0);
	for (intptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, send_thread, (void *)(i * PER)), 0);
	rf_future *f[FIBERS];
	for (int i = 0; i < FIBERS; i++)
		assert_int_equal(rf_future_call(send_fiber, (THREADS + i) * PER, &f[i]), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < FIBERS; i++) {
		rf_val v;
		assert_int_equal(rf_future_deref(f[i], &v), 0);
		rf_future_free(f[i]);
	}
	pthread_join(r, NULL);
	assert_int_equal(rf_agent_await(&target, 1), 0);
}

/* (def v (agent [])) (send v conj x) from everywhere: every element once. */
static void vector_built_by_actions(void **state)
{
	rf_pvec *empty;
	assert_int_equal(rf_pvec_new(&counted, &empty), 0);
	rf_agent_opts o = {.size = sizeof(o), .release = rf_coll_release};
	assert_int_equal(rf_agent_new(rf_from_ptr(empty), &o, &target), 0);
	op = rf_pvec_conj_op;
	send_from_everywhere();
	rf_val v;
	assert_int_equal(rf_agent_deref(target, &v), 0); /* idle and only ours: no section */
	rf_pvec *all = rf_to_ptr(v);
	assert_int_equal(rf_pvec_count(all), N);
	char *seen = calloc(N, 1);
	for (size_t i = 0; i < N; i++) {
		rf_val x;
		assert_int_equal(rf_pvec_nth(all, i, &x), 0);
		assert_true(x >= 0 && x < N && !seen[x]);
		seen[x] = 1;
	}
	free(seen);
	rf_agent_free(target);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&live), 0);
}

/* (def m (agent {})) (send m update k (fnil inc 0)) from everywhere: exact counts. */
static void map_built_by_actions(void **state)
{
	rf_phm *empty;
	assert_int_equal(rf_phm_new(&counted, &empty), 0);
	rf_agent_opts o = {.size = sizeof(o), .release = rf_coll_release};
	assert_int_equal(rf_agent_new(rf_from_ptr(empty), &o, &target), 0);
	op = rf_phm_inc_op;
	send_from_everywhere();
	rf_val v;
	assert_int_equal(rf_agent_deref(target, &v), 0);
	rf_phm *m = rf_to_ptr(v);
	assert_int_equal(rf_phm_count(m), KEYS);
	long total = 0;
	for (rf_val k = 0; k < KEYS; k++) {
		rf_val c;
		assert_int_equal(rf_phm_get(m, k, -1, &c), 0);
		assert_int_equal(c, (THREADS + FIBERS) * (PER / KEYS + (k < PER % KEYS)));
		total += c;
	}
	assert_int_equal(total, N);
	rf_agent_free(target);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&live), 0);
}

/* Integer stand-ins for owned objects: every release of a value is counted by value. */
static _Atomic int released[64];
static void count_release(rf_val v, rf_val ctx)
{
	RF_CHECK(v > 0 && v < 64 && ctx == 9);
	atomic_fetch_add(&released[v], 1);
}

static int below_50(rf_val v, rf_val ctx)
{
	return v < 50;
}

static int set_to(rf_val old, rf_val arg, rf_val *out)
{
	*out = arg;
	return 0;
}

static int fail_after_result(rf_val old, rf_val arg, rf_val *out)
{
	*out = arg; /* not a result: the action fails, so the agent does not take it */
	return -7;
}

static _Atomic int watch_old_alive;
static int watch_sees_old(rf_val key, void *ref, rf_val old, rf_val new, rf_val ctx)
{
	/* the replaced value is released only after the watches ran */
	if (old != new &&old > 0 && old < 64 && atomic_load(&released[old]) == 0)
		atomic_fetch_add(&watch_old_alive, 1);
	return 0;
}

static void release_rules(void **state)
{
	for (int i = 0; i < 64; i++)
		atomic_store(&released[i], 0);
	atomic_store(&watch_old_alive, 0);
	rf_agent_opts o = {.size = sizeof(o),
	                   .release = count_release,
	                   .release_ctx = 9,
	                   .validator = below_50,
	                   .error_mode = RF_AGENT_CONTINUE};
	rf_agent *a;
	assert_int_equal(rf_agent_new(60, &o, &a), RF_EVALIDATOR); /* not taken */
	assert_int_equal(rf_agent_new(1, &o, &a), 0);
	assert_int_equal(rf_agent_add_watch(a, 1, watch_sees_old, 0), 0);
	assert_int_equal(rf_agent_send(a, set_to, 2), 0);            /* replaces 1 */
	assert_int_equal(rf_agent_send(a, set_to, 2), 0);            /* unchanged: nothing */
	assert_int_equal(rf_agent_send(a, set_to, 55), 0);           /* rejected: 55 at once */
	assert_int_equal(rf_agent_send(a, fail_after_result, 3), 0); /* 3 not taken */
	assert_int_equal(rf_agent_send(a, set_to, 0), 0);            /* replaces 2; NIL */
	assert_int_equal(rf_agent_send(a, set_to, 4), 0);            /* NIL not released */
	assert_int_equal(rf_agent_await(&a, 1), 0);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&released[1]), 1);
	assert_int_equal(atomic_load(&released[2]), 1);
	assert_int_equal(atomic_load(&released[3]), 0);
	assert_int_equal(atomic_load(&released[4]), 0);
	assert_int_equal(atomic_load(&released[55]), 1);
	assert_int_equal(atomic_load(&released[60]), 0);
	assert_int_equal(atomic_load(&watch_old_alive), 2); /* 1 -> 2 and 2 -> 0 */

	/* restart takes the new value and releases the last good one */
	assert_int_equal(rf_agent_set_error_mode(a, RF_AGENT_FAIL), 0);
	assert_int_equal(rf_agent_send(a, set_to, 56), 0);
	assert_true(wait_until(agent_failed, a));
	assert_int_equal(rf_agent_restart(a, 57, false), RF_EVALIDATOR); /* stays the caller's */
	assert_int_equal(rf_agent_restart(a, 5, false), 0);
	rf_agent_free(a);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&released[56]), 1);
	assert_int_equal(atomic_load(&released[57]), 0);
	assert_int_equal(atomic_load(&released[4]), 1);
	assert_int_equal(atomic_load(&released[5]), 1); /* the final value */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(vector_built_by_actions),
	    cmocka_unit_test(map_built_by_actions),
	    cmocka_unit_test(release_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
