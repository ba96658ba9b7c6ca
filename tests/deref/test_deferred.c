/* deref family: deferreds: on-realized callbacks (exactly once, before or after
 * realization, under races), chain, catch, zip, any, abandonment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "ringfold.h"
#include "runtime/base/time.h"

#include "gated.h"

struct seen {
	_Atomic int calls;
	int code;
	rf_val value;
	pthread_t by; /* the thread that ran the callback */
};

static void record(int code, rf_val value, rf_val ctx)
{
	void *arg = rf_to_ptr(ctx);
	struct seen *s = arg;
	s->code = code;
	s->value = value;
	s->by = pthread_self();
	atomic_fetch_add_explicit(&s->calls, 1, memory_order_release);
}

static void callbacks_before_and_after(void **state)
{
	rf_deferred *d;
	struct seen before = {0}, after = {0};
	assert_int_equal(rf_deferred_new(&d), 0);
	assert_int_equal(rf_deferred_on_realized(d, record, rf_from_ptr(&before)), 0);
	assert_int_equal(atomic_load(&before.calls), 0);
	assert_int_equal(rf_deferred_success(d, 9), 0);
	assert_int_equal(rf_deferred_success(d, 10), RF_EDELIVERED);
	assert_int_equal(rf_deferred_error(d, -EIO), RF_EDELIVERED);
	assert_int_equal(rf_deferred_on_realized(d, record, rf_from_ptr(&after)), 0);
	assert_int_equal(atomic_load(&before.calls), 1);
	assert_int_equal(atomic_load(&after.calls), 1);
	assert_int_equal(before.value, 9);
	assert_int_equal(after.value, 9);
	assert_int_equal(after.code, 0);
	assert_int_equal(rf_deferred_error(d, 3), -EINVAL);
	assert_int_equal(rf_deferred_on_realized(d, NULL, 0), -EINVAL);
	rf_deferred_release(d);
}

static void promise_and_future_callbacks(void **state)
{
	rf_promise *p;
	gated g = {0};
	rf_future *f;
	struct seen sp = {0}, sf = {0};
	assert_int_equal(rf_promise_new(&p), 0);
	assert_int_equal(rf_promise_new(&g.gate), 0);
	assert_int_equal(rf_deferred_on_realized(rf_promise_deferred(p), record, rf_from_ptr(&sp)),
	                 0);
	assert_int_equal(rf_promise_deliver(p, 4), 0);
	assert_int_equal(atomic_load(&sp.calls), 1);
	assert_int_equal(sp.value, 4);
	assert_int_equal(rf_thread_start(wait_for_gate, rf_from_ptr(&g), &f), 0);
	assert_true(gated_wait(&g.started));
	assert_int_equal(rf_deferred_on_realized(rf_future_deferred(f), record, rf_from_ptr(&sf)),
	                 0);
	assert_int_equal(rf_future_cancel(f),
	                 1); /* the cancel realizes it: the callback hears it */
	assert_int_equal(atomic_load(&sf.calls), 1);
	assert_int_equal(sf.code, -ECANCELED);
	assert_int_equal(rf_promise_deliver(g.gate, 1), 0);
	assert_true(gated_wait(&g.returned));
	rf_future_free(f);
	rf_promise_free(g.gate);
	rf_promise_free(p);
}

struct race {
	rf_deferred *d;
	struct seen *s;
	int n;
	_Atomic int started; /* the first callback is registered */
};

static void *add_callbacks(void *arg)
{
	struct race *r = arg;
	for (int i = 0; i < r->n; i++) {
		rf_deferred_on_realized(r->d, record, rf_from_ptr(&r->s[i]));
		atomic_store(&r->started, 1);
		/* spread the registrations over a few ms, so the realization lands among them */
		for (uint64_t until = time_now_ns() + 2000; time_now_ns() < until;)
			;
	}
	return NULL;
}

/* Callbacks added while another thread realizes the deferred: each runs exactly once.
 * The race must happen: rounds go on (bounded) until some callback was registered in
 * time (run by the realizing thread) and some came late (run by the adding thread). */
static void callbacks_race_realization(void **state)
{
	enum { N = 2000, ROUNDS = 50 };
	static struct seen s[N];
	int early = 0, late = 0, round = 0;
	for (; round < 5 || ((early == 0 || late == 0) && round < ROUNDS); round++) {
		struct race r = {.s = s, .n = N};
		for (int i = 0; i < N; i++)
			atomic_store(&s[i].calls, 0);
		assert_int_equal(rf_deferred_new(&r.d), 0);
		pthread_t t;
		assert_int_equal(pthread_create(&t, NULL, add_callbacks, &r), 0);
		while (!atomic_load(&r.started)) /* realize while the adder is under way */
			sched_yield();
		assert_int_equal(rf_deferred_success(r.d, round), 0);
		pthread_join(t, NULL);
		for (int i = 0; i < N; i++) {
			assert_int_equal(atomic_load_explicit(&s[i].calls, memory_order_acquire),
			                 1);
			assert_int_equal(s[i].value, round);
			if (pthread_equal(s[i].by, t))
				late++;
			else
				early++;
		}
		rf_deferred_release(r.d);
	}
	print_message("callbacks in time %d, late %d, in %d rounds\n", early, late, round);
	assert_true(early > 0);
	assert_true(late > 0);
}

static int plus(rf_val v, rf_val arg, rf_val *out)
{
	*out = v + arg;
	return 0;
}

static int refuse(rf_val v, rf_val arg, rf_val *out)
{
	return (int)arg;
}

static int recover(int code, rf_val arg, rf_val *out)
{
	*out = arg - code; /* something that shows which code came in */
	return 0;
}

static void chain_and_catch(void **state)
{
	rf_deferred *d, *c1, *c2, *c3, *caught, *passed;
	rf_val v;
	assert_int_equal(rf_deferred_new(&d), 0);
	assert_int_equal(rf_deferred_chain(d, plus, 1, &c1), 0);
	assert_int_equal(rf_deferred_chain(c1, refuse, -EDOM, &c2), 0);
	assert_int_equal(rf_deferred_chain(c2, plus, 100, &c3), 0); /* skipped: c2 failed */
	assert_int_equal(rf_deferred_catch(c3, recover, 1000, &caught), 0);
	assert_int_equal(rf_deferred_catch(c1, recover, 1000, &passed), 0);
	assert_false(rf_deferred_realized(c3));
	assert_int_equal(rf_deferred_success(d, 10), 0);
	assert_int_equal(rf_deref(c1, &v), 0);
	assert_int_equal(v, 11);
	assert_int_equal(rf_deref(c2, &v), -EDOM);
	assert_int_equal(rf_deref(c3, &v), -EDOM);
	assert_int_equal(rf_deref(caught, &v), 0);
	assert_int_equal(v, 1000 + EDOM);
	assert_int_equal(rf_deref(passed, &v), 0);
	assert_int_equal(v, 11);
	/* Chaining onto something already realized runs at once. */
	rf_deferred *late;
	assert_int_equal(rf_deferred_chain(c1, plus, 1, &late), 0);
	assert_int_equal(rf_deref_timeout(late, 0, &v), 0);
	assert_int_equal(v, 12);
	rf_deferred *all[] = {d, c1, c2, c3, caught, passed, late};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		rf_deferred_release(all[i]);
}

static void zip_and_any(void **state)
{
	rf_deferred *in[3], *z, *a, *zfail;
	rf_val values[3] = {0}, v;
	for (int i = 0; i < 3; i++)
		assert_int_equal(rf_deferred_new(&in[i]), 0);
	assert_int_equal(rf_deferred_zip(in, 3, values, &z), 0);
	assert_int_equal(rf_deferred_any(in, 3, &a), 0);
	assert_int_equal(rf_deferred_success(in[1], 20), 0);
	assert_int_equal(rf_deref(a, &v), 0);
	assert_int_equal(v, 20);
	assert_false(rf_deferred_realized(z));
	assert_int_equal(rf_deferred_success(in[2], 30), 0);
	assert_int_equal(rf_deferred_success(in[0], 10), 0);
	assert_int_equal(rf_deref(z, &v), 0);
	assert_ptr_equal(rf_to_ptr(v), values);
	assert_int_equal(values[0], 10);
	assert_int_equal(values[1], 20);
	assert_int_equal(values[2], 30);

	rf_deferred *in2[2];
	rf_val untouched[2] = {-1, -1};
	assert_int_equal(rf_deferred_new(&in2[0]), 0);
	assert_int_equal(rf_deferred_new(&in2[1]), 0);
	assert_int_equal(rf_deferred_zip(in2, 2, untouched, &zfail), 0);
	assert_int_equal(rf_deferred_success(in2[0], 1), 0);
	assert_int_equal(rf_deferred_error(in2[1], -EXDEV), 0);
	assert_int_equal(rf_deref(zfail, &v), -EXDEV);
	assert_int_equal(untouched[0], -1);

	rf_deferred *empty;
	assert_int_equal(rf_deferred_zip(NULL, 0, values, &empty), 0);
	assert_true(rf_deferred_realized(empty));
	assert_int_equal(rf_deferred_any(in, 0, &a), -EINVAL);
	rf_deferred *with_null[] = {in[0], NULL};
	assert_int_equal(rf_deferred_any(with_null, 2, &empty), -EINVAL);
	rf_deferred_release(empty);
	rf_deferred_release(zfail);
	rf_deferred_release(z);
	rf_deferred_release(a);
	for (int i = 0; i < 3; i++)
		rf_deferred_release(in[i]);
	rf_deferred_release(in2[0]);
	rf_deferred_release(in2[1]);
}

/* A pending deferred whose last handle goes: chained work hears RF_EABANDONED once. */
static void abandoned_input(void **state)
{
	rf_deferred *d, *c;
	struct seen s = {0};
	rf_val v;
	assert_int_equal(rf_deferred_new(&d), 0);
	assert_int_equal(rf_deferred_on_realized(d, record, rf_from_ptr(&s)), 0);
	assert_int_equal(rf_deferred_chain(d, plus, 1, &c), 0);
	rf_deferred_release(d);
	assert_int_equal(atomic_load(&s.calls), 1);
	assert_int_equal(s.code, RF_EABANDONED);
	assert_int_equal(rf_deref(c, &v), RF_EABANDONED);
	rf_deferred_release(c);
}

/* A future from a thread feeds a chain without anyone blocking on it. */
static int forty(rf_val arg, rf_val *out)
{
	*out = 40;
	return 0;
}

/* retain/release: a second reference keeps the deferred alive and pending after the
 * first is released; the last release of a pending one realizes it with RF_EABANDONED. */
static void retain_and_release(void **state)
{
	rf_deferred *d;
	struct seen r = {0};
	assert_int_equal(rf_deferred_new(&d), 0);
	assert_ptr_equal(rf_deferred_retain(d), d);
	assert_null(rf_deferred_retain(NULL));
	assert_int_equal(rf_deferred_on_realized(d, record, rf_from_ptr(&r)), 0);
	rf_deferred_release(d);
	assert_false(rf_deferred_realized(d)); /* still held by the second reference */
	assert_int_equal(r.calls, 0);
	rf_deferred_release(d);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.code, RF_EABANDONED);
	rf_deferred_release(NULL);
}

static void future_feeds_chain(void **state)
{
	rf_future *f;
	rf_deferred *c;
	rf_val v;
	assert_int_equal(rf_thread_start(forty, 0, &f), 0);
	assert_int_equal(rf_deferred_chain(rf_future_deferred(f), plus, 2, &c), 0);
	assert_int_equal(rf_deref_timeout(c, 10000, &v), 0);
	assert_int_equal(v, 42);
	rf_deferred_release(c);
	rf_future_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(callbacks_before_and_after),
	    cmocka_unit_test(promise_and_future_callbacks),
	    cmocka_unit_test(callbacks_race_realization),
	    cmocka_unit_test(chain_and_catch),
	    cmocka_unit_test(zip_and_any),
	    cmocka_unit_test(abandoned_input),
	    cmocka_unit_test(future_feeds_chain),
	    cmocka_unit_test(retain_and_release),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
