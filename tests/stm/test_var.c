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

/* A capture that must succeed here (the tests do not run out of memory). */
static void *capture(void)
{
	void *frame;
	RF_CHECK(var_bindings_capture(&frame) == 0);
	return frame;
}

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
	assert_null(rf_var_ctx.innermost);
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
	*out = (rf_val)(intptr_t)capture();
	RF_CHECK(rf_var_ctx.innermost->covered); /* the scope's end drops the copy's link */
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
	assert_null(capture()); /* nothing bound: nothing to convey */
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
		void *frame = capture();
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

/* set! reaches work conveyed before it (Clojure's TBox is shared): a capture taken in the
 * scope sees the binder's later set!, also after the scope ended; a second capture in the
 * same scope is the same copy; the binder may set! through its own installed copy. */
struct twice {
	void *a, *b;
	rf_val after_set_own;
};

static int capture_then_set(rf_val arg, rf_val *out)
{
	struct twice *t = rf_to_ptr(arg);
	t->a = capture();
	RF_CHECK_EQ(rf_var_set(V, 2), 0);
	t->b = capture();
	/* the binder runs conveyed work itself: set! through the copy changes its scope too */
	void *saved = var_bindings_install(t->a);
	RF_CHECK_EQ(get(V), 2);
	RF_CHECK_EQ(rf_var_set(V, 3), 0);
	var_bindings_install(saved);
	t->after_set_own = get(V);
	return 0;
}

static void *read_conveyed(void *arg)
{
	void *saved = var_bindings_install(arg);
	rf_val *v = malloc(sizeof(*v));
	*v = get(V);
	RF_CHECK_EQ(rf_var_set(V, 9), RF_ENOTBINDER);
	var_bindings_install(saved);
	return v;
}

static void set_reaches_conveyed_work(void **state)
{
	setup_vars();
	struct twice t = {0};
	assert_int_equal(rf_var_binding(V, 1, capture_then_set, rf_from_ptr(&t), NULL), 0);
	assert_ptr_equal(t.a, t.b); /* copied once per scope */
	assert_int_equal(t.after_set_own, 3);
	assert_int_equal(get(V), 1);
	pthread_t th;
	void *seen;
	pthread_create(&th, NULL, read_conveyed, t.a);
	pthread_join(th, &seen);
	assert_int_equal(*(rf_val *)seen, 3); /* the last set! before the scope ended */
	free(seen);
	var_bindings_release(t.a);
	var_bindings_release(t.b);
	free_vars();
}

/* Nested scopes: a capture copies every frame down to one already copied; captures at
 * different depths share the copies of the frames they have in common. */
static int nested_capture_inner(rf_val arg, rf_val *out)
{
	void **caps = rf_to_ptr(arg);
	caps[1] = capture();
	RF_CHECK_EQ(rf_var_set(V, 12), 0); /* V is the outer scope's: both captures see it */
	return 0;
}

static int nested_capture_outer(rf_val arg, rf_val *out)
{
	void **caps = rf_to_ptr(arg);
	caps[0] = capture();
	return rf_var_binding(W, 200, nested_capture_inner, arg, NULL);
}

static void *read_both(void *arg)
{
	void *saved = var_bindings_install(arg);
	rf_val *v = malloc(sizeof(*v));
	*v = get(V) * 1000 + get(W);
	var_bindings_install(saved);
	return v;
}

static void nested_captures(void **state)
{
	setup_vars();
	void *caps[2] = {0};
	assert_int_equal(rf_var_binding(V, 11, nested_capture_outer, rf_from_ptr(caps), NULL), 0);
	rf_val want[2] = {12 * 1000 + 100, 12 * 1000 + 200};
	for (int i = 0; i < 2; i++) {
		pthread_t th;
		void *seen;
		pthread_create(&th, NULL, read_both, caps[i]);
		pthread_join(th, &seen);
		assert_int_equal(*(rf_val *)seen, want[i]);
		free(seen);
	}
	var_bindings_release(caps[1]);
	var_bindings_release(caps[0]);
	free_vars();
}

/* A fork/join task borrows the forker's frames without a capture (the forker joins before
 * its scope ends); a capture made on the borrowing context copies them without linking
 * them (only the binder links its frames), and sees the binder's value. */
struct borrow {
	void *frame, *captured;
};

static void *borrower(void *arg)
{
	struct borrow *b = arg;
	void *saved = var_bindings_install(b->frame);
	b->captured = capture();
	RF_CHECK_EQ(rf_var_set(V, 5), RF_ENOTBINDER);
	var_bindings_install(saved);
	return NULL;
}

static int lend(rf_val arg, rf_val *out)
{
	struct borrow *b = rf_to_ptr(arg);
	b->frame = (void *)(uintptr_t)rf_var_ctx.innermost;
	pthread_t th;
	pthread_create(&th, NULL, borrower, b);
	pthread_join(th, NULL);
	RF_CHECK_EQ(rf_var_set(V, 22), 0); /* not linked: the borrower's copy keeps 21 */
	void *own = capture();
	RF_CHECK(own != b->captured);
	var_bindings_release(own);
	return 0;
}

static void borrowed_frames(void **state)
{
	setup_vars();
	struct borrow b = {0};
	assert_int_equal(rf_var_binding(V, 21, lend, rf_from_ptr(&b), NULL), 0);
	pthread_t th;
	void *seen;
	pthread_create(&th, NULL, read_both, b.captured);
	pthread_join(th, &seen);
	assert_int_equal(*(rf_val *)seen, 21 * 1000 + 100);
	free(seen);
	var_bindings_release(b.captured);
	free_vars();
}

/* Many vars at once (past the frames kept on the stack), captured; and pushes a body
 * leaves unpopped are dropped when the scope ends (ASan: no leak). */
static rf_var *many[12];

static int read_many(rf_val arg, rf_val *out)
{
	*out = 0;
	for (int i = 0; i < 12; i++)
		*out += get(many[i]);
	if (arg) {
		RF_CHECK_EQ(rf_var_push_binding(many[0], 1000), 0);
		RF_CHECK_EQ(rf_var_push_binding(many[1], 1000), 0);
		void *frame = capture(); /* the copies of the pushes must go too */
		var_bindings_release(frame);
	}
	return 0;
}

static void many_vars_and_unpopped_pushes(void **state)
{
	rf_val vals[12], out;
	for (int i = 0; i < 12; i++) {
		assert_int_equal(rf_var_new_dynamic(0, &many[i]), 0);
		vals[i] = i + 1;
	}
	assert_int_equal(rf_var_bindings(12, many, vals, read_many, 0, &out), 0);
	assert_int_equal(out, 78);
	assert_int_equal(rf_var_bindings(12, many, vals, read_many, 1, &out), 0);
	assert_null(rf_var_ctx.innermost);
	assert_int_equal(rf_var_binding(many[5], 7, read_many, 1, &out), 0);
	assert_int_equal(out, 7);
	assert_null(rf_var_ctx.innermost);
	assert_int_equal(get(many[0]), 0);
	for (int i = 0; i < 12; i++)
		rf_var_free(many[i]);
}

/* Conveyance through the public API, with set! after the start reaching the work:
 * futures, go processes, rf_blocking, pmap; and bindings of go processes that may be
 * handed to another worker before they start (spawned in bulk from a fiber). */
static rf_val expect_v;

static int report_v(rf_val arg, rf_val *out)
{
	*out = get(V);
	return 0;
}

static int pmap_v(rf_val x, rf_val arg, rf_val *out)
{
	*out = x + get(V);
	return 0;
}

static int gate_then_report(rf_val arg, rf_val *out)
{
	rf_promise *gate = rf_to_ptr(arg);
	rf_val ignored;
	RF_CHECK_EQ(rf_promise_deref(gate, &ignored), 0);
	*out = get(V);
	return 0;
}

enum { GOS = 64 };

static int spawn_gos(rf_val arg, rf_val *out)
{
	rf_chan *res[GOS];
	for (int i = 0; i < GOS; i++)
		RF_CHECK_EQ(rf_go(report_v, 0, &res[i]), 0);
	rf_val v;
	RF_CHECK_EQ(rf_blocking(report_v, 0, &v), 0); /* a pool thread, from a fiber */
	RF_CHECK_EQ(v, expect_v);
	*out = 0;
	for (int i = 0; i < GOS; i++) {
		RF_CHECK_EQ(rf_chan_take(res[i], &v), 0);
		*out += v == expect_v;
		rf_chan_release(res[i]);
	}
	return 0;
}

static int public_conveyance_body(rf_val arg, rf_val *out)
{
	rf_promise *gate;
	rf_future *fut;
	rf_chan *go_res;
	RF_CHECK_EQ(rf_promise_new(&gate), 0);
	RF_CHECK_EQ(rf_future_call(gate_then_report, rf_from_ptr(gate), &fut), 0);
	RF_CHECK_EQ(rf_go(gate_then_report, rf_from_ptr(gate), &go_res), 0);
	RF_CHECK_EQ(rf_var_set(V, 77), 0); /* after the start: the work sees it */
	RF_CHECK_EQ(rf_promise_deliver(gate, 1), 0);
	rf_val v = 0;
	RF_CHECK_EQ(rf_future_deref(fut, &v), 0);
	RF_CHECK_EQ(v, 77);
	RF_CHECK_EQ(rf_chan_take(go_res, &v), 0);
	RF_CHECK_EQ(v, 77);
	RF_CHECK_EQ(rf_blocking(report_v, 0, &v), 0);
	RF_CHECK_EQ(v, 77);
	rf_val in[4] = {1, 2, 3, 4}, mapped[4];
	RF_CHECK_EQ(rf_pmap(in, 4, pmap_v, 0, mapped), 0);
	for (int i = 0; i < 4; i++)
		RF_CHECK_EQ(mapped[i], in[i] + 77);
	/* from a fiber (a future's body), many go processes: some may start elsewhere */
	expect_v = 77;
	rf_future *spawner;
	RF_CHECK_EQ(rf_future_call(spawn_gos, 0, &spawner), 0);
	RF_CHECK_EQ(rf_future_deref(spawner, &v), 0);
	RF_CHECK_EQ(v, GOS);
	rf_future_free(spawner);
	rf_future_free(fut);
	rf_chan_release(go_res);
	rf_promise_free(gate);
	return 0;
}

static void public_conveyance(void **state)
{
	setup_vars();
	assert_int_equal(rf_var_binding(V, 70, public_conveyance_body, 0, NULL), 0);
	assert_int_equal(get(V), 1);
	free_vars();
}

/* A fiber that ends with a push it never popped: its end drops the frame (ASan: no leak,
 * no use after free of the capture it made). */
static void leaky_fiber(void *arg)
{
	RF_CHECK_EQ(rf_var_push_binding(V, 3), 0);
	void *frame = capture();
	var_bindings_release(frame);
	RF_CHECK(waiter_claim(&fiber_done));
	waiter_complete(&fiber_done);
}

static void fiber_ends_with_a_push(void **state)
{
	setup_vars();
	waiter_init(&fiber_done);
	assert_int_equal(fiber_spawn(leaky_fiber, NULL, SCHED_WORKER_ANY, NULL), 0);
	assert_int_equal(waiter_wait(&fiber_done, time_deadline_after_ms(30000)), 0);
	free_vars();
}
/* bound-fn: values captured, bound afresh at each call (a set! inside changes only the
 * call's binding; a set! by the capturer after the capture is not seen), on a raw thread
 * too; get-thread-bindings and with-bindings. Clojure 1.11:
 *   (binding [*v* 1] (let [f (bound-fn [] *v*)] (set! *v* 2) (f)))  => 1
 *   (let [f (binding [*v* 1] (bound-fn [] (set! *v* 5) *v*))] (f))   => 5 */
static int set_and_read(rf_val arg, rf_val *out)
{
	RF_CHECK_EQ(rf_var_set(V, arg), 0);
	*out = get(V) * 1000 + get(W);
	return 0;
}

static int make_bound(rf_val arg, rf_val *out)
{
	rf_bound_fn **bf = rf_to_ptr(arg);
	RF_CHECK_EQ(rf_bound_fn_new(set_and_read, 5, bf), 0);
	RF_CHECK_EQ(rf_var_set(V, 2), 0);
	return 0;
}

static int snapshot_body(rf_val arg, rf_val *out)
{
	rf_bindings **b = rf_to_ptr(arg);
	return rf_bindings_new(b);
}

static int inner_snapshot(rf_val arg, rf_val *out)
{
	return rf_var_binding(V, 8, snapshot_body, arg, NULL); /* V twice: innermost wins */
}

static int read_vw(rf_val arg, rf_val *out)
{
	RF_CHECK_EQ(rf_var_set(V, 9), 0); /* bound afresh here: ours to set! */
	*out = get(V) * 1000 + get(W);
	return 0;
}

static void bound_fn_and_snapshots(void **state)
{
	setup_vars();
	rf_bound_fn *bf = NULL;
	rf_val out;
	assert_int_equal(rf_var_binding(V, 1, make_bound, rf_from_ptr(&bf), NULL), 0);
	assert_int_equal(rf_bound_fn_call(rf_from_ptr(bf), &out), 0);
	assert_int_equal(out, 5 * 1000 + 100); /* its own binding, set! to 5 */
	assert_int_equal(get(V), 1);
	rf_future *f;
	assert_int_equal(rf_thread_start(rf_bound_fn_call, rf_from_ptr(bf), &f), 0);
	assert_int_equal(rf_future_deref(f, &out), 0); /* a raw thread, with the bindings */
	assert_int_equal(out, 5 * 1000 + 100);
	rf_future_free(f);
	assert_int_equal(rf_bound_fn_call(RF_NIL, &out), -EINVAL);
	assert_int_equal(rf_bound_fn_new(NULL, 0, &bf), -EINVAL);
	rf_bound_fn_free(bf);
	rf_bound_fn_free(NULL);

	/* get-thread-bindings: V (innermost 8) and W, once each */
	rf_bindings *b = NULL, *none = NULL;
	assert_int_equal(rf_var_binding(W, 300, inner_snapshot, rf_from_ptr(&b), NULL), 0);
	size_t n = 0;
	assert_int_equal(rf_bindings_count(b, &n), 0);
	assert_int_equal(n, 2);
	rf_var *var;
	rf_val val;
	assert_int_equal(rf_bindings_at(b, 0, &var, &val), 0);
	assert_ptr_equal(var, V);
	assert_int_equal(val, 8);
	assert_int_equal(rf_bindings_at(b, 1, &var, &val), 0);
	assert_ptr_equal(var, W);
	assert_int_equal(val, 300);
	assert_int_equal(rf_bindings_at(b, 2, &var, &val), -EINVAL);
	assert_int_equal(rf_bindings_lookup(b, W, &val), 0);
	assert_int_equal(val, 300);
	rf_var *other;
	assert_int_equal(rf_var_new_dynamic(0, &other), 0);
	assert_int_equal(rf_bindings_lookup(b, other, &val), -ENOENT);
	/* with-bindings: bound afresh here */
	assert_int_equal(rf_var_with_bindings(b, read_vw, 0, &out), 0);
	assert_int_equal(out, 9 * 1000 + 300);
	assert_int_equal(get(V), 1);
	assert_int_equal(rf_var_with_bindings(NULL, read_vw, 0, &out), -EINVAL);
	assert_int_equal(rf_bindings_new(&none), 0); /* nothing bound: empty */
	assert_int_equal(rf_bindings_count(none, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(rf_bindings_new(NULL), -EINVAL);
	rf_bindings_free(none);
	rf_bindings_free(b);
	rf_var_free(other);
	free_vars();
}

/* with-redefs: the root for every context during the body, put back after it whatever it
 * returns, watches both ways, a binding still wins, bad values refused up front.
 * Clojure 1.11: (with-redefs [r 11] [r @(future r)]) => [11 11]; r is 10 again after. */
static rf_var *R1, *R2;

static int redef_body(rf_val arg, rf_val *out)
{
	rf_future *f;
	RF_CHECK_EQ(rf_thread_start(report_v, 0, &f), 0); /* V is R1 here, see below */
	rf_val v = 0;
	RF_CHECK_EQ(rf_future_deref(f, &v), 0);
	rf_future_free(f);
	rf_val r2;
	RF_CHECK_EQ(rf_var_deref(R2, &r2), 0);
	*out = v * 1000 + r2;
	return (int)arg;
}

static int count_watch(rf_val key, void *ref, rf_val old_val, rf_val new_val, rf_val ctx)
{
	(*(int *)rf_to_ptr(ctx))++;
	return 0;
}

static int failing_watch(rf_val key, void *ref, rf_val old_val, rf_val new_val, rf_val ctx)
{
	return new_val == 666 ? -EPIPE : 0;
}

static int redef_bound_body(rf_val arg, rf_val *out)
{
	*out = get(V);
	return 0;
}

static int redef_inside_binding(rf_val arg, rf_val *out)
{
	rf_var *vars[] = {V};
	rf_val vals[] = {55};
	return rf_var_with_redefs(1, vars, vals, redef_bound_body, 0, out);
}

static void with_redefs(void **state)
{
	setup_vars();
	R1 = V; /* report_v reads V */
	assert_int_equal(rf_var_new(20, &R2), 0);
	int watched = 0;
	assert_int_equal(rf_var_add_watch(R2, 1, count_watch, rf_from_ptr(&watched)), 0);
	rf_var *vars[] = {R1, R2, R2};
	rf_val vals[] = {11, 21, 22}, out, x;
	assert_int_equal(rf_var_with_redefs(3, vars, vals, redef_body, 0, &out), 0);
	assert_int_equal(out, 11 * 1000 + 22); /* a raw thread sees it; the last R2 wins */
	assert_int_equal(watched, 2);          /* set once, restored once */
	assert_int_equal(get(R1), 1);
	assert_int_equal(get(R2), 20);
	assert_int_equal(rf_var_with_redefs(3, vars, vals, redef_body, -EIO, &out), -EIO);
	assert_int_equal(get(R1), 1);
	assert_int_equal(get(R2), 20);
	/* a validator refusal: body not run, the roots set before it put back */
	assert_int_equal(rf_var_set_validator(R2, positive, 0), 0);
	rf_val bad[] = {12, -1, -1};
	out = 5;
	assert_int_equal(rf_var_with_redefs(3, vars, bad, redef_body, 0, &out), RF_EVALIDATOR);
	assert_int_equal(out, RF_NIL);
	assert_int_equal(get(R1), 1);
	assert_int_equal(get(R2), 20);
	assert_int_equal(rf_var_set_validator(R2, NULL, 0), 0);
	/* a watch's code while setting: body not run, everything put back */
	assert_int_equal(rf_var_add_watch(R2, 2, failing_watch, 0), 0);
	rf_val boom[] = {13, 666, 666};
	assert_int_equal(rf_var_with_redefs(3, vars, boom, redef_body, 0, &out), -EPIPE);
	assert_int_equal(get(R1), 1);
	assert_int_equal(get(R2), 20);
	/* a binding takes precedence over the redefined root */
	assert_int_equal(rf_var_binding(V, 44, redef_inside_binding, 0, &out), 0);
	assert_int_equal(out, 44);
	assert_int_equal(rf_var_root(V, &x), 0);
	assert_int_equal(x, 1);
	/* bad input */
	assert_int_equal(rf_var_with_redefs(1, NULL, vals, redef_body, 0, &out), -EINVAL);
	assert_int_equal(rf_var_with_redefs(1, vars, vals, NULL, 0, &out), -EINVAL);
	rf_var *nulls[] = {NULL};
	assert_int_equal(rf_var_with_redefs(1, nulls, vals, redef_body, 0, &out), -EINVAL);
	assert_int_equal(rf_var_with_redefs(0, NULL, NULL, plain_body, 0, &out), 0);
	assert_int_equal(out, 1);
	rf_var_free(R2);
	free_vars();
}
/* The inline rf_var_deref's two fast cases (no binding; the var's binding innermost)
 * and rf_var_deref_call agree in every case, and what the inline function reads is what
 * the ABI says: the innermost frame's var and value, a var's root in its first word. */
static void both_derefs(rf_var *v, rf_val want)
{
	rf_val a = -1, b = -2;
	RF_CHECK_EQ(rf_var_deref(v, &a), 0);
	RF_CHECK_EQ(rf_var_deref_call(v, &b), 0);
	RF_CHECK_EQ(a, want);
	RF_CHECK_EQ(b, want);
}

static int deref_inner(rf_val arg, rf_val *out)
{
	both_derefs(W, 200); /* innermost */
	both_derefs(V, 5);   /* below it: the walk */
	const rf_var_frame *h = rf_var_ctx.innermost;
	RF_CHECK(h && h->var == W && h->val == 200);
	RF_CHECK_EQ(rf_var_set(W, 201), 0);
	RF_CHECK_EQ(h->val, 201);
	both_derefs(W, 201);
	return 0;
}

static int deref_outer(rf_val arg, rf_val *out)
{
	both_derefs(V, 5);
	both_derefs(W, 100); /* bound before, not here: the walk, then the root */
	rf_val x;
	RF_CHECK_EQ(rf_var_deref(V, NULL), -EINVAL); /* with a binding innermost */
	RF_CHECK_EQ(rf_var_deref(NULL, &x), -EINVAL);
	return rf_var_binding(W, 200, deref_inner, 0, out);
}

static void inline_deref_matches_the_call(void **state)
{
	setup_vars();
	rf_var *never;
	assert_int_equal(rf_var_new_dynamic(33, &never), 0);
	assert_null(rf_var_ctx.innermost);
	both_derefs(V, 1);
	both_derefs(never, 33);
	assert_int_equal(*(const rf_val *)(const void *)V, 1); /* the root is the first word */
	assert_int_equal(rf_var_binding(W, 7, plain_body, 0, NULL), 0); /* W bound once */
	assert_int_equal(rf_var_binding(V, 5, deref_outer, 0, NULL), 0);
	assert_null(rf_var_ctx.innermost);
	both_derefs(W, 100);
	rf_val x;
	assert_int_equal(rf_var_deref(V, NULL), -EINVAL);
	assert_int_equal(rf_var_deref_call(NULL, &x), -EINVAL);
	assert_int_equal(rf_var_deref_call(V, NULL), -EINVAL);
	rf_var_free(never);
	free_vars();
}

/* Pushes made inside a binding scope: popped ones leave nothing; one left unpopped is
 * dropped when the scope ends (ASan: no leak), also under a nested scope, and the
 * bindings are the outer ones again. */
static int push_pop_inside(rf_val arg, rf_val *out)
{
	RF_CHECK_EQ(rf_var_push_binding(W, 300), 0);
	RF_CHECK_EQ(get(W), 300);
	RF_CHECK_EQ(rf_var_pop_binding(W), 0);
	if (arg == 1) { /* leave one pushed */
		RF_CHECK_EQ(rf_var_push_binding(W, 301), 0);
		RF_CHECK_EQ(get(W), 301);
	}
	*out = get(V);
	return 0;
}

static int nested_push(rf_val arg, rf_val *out)
{
	rf_val r;
	RF_CHECK_EQ(rf_var_binding(V, 8, push_pop_inside, 1, &r), 0);
	RF_CHECK_EQ(r, 8);
	RF_CHECK_EQ(get(V), 6); /* the nested scope's end dropped its push */
	RF_CHECK_EQ(get(W), 100);
	RF_CHECK(rf_var_ctx.innermost && rf_var_ctx.innermost->var == V);
	return push_pop_inside(arg, out);
}

static void pushes_inside_a_scope(void **state)
{
	setup_vars();
	rf_val out;
	for (rf_val leave = 0; leave < 2; leave++) {
		assert_int_equal(rf_var_binding(V, 6, push_pop_inside, leave, &out), 0);
		assert_int_equal(out, 6);
		assert_null(rf_var_ctx.innermost);
		assert_int_equal(rf_var_binding(V, 6, nested_push, leave, &out), 0);
		assert_int_equal(out, 6);
		assert_null(rf_var_ctx.innermost);
		assert_int_equal(get(V) * 1000 + get(W), 1100);
	}
	free_vars();
}

/* The inline rf_var_binding and rf_var_binding_call: the same frame (what the ABI says:
 * var, value, the frame below, the running context as binder), set! allowed in both, the
 * same errors; on a thread's first binding (rf_var_ctx.self not yet set) and after. */
struct frame_seen {
	const rf_var_frame *below;
	int checked;
};

static int check_frame(rf_val arg, rf_val *out)
{
	struct frame_seen *s = rf_to_ptr(arg);
	const rf_var_frame *f = rf_var_ctx.innermost;
	RF_CHECK(f && f->var == V && f->val == 4 && f->parent == s->below);
	RF_CHECK(f->binder && f->binder == rf_var_ctx.self && f->kind == 0 && !f->covered);
	RF_CHECK(!f->twin);
	RF_CHECK_EQ(rf_var_set(V, 5), 0);
	RF_CHECK_EQ(get(V), 5);
	s->checked++;
	*out = 9;
	return 3;
}

static int refuse(rf_val val, rf_val ctx)
{
	return val != ctx;
}

static int both_bindings(rf_val arg, rf_val *out)
{
	struct frame_seen *s = rf_to_ptr(arg);
	s->below = rf_var_ctx.innermost;
	rf_val o = -1;
	RF_CHECK_EQ(rf_var_binding(V, 4, check_frame, arg, &o), 3);
	RF_CHECK_EQ(o, 9);
	RF_CHECK(rf_var_ctx.innermost == s->below);
	o = -1;
	RF_CHECK_EQ(rf_var_binding_call(V, 4, check_frame, arg, &o), 3);
	RF_CHECK_EQ(o, 9);
	RF_CHECK(rf_var_ctx.innermost == s->below);
	RF_CHECK_EQ(rf_var_binding(V, 4, check_frame, arg, NULL), 3);
	RF_CHECK_EQ(rf_var_binding_call(V, 4, check_frame, arg, NULL), 3);
	return 0;
}

static void *first_binding_here(void *arg)
{
	struct frame_seen *s = arg;
	RF_CHECK(!rf_var_ctx.self && !rf_var_ctx.innermost); /* a thread ringfold never ran on */
	both_bindings(rf_from_ptr(s), NULL);
	RF_CHECK_EQ(s->checked, 4);
	RF_CHECK_EQ(rf_var_binding(W, 6, both_bindings, rf_from_ptr(s), NULL), 0); /* nested */
	RF_CHECK(s->below && s->below->var == W);
	RF_CHECK_EQ(s->checked, 8);
	RF_CHECK(!rf_var_ctx.innermost);
	return NULL;
}

static void inline_binding_matches_the_call(void **state)
{
	setup_vars();
	assert_int_equal(rf_var_binding(V, 2, plain_body, 0, NULL), 0); /* V bound once */
	struct frame_seen s = {NULL, 0};
	pthread_t t;
	pthread_create(&t, NULL, first_binding_here, &s);
	pthread_join(t, NULL);
	assert_int_equal(s.checked, 8);
	/* errors, the same both ways; nothing left bound */
	rf_var *plain;
	assert_int_equal(rf_var_new(0, &plain), 0);
	int (*const bind[2])(rf_var *, rf_val, rf_body_fn, rf_val,
	                     rf_val *) = {rf_var_binding, rf_var_binding_call};
	for (int i = 0; i < 2; i++) {
		rf_val out = -1;
		assert_int_equal(bind[i](NULL, 1, plain_body, 0, &out), -EINVAL);
		assert_int_equal(out, RF_NIL);
		assert_int_equal(bind[i](V, 1, NULL, 0, &out), -EINVAL);
		assert_int_equal(bind[i](plain, 1, plain_body, 0, &out), RF_ENOTDYNAMIC);
		assert_int_equal(rf_var_set_validator(V, refuse, 2), 0);
		assert_int_equal(bind[i](V, 2, plain_body, 0, &out), RF_EVALIDATOR);
		assert_int_equal(rf_var_set_validator(V, NULL, 0), 0);
		assert_null(rf_var_ctx.innermost);
	}
	rf_var_free(plain);
	free_vars();
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
	    cmocka_unit_test(set_reaches_conveyed_work),
	    cmocka_unit_test(nested_captures),
	    cmocka_unit_test(borrowed_frames),
	    cmocka_unit_test(many_vars_and_unpopped_pushes),
	    cmocka_unit_test(public_conveyance),
	    cmocka_unit_test(fiber_ends_with_a_push),
	    cmocka_unit_test(bound_fn_and_snapshots),
	    cmocka_unit_test(with_redefs),
	    cmocka_unit_test(inline_deref_matches_the_call),
	    cmocka_unit_test(pushes_inside_a_scope),
	    cmocka_unit_test(inline_binding_matches_the_call),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
