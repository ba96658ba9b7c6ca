/* tests/chan/test_lifetime.c: a put, take, alts (on its winning channel) or close touches
 * its channel no more once its effect can be seen, so whoever sees it may drop the last
 * reference while the call is still returning (the caller borrowed that reference, as
 * test_many.c's go processes do).
 *
 * The deterministic tests let one thread's operation finish, tell the test's thread so
 * through a relaxed flag (on purpose: it gives TSan no happens-before edge, so only the
 * channel's own synchronization orders the operation's last access before the free), and
 * then see its effect and release the channel. TSan reports any access of the operation
 * that the channel does not order before the free, however the threads interleave; ASan
 * reports the ones that really land after it, which the stress test makes likely.
 */
#include "chan_test.h"

#include "runtime/chan/chan_impl.h"

typedef struct op_arg {
	rf_chan *ch;
	rf_val v;
	_Atomic int returned; /* relaxed: see the file comment */
} op_arg;

static void wait_returned(op_arg *a)
{
	while (!atomic_load_explicit(&a->returned, memory_order_relaxed))
		sched_yield();
}

static void *put_then_flag(void *p)
{
	op_arg *a = p;
	RF_CHECK_EQ(rf_chan_put(a->ch, a->v), 0);
	atomic_store_explicit(&a->returned, 1, memory_order_relaxed);
	return NULL;
}

static void *take_then_flag(void *p)
{
	op_arg *a = p;
	RF_CHECK_EQ(rf_chan_take(a->ch, &a->v), 0);
	atomic_store_explicit(&a->returned, 1, memory_order_relaxed);
	return NULL;
}

/* Relaxed, no lock: whether fast operations get past the ring without the channel lock
 * (the race the tests below need). */
static bool ring_thawed(const rf_chan *c)
{
	return !(atomic_load_explicit(&c->fring->head, memory_order_relaxed) & CHAN_RING_SLOW) &&
	       !(atomic_load_explicit(&c->fring->tail, memory_order_relaxed) & CHAN_RING_SLOW);
}

enum { ROUNDS = 50 };

/* A put on the locked path into a frozen empty ring, which it thaws; the test's thread
 * takes that value lock-free and frees the channel. */
static void test_take_frees_after_locked_put(void **state)
{
	for (int r = 0; r < ROUNDS; r++) {
		op_arg a = {.v = 100 + r};
		assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 4, &a.ch), 0);
		rf_val v;
		assert_int_equal(rf_chan_poll(a.ch, &v), -EAGAIN); /* freezes the empty ring */
		assert_false(ring_thawed(a.ch));
		pthread_t t = spawn_thread(put_then_flag, &a);
		wait_returned(&a);
		assert_true(ring_thawed(a.ch)); /* the take below is lock-free */
		assert_int_equal(rf_chan_take(a.ch, &v), 0);
		assert_int_equal(v, 100 + r);
		rf_chan_release(a.ch);
		pthread_join(t, NULL);
	}
}

/* A take on the locked path from a frozen full ring, which it thaws; the test's thread
 * puts into the freed slot lock-free and frees the channel. */
static void test_put_frees_after_locked_take(void **state)
{
	for (int r = 0; r < ROUNDS; r++) {
		op_arg a = {0};
		assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 4, &a.ch), 0);
		for (int i = 0; i < 4; i++)
			assert_int_equal(rf_chan_offer(a.ch, i), 0);
		assert_int_equal(rf_chan_offer(a.ch, 4), -EAGAIN); /* freezes the full ring */
		assert_false(ring_thawed(a.ch));
		pthread_t t = spawn_thread(take_then_flag, &a);
		wait_returned(&a);
		assert_int_equal(a.v, 0);
		assert_true(ring_thawed(a.ch)); /* the put below is lock-free */
		assert_int_equal(rf_chan_offer(a.ch, 4), 0);
		rf_chan_release(a.ch);
		pthread_join(t, NULL);
	}
}

/* An alts waits on two takes of one channel a and one of b, all borrowing the test's
 * references; the test's put to a wins it, and the test frees a at once (the put's
 * effect, a value taken, is seen). The alts then unlinks its losing nodes: the one on b,
 * which the test frees once the alts has returned, not the ones on a, which its claimer
 * unlinked while it held a's lock. Unbuffered: a has no ring, so chan_final does not
 * wait for its lock. */
typedef struct alts_arg {
	rf_chan *a, *b;
	int which;
	rf_val v;
} alts_arg;

static void *alts_then_flag(void *p)
{
	alts_arg *x = p;
	rf_alt ops[3] = {{.ch = x->a}, {.ch = x->b}, {.ch = x->a}};
	RF_CHECK_EQ(rf_alts(ops, 3, 0, &x->which, &x->v), 0);
	return NULL;
}

static uint32_t takes_waiting(rf_chan *c)
{
	chan_lock(c);
	uint32_t n = c->takes.len;
	chan_unlock(c);
	return n;
}

static void test_alts_winner_freed_by_putter(void **state)
{
	for (int r = 0; r < ROUNDS; r++) {
		alts_arg x = {.which = -1};
		assert_int_equal(rf_chan_new(&x.a), 0);
		assert_int_equal(rf_chan_new(&x.b), 0);
		pthread_t t = spawn_thread(alts_then_flag, &x);
		while (takes_waiting(x.a) < 2 || takes_waiting(x.b) < 1)
			sched_yield();
		assert_int_equal(rf_chan_put(x.a, 200 + r), 0);
		rf_chan_release(x.a);
		pthread_join(t, NULL); /* the alts is over: b may go */
		assert_true(x.which == 0 || x.which == 2);
		assert_int_equal(x.v, 200 + r);
		rf_chan_release(x.b);
	}
}

static void *close_then_flag(void *p)
{
	op_arg *a = p;
	rf_chan_close(a->ch);
	atomic_store_explicit(&a->returned, 1, memory_order_relaxed);
	return NULL;
}

/* A close is seen through rf_chan_closed, without the lock, while the closer still holds
 * it; the test's thread frees the channel at once. Unbuffered, sliding, and with a
 * transformation (a mutex instead of the spin lock). */
static void test_closed_seen_frees(void **state)
{
	rf_xform take9 = rf_xform_take(9);
	for (int r = 0; r < 3 * ROUNDS; r++) {
		op_arg a = {0};
		if (r % 3 == 0)
			assert_int_equal(rf_chan_new(&a.ch), 0);
		else if (r % 3 == 1)
			assert_int_equal(rf_chan_new_buf(RF_BUF_SLIDING, 2, &a.ch), 0);
		else
			assert_int_equal(rf_chan_new_xform(RF_BUF_FIXED, 2, &take9, &a.ch), 0);
		pthread_t t = spawn_thread(close_then_flag, &a);
		while (!rf_chan_closed(a.ch))
			;
		rf_chan_release(a.ch);
		wait_returned(&a);
		pthread_join(t, NULL);
	}
}

static _Atomic long released;

static void count_release(rf_val v, rf_val ctx)
{
	RF_CHECK_EQ(ctx, 7);
	atomic_fetch_add_explicit(&released, 1, memory_order_relaxed);
}

/* A put into a full sliding buffer drops the oldest value and releases it after
 * unlocking; the test's thread takes the new value and frees the channel. */
static void test_take_frees_after_sliding_drop(void **state)
{
	atomic_store(&released, 0);
	for (int r = 0; r < ROUNDS; r++) {
		op_arg a = {.v = 2};
		rf_chan_opts o = {.size = sizeof(o),
		                  .kind = RF_BUF_SLIDING,
		                  .n = 1,
		                  .release = count_release,
		                  .release_ctx = 7};
		assert_int_equal(rf_chan_new_opts(&o, &a.ch), 0);
		assert_int_equal(rf_chan_put(a.ch, 1), 0);
		pthread_t t = spawn_thread(put_then_flag, &a);
		wait_returned(&a);
		rf_val v;
		assert_int_equal(rf_chan_take(a.ch, &v), 0);
		assert_int_equal(v, 2);
		rf_chan_release(a.ch);
		pthread_join(t, NULL);
	}
	assert_int_equal(atomic_load(&released), ROUNDS); /* each round's value 1 */
}

/* Go processes and threads put into a small ring without references of their own; the
 * test's thread frees the channel as soon as it has every value. */
enum { PUTTERS = 4, PER = 64, STRESS_ROUNDS = 200 };

typedef struct putter {
	rf_chan *ch;
	int id;
} putter;

static int put_all(rf_val arg, rf_val *out)
{
	putter *p = rf_to_ptr(arg);
	for (int i = 0; i < PER; i++)
		RF_CHECK_EQ(rf_chan_put(p->ch, (rf_val)(p->id * PER + i)), 0);
	return 0;
}

static void *put_all_thread(void *arg)
{
	rf_val out;
	put_all(rf_from_ptr(arg), &out);
	return NULL;
}

static void test_last_take_frees_stress(void **state)
{
	for (int r = 0; r < STRESS_ROUNDS; r++) {
		rf_chan *c;
		assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 4, &c), 0);
		putter p[PUTTERS];
		pthread_t t[PUTTERS];
		rf_chan *res[PUTTERS];
		for (int i = 0; i < PUTTERS; i++) {
			p[i] = (putter){c, i};
			if (i % 2)
				assert_int_equal(rf_go(put_all, rf_from_ptr(&p[i]), &res[i]), 0);
			else
				t[i] = spawn_thread(put_all_thread, &p[i]);
		}
		uint64_t seen[PUTTERS] = {0};
		for (int k = 0; k < PUTTERS * PER; k++) {
			rf_val v;
			assert_int_equal(take5(c, &v), 0);
			seen[v / PER] |= UINT64_C(1) << (v % PER);
		}
		rf_chan_release(c);
		for (int i = 0; i < PUTTERS; i++) {
			assert_int_equal(seen[i], UINT64_MAX);
			if (i % 2)
				assert_int_equal(result_of(res[i]), 0);
			else
				pthread_join(t[i], NULL);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_take_frees_after_locked_put),
	    cmocka_unit_test(test_put_frees_after_locked_take),
	    cmocka_unit_test(test_take_frees_after_sliding_drop),
	    cmocka_unit_test(test_alts_winner_freed_by_putter),
	    cmocka_unit_test(test_closed_seen_frees),
	    cmocka_unit_test(test_last_take_frees_stress),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
