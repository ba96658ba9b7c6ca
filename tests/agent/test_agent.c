/* Agents: order, exact sums, errors and restart, continue mode, validators, held sends,
 * await, watches, misuse. Runs on executor fibers (or helper threads without one). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "agent_test_util.h"
#include "ringfold/agent.h"
#include "ringfold/io.h"
#include "ringfold/ref.h"
#include "ringfold/var.h"
#include "runtime/agent/agent_internal.h"

static int fail_42(rf_val old, rf_val arg, rf_val *out)
{
	return -42;
}

static void single_agent_sum(void **state)
{
	rf_agent *sum;
	assert_int_equal(rf_agent_new(0, NULL, &sum), 0);
	rf_val expect = 0;
	for (rf_val x = 0; x < 20000; x++) {
		assert_int_equal(rf_agent_send(sum, rf_add, x), 0);
		expect += x;
	}
	assert_int_equal(rf_agent_await(&sum, 1), 0);
	rf_val v;
	assert_int_equal(rf_agent_deref(sum, &v), 0);
	assert_int_equal(v, expect);
	rf_agent_free(sum);
}

/* FIFO per sender: every action checks that its sender's sequence numbers arrive in
 * order; the value counts actions. */
enum { SENDERS = 4, PER_SENDER = 20000 };
static int64_t last_seq[SENDERS];
static int64_t order_violations;

static int check_order(rf_val old, rf_val arg, rf_val *out)
{
	int sender = (int)(arg >> 32);
	int64_t seq = arg & 0xffffffff;
	if (seq != last_seq[sender] + 1)
		order_violations++;
	last_seq[sender] = seq;
	*out = old + 1;
	return 0;
}

struct sender_arg {
	rf_agent *agent;
	int id;
	int send_off;
};

static void *sender(void *p)
{
	struct sender_arg *s = p;
	for (int64_t i = 1; i <= PER_SENDER; i++) {
		rf_val arg = ((rf_val)s->id << 32) | i;
		int rc = s->send_off ? rf_agent_send_off(s->agent, check_order, arg)
		                     : rf_agent_send(s->agent, check_order, arg);
		if (rc)
			abort();
	}
	return NULL;
}

static void fifo_from_many_senders(void **state)
{
	rf_agent *a;
	assert_int_equal(rf_agent_new(0, NULL, &a), 0);
	for (int i = 0; i < SENDERS; i++)
		last_seq[i] = 0;
	order_violations = 0;
	pthread_t t[SENDERS];
	struct sender_arg args[SENDERS];
	for (int i = 0; i < SENDERS; i++) {
		args[i] = (struct sender_arg){a, i, i & 1};
		assert_int_equal(pthread_create(&t[i], NULL, sender, &args[i]), 0);
	}
	for (int i = 0; i < SENDERS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	rf_val v;
	rf_agent_deref(a, &v);
	assert_int_equal(v, SENDERS * PER_SENDER);
	assert_int_equal(order_violations, 0);
	for (int i = 0; i < SENDERS; i++)
		assert_int_equal(last_seq[i], PER_SENDER);
	rf_agent_free(a);
}

/* Ten agents round-robin over numbers from several threads: exact total. */
static void many_agents_exact_sum(void **state)
{
	enum { N = 10, COUNT = 200000 };
	rf_agent *sums[N];
	for (int i = 0; i < N; i++)
		assert_int_equal(rf_agent_new(0, NULL, &sums[i]), 0);
	for (rf_val x = 0; x < COUNT; x++)
		assert_int_equal(rf_agent_send(sums[x % N], rf_add, x), 0);
	assert_int_equal(rf_agent_await_for(sums, N, 10000), 0);
	rf_val total = 0, v;
	for (int i = 0; i < N; i++) {
		rf_agent_deref(sums[i], &v);
		total += v;
	}
	assert_int_equal(total, (rf_val)COUNT * (COUNT - 1) / 2);
	for (int i = 0; i < N; i++)
		rf_agent_free(sums[i]);
}

/* More agents than a thread keeps slabs open for (node.c), sent to in turn by one
 * thread with awaits in between: agents share slabs, slabs fill at different times, and
 * every agent still runs exactly its own actions in send order. The value is the next
 * sequence number the agent expects; an action out of order poisons it. */
static int expect_seq(rf_val old, rf_val arg, rf_val *out)
{
	*out = arg == old ? old + 1 : (rf_val)1 << 62;
	return 0;
}

static void interleaved_agents_keep_order(void **state)
{
	enum { N = 67, ROUNDS = 3000 };
	rf_agent *agents[N];
	for (int i = 0; i < N; i++)
		assert_int_equal(rf_agent_new(0, NULL, &agents[i]), 0);
	for (rf_val r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < N; i++)
			if (i % 3 != 0 || r % 2 == 0) /* uneven streams */
				assert_int_equal(
				    rf_agent_send(agents[i], expect_seq, i % 3 ? r : r / 2), 0);
		if (r % 1000 == 999)
			assert_int_equal(rf_agent_await(agents, N), 0);
	}
	assert_int_equal(rf_agent_await(agents, N), 0);
	for (int i = 0; i < N; i++) {
		rf_val v;
		rf_agent_deref(agents[i], &v);
		assert_int_equal(v, i % 3 ? ROUNDS : ROUNDS / 2);
		rf_agent_free(agents[i]);
	}
}

static _Atomic(pthread_t) action_thread;
static int record_thread(rf_val old, rf_val arg, rf_val *out)
{
	atomic_store(&action_thread, pthread_self());
	*out = old;
	return 0;
}

static void never_in_senders_thread(void **state)
{
	rf_agent *a;
	assert_int_equal(rf_agent_new(0, NULL, &a), 0);
	assert_int_equal(rf_agent_send(a, record_thread, 0), 0);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	assert_false(pthread_equal(atomic_load(&action_thread), pthread_self()));
	rf_agent_free(a);
}

/* Fail mode: error stored, last good value kept, sends refused, queued actions held and
 * run after a restart. */
static void fail_hold_and_restart(void **state)
{
	rf_agent *a;
	assert_int_equal(rf_agent_new(0, NULL, &a), 0);
	assert_int_equal(rf_agent_get_error_mode(a), RF_AGENT_FAIL);
	gate_reset();
	assert_int_equal(rf_agent_send(a, gated_identity, 1), 0);
	assert_int_equal(rf_agent_send(a, fail_42, 0), 0);
	assert_int_equal(rf_agent_send(a, rf_add, 10), 0);
	assert_int_equal(rf_agent_send_off(a, rf_add, 100), 0);
	gate_release();
	assert_true(wait_until(agent_failed, a));
	assert_int_equal(rf_agent_error(a), -42);
	rf_val v;
	rf_agent_deref(a, &v);
	assert_int_equal(v, 1);
	assert_int_equal(rf_agent_send(a, rf_add, 1000), RF_EAGENTFAILED);
	assert_int_equal(rf_agent_send_off(a, rf_add, 1000), RF_EAGENTFAILED);
	/* Clojure's await sends, which a failed agent refuses */
	assert_int_equal(rf_agent_await_for(&a, 1, 50), RF_EAGENTFAILED);
	assert_int_equal(rf_agent_await(&a, 1), RF_EAGENTFAILED);
	assert_int_equal(rf_agent_restart(a, 5, false), 0);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	rf_agent_deref(a, &v);
	assert_int_equal(v, 115);
	assert_int_equal(rf_agent_error(a), 0);
	assert_int_equal(rf_agent_restart(a, 0, false), RF_EAGENTOK);
	rf_agent_free(a);
}

static void restart_clear_actions(void **state)
{
	rf_agent *a;
	assert_int_equal(rf_agent_new(0, NULL, &a), 0);
	gate_reset();
	assert_int_equal(rf_agent_send(a, gated_identity, 1), 0);
	assert_int_equal(rf_agent_send(a, fail_42, 0), 0);
	assert_int_equal(rf_agent_send(a, rf_add, 10), 0);
	assert_int_equal(rf_agent_send(a, rf_add, 100), 0);
	gate_release();
	assert_true(wait_until(agent_failed, a));
	assert_int_equal(rf_agent_restart(a, 7, true), 0);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	rf_val v;
	rf_agent_deref(a, &v);
	assert_int_equal(v, 7);
	assert_int_equal(rf_agent_send(a, rf_add, 1), 0);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	rf_agent_deref(a, &v);
	assert_int_equal(v, 8);
	rf_agent_free(a);
}

/* An await marker queued before the failure and discarded by clear_actions ends the
 * await with -ECANCELED. */
static void *await_thread(void *p)
{
	rf_agent *a = p;
	return (void *)(intptr_t)rf_agent_await(&a, 1);
}

static bool marker_queued(void *p)
{
	rf_agent *a = p;
	/* the gated action, fail_42, rf_add and the marker */
	return agent_queued(atomic_load(&a->state)) == 4;
}

static void restart_clear_cancels_await(void **state)
{
	rf_agent *a;
	assert_int_equal(rf_agent_new(0, NULL, &a), 0);
	gate_reset();
	assert_int_equal(rf_agent_send(a, gated_identity, 1), 0);
	assert_int_equal(rf_agent_send(a, fail_42, 0), 0);
	assert_int_equal(rf_agent_send(a, rf_add, 10), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, await_thread, a), 0);
	assert_true(wait_until(marker_queued, a));
	gate_release();
	assert_true(wait_until(agent_failed, a));
	assert_int_equal(rf_agent_restart(a, 0, true), 0);
	void *rc;
	pthread_join(t, &rc);
	assert_int_equal((intptr_t)rc, -ECANCELED);
	rf_agent_free(a);
}

static _Atomic int handled_err, handled_count;
static _Atomic(rf_agent *) handled_agent;
static void on_error(rf_agent *a, int err, rf_val ctx)
{
	if (ctx != 5)
		abort();
	atomic_store(&handled_err, err);
	atomic_store(&handled_agent, a);
	atomic_fetch_add(&handled_count, 1);
}

static void continue_mode_with_handler(void **state)
{
	rf_agent *a;
	rf_agent_opts opts = {
	    .size = sizeof(opts), .error_handler = on_error, .error_handler_ctx = 5};
	assert_int_equal(rf_agent_new(0, &opts, &a), 0);
	assert_int_equal(rf_agent_get_error_mode(a), RF_AGENT_CONTINUE);
	atomic_store(&handled_count, 0);
	assert_int_equal(rf_agent_send(a, rf_add, 1), 0);
	assert_int_equal(rf_agent_send(a, fail_42, 0), 0);
	assert_int_equal(rf_agent_send(a, rf_add, 10), 0);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	rf_val v;
	rf_agent_deref(a, &v);
	assert_int_equal(v, 11);
	assert_int_equal(rf_agent_error(a), 0);
	assert_int_equal(atomic_load(&handled_count), 1);
	assert_int_equal(atomic_load(&handled_err), -42);
	assert_ptr_equal(atomic_load(&handled_agent), a);
	/* The handler also runs in fail mode, and the agent then fails. */
	assert_int_equal(rf_agent_set_error_mode(a, RF_AGENT_FAIL), 0);
	assert_int_equal(rf_agent_send(a, fail_42, 0), 0);
	assert_true(wait_until(agent_failed, a));
	assert_int_equal(atomic_load(&handled_count), 2);
	assert_int_equal(rf_agent_set_error_mode(a, 7), -EINVAL);
	assert_int_equal(rf_agent_restart(a, 0, true), 0);
	rf_agent_free(a);
}

static int non_negative(rf_val v, rf_val ctx)
{
	if (ctx != 3)
		abort();
	return v >= 0;
}

/* A validator that fails with its own code: that code is the agent's error. */
static int refuses_seven(rf_val v, rf_val ctx)
{
	return v == 7 ? (int)ctx : 1;
}

static void validator_rejection_is_agent_error(void **state)
{
	rf_agent *a;
	rf_agent_opts opts = {.size = sizeof(opts), .validator = non_negative, .validator_ctx = 3};
	assert_int_equal(rf_agent_new(0, &(rf_agent_opts){.validator = non_negative}, &a),
	                 -EINVAL); /* size unset */
	assert_int_equal(rf_agent_new(-1, &opts, &a), RF_EVALIDATOR);
	assert_int_equal(rf_agent_new(0, &opts, &a), 0);
	assert_int_equal(rf_agent_send(a, rf_dec, 0), 0);
	assert_true(wait_until(agent_failed, a));
	assert_int_equal(rf_agent_error(a), RF_EVALIDATOR);
	assert_int_equal(rf_agent_restart(a, -5, false), RF_EVALIDATOR);
	assert_int_equal(rf_agent_error(a), RF_EVALIDATOR);
	assert_int_equal(rf_agent_restart(a, 3, false), 0);
	rf_val v;
	rf_agent_deref(a, &v);
	assert_int_equal(v, 3);
	rf_validator_fn got_fn = NULL;
	rf_val got_ctx = 0;
	assert_int_equal(rf_agent_get_validator(a, &got_fn, &got_ctx), 0);
	assert_ptr_equal(got_fn, non_negative);
	assert_int_equal(got_ctx, 3);
	assert_int_equal(rf_agent_set_validator(a, NULL, 0), 0);
	assert_int_equal(rf_agent_send(a, rf_add, -10), 0);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	rf_agent_deref(a, &v);
	assert_int_equal(v, -7);
	assert_int_equal(rf_agent_set_validator(a, non_negative, 3), RF_EVALIDATOR);
	assert_int_equal(rf_agent_set_validator(a, refuses_seven, -EDOM), 0);
	assert_int_equal(rf_agent_send(a, rf_add, 14), 0); /* -7 + 14 = 7 */
	assert_true(wait_until(agent_failed, a));
	assert_int_equal(rf_agent_error(a), -EDOM);
	rf_agent_deref(a, &v);
	assert_int_equal(v, -7);
	assert_int_equal(rf_agent_restart(a, 7, true), -EDOM);
	assert_int_equal(rf_agent_restart(a, 8, true), 0);
	rf_agent_free(a);
}

/* Held sends: an action's sends go out after it ends (B sees A's new value) and are
 * dropped when it fails. */
static rf_agent *held_a, *held_b;
static int b_saw_a(rf_val old, rf_val arg, rf_val *out)
{
	rf_val av;
	rf_agent_deref(held_a, &av);
	*out = av;
	return 0;
}
static int a_sends_then(rf_val old, rf_val arg, rf_val *out)
{
	if (rf_agent_self() != held_a)
		return -1000;
	if (rf_agent_send(held_b, b_saw_a, 0) || rf_agent_send(held_a, rf_add, 1000))
		return -1001;
	if (rf_agent_await(&held_b, 1) != RF_EAWAITINACTION)
		return -1002;
	*out = old + 1;
	return arg ? (int)arg : 0;
}

static void held_sends_in_actions(void **state)
{
	assert_int_equal(rf_agent_new(0, NULL, &held_a), 0);
	assert_int_equal(rf_agent_new(-1, NULL, &held_b), 0);
	assert_null(rf_agent_self());
	assert_int_equal(rf_agent_send(held_a, a_sends_then, 0), 0);
	assert_int_equal(rf_agent_await(&held_a, 1), 0);
	assert_int_equal(rf_agent_await(&held_b, 1), 0);
	rf_val v, b_before;
	rf_agent_deref(held_b, &b_before);
	assert_true(b_before == 1 || b_before == 1001); /* B ran after A's action ended */
	rf_agent_deref(held_a, &v);
	assert_int_equal(v, 1001);
	/* Now a failing action: its sends are dropped. */
	assert_int_equal(rf_agent_send(held_a, a_sends_then, -7), 0);
	assert_true(wait_until(agent_failed, held_a));
	assert_int_equal(rf_agent_error(held_a), -7);
	assert_int_equal(rf_agent_await(&held_b, 1), 0);
	rf_agent_deref(held_b, &v);
	assert_int_equal(v, b_before);
	rf_agent_deref(held_a, &v);
	assert_int_equal(v, 1001);
	assert_int_equal(rf_agent_restart(held_a, 0, false), 0);
	assert_int_equal(rf_agent_await(&held_a, 1), 0);
	rf_agent_deref(held_a, &v);
	assert_int_equal(v, 0);
	rf_agent_free(held_a);
	rf_agent_free(held_b);
}

static void await_semantics(void **state)
{
	rf_agent *a, *b;
	assert_int_equal(rf_agent_new(0, NULL, &a), 0);
	assert_int_equal(rf_agent_new(0, NULL, &b), 0);
	rf_agent *both[2] = {a, b};
	assert_int_equal(rf_agent_await(both, 2), 0); /* idle: at once */
	assert_int_equal(rf_agent_await_for(both, 2, 0), 0);
	assert_int_equal(rf_agent_await(NULL, 0), 0);
	assert_int_equal(rf_agent_await(NULL, 1), -EINVAL);
	assert_int_equal(rf_agent_await_for(both, 2, -1), -EINVAL);
	rf_agent *with_null[2] = {a, NULL};
	assert_int_equal(rf_agent_await(with_null, 2), -EINVAL);
	gate_reset();
	assert_int_equal(rf_agent_send(a, gated_identity, 1), 0);
	assert_int_equal(rf_agent_send(b, rf_add, 2), 0);
	assert_int_equal(rf_agent_await_for(both, 2, 0), -ETIMEDOUT);
	uint64_t t0 = time_now_ns();
	assert_int_equal(rf_agent_await_for(both, 2, 100), -ETIMEDOUT);
	assert_true(time_now_ns() - t0 >= 100000000u);
	gate_release();
	assert_int_equal(rf_agent_await_for(both, 2, 10000), 0);
	rf_val v;
	rf_agent_deref(a, &v);
	assert_int_equal(v, 1);
	rf_agent_deref(b, &v);
	assert_int_equal(v, 2);
	rf_agent_free(a);
	rf_agent_free(b);
}

static _Atomic int watch_calls;
static _Atomic rf_val watch_old_sum, watch_new_sum;
static const rf_val watch_key = 77;
static int on_change(rf_val key, void *a, rf_val old_value, rf_val new_value, rf_val ctx)
{
	if (key != watch_key || ctx != 9)
		abort();
	atomic_fetch_add(&watch_calls, 1);
	atomic_fetch_add(&watch_old_sum, old_value);
	atomic_fetch_add(&watch_new_sum, new_value);
	return 0;
}

static void watches_fire_on_each_change(void **state)
{
	rf_agent *a;
	atomic_store(&watch_calls, 0);
	atomic_store(&watch_old_sum, 0);
	atomic_store(&watch_new_sum, 0);
	assert_int_equal(rf_agent_new(0, NULL, &a), 0);
	assert_int_equal(rf_agent_add_watch(a, watch_key, on_change, 9), 0);
	assert_int_equal(rf_agent_add_watch(a, watch_key, on_change, 9), 0); /* replaces */
	for (int i = 1; i <= 4; i++)
		assert_int_equal(rf_agent_send(a, rf_add, i), 0);
	assert_int_equal(rf_agent_send(a, fail_42, 0), 0); /* no change, no call */
	assert_true(wait_until(agent_failed, a));
	assert_int_equal(atomic_load(&watch_calls), 4);
	assert_int_equal(atomic_load(&watch_old_sum), 0 + 1 + 3 + 6);
	assert_int_equal(atomic_load(&watch_new_sum), 1 + 3 + 6 + 10);
	assert_int_equal(rf_agent_restart(a, 0, false), 0);
	assert_int_equal(rf_agent_remove_watch(a, watch_key), 0);
	assert_int_equal(rf_agent_remove_watch(a, watch_key), 0); /* unknown key: nothing */
	assert_int_equal(rf_agent_send(a, rf_add, 1), 0);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	assert_int_equal(atomic_load(&watch_calls), 4);
	assert_int_equal(rf_agent_add_watch(a, watch_key, NULL, 0), -EINVAL);
	rf_agent_free(a);
}

/* A watch's negative code is an error of the action, after the change: the value stays,
 * the other watches run, the handler hears the code, a FAIL agent fails with it and the
 * action's held sends are dropped. */
static _Atomic int failing_watch_calls;
static int failing_watch(rf_val key, void *a, rf_val old_value, rf_val new_value, rf_val ctx)
{
	atomic_fetch_add(&failing_watch_calls, 1);
	return new_value == 3 ? (int)ctx : 0;
}
static rf_agent *watch_side;
static int add_and_send(rf_val old, rf_val arg, rf_val *out)
{
	int rc = rf_agent_send(watch_side, rf_add, 1);
	*out = old + arg;
	return rc;
}

static void watch_code_is_agent_error(void **state)
{
	rf_agent *a;
	rf_agent_opts opts = {.size = sizeof(opts),
	                      .error_handler = on_error,
	                      .error_handler_ctx = 5,
	                      .error_mode = RF_AGENT_FAIL};
	assert_int_equal(rf_agent_new(0, &opts, &a), 0);
	assert_int_equal(rf_agent_new(0, NULL, &watch_side), 0);
	atomic_store(&failing_watch_calls, 0);
	atomic_store(&watch_calls, 0);
	atomic_store(&handled_count, 0);
	assert_int_equal(rf_agent_add_watch(a, 1, failing_watch, -EPIPE), 0);
	assert_int_equal(rf_agent_add_watch(a, watch_key, on_change, 9), 0);
	assert_int_equal(rf_agent_send(a, add_and_send, 1), 0); /* 1: fine */
	assert_int_equal(rf_agent_await(&a, 1), 0);
	assert_int_equal(rf_agent_send(a, add_and_send, 2), 0); /* 3: the watch fails */
	assert_true(wait_until(agent_failed, a));
	assert_int_equal(rf_agent_error(a), -EPIPE);
	assert_int_equal(atomic_load(&handled_err), -EPIPE);
	assert_int_equal(atomic_load(&handled_count), 1);
	assert_int_equal(atomic_load(&failing_watch_calls), 2);
	assert_int_equal(atomic_load(&watch_calls), 2); /* the other watch still ran */
	rf_val v;
	rf_agent_deref(a, &v);
	assert_int_equal(v, 3); /* the change stays made */
	assert_int_equal(rf_agent_await(&watch_side, 1), 0);
	rf_agent_deref(watch_side, &v);
	assert_int_equal(v, 1); /* the failed action's send was dropped */
	assert_int_equal(rf_agent_restart(a, 10, true), 0);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	rf_agent_free(a);
	rf_agent_free(watch_side);
}

/* release-pending-sends: the sends made so far leave at once (the other agent runs them
 * while this action still waits), later ones are held; outside an action it is 0. */
static rf_agent *rps_target;
static _Atomic int rps_released;
static int sends_and_waits(rf_val old, rf_val arg, rf_val *out)
{
	rf_agent_send(rps_target, rf_add, 1);
	rf_agent_send(rps_target, rf_add, 1);
	atomic_store(&rps_released, rf_agent_release_pending_sends());
	/* The released sends run without this action ending. */
	uint64_t deadline = time_now_ns() + 10ull * 1000000000u;
	rf_val v = 0;
	while (rf_agent_deref(rps_target, &v) == 0 && v != 2 && time_now_ns() < deadline)
		rf_sleep_ms(1);
	rf_agent_send(rps_target, rf_add, 10); /* held until this action ends */
	rf_val v2;
	rf_agent_deref(rps_target, &v2);
	*out = v * 100 + (v2 == 2);
	return 0;
}

static void release_pending_sends(void **state)
{
	rf_agent *a;
	assert_int_equal(rf_agent_release_pending_sends(), 0);
	assert_int_equal(rf_agent_new(0, NULL, &a), 0);
	assert_int_equal(rf_agent_new(0, NULL, &rps_target), 0);
	assert_int_equal(rf_agent_send(a, sends_and_waits, 0), 0);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	assert_int_equal(rf_agent_await(&rps_target, 1), 0);
	assert_int_equal(atomic_load(&rps_released), 2);
	rf_val v;
	rf_agent_deref(a, &v);
	assert_int_equal(v, 201);
	rf_agent_deref(rps_target, &v);
	assert_int_equal(v, 12);
	rf_agent_free(a);
	rf_agent_free(rps_target);
}

/* Sends inside a transaction go out once, after the commit; none if it aborts; an
 * attempt that retries does not repeat them. await inside one is refused. */
static rf_agent *tx_agent;
static _Atomic int tx_attempts;
static _Atomic int tx_seen_queued;

static int tx_body(rf_val arg, rf_val *out)
{
	int attempt = atomic_fetch_add(&tx_attempts, 1);
	if (rf_agent_send(tx_agent, rf_add, arg))
		return -1000;
	/* Held by the transaction: nothing reached the agent yet. */
	atomic_fetch_add(&tx_seen_queued, (int)(agent_queued(atomic_load(&tx_agent->state))));
	if (rf_agent_await(&tx_agent, 1) != RF_EAWAITINACTION)
		return -1001;
	if (arg == 100)
		return -7; /* abort */
	if (arg == 10 && attempt == 0)
		return RF_ETXRETRY; /* run again */
	return 0;
}

static void sends_in_transactions(void **state)
{
	assert_int_equal(rf_agent_new(0, NULL, &tx_agent), 0);
	atomic_store(&tx_seen_queued, 0);
	atomic_store(&tx_attempts, 0);
	assert_int_equal(rf_dosync(tx_body, 1, NULL), 0);
	assert_int_equal(rf_agent_await(&tx_agent, 1), 0);
	rf_val v;
	rf_agent_deref(tx_agent, &v);
	assert_int_equal(v, 1);
	atomic_store(&tx_attempts, 0);
	assert_int_equal(rf_dosync(tx_body, 100, NULL), -7);
	assert_int_equal(rf_agent_await(&tx_agent, 1), 0);
	rf_agent_deref(tx_agent, &v);
	assert_int_equal(v, 1);
	atomic_store(&tx_attempts, 0);
	assert_int_equal(rf_dosync(tx_body, 10, NULL), 0);
	assert_int_equal(atomic_load(&tx_attempts), 2);
	assert_int_equal(rf_agent_await(&tx_agent, 1), 0);
	rf_agent_deref(tx_agent, &v);
	assert_int_equal(v, 11);
	assert_int_equal(atomic_load(&tx_seen_queued), 0);
	rf_agent_free(tx_agent);
}

/* The sender's dynamic bindings are conveyed into the action (binding-conveyor-fn). */
static rf_var *conveyed_var;
static int read_var(rf_val old, rf_val arg, rf_val *out)
{
	return rf_var_deref(conveyed_var, out);
}

static void bindings_conveyed(void **state)
{
	rf_agent *a;
	assert_int_equal(rf_var_new_dynamic(1, &conveyed_var), 0);
	assert_int_equal(rf_agent_new(0, NULL, &a), 0);
	assert_int_equal(rf_var_push_binding(conveyed_var, 42), 0);
	assert_int_equal(rf_agent_send(a, read_var, 0), 0);
	assert_int_equal(rf_var_pop_binding(conveyed_var), 0);
	assert_int_equal(rf_agent_send_off(a, read_var, 0), 0);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	rf_val v;
	rf_agent_deref(a, &v);
	assert_int_equal(v, 1); /* the second send, made outside the binding, saw the root */
	assert_int_equal(rf_var_push_binding(conveyed_var, 42), 0);
	assert_int_equal(rf_agent_send(a, read_var, 0), 0);
	assert_int_equal(rf_var_pop_binding(conveyed_var), 0);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	rf_agent_deref(a, &v);
	assert_int_equal(v, 42);
	rf_agent_free(a);
	rf_var_free(conveyed_var);
}

static void misuse(void **state)
{
	rf_agent *a;
	rf_val v;
	assert_int_equal(rf_agent_new(0, NULL, NULL), -EINVAL);
	rf_agent_opts bad = {.size = sizeof(bad), .error_mode = 9};
	assert_int_equal(rf_agent_new(0, &bad, &a), -EINVAL);
	assert_int_equal(rf_agent_new(0, NULL, &a), 0);
	assert_int_equal(rf_agent_send(NULL, rf_add, 1), -EINVAL);
	assert_int_equal(rf_agent_send(a, NULL, 1), -EINVAL);
	assert_int_equal(rf_agent_send_off(NULL, rf_add, 1), -EINVAL);
	assert_int_equal(rf_agent_deref(NULL, &v), -EINVAL);
	assert_int_equal(rf_agent_deref(a, NULL), -EINVAL);
	assert_int_equal(rf_agent_error(NULL), -EINVAL);
	assert_int_equal(rf_agent_restart(NULL, 0, false), -EINVAL);
	assert_int_equal(rf_agent_restart(a, 0, false), RF_EAGENTOK);
	rf_agent_free(NULL); /* a no-op */
	assert_int_equal(rf_agent_set_error_handler(NULL, NULL, 0), -EINVAL);
	assert_int_equal(rf_agent_get_error_handler(NULL, NULL, NULL), -EINVAL);
	assert_int_equal(rf_agent_set_validator(NULL, NULL, 0), -EINVAL);
	assert_int_equal(rf_agent_get_validator(NULL, NULL, NULL), -EINVAL);
	assert_int_equal(rf_agent_remove_watch(NULL, 0), -EINVAL);
	assert_int_equal(rf_agent_await_for(&a, 1, -1), -EINVAL);
	rf_agent_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(single_agent_sum),
	    cmocka_unit_test(fifo_from_many_senders),
	    cmocka_unit_test(many_agents_exact_sum),
	    cmocka_unit_test(interleaved_agents_keep_order),
	    cmocka_unit_test(never_in_senders_thread),
	    cmocka_unit_test(fail_hold_and_restart),
	    cmocka_unit_test(restart_clear_actions),
	    cmocka_unit_test(restart_clear_cancels_await),
	    cmocka_unit_test(continue_mode_with_handler),
	    cmocka_unit_test(validator_rejection_is_agent_error),
	    cmocka_unit_test(watch_code_is_agent_error),
	    cmocka_unit_test(release_pending_sends),
	    cmocka_unit_test(held_sends_in_actions),
	    cmocka_unit_test(await_semantics),
	    cmocka_unit_test(watches_fire_on_each_change),
	    cmocka_unit_test(sends_in_transactions),
	    cmocka_unit_test(bindings_conveyed),
	    cmocka_unit_test(misuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
