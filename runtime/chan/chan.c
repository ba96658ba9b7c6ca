/* runtime/chan/chan.c: channel life cycle and the put/take/close state machine.
 *
 * The contract (invariants, who owns what, lock order) is in chan_impl.h. This file follows
 * core.async's ManyToManyChannel: a put goes to the buffer when there is room, else straight
 * to a waiting take, else waits; a take comes from the buffer (refilling it from waiting
 * puts), else straight from a waiting put, else RF_ECLOSED when closed, else waits.
 */
#include <stdlib.h>

#include "runtime/base/assert.h"
#include "runtime/base/opts.h"
#include "runtime/base/probe.h"
#include "runtime/chan/chan_impl.h"
#include "runtime/sched/sched.h"

_Static_assert(sizeof(struct rf_chan) <= sizeof(rf_chan_mem), "rf_chan_mem too small");
_Static_assert(_Alignof(struct rf_chan) <= _Alignof(rf_chan_mem), "rf_chan_mem alignment");

static void list_push(chan_list *l, chan_node *n)
{
	n->next = NULL;
	n->prev = l->tail;
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
	l->len++;
}

static void list_del(chan_list *l, chan_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		l->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		l->tail = n->prev;
	l->len--;
}

static chan_list *list_of(rf_chan *ch, const chan_node *n)
{
	return n->is_put ? &ch->puts : &ch->takes;
}

void chan_link(rf_chan *ch, chan_node *n)
{
	list_push(list_of(ch, n), n);
	n->linked = true;
}

void chan_unlink(rf_chan *ch, chan_node *n)
{
	if (n->linked) {
		list_del(list_of(ch, n), n);
		n->linked = false;
	}
}

static void done_add(chan_done *done, chan_wait *w)
{
	w->done_next = done->head;
	done->head = w;
}

/* Pop nodes until one's waiter is claimed; returns it (unlinked) or NULL. The claimed
 * wait's other nodes on ch (an alts naming ch more than once) are unlinked too: after a
 * win the waiting side never takes the winning channel's lock again (chan_impl.h). */
static chan_node *claim_first(rf_chan *ch, chan_list *l)
{
	chan_node *n;
	while ((n = l->head)) {
		chan_unlink(ch, n);
		chan_wait *w = n->wait;
		if (waiter_claim(&w->w)) {
			w->w.op = n;
			for (int i = 0; w->nnodes > 1 && i < w->nnodes; i++)
				if (w->nodes[i].ch == ch)
					chan_unlink(ch, &w->nodes[i]);
			return n;
		}
	}
	return NULL;
}

static void finish_node(chan_node *n, int rc, rf_val v, chan_done *done)
{
	n->wait->w.result = rc;
	n->wait->w.value = v;
	done_add(done, n->wait);
}

bool chan_has_room(rf_chan *ch, chan_list *l)
{
	if (l->len < ch->pending_limit)
		return true;
	for (chan_node *n = l->head, *next; n; n = next) {
		next = n->next;
		/* Relaxed: a node whose wait left PENDING can never be claimed here again; one
		 * that just left it but reads PENDING stays a little longer, which is harmless. */
		if ((atomic_load_explicit(&n->wait->w.state, memory_order_relaxed) &
		     WAITER_STAGE) != WAITER_PENDING)
			chan_unlink(ch, n);
	}
	return l->len < ch->pending_limit;
}

/* Hand buffered values to waiting takes while both last. */
static void feed_takes(rf_chan *ch, chan_done *done)
{
	while (chan_buf_count(ch) > 0 && ch->takes.head) {
		chan_node *t = claim_first(ch, &ch->takes);
		if (!t)
			break;
		finish_node(t, 0, chan_buf_remove(ch), done);
	}
}

static void close_locked(rf_chan *ch, chan_done *done);

/* The transformation said it is done: accept and drop pending puts, then close. */
static void abort_xf(rf_chan *ch, chan_done *done)
{
	chan_node *p;
	while ((p = claim_first(ch, &ch->puts))) {
		chan_drop(ch, done, p->val);
		finish_node(p, 0, RF_NIL, done);
	}
	close_locked(ch, done);
}

static void close_locked(rf_chan *ch, chan_done *done)
{
	if (ch->closed)
		return;
	if (ch->fring)
		chan_freeze(ch); /* for good: a closed channel stays on the locked path */
	ch->closed = true;
	atomic_store_explicit(&ch->closed_hint, true, memory_order_relaxed);
	if (ch->kind != KIND_UNBUF) {
		chan_buf_flush(ch, done);
		feed_takes(ch, done);
	}
	if (chan_buf_count(ch) == 0) {
		chan_node *t;
		while ((t = claim_first(ch, &ch->takes)))
			finish_node(t, ch->close_code, RF_NIL, done);
	}
}

bool chan_put_now(rf_chan *ch, rf_val v, int *rc, chan_done *done)
{
	if (ch->fring && !ch->frozen) {
		/* Thawed: open, no waiter; the ring alone decides, and if it is full the
		 * frozen ring is looked at again (a take may have freed a slot meanwhile). */
		if (chan_ring_try_put(ch->fring, v)) {
			*rc = 0;
			return true;
		}
		chan_freeze(ch);
	}
	if (ch->closed) {
		*rc = RF_ECLOSED;
		return true;
	}
	/* An empty buffer and a waiting take: hand v over without the ring. (A promise
	 * keeps v for later takes; a transformation must see v.) */
	if (ch->takes.head && !ch->has_xf && ch->kind != KIND_PROMISE && chan_buf_count(ch) == 0) {
		chan_node *t = claim_first(ch, &ch->takes);
		if (t) {
			finish_node(t, 0, v, done);
			*rc = 0;
			return true;
		}
	}
	if (ch->fring && !chan_buf_full(ch)) {
		/* No live take waits (the buffer is not empty, or the hand-off above found only
		 * stale ones), so only the ring changes. */
		chan_ring_add(ch->fring, v);
		*rc = 0;
		return true;
	}
	if (ch->kind != KIND_UNBUF && !chan_buf_full(ch)) {
		*rc = chan_buf_put(ch, v, done);
		feed_takes(ch, done);
		if (ch->xf_done)
			abort_xf(ch, done);
		return true;
	}
	/* Unbuffered, or full (then no live take waits): only a direct hand-over. */
	chan_node *t = claim_first(ch, &ch->takes);
	if (!t)
		return false;
	finish_node(t, 0, v, done);
	*rc = 0;
	return true;
}

bool chan_take_now(rf_chan *ch, rf_val *val, int *rc, chan_done *done)
{
	if (ch->fring && !ch->frozen) {
		/* Thawed: open, no pending put to refill the freed slot from. */
		if (chan_ring_try_take(ch->fring, val)) {
			*rc = 0;
			return true;
		}
		chan_freeze(ch);
	}
	if (chan_buf_count(ch) > 0) {
		*val = chan_buf_remove(ch);
		while (!chan_buf_full(ch) && ch->puts.head) {
			chan_node *p = claim_first(ch, &ch->puts);
			if (!p)
				break;
			finish_node(p, chan_buf_put(ch, p->val, done), RF_NIL, done);
		}
		if (ch->xf_done)
			abort_xf(ch, done);
		*rc = 0;
		return true;
	}
	chan_node *p = claim_first(ch, &ch->puts);
	if (p) {
		*val = p->val;
		finish_node(p, 0, RF_NIL, done);
		*rc = 0;
		return true;
	}
	if (ch->closed) {
		*rc = ch->close_code;
		return true;
	}
	return false;
}

bool chan_xf_ready(const rf_chan *ch, bool is_put)
{
	/* Buffered (a transformation needs a buffer): a put waits only on a full buffer,
	 * which no live take waits on; a take waits only on an empty one, which no live put
	 * waits on. So readiness is the buffer's state or closed. */
	if (is_put)
		return ch->closed || !chan_buf_full(ch);
	return chan_buf_count(ch) > 0 || ch->closed;
}

void chan_drop(rf_chan *ch, chan_done *done, rf_val v)
{
	if (!ch->release || v == RF_NIL)
		return;
	if (done->ndrops == 0) {
		done->rel = ch->release;
		done->rel_ctx = ch->release_ctx;
	}
	RF_ASSERT(done->rel == ch->release && done->rel_ctx == ch->release_ctx);
	if (done->ndrops < CHAN_DROPS_INLINE) {
		done->drops[done->ndrops++] = v;
		return;
	}
	/* Past one value per operation only a transformation drops: its lock is a mutex. */
	RF_ASSERT(ch->has_xf);
	if (done->ndrops == CHAN_DROPS_INLINE) { /* the first past them (or one that failed) */
		done->more = NULL;
		done->cap_more = 0;
	}
	uint32_t i = done->ndrops - CHAN_DROPS_INLINE;
	if (i == done->cap_more) {
		uint32_t cap = done->cap_more ? 2 * done->cap_more : 16;
		rf_val *more = realloc(done->more, cap * sizeof(rf_val));
		if (!more) { /* out of memory: release it now, under the mutex like the step */
			USER_CALL();
			ch->release(v, ch->release_ctx);
			return;
		}
		done->more = more;
		done->cap_more = cap;
	}
	done->more[i] = v;
	done->ndrops++;
}

/* No lock held: release what the operation dropped (without the channel: it may be gone). */
static void done_release(chan_done *done)
{
	for (uint32_t i = 0; i < done->ndrops; i++)
		done->rel(i < CHAN_DROPS_INLINE ? done->drops[i]
		                                : done->more[i - CHAN_DROPS_INLINE],
		          done->rel_ctx);
	if (done->ndrops > CHAN_DROPS_INLINE)
		free(done->more);
	done->ndrops = 0;
}

void chan_done_finish_all(chan_done *done)
{
	chan_wait *w = done->head, *next;
	for (; w; w = next) {
		next = w->done_next; /* before completing: a woken waiter's stack is gone */
		if (!w->cb) {
			waiter_complete(&w->w);
			continue;
		}
		waiter_complete(&w->w); /* nobody sleeps on it; marks it DONE */
		w->cb(w->w.result, w->w.value, w->cb_ctx);
		if (w->nnodes > 1) /* a single node was unlinked by its claimer */
			chan_wait_unlink_all(w, ((chan_node *)w->w.op)->ch);
		free(w);
	}
	done->head = NULL;
	if (done->ndrops)
		done_release(done);
}

void chan_wait_unlink_all(chan_wait *w, const rf_chan *won)
{
	for (int i = 0; i < w->nnodes; i++) {
		chan_node *n = &w->nodes[i];
		rf_chan *ch = n->ch;
		if (ch == won)
			continue;
		chan_lock(ch);
		chan_unlink(ch, n);
		chan_unlock(ch);
	}
}

/* ---- life cycle ---- */

/* Make a channel in mem (caller's memory) or on the heap (mem NULL). */
static int chan_create(rf_chan *mem, const rf_chan_opts *o, rf_chan **out)
{
	int kind = (int)o->kind;
	size_t n = kind == KIND_PROMISE ? 1 : o->n;
	const rf_xform *xf = o->xform;
	if (!out || (kind != KIND_UNBUF && n == 0) ||
	    (kind != KIND_UNBUF && kind != KIND_FIXED && kind != KIND_DROPPING &&
	     kind != KIND_SLIDING && kind != KIND_PROMISE) ||
	    (xf && (kind == KIND_UNBUF || !xf->step || !chan_xform_valid(xf))))
		return -EINVAL;
	const rf_config *cfg = sched_config();
	rf_chan *ch = mem ? memset(mem, 0, sizeof(*mem)) : calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	ch->caller_mem = mem != NULL;
	ch->release = o->release;
	ch->release_ctx = o->release_ctx;
	spin_init(&ch->lock, LOCKRANK_CHAN);
	if (xf && pthread_mutex_init(&ch->xf_lock, NULL)) {
		if (!mem)
			free(ch);
		return -ENOMEM;
	}
	atomic_init(&ch->refs, 1);
	atomic_init(&ch->closed_hint, false);
	ch->kind = (uint8_t)kind;
	ch->n = n;
	ch->close_code = RF_ECLOSED;
	ch->pending_limit = cfg && cfg->chan_pending_limit ? cfg->chan_pending_limit : 1024;
	if (xf) {
		ch->xf = *xf;
		ch->has_xf = true;
	}
	if (chan_buf_init(ch) < 0) {
		if (ch->has_xf)
			pthread_mutex_destroy(&ch->xf_lock);
		if (!mem)
			free(ch);
		return -ENOMEM;
	}
	*out = ch;
	return 0;
}

static int create_kind(int kind, size_t n, const rf_xform *xf, rf_chan **out)
{
	rf_chan_opts o = {.size = sizeof(o), .kind = (rf_buf_kind)kind, .n = n, .xform = xf};
	return chan_create(NULL, &o, out);
}

int rf_chan_new(rf_chan **out)
{
	return create_kind(KIND_UNBUF, 0, NULL, out);
}
int rf_chan_new_buf(rf_buf_kind kind, size_t n, rf_chan **out)
{
	return create_kind(kind == 0 ? -1 : (int)kind, n, NULL, out);
}
int rf_chan_new_xform(rf_buf_kind kind, size_t n, const rf_xform *xf, rf_chan **out)
{
	return create_kind(kind == 0 ? -1 : (int)kind, n, xf, out);
}
int rf_chan_new_promise(const rf_xform *xf, rf_chan **out)
{
	return create_kind(KIND_PROMISE, 1, xf, out);
}

int rf_chan_new_opts(const rf_chan_opts *opts, rf_chan **out)
{
	rf_chan_opts o;
	if (!out || opts_copy(&o, sizeof(o), opts) < 0)
		return -EINVAL;
	return chan_create(NULL, &o, out);
}

int rf_chan_init(rf_chan_mem *mem, const rf_chan_opts *opts, rf_chan **out)
{
	rf_chan_opts o;
	if (!mem || !out || opts_copy(&o, sizeof(o), opts) < 0)
		return -EINVAL;
	return chan_create((rf_chan *)mem, &o, out);
}

rf_chan *rf_chan_retain(rf_chan *ch)
{
	if (ch)
		atomic_fetch_add_explicit(&ch->refs, 1, memory_order_relaxed);
	return ch;
}

/* The last reference is gone: nobody can reach the channel any more. */
static void chan_final(rf_chan *ch)
{
	/* Some effects are seen before their lock holder unlocks: through a thawed ring
	 * (chan_unlock thaws before unlocking) or rf_chan_closed (a close sets closed_hint
	 * under the lock). Whoever saw one and dropped the last reference waits here for
	 * the unlock, the holder's last access to the channel; a mutex is taken and dropped
	 * (its acquire pairs with that unlock as spin_wait_unlocked's load does). */
	if (!ch->has_xf) {
		spin_wait_unlocked(&ch->lock);
	} else {
		pthread_mutex_lock(&ch->xf_lock);
		pthread_mutex_unlock(&ch->xf_lock);
	}
	/* Callback operations still pending can never complete now: they go, uncalled, as
	 * core.async's handlers go with an unreachable channel. (A waiting thread or fiber
	 * would hold a reference: the caller's, per the header.) A pending put's value was
	 * accepted (put_async returned 0), so an owning channel releases it too. */
	chan_list *lists[2] = {&ch->puts, &ch->takes};
	for (int i = 0; i < 2; i++) {
		chan_node *n;
		while ((n = lists[i]->head)) {
			chan_unlink(ch, n);
			if (n->wait->cb && waiter_claim(&n->wait->w)) {
				if (n->is_put && ch->release && n->val != RF_NIL)
					ch->release(n->val, ch->release_ctx);
				free(n->wait);
			}
		}
	}
	/* A promise keeps its value for every taker: takers borrow it, the channel owns it. */
	if (ch->release && ch->kind == KIND_PROMISE && ch->delivered && ch->pval != RF_NIL)
		ch->release(ch->pval, ch->release_ctx);
	while (ch->release && ch->kind != KIND_PROMISE && chan_buf_count(ch)) {
		rf_val v = chan_buf_remove(ch);
		if (v != RF_NIL)
			ch->release(v, ch->release_ctx);
	}
	if (ch->has_xf)
		pthread_mutex_destroy(&ch->xf_lock);
	free(ch->ring);
	ch->ring = NULL;
	free(ch->fring);
	ch->fring = NULL;
	if (!ch->caller_mem)
		free(ch);
}

void rf_chan_release(rf_chan *ch)
{
	/* acq_rel: the last decrement sees every other owner's writes (their release). */
	if (ch && atomic_fetch_sub_explicit(&ch->refs, 1, memory_order_acq_rel) == 1)
		chan_final(ch);
}

int rf_chan_destroy(rf_chan *ch)
{
	if (!ch || !ch->caller_mem)
		return -EINVAL;
	/* Only the creator's reference may be left; acquire pairs with the other owners'
	 * releasing decrements. A failed check changes nothing. */
	uint32_t one = 1;
	if (!atomic_compare_exchange_strong_explicit(&ch->refs, &one, 0, memory_order_acq_rel,
	                                             memory_order_relaxed))
		return -EBUSY;
	chan_final(ch);
	return 0;
}

void chan_close_code(rf_chan *ch, int code)
{
	chan_done done;
	chan_done_init(&done);
	chan_lock(ch);
	if (!ch->closed)
		ch->close_code = code;
	close_locked(ch, &done);
	chan_unlock(ch);
	chan_done_finish(&done);
}

void rf_chan_close(rf_chan *ch)
{
	if (ch)
		chan_close_code(ch, RF_ECLOSED);
}

bool rf_chan_closed(rf_chan *ch)
{
	return ch && atomic_load_explicit(&ch->closed_hint, memory_order_relaxed);
}

/* ---- single operations ---- */

static uint64_t deadline_of(int64_t ms)
{
	return ms < 0 ? DEADLINE_NONE : time_deadline_after_ms(ms);
}

/* With ch locked, the operation could not complete now: link a node and wait (ms < 0:
 * forever). The records are filled field by field: zeroing them whole (88 bytes, a rep
 * stos) cost more than the fields. */
static int op_park(rf_chan *ch, bool is_put, rf_val v, rf_val *out, int64_t ms)
{
	if (!chan_has_room(ch, is_put ? &ch->puts : &ch->takes)) {
		chan_unlock(ch);
		return RF_EPENDINGLIMIT;
	}
	chan_node node;
	chan_wait w;
	node.wait = &w;
	node.ch = ch;
	node.val = v;
	node.clause = 0;
	node.is_put = is_put;
	w.cb = NULL;
	w.cb_ctx = RF_NIL;
	w.done_next = NULL;
	w.nnodes = 1;
	w.nodes = &node;
	waiter_init(&w.w);
	chan_link(ch, &node);
	chan_unlock(ch);
	if (is_put)
		PROBE(chan_put_park, ch);
	else
		PROBE(chan_take_park, ch);
	fiber_wait_on(WAIT_CHAN, ch);
	int waited = waiter_wait(&w.w, deadline_of(ms)); /* -ETIMEDOUT, or shutdown's code */
	if (waited < 0)
		chan_wait_unlink_all(&w, NULL);
	int rc = waited < 0 ? waited : w.w.result;
	if (is_put)
		PROBE(chan_put, ch, rc, 1);
	else {
		PROBE(chan_take, ch, rc, 1);
		if (!waited)
			*out = w.w.value;
	}
	return rc;
}

/* One put or take; ms < 0 waits forever, 0 only tries. */
static inline int op_wait(rf_chan *ch, bool is_put, rf_val v, rf_val *out, int64_t ms, int busy_rc)
{
	/* The lock-free ring first: a thawed ring that has room or a value needs nothing else. */
	if (ch->fring &&
	    (is_put ? chan_ring_try_put(ch->fring, v) : chan_ring_try_take(ch->fring, out))) {
		if (is_put)
			PROBE(chan_put, ch, 0, 0);
		else
			PROBE(chan_take, ch, 0, 0);
		return 0;
	}
	chan_done done;
	chan_done_init(&done);
	int rc;
	rf_val got = RF_NIL;
	chan_lock(ch);
	bool now = is_put ? chan_put_now(ch, v, &rc, &done) : chan_take_now(ch, &got, &rc, &done);
	if (now) {
		chan_unlock(ch);
		chan_done_finish(&done);
		if (is_put)
			PROBE(chan_put, ch, rc, 0);
		else {
			PROBE(chan_take, ch, rc, 0);
			*out = got;
		}
		return rc;
	}
	if (ms == 0) {
		chan_unlock(ch);
		return busy_rc;
	}
	return op_park(ch, is_put, v, out, ms);
}

int rf_chan_put(rf_chan *ch, rf_val v)
{
	return ch ? op_wait(ch, true, v, NULL, -1, 0) : -EINVAL;
}
int rf_chan_put_timeout(rf_chan *ch, rf_val v, int64_t timeout_ms)
{
	return ch && timeout_ms >= 0 ? op_wait(ch, true, v, NULL, timeout_ms, -ETIMEDOUT) : -EINVAL;
}
int rf_chan_take(rf_chan *ch, rf_val *out)
{
	return ch && out ? op_wait(ch, false, 0, out, -1, 0) : -EINVAL;
}
int rf_chan_take_timeout(rf_chan *ch, int64_t timeout_ms, rf_val *out)
{
	return ch && out && timeout_ms >= 0 ? op_wait(ch, false, 0, out, timeout_ms, -ETIMEDOUT)
	                                    : -EINVAL;
}
int rf_chan_offer(rf_chan *ch, rf_val v)
{
	return ch ? op_wait(ch, true, v, NULL, 0, -EAGAIN) : -EINVAL;
}
int rf_chan_poll(rf_chan *ch, rf_val *out)
{
	return ch && out ? op_wait(ch, false, 0, out, 0, -EAGAIN) : -EINVAL;
}

/* ---- callback forms ---- */

/* The wait record is allocated only once the operation turned out to wait, and never
 * under the lock: then the lock is dropped, the record made, and the attempt repeated. */
static int op_async(rf_chan *ch, bool is_put, rf_val v, rf_chan_cb cb, rf_val ctx)
{
	chan_wait *w = NULL;
	for (;;) {
		chan_done done;
		chan_done_init(&done);
		int rc;
		rf_val got = RF_NIL;
		chan_lock(ch);
		bool now =
		    is_put ? chan_put_now(ch, v, &rc, &done) : chan_take_now(ch, &got, &rc, &done);
		if (now) {
			chan_unlock(ch);
			free(w);
			chan_done_finish(&done);
			cb(rc, got, ctx);
			return rc == RF_ECLOSED && is_put ? RF_ECLOSED : 0;
		}
		if (!chan_has_room(ch, is_put ? &ch->puts : &ch->takes)) {
			chan_unlock(ch);
			free(w);
			return RF_EPENDINGLIMIT;
		}
		if (w) {
			chan_node *node = (chan_node *)(w + 1);
			chan_link(ch, node);
			chan_unlock(ch);
			return 0;
		}
		chan_unlock(ch);
		w = malloc(sizeof(*w) + sizeof(chan_node));
		if (!w)
			return -ENOMEM;
		chan_node *node = (chan_node *)(w + 1);
		*node = (chan_node){.ch = ch, .val = v, .is_put = is_put, .wait = w};
		*w = (chan_wait){.cb = cb, .cb_ctx = ctx, .nnodes = 1, .nodes = node};
		waiter_init(&w->w);
		w->w.fiber = NULL; /* nobody parks on a callback wait */
	}
}

static void ignore_result(int rc, rf_val v, rf_val ctx) {}

int rf_chan_put_async(rf_chan *ch, rf_val v, rf_chan_cb cb, rf_val ctx)
{
	return ch ? op_async(ch, true, v, cb ? cb : ignore_result, ctx) : -EINVAL;
}

int rf_chan_take_async(rf_chan *ch, rf_chan_cb cb, rf_val ctx)
{
	return ch && cb ? op_async(ch, false, 0, cb, ctx) : -EINVAL;
}
