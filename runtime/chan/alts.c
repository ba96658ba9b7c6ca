/* runtime/chan/alts.c: alts over any mix of puts and takes.
 *
 * Shape (Go's select): lock every channel of the alts in address order (each once), try the
 * clauses in random order (or in order with RF_ALT_PRIORITY) and do the first that can
 * complete; if none can, either return (default, or a zero timeout) or link one node per
 * clause, all sharing one waiter, unlock, and wait. A completer claims the waiter through
 * whichever node it finds: the claim CAS makes exactly one clause win, and the claimer
 * records the winning node in w.op and unlinks the wait's nodes on the winning channel.
 * The waiting side then unlinks the losers on the other channels (each under its
 * channel's lock, see chan_impl.h for why that makes returning safe); it does not touch
 * the winning channel again, which whoever saw the win may have freed.
 *
 * While all the locks are held, the alts' own waiter is on no list, so its clauses can
 * never be matched against each other (a put and a take on the same channel in one alts).
 *
 * Channels with a transformation are locked first (their mutexes rank before channel
 * spin locks, runtime/base/lockrank.h). A clause on such a channel is decided with
 * chan_xf_ready, without side effects; once it is chosen every other lock is dropped and
 * it is done holding its own channel's mutex alone, so the transformation (user code)
 * never runs under a spin lock.
 */
#include <stdlib.h>

#include "runtime/chan/chan_impl.h"
#include "runtime/sched/sched.h"

#define ALTS_STACK 8

/* xorshift64*, one state per thread; the seed mixes the state's address and time. */
static _Thread_local uint64_t alts_rng;

static uint32_t alts_random(uint32_t bound)
{
	if (!alts_rng)
		alts_rng = (time_now_ns() ^ (uint64_t)(uintptr_t)&alts_rng) | 1;
	alts_rng ^= alts_rng >> 12;
	alts_rng ^= alts_rng << 25;
	alts_rng ^= alts_rng >> 27;
	return (uint32_t)(((alts_rng * 0x2545F4914F6CDD1DULL) >> 32) % bound);
}

/* The lock order: transformed channels first, then by address. */
static bool lock_before(const rf_chan *a, const rf_chan *b)
{
	if (a->has_xf != b->has_xf)
		return a->has_xf;
	return (uintptr_t)a < (uintptr_t)b;
}

/* Sorted, distinct channels of ops into locks; returns how many. */
static size_t lock_set(const rf_alt *ops, size_t n, rf_chan **locks)
{
	for (size_t i = 0; i < n; i++) { /* insertion sort: n is small, usually 2 or 3 */
		rf_chan *c = ops[i].ch;
		size_t j = i;
		for (; j > 0 && lock_before(c, locks[j - 1]); j--)
			locks[j] = locks[j - 1];
		locks[j] = c;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || locks[k - 1] != locks[i])
			locks[k++] = locks[i];
	return k;
}

/* Unlock every channel of locks but `keep` (NULL: all). */
static void unlock_all(rf_chan **locks, size_t k, const rf_chan *keep)
{
	for (size_t i = k; i-- > 0;)
		if (locks[i] != keep)
			chan_unlock(locks[i]);
}

static int alts_wait(const rf_alt *ops, size_t n, int flags, int64_t ms, int *which, rf_val *val)
{
	rf_chan *locks_buf[ALTS_STACK];
	uint32_t order_buf[ALTS_STACK];
	chan_node nodes_buf[ALTS_STACK];
	rf_chan **locks = locks_buf;
	uint32_t *order = order_buf;
	chan_node *nodes = nodes_buf;
	if (n > ALTS_STACK) {
		locks = malloc(n * sizeof(*locks));
		order = malloc(n * sizeof(*order));
		nodes = calloc(n, sizeof(*nodes));
		if (!locks || !order || !nodes) {
			free(locks), free(order), free(nodes);
			return -ENOMEM;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	if (!(flags & RF_ALT_PRIORITY))
		for (uint32_t i = (uint32_t)n - 1; i > 0; i--) { /* Fisher-Yates */
			uint32_t j = alts_random(i + 1), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
	size_t k = lock_set(ops, n, locks);
	for (size_t i = 0; i < k; i++)
		chan_lock(locks[i]);

	chan_done done;
	chan_done_init(&done);
	int rc = 0;
	rf_val got = RF_NIL;
	*which = -1;
	for (size_t i = 0; i < n && *which < 0; i++) {
		const rf_alt *op = &ops[order[i]];
		if (op->ch->has_xf) {
			if (!chan_xf_ready(op->ch, op->put))
				continue;
			/* Chosen: run the transformation under this channel's mutex alone. */
			unlock_all(locks, k, op->ch);
			bool now = op->put ? chan_put_now(op->ch, op->val, &rc, &done)
			                   : chan_take_now(op->ch, &got, &rc, &done);
			(void)now; /* ready, and nobody else could change that: it completed */
			chan_unlock(op->ch);
			chan_done_finish(&done);
			*which = (int)order[i];
			goto out;
		}
		bool now = op->put ? chan_put_now(op->ch, op->val, &rc, &done)
		                   : chan_take_now(op->ch, &got, &rc, &done);
		if (now)
			*which = (int)order[i];
	}
	if (*which >= 0 || (flags & RF_ALT_DEFAULT) || ms == 0) {
		unlock_all(locks, k, NULL);
		chan_done_finish(&done);
		if (*which < 0)
			rc = (flags & RF_ALT_DEFAULT) ? -EAGAIN : -ETIMEDOUT;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rf_chan *ch = ops[i].ch;
		if (!chan_has_room(ch, ops[i].put ? &ch->puts : &ch->takes)) {
			unlock_all(locks, k, NULL);
			rc = RF_EPENDINGLIMIT;
			goto out;
		}
	}
	chan_wait w = {.nnodes = (int)n, .nodes = nodes};
	waiter_init(&w.w);
	for (size_t i = 0; i < n; i++) {
		nodes[i] = (chan_node){.ch = ops[i].ch,
		                       .val = ops[i].val,
		                       .clause = (int)i,
		                       .is_put = ops[i].put,
		                       .wait = &w};
		chan_link(ops[i].ch, &nodes[i]);
	}
	unlock_all(locks, k, NULL);
	fiber_wait_on(WAIT_ALTS, NULL);
	rc = waiter_wait(&w.w, ms < 0 ? DEADLINE_NONE : time_deadline_after_ms(ms));
	chan_wait_unlink_all(&w, rc == 0 ? ((chan_node *)w.w.op)->ch : NULL);
	if (rc == 0) {
		*which = ((chan_node *)w.w.op)->clause;
		got = w.w.value;
		rc = w.w.result;
	}
out:
	if (val && rc == 0 && *which >= 0 && !ops[*which].put)
		*val = got;
	if (n > ALTS_STACK)
		free(locks), free(order), free(nodes);
	return rc;
}

static int alts_check(const rf_alt *ops, size_t n, int *which)
{
	if (!ops || n == 0 || n > INT32_MAX || !which)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!ops[i].ch)
			return -EINVAL;
	return 0;
}

int rf_alts(const rf_alt *ops, size_t n, int flags, int *which, rf_val *val)
{
	int rc = alts_check(ops, n, which);
	return rc ? rc : alts_wait(ops, n, flags, -1, which, val);
}

int rf_alts_timeout(const rf_alt *ops, size_t n, int flags, int64_t timeout_ms, int *which,
                    rf_val *val)
{
	int rc = alts_check(ops, n, which);
	if (!rc && timeout_ms < 0)
		rc = -EINVAL;
	return rc ? rc : alts_wait(ops, n, flags, timeout_ms, which, val);
}
