/* fork/join: results, nesting, errors, out-of-order joins, contexts, stress. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "check.h"

#include "ringfold.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"

static int fib(rf_val n, rf_val *out)
{
	if (n < 2) {
		*out = n;
		return 0;
	}
	rf_fj_task t;
	rf_val a = 0, b = 0;
	int rc = rf_fj_fork(&t, fib, n - 1);
	if (rc < 0)
		return rc;
	int rb = fib(n - 2, &b);
	int ra = rf_fj_join(&t, &a);
	if (ra < 0 || rb < 0)
		return ra < 0 ? ra : rb;
	*out = a + b;
	return 0;
}

static void fib_is_exact(void **state)
{
	rf_val r;
	assert_int_equal(rf_fj_invoke(fib, 25, &r), 0);
	assert_int_equal(r, 75025);
	assert_int_equal(rf_fj_invoke(fib, 0, &r), 0);
	assert_int_equal(r, 0);
}

/* The tutorial's summation: split until <= 512 elements. */
typedef struct span {
	const int64_t *a;
	size_t n;
} span;

static int summation(rf_val arg, rf_val *out)
{
	span *s = rf_to_ptr(arg);
	if (s->n <= 512) {
		int64_t sum = 0;
		for (size_t i = 0; i < s->n; i++)
			sum += s->a[i];
		*out = sum;
		return 0;
	}
	size_t half = s->n / 2;
	span f1 = {s->a, half}, f2 = {s->a + half, s->n - half};
	rf_fj_task t;
	rf_val r1, r2;
	RF_CHECK_EQ(rf_fj_fork(&t, summation, rf_from_ptr(&f2)), 0);
	summation(rf_from_ptr(&f1), &r1);
	RF_CHECK_EQ(rf_fj_join(&t, &r2), 0);
	*out = r1 + r2;
	return 0;
}

static void summation_matches_serial(void **state)
{
	size_t n = 1000000;
	int64_t *a = malloc(n * sizeof(*a));
	for (size_t i = 0; i < n; i++)
		a[i] = (int64_t)i;
	span s = {a, n};
	rf_val r;
	assert_int_equal(rf_fj_invoke(summation, rf_from_ptr(&s), &r), 0);
	assert_int_equal(r, (int64_t)n * (int64_t)(n - 1) / 2);
	free(a);
}

/* An error deep in the tree comes back unchanged through join and invoke. */
static int fails_at(rf_val n, rf_val *out)
{
	if (n == 3)
		return -EDOM;
	if (n < 2) {
		*out = n;
		return 0;
	}
	rf_fj_task t;
	rf_val a = 0, b = 0;
	rf_fj_fork(&t, fails_at, n - 1);
	int rb = fails_at(n - 2, &b);
	int ra = rf_fj_join(&t, &a);
	return ra < 0 ? ra : rb < 0 ? rb : (*out = a + b, 0);
}

static void errors_propagate(void **state)
{
	rf_val r = 7;
	assert_int_equal(rf_fj_invoke(fails_at, 12, &r), -EDOM);
	assert_int_equal(rf_fj_invoke(fails_at, 2, &r), 0);
	assert_int_equal(r, 1);
}

static int leaf_value(rf_val arg, rf_val *out)
{
	*out = arg * 10;
	return 0;
}

/* Several forks joined in any order. */
static int many_forks(rf_val arg, rf_val *out)
{
	enum { K = 64 };
	rf_fj_task t[K];
	for (int i = 0; i < K; i++)
		RF_CHECK_EQ(rf_fj_fork(&t[i], leaf_value, i), 0);
	int64_t sum = 0;
	for (int i = 0; i < K; i += 2) { /* evens first, oldest first */
		rf_val v;
		RF_CHECK_EQ(rf_fj_join(&t[i], &v), 0);
		RF_CHECK_EQ(v, i * 10);
		sum += v;
	}
	for (int i = K - 1; i > 0; i -= 2) {
		rf_val v;
		RF_CHECK_EQ(rf_fj_join(&t[i], &v), 0);
		RF_CHECK_EQ(v, i * 10);
		sum += v;
	}
	*out = sum;
	return 0;
}

static void joins_in_any_order(void **state)
{
	rf_val r;
	for (int rep = 0; rep < 50; rep++) {
		assert_int_equal(rf_fj_invoke(many_forks, 0, &r), 0);
		assert_int_equal(r, 10 * 63 * 64 / 2);
	}
}

/* A deque deeper than its first array (1024): it grows. */
static int deep_forks(rf_val arg, rf_val *out)
{
	enum { K = 5000 };
	rf_fj_task *t = malloc(K * sizeof(*t));
	for (int i = 0; i < K; i++)
		RF_CHECK_EQ(rf_fj_fork(&t[i], leaf_value, i), 0);
	int64_t sum = 0;
	for (int i = K - 1; i >= 0; i--) {
		rf_val v;
		RF_CHECK_EQ(rf_fj_join(&t[i], &v), 0);
		sum += v;
	}
	free(t);
	*out = sum;
	return 0;
}

static void deque_grows(void **state)
{
	rf_val r;
	assert_int_equal(rf_fj_invoke(deep_forks, 0, &r), 0);
	assert_int_equal(r, 10LL * 4999 * 5000 / 2);
}

static int nested_invoke(rf_val n, rf_val *out)
{
	/* invoke inside a task runs inline in the same pool, and may fork */
	return rf_fj_invoke(fib, n, out);
}

static void misuse_and_context(void **state)
{
	rf_fj_task t;
	rf_val r;
	assert_int_equal(rf_fj_fork(&t, fib, 3), RF_ENOTINPOOL);
	assert_int_equal(rf_fj_join(&t, &r), RF_ENOTINPOOL);
	assert_int_equal(rf_fj_invoke(NULL, 0, &r), -EINVAL);
	assert_int_equal(rf_fj_invoke(fib, 3, NULL), -EINVAL);
	assert_int_equal(rf_fj_invoke_timeout(fib, 3, -1, &r), -EINVAL);
	assert_int_equal(rf_fj_invoke_on(-1, fib, 3, &r), -EINVAL);
	assert_int_equal(rf_fj_invoke_on(rf_fj_nodes(), fib, 3, &r), -EINVAL);
	assert_int_equal(rf_fj_current_node(), -1);
	assert_true(rf_fj_nodes() >= 1);
	assert_true(rf_fj_workers(0) >= 1);
	assert_int_equal(rf_fj_workers(-1), -EINVAL);
	assert_int_equal(rf_fj_invoke(nested_invoke, 15, &r), 0);
	assert_int_equal(r, 610);
	for (int node = 0; node < rf_fj_nodes(); node++) {
		assert_int_equal(rf_fj_invoke_on(node, fib, 10, &r), 0);
		assert_int_equal(r, 55);
	}
}

static int where(rf_val arg, rf_val *out)
{
	*out = rf_fj_current_node();
	return 0;
}

static int cross_node(rf_val arg, rf_val *out)
{
	/* from a worker of one node to another node's pool, and back */
	int other = (rf_fj_current_node() + 1) % rf_fj_nodes();
	return rf_fj_invoke_on(other, where, 0, out);
}

static void invoke_on_runs_there(void **state)
{
	rf_val r;
	for (int node = 0; node < rf_fj_nodes(); node++) {
		assert_int_equal(rf_fj_invoke_on(node, where, 0, &r), 0);
		assert_int_equal(r, node);
		assert_int_equal(rf_fj_invoke_on(node, cross_node, 0, &r), 0);
		assert_int_equal(r, (node + 1) % rf_fj_nodes());
	}
}

static int slow(rf_val ms, rf_val *out)
{
	struct timespec ts = {0, (long)ms * 1000000L};
	nanosleep(&ts, NULL);
	*out = 42;
	return 0;
}

static void invoke_timeout(void **state)
{
	rf_val r = 0;
	assert_int_equal(rf_fj_invoke_timeout(slow, 300, 1, &r), -ETIMEDOUT);
	assert_int_equal(rf_fj_invoke_timeout(slow, 1, 10000, &r), 0);
	assert_int_equal(r, 42);
}

/* Many plain threads invoking at once; each result exact. */
static void *invoker(void *arg)
{
	for (int i = 0; i < 20; i++) {
		rf_val r;
		if (rf_fj_invoke(fib, 18, &r) != 0 || r != 2584)
			return (void *)1;
	}
	return NULL;
}

static void concurrent_invokers(void **state)
{
	pthread_t th[6];
	for (int i = 0; i < 6; i++)
		pthread_create(&th[i], NULL, invoker, NULL);
	for (int i = 0; i < 6; i++) {
		void *res;
		pthread_join(th[i], &res);
		assert_null(res);
	}
}

static void stats_count_workers(void **state)
{
	rf_stats *st;
	assert_int_equal(rf_stats_new(&st), 0);
	assert_int_equal(rf_stats_get(st), 0);
	int total = 0;
	for (int k = 0; k < rf_fj_nodes(); k++) {
		total += rf_fj_workers(k);
		assert_int_equal(st->node[k].fj_workers, rf_fj_workers(k));
	}
	assert_int_equal(st->fj_workers, total);
	for (int i = 0; i < st->fj_workers; i++)
		assert_true(st->fj[i].node >= 0 && st->fj[i].node < rf_fj_nodes());
	rf_stats_free(st);
}

/* From a fiber: invoke, fold and a pmap stream park the fiber, holding no pool worker;
 * the fiber reports through a waiter the main thread waits on. */
typedef struct fiber_job {
	waiter *done;
	int64_t fib, sum, streamed;
	int rc;
} fiber_job;

static void on_fiber(void *arg)
{
	fiber_job *j = arg;
	rf_val r = 0, x, in[40];
	int rc = rf_fj_invoke(fib, 20, &r);
	j->fib = r;
	rc = rc ? rc : rf_fold(rf_r_range(0, 100000), rf_add, 0, rf_add, &r);
	j->sum = r;
	for (int i = 0; i < 40; i++)
		in[i] = i;
	rf_pmap_stream *s = NULL;
	rc = rc ? rc : rf_pmap_stream_new(in, 40, rf_add, 1, 3, &s);
	while (!rc && rf_pmap_stream_next(s, &x) == 0)
		j->streamed += x;
	rf_pmap_stream_free(s);
	j->rc = rc;
	waiter *w = j->done;
	if (waiter_claim(w))
		waiter_complete(w);
}

static void from_a_fiber(void **state)
{
	waiter w;
	waiter_init(&w);
	fiber_job j = {.done = &w};
	assert_int_equal(fiber_spawn(on_fiber, &j, SCHED_WORKER_ANY, NULL), 0);
	assert_int_equal(waiter_wait(&w, time_deadline_after_ms(30000)), 0);
	assert_int_equal(j.rc, 0);
	assert_int_equal(j.fib, 6765);
	assert_int_equal(j.sum, 4999950000LL);
	assert_int_equal(j.streamed, 40 * 41 / 2);
}

/* Binding conveyance: the dynamic bindings of the caller are what every task, stolen or
 * not, invoked, folded or pmapped, sees (Clojure's binding conveyance). */
static rf_var *dyn;
static _Atomic int wrong_frame;

static int check_frame(rf_val acc, rf_val x, rf_val *out)
{
	rf_val v = 0;
	if (rf_var_deref(dyn, &v) != 0 || v != 42)
		atomic_fetch_add(&wrong_frame, 1);
	*out = acc + x;
	return 0;
}

static int fold_in_task(rf_val arg, rf_val *out)
{
	return rf_fold_n(rf_r_range(0, 50000), 1, rf_add, 0, check_frame, out);
}

static void bindings_conveyed(void **state)
{
	assert_int_equal(rf_var_new_dynamic(1, &dyn), 0);
	assert_int_equal(rf_var_push_binding(dyn, 42), 0);
	rf_val r, in[64], out[64];
	for (int i = 0; i < 64; i++)
		in[i] = i;
	for (int rep = 0; rep < 5; rep++) {
		assert_int_equal(rf_fold_n(rf_r_range(0, 50000), 1, rf_add, 0, check_frame, &r), 0);
		assert_int_equal(rf_fj_invoke(fold_in_task, 0, &r), 0);
		assert_int_equal(rf_pmap_n(in, 64, 1, check_frame, 0, out), 0);
		rf_pmap_stream *s;
		assert_int_equal(rf_pmap_stream_new(in, 64, check_frame, 0, 4, &s), 0);
		while (rf_pmap_stream_next(s, &r) == 0)
			;
		rf_pmap_stream_free(s);
	}
	assert_int_equal(atomic_load(&wrong_frame), 0);
	assert_int_equal(rf_var_pop_binding(dyn), 0);
	/* without the binding, tasks see the root again */
	rf_val v = 0;
	assert_int_equal(rf_var_deref(dyn, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(rf_fold_n(rf_r_range(0, 1000), 1, rf_add, 0, rf_add, &r), 0);
	rf_var_free(dyn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fib_is_exact),         cmocka_unit_test(summation_matches_serial),
	    cmocka_unit_test(errors_propagate),     cmocka_unit_test(joins_in_any_order),
	    cmocka_unit_test(deque_grows),          cmocka_unit_test(misuse_and_context),
	    cmocka_unit_test(invoke_on_runs_there), cmocka_unit_test(invoke_timeout),
	    cmocka_unit_test(concurrent_invokers),  cmocka_unit_test(stats_count_workers),
	    cmocka_unit_test(from_a_fiber),         cmocka_unit_test(bindings_conveyed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
