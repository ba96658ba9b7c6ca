/* Vars: root, alter-var-root, dynamic bindings restored on every path, set!, errors,
 * per-thread (and per-fiber) bindings, and conveyance of a captured frame. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"

#include "ringfold.h"
#include "runtime/base/ctx.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"
#include "runtime/var/convey.h"

static rf_var *V, *W;

static rf_val get(rf_var *v)
{
	rf_val x;
	RF_CHECK_EQ(rf_var_deref(v, &x), 0);
	return x;
}

static void setup_vars(void)
{
	RF_CHECK_EQ(rf_var_new_dynamic(1, &V), 0);
	RF_CHECK_EQ(rf_var_new_dynamic(100, &W), 0);
}

static void free_vars(void)
{
	rf_var_free(V);
	rf_var_free(W);
}

static void root_and_errors(void **state)
{
	rf_var *plain;
	rf_val x;
	assert_int_equal(rf_var_new(7, &plain), 0);
	assert_false(rf_var_is_dynamic(plain));
	assert_int_equal(get(plain), 7);
	assert_int_equal(rf_deref(plain, &x), 0);
	assert_int_equal(x, 7);
	assert_int_equal(rf_var_alter_root(plain, rf_add, 3, &x), 0);
	assert_int_equal(x, 10);
	assert_int_equal(rf_var_root(plain, &x), 0);
	assert_int_equal(x, 10);
	assert_int_equal(rf_var_push_binding(plain, 1), RF_ENOTDYNAMIC);
	assert_int_equal(rf_var_binding(plain, 1, NULL, 0, NULL), -EINVAL);
	assert_int_equal(rf_var_set(plain, 3), RF_ENOTBOUND);
	assert_int_equal(rf_var_pop_binding(plain), -EINVAL);
	assert_int_equal(rf_var_new(0, NULL), -EINVAL);
	assert_int_equal(rf_var_deref(NULL, &x), -EINVAL);
	assert_int_equal(rf_var_alter_root(NULL, rf_inc, 0, NULL), -EINVAL);
	assert_false(rf_var_thread_bound(plain));
	rf_var_free(plain);
}

static int plain_body(rf_val arg, rf_val *out)
{
	*out = 1;
	return 0;
}

static void binding_non_dynamic(void **state)
{
	rf_var *plain;
	rf_val out;
	assert_int_equal(rf_var_new(7, &plain), 0);
	assert_int_equal(rf_var_binding(plain, 1, plain_body, 0, &out), RF_ENOTDYNAMIC);
	assert_int_equal(out, RF_NIL);
	rf_var_free(plain);
}

/* body of (binding [*v* arg] ...): checks, set!, nesting, and fails when asked */
static int inner(rf_val arg, rf_val *out)
{
	RF_CHECK_EQ(get(V), 3);
	RF_CHECK_EQ(rf_var_set(V, 4), 0);
	RF_CHECK_EQ(get(V), 4);
	*out = get(V) + get(W);
	return (int)arg;
}

static int outer(rf_val arg, rf_val *out)
{
	RF_CHECK(rf_var_thread_bound(V));
	RF_CHECK(!(rf_var_thread_bound(W)));
	RF_CHECK_EQ(get(V), 2);
	RF_CHECK_EQ(rf_var_set(V, 3), 0); /* set! on our binding */
	rf_val r;
	int rc = rf_var_binding(W, 200, inner, arg, &r);
	RF_CHECK_EQ(get(W), 100); /* restored, whatever inner returned */
	RF_CHECK_EQ(get(V), 4);   /* inner's set! changed our (only) binding of V */
	*out = r;
	return rc;
}

static void binding_restored_on_every_path(void **state)
{
	setup_vars();
	rf_val out;
	assert_int_equal(rf_var_binding(V, 2, outer, 0, &out), 0);
	assert_int_equal(out, 204);
	assert_int_equal(get(V), 1);
	assert_false(rf_var_thread_bound(V));
	assert_int_equal(rf_var_binding(V, 2, outer, -EIO, &out), -EIO); /* error path */
	assert_int_equal(get(V), 1);
	assert_int_equal(get(W), 100);
	assert_int_equal(rf_var_set(V, 9), RF_ENOTBOUND); /* root cannot be set! */
	/* several at once; a later duplicate wins */
	rf_var *vars[] = {V, W, V};
	rf_val vals[] = {2, 200, 3};
	assert_int_equal(rf_var_bindings(3, vars, vals, inner, 0, &out), 0);
	assert_int_equal(out, 204);
	assert_int_equal(get(V), 1);
	/* push/pop */
	assert_int_equal(rf_var_push_binding(V, 50), 0);
	assert_int_equal(rf_var_push_binding(W, 60), 0);
	assert_int_equal(rf_var_pop_binding(V), -EINVAL); /* not the newest */
	assert_int_equal(get(V) + get(W), 110);
	assert_int_equal(rf_var_pop_binding(W), 0);
	assert_int_equal(rf_var_pop_binding(V), 0);
	assert_int_equal(rf_var_pop_binding(V), -EINVAL);
	assert_int_equal(get(V), 1);
	assert_null(ctx_self()->bindings);
	free_vars();
}

/* Bindings are per thread: two threads bind the same var to different values. */
static pthread_barrier_t bar;
static _Atomic int failures;

static int hold_binding(rf_val arg, rf_val *out)
{
	pthread_barrier_wait(&bar); /* both bound */
	if (get(V) != arg)
		atomic_fetch_add(&failures, 1);
	pthread_barrier_wait(&bar);
	return 0;
}

static void *binder(void *arg)
{
	rf_var_binding(V, (rf_val)(uintptr_t)arg, hold_binding, (rf_val)(uintptr_t)arg, NULL);
	return NULL;
}

static void *root_reader(void *arg)
{
	pthread_barrier_wait(&bar);
	if (get(V) != 1 || rf_var_thread_bound(V))
		atomic_fetch_add(&failures, 1);
	pthread_barrier_wait(&bar);
	return NULL;
}

static void per_thread_bindings(void **state)
{
	setup_vars();
	pthread_t t[3];
	pthread_barrier_init(&bar, NULL, 3);
	pthread_create(&t[0], NULL, binder, (void *)10);
	pthread_create(&t[1], NULL, binder, (void *)20);
	pthread_create(&t[2], NULL, root_reader, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&bar);
	assert_int_equal(atomic_load(&failures), 0);
	free_vars();
}

/* Conveyance: a frame captured inside (binding ...) and installed in another context
 * carries the bindings there, even after the binding scope ended; set! from there is
 * refused; a raw thread without the frame sees the root. */
struct conveyed {
	void *frame;
	rf_val seen, seen_w;
	int set_rc;
};

static int inner_w(rf_val arg, rf_val *out)
{
	*out = get(V) + get(W);
	return 0;
}

static void *worker(void *arg)
{
	struct conveyed *c = arg;
	void *saved = var_bindings_install(c->frame);
	c->seen = get(V);
	c->set_rc = rf_var_set(V, 77);
	rf_val out;
	rf_var_binding(W, 300, inner_w, 0, &out);
	c->seen_w = out;
	var_bindings_install(saved);
	var_bindings_release(c->frame);
	return NULL;
}

static int capture_body(rf_val arg, rf_val *out)
{
	*out = (rf_val)(intptr_t)var_bindings_capture();
	return 0;
}

static void *raw_thread(void *arg)
{
	*(rf_val *)arg = get(V);
	return NULL;
}

static void conveyance(void **state)
{
	setup_vars();
	rf_val frame;
	assert_int_equal(rf_var_binding(V, 42, capture_body, 0, &frame), 0);
	assert_int_equal(get(V), 1); /* scope ended here; the capture keeps the frame alive */
	struct conveyed c = {.frame = (void *)(intptr_t)frame};
	pthread_t t;
	pthread_create(&t, NULL, worker, &c);
	pthread_join(t, NULL);
	assert_int_equal(c.seen, 42);
	assert_int_equal(c.set_rc, RF_ENOTBINDER);
	assert_int_equal(c.seen_w, 342); /* own binding on top of the conveyed one */
	rf_val raw = 0;
	assert_int_equal(rf_var_binding(V, 43, plain_body, 0, NULL), 0);
	pthread_create(&t, NULL, raw_thread, &raw);
	pthread_join(t, NULL);
	assert_int_equal(raw, 1);
	assert_null(var_bindings_capture()); /* nothing bound: nothing to convey */
	free_vars();
}

/* Fibers: each fiber has its own bindings and receives the spawner's frame. */
static waiter fiber_done;
static rf_val fiber_seen[2];

static int fiber_inner(rf_val arg, rf_val *out)
{
	fiber_yield(); /* the other fiber runs with its own binding meanwhile */
	*out = get(V);
	return 0;
}

static void fiber_fn(void *arg)
{
	int i = (int)(uintptr_t)arg;
	rf_val conveyed = get(V), own;
	rf_var_binding(V, 1000 + i, fiber_inner, 0, &own);
	fiber_seen[i] = conveyed * 10000 + own;
	static _Atomic int left = 2;
	if (atomic_fetch_sub(&left, 1) == 1 && waiter_claim(&fiber_done))
		waiter_complete(&fiber_done);
}

static int spawn_body(rf_val arg, rf_val *out)
{
	for (int i = 0; i < 2; i++) {
		void *frame = var_bindings_capture();
		int rc = fiber_spawn(fiber_fn, (void *)(uintptr_t)i, 0, frame);
		if (rc) {
			var_bindings_release(frame);
			return rc;
		}
	}
	return 0;
}

static void fiber_bindings(void **state)
{
	setup_vars();
	waiter_init(&fiber_done);
	assert_int_equal(rf_var_binding(V, 5, spawn_body, 0, NULL), 0);
	assert_int_equal(waiter_wait(&fiber_done, time_deadline_after_ms(30000)), 0);
	assert_int_equal(fiber_seen[0], 5 * 10000 + 1000);
	assert_int_equal(fiber_seen[1], 5 * 10000 + 1001);
	free_vars();
}

static void *bump_root(void *arg)
{
	for (int i = 0; i < 10000; i++)
		if (rf_var_alter_root(V, rf_inc, 0, NULL))
			atomic_fetch_add(&failures, 1);
	return NULL;
}

static void alter_root_is_atomic_under_contention(void **state)
{
	setup_vars();
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, bump_root, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	rf_val x;
	assert_int_equal(rf_var_root(V, &x), 0);
	assert_int_equal(x, 1 + 4 * 10000);
	free_vars();
}

/* Watches fire on alter-var-root, not on binding or set!; a watch's code comes back after
 * the change; a validator checks alter-var-root, binding and set! (Clojure 1.11). */
static struct {
	int calls;
	rf_val old, new_val;
	void *ref;
} vw;
static int var_watch(rf_val key, void *ref, rf_val old_val, rf_val new_val, rf_val ctx)
{
	vw.calls++;
	vw.old = old_val;
	vw.new_val = new_val;
	vw.ref = ref;
	return (int)ctx;
}
static int positive(rf_val v, rf_val ctx)
{
	return v > 0 ? 1 : (int)ctx;
}
static int set_to_minus_one(rf_val arg, rf_val *out)
{
	*out = rf_var_set(rf_to_ptr(arg), -1);
	return 0;
}
static int set_to_two(rf_val arg, rf_val *out)
{
	return rf_var_set(rf_to_ptr(arg), 2);
}

static void var_watches_and_validators(void **state)
{
	rf_var *v;
	rf_val x;
	assert_int_equal(rf_var_new_dynamic(1, &v), 0);
	memset(&vw, 0, sizeof(vw));
	assert_int_equal(rf_var_add_watch(v, 7, var_watch, 0), 0);
	assert_int_equal(rf_var_add_watch(v, 7, NULL, 0), -EINVAL);
	assert_int_equal(rf_var_alter_root(v, rf_inc, 0, &x), 0);
	assert_int_equal(x, 2);
	assert_int_equal(vw.calls, 1);
	assert_int_equal(vw.old, 1);
	assert_int_equal(vw.new_val, 2);
	assert_ptr_equal(vw.ref, v);
	/* binding and set! change no root: no watch */
	assert_int_equal(rf_var_binding(v, 10, set_to_two, rf_from_ptr(v), &x), 0);
	assert_int_equal(vw.calls, 1);
	/* a failing watch: the root changes and the code comes back */
	assert_int_equal(rf_var_add_watch(v, 8, var_watch, -EPIPE), 0);
	assert_int_equal(rf_var_alter_root(v, rf_inc, 0, &x), -EPIPE);
	assert_int_equal(x, 3);
	assert_int_equal(rf_var_root(v, &x), 0);
	assert_int_equal(x, 3);
	assert_int_equal(vw.calls, 3); /* both watches ran */
	assert_int_equal(rf_var_remove_watch(v, 8), 0);
	assert_int_equal(rf_var_remove_watch(v, 8), 0); /* unknown key: nothing */
	assert_int_equal(rf_var_remove_watch(NULL, 8), -EINVAL);
	/* validators */
	assert_int_equal(rf_var_set_validator(v, positive, 0), 0);
	rf_validator_fn fn;
	rf_val ctx = 5;
	assert_int_equal(rf_var_get_validator(v, &fn, &ctx), 0);
	assert_ptr_equal(fn, positive);
	assert_int_equal(ctx, 0);
	assert_int_equal(rf_var_alter_root(v, rf_add, -10, &x), RF_EVALIDATOR);
	assert_int_equal(rf_var_root(v, &x), 0);
	assert_int_equal(x, 3); /* unchanged, no watch */
	assert_int_equal(vw.calls, 3);
	assert_int_equal(rf_var_binding(v, -5, set_to_two, rf_from_ptr(v), &x), RF_EVALIDATOR);
	assert_int_equal(rf_var_push_binding(v, -5), RF_EVALIDATOR);
	x = 0;
	assert_int_equal(rf_var_binding(v, 5, set_to_minus_one, rf_from_ptr(v), &x), 0);
	assert_int_equal(x, RF_EVALIDATOR); /* set! refused */
	assert_int_equal(rf_var_set_validator(v, positive, -EDOM), 0);
	assert_int_equal(rf_var_alter_root(v, rf_add, -10, &x), -EDOM); /* its own code */
	assert_int_equal(rf_var_alter_root(v, rf_constantly, -1, NULL), -EDOM);
	assert_int_equal(rf_var_set_validator(v, NULL, 0), 0);
	assert_int_equal(rf_var_alter_root(v, rf_constantly, -1, NULL), 0);
	assert_int_equal(rf_var_set_validator(v, positive, 0), RF_EVALIDATOR); /* -1 now */
	assert_int_equal(rf_var_set_validator(NULL, NULL, 0), -EINVAL);
	rf_var_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(root_and_errors),
	    cmocka_unit_test(binding_non_dynamic),
	    cmocka_unit_test(binding_restored_on_every_path),
	    cmocka_unit_test(per_thread_bindings),
	    cmocka_unit_test(conveyance),
	    cmocka_unit_test(fiber_bindings),
	    cmocka_unit_test(alter_root_is_atomic_under_contention),
	    cmocka_unit_test(var_watches_and_validators),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
