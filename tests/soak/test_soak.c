/* A soak with invariants, rounds of mixed load until RF_SOAK_S seconds (default 3) have
 * passed, checked after every round:
 *  - bank: transfers between refs from fibers and threads; every audit transaction and
 *    the final sum see the same total;
 *  - channels, per buffer kind: values put by several go processes and taken by
 *    several others are taken exactly once (unbuffered, fixed) or at most once and
 *    never more than were put (dropping, sliding);
 *  - atoms: increments from fibers and threads add up exactly;
 *  - agents: actions sent by each sender run in the order it sent them;
 *  - descriptors: the process has as many open as before.
 * Label stress; tests/run runs it for longer under ASan and TSan. */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "executor/fiber_check.h"
#include "ringfold/agent.h"
#include "ringfold/atom.h"
#include "ringfold/chan.h"
#include "ringfold/future.h"
#include "ringfold/ref.h"
#include "ringfold/runtime.h"
#include "runtime/base/time.h"

enum { ACCOUNTS = 8, INITIAL = 1000, TRANSFERS = 200 / SCALE, MOVERS = 4 };

static rf_ref *accounts[ACCOUNTS];

static int add(rf_val old, rf_val arg, rf_val *out)
{
	*out = old + arg;
	return 0;
}

static int move_money(rf_val seed, rf_val *out)
{
	int from = (int)(seed % ACCOUNTS), to = (int)((seed / ACCOUNTS) % ACCOUNTS);
	int rc = rf_ref_alter(accounts[from], add, -7, NULL);
	return rc < 0 ? rc : rf_ref_alter(accounts[to], add, 7, NULL);
}

static int audit(rf_val arg, rf_val *out)
{
	rf_val sum = 0, v;
	for (int i = 0; i < ACCOUNTS; i++) {
		int rc = rf_ref_deref(accounts[i], &v);
		if (rc < 0)
			return rc;
		sum += v;
	}
	*out = sum;
	return 0;
}

static int mover(rf_val arg, rf_val *out)
{
	uint64_t x = (uint64_t)arg * 0x9e3779b97f4a7c15ull + 1;
	for (int i = 0; i < TRANSFERS; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		RF_CHECK_EQ(rf_dosync(move_money, (rf_val)(x % 4096), NULL), 0);
		if (i % 16 == 0) {
			rf_val total;
			RF_CHECK_EQ(rf_dosync(audit, 0, &total), 0);
			RF_CHECK_EQ(total, ACCOUNTS * INITIAL);
		}
	}
	*out = 0;
	return 0;
}

static void *mover_thread(void *arg)
{
	rf_val out;
	mover((rf_val)(intptr_t)arg, &out);
	return NULL;
}

static void bank_round(int round)
{
	rf_future *fs[MOVERS];
	pthread_t t;
	for (int i = 0; i < MOVERS; i++)
		assert_int_equal(rf_future_call(mover, round * 100 + i, &fs[i]), 0);
	assert_int_equal(pthread_create(&t, NULL, mover_thread, (void *)(intptr_t)(round + 7)), 0);
	for (int i = 0; i < MOVERS; i++) {
		rf_val v;
		assert_int_equal(rf_future_deref(fs[i], &v), 0);
		rf_future_free(fs[i]);
	}
	pthread_join(t, NULL);
	rf_val total;
	assert_int_equal(rf_dosync(audit, 0, &total), 0);
	assert_int_equal(total, ACCOUNTS * INITIAL);
}

/* --- channels: exactly once ---------------------------------------------------------- */

enum { PRODUCERS = 3, CONSUMERS = 3, PER_PRODUCER = 300 / SCALE };
enum { VALUES = PRODUCERS * PER_PRODUCER };

struct chan_round {
	rf_chan *ch;
	_Atomic int seen[VALUES];
	_Atomic int taken;
};

static int produce(rf_val arg, rf_val *out)
{
	struct chan_round *r = rf_to_ptr(arg & ~(rf_val)7);
	int p = (int)(arg & 7);
	for (int i = 0; i < PER_PRODUCER; i++)
		RF_CHECK_EQ(rf_chan_put(r->ch, 1 + p * PER_PRODUCER + i), 0);
	*out = 0;
	return 0;
}

static int consume(rf_val arg, rf_val *out)
{
	struct chan_round *r = rf_to_ptr(arg);
	rf_val v;
	while (rf_chan_take(r->ch, &v) == 0) {
		RF_CHECK(v >= 1 && v <= VALUES);
		atomic_fetch_add(&r->seen[v - 1], 1);
		atomic_fetch_add(&r->taken, 1);
	}
	*out = 0;
	return 0;
}

static void chan_round(rf_buf_kind kind, size_t n)
{
	struct chan_round *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	assert_int_equal(kind ? rf_chan_new_buf(kind, n, &r->ch) : rf_chan_new(&r->ch), 0);
	rf_chan *pres[PRODUCERS], *cres[CONSUMERS];
	for (int i = 0; i < CONSUMERS; i++)
		assert_int_equal(rf_go(consume, rf_from_ptr(r), &cres[i]), 0);
	for (int i = 0; i < PRODUCERS; i++)
		assert_int_equal(rf_go(produce, rf_from_ptr(r) | i, &pres[i]), 0);
	rf_val v;
	for (int i = 0; i < PRODUCERS; i++) {
		assert_int_equal(rf_chan_take_timeout(pres[i], WAIT_MS, &v), 0);
		rf_chan_release(pres[i]);
	}
	rf_chan_close(r->ch); /* consumers drain what is buffered, then see it closed */
	for (int i = 0; i < CONSUMERS; i++) {
		assert_int_equal(rf_chan_take_timeout(cres[i], WAIT_MS, &v), 0);
		rf_chan_release(cres[i]);
	}
	bool exact = kind == 0 || kind == RF_BUF_FIXED;
	for (int i = 0; i < VALUES; i++) {
		int s = atomic_load(&r->seen[i]);
		if (exact ? s != 1 : s > 1)
			fail_msg("buffer kind %d: value %d taken %d times", kind, i + 1, s);
	}
	int taken = atomic_load(&r->taken);
	assert_true(exact ? taken == VALUES : taken <= VALUES && taken >= (int)n);
	rf_chan_release(r->ch);
	free(r);
}

/* --- atoms: exact counts --------------------------------------------------------------- */

enum { INCS = 2000 / SCALE, ATOM_FIBERS = 8 };

static int atom_incs(rf_val arg, rf_val *out)
{
	for (int i = 0; i < INCS; i++)
		RF_CHECK_EQ(rf_atom_swap(rf_to_ptr(arg), add, 1, NULL), 0);
	*out = 0;
	return 0;
}

static void *atom_thread(void *arg)
{
	rf_val out;
	atom_incs(rf_from_ptr(arg), &out);
	return NULL;
}

static void atom_round(void)
{
	rf_atom *a;
	assert_int_equal(rf_atom_new(0, &a), 0);
	rf_future *fs[ATOM_FIBERS];
	pthread_t t[2];
	for (int i = 0; i < ATOM_FIBERS; i++)
		assert_int_equal(rf_future_call(atom_incs, rf_from_ptr(a), &fs[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, atom_thread, a), 0);
	for (int i = 0; i < ATOM_FIBERS; i++) {
		rf_val v;
		assert_int_equal(rf_future_deref(fs[i], &v), 0);
		rf_future_free(fs[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	rf_val v;
	assert_int_equal(rf_atom_deref(a, &v), 0);
	assert_int_equal(v, (ATOM_FIBERS + 2) * INCS);
	rf_atom_free(a);
}

/* --- agents: per-sender order ---------------------------------------------------------- */

enum { SENDERS = 4, SENDS = 500 / SCALE };

static int next_of[SENDERS]; /* only the agent's actions touch it: they run one at a time */
static _Atomic int order_breaks;

static int in_order(rf_val state, rf_val msg, rf_val *out)
{
	int sender = (int)(msg / SENDS), seq = (int)(msg % SENDS);
	if (next_of[sender] != seq)
		atomic_fetch_add(&order_breaks, 1);
	next_of[sender] = seq + 1;
	*out = state + 1;
	return 0;
}

static int sender(rf_val arg, rf_val *out)
{
	rf_agent *a = rf_to_ptr(arg & ~(rf_val)7);
	int s = (int)(arg & 7);
	for (int i = 0; i < SENDS; i++)
		RF_CHECK_EQ(rf_agent_send(a, in_order, s * SENDS + i), 0);
	*out = 0;
	return 0;
}

static void agent_round(void)
{
	rf_agent *a;
	assert_int_equal(rf_agent_new(0, NULL, &a), 0);
	memset(next_of, 0, sizeof(next_of));
	rf_future *fs[SENDERS];
	for (int i = 0; i < SENDERS; i++)
		assert_int_equal(rf_future_call(sender, rf_from_ptr(a) | i, &fs[i]), 0);
	for (int i = 0; i < SENDERS; i++) {
		rf_val v;
		assert_int_equal(rf_future_deref(fs[i], &v), 0);
		rf_future_free(fs[i]);
	}
	assert_int_equal(rf_agent_await(&a, 1), 0);
	rf_val v;
	assert_int_equal(rf_agent_deref(a, &v), 0);
	assert_int_equal(v, SENDERS * SENDS);
	assert_int_equal(atomic_load(&order_breaks), 0);
	rf_agent_free(a);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void soak(void **state)
{
	const char *env = getenv("RF_SOAK_S");
	uint64_t secs = env ? strtoull(env, NULL, 10) : 3;
	for (int i = 0; i < ACCOUNTS; i++)
		assert_int_equal(rf_ref_new(INITIAL, &accounts[i]), 0);
	/* one warm-up round so the runtime's own descriptors (rings, eventfds) exist */
	atom_round();
	int fds = open_fds();
	uint64_t end = time_now_ns() + secs * 1000000000u;
	int rounds = 0;
	do {
		bank_round(rounds);
		chan_round(0, 0);
		chan_round(RF_BUF_FIXED, 8);
		chan_round(RF_BUF_DROPPING, 8);
		chan_round(RF_BUF_SLIDING, 8);
		atom_round();
		agent_round();
		rounds++;
	} while (time_now_ns() < end);
	assert_int_equal(open_fds(), fds);
	print_message("%d rounds in %llu s\n", rounds, (unsigned long long)secs);
	for (int i = 0; i < ACCOUNTS; i++)
		rf_ref_free(accounts[i]);
	rf_shutdown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(soak)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
