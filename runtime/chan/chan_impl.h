/* runtime/chan/chan_impl.h: the channel's state and the operation records (internal).
 *
 * A channel is a lock, a buffer, and two FIFO lists of waiting operations (puts, takes).
 * Invariants, all under ch->lock:
 *  - takes non-empty (of live waits) => the buffer is empty;
 *  - puts non-empty (of live waits) => the buffer is full, or the channel is unbuffered;
 *  - closed only goes false -> true.
 * A waiting operation is a chan_wait: one waiter (runtime/sched/wait.h) and one chan_node per
 * clause (one for a put or take, several for alts), each node linked on its channel's list.
 * Whoever satisfies a node claims its waiter (waiter_claim) with that channel locked, so
 * of all the nodes of one alts exactly one wins: the claim CAS decides. Stale nodes (waiter
 * claimed elsewhere or timed out) stay linked until someone pops them; they are skipped.
 *
 * Ownership of a node: linked => its channel's lock guards prev/next/linked. A node is
 * touched only under its channel's lock, so the owner of a wait may free or return (stack)
 * once it has locked every clause's channel and unlinked what is still linked. The claimer
 * of a wait unlinks all of its nodes on the claiming channel (claim_first), so after a win
 * the owner locks only the other channels: the win is the operation's effect on the
 * winning channel, and whoever sees it may free that channel (below).
 * The owner is the waiting side for put/take/alts (after waiter_wait returns), and the
 * completer for a callback wait (after running the callback).
 *
 * A fixed channel without transformation keeps its buffer in a lock-free ring (fring,
 * chan_ring.h): a put or take that needs no waiter does not lock at all. The locked path
 * freezes the ring (chan_freeze) before it looks at it; chan_unlock thaws it once no node
 * is linked, the channel is open and the ring neither full nor empty. Every other kind
 * keeps ring/head/count under the lock.
 *
 * A put or take touches the channel no more once its effect can be seen (its stamp store
 * on the ring, else its unlock): whoever sees it may drop the last reference. chan_final
 * waits for the channel's lock to be free (a thaw, and a close's closed_hint, are seen
 * before their holder's unlock, see chan_ring.h), and an operation copies what it needs
 * after unlocking (the release function of the values it dropped) into its chan_done.
 *
 * The channel lock (chan_lock) is the channel's spin lock, or, for a channel with a
 * transformation, a mutex: the transformation is user code, run under the lock as in
 * core.async, and user code never runs under a spin lock. Nothing else allocates under
 * either: a buffer only outgrows its size through a transformation, and only a
 * transformation drops more values in one operation than chan_done holds inline.
 *
 * Dropped values. With a release function the channel owns every value it accepted
 * until a taker gets it. A value it discards under its lock (a dropping or sliding
 * buffer's, a promise's extra puts, a transformation's input it did not pass on or
 * output that did not fit, puts accepted after the transformation finished) is collected
 * on the operation's chan_done and released by chan_done_finish, after unlocking. The
 * last reference releases the rest (chan_final), with no lock: nobody else can reach it.
 *
 * Lock order (runtime/base/lockrank.h): CHAN_XF mutexes before CHAN spin locks; a channel
 * lock is a leaf, except in alts, which locks all its channels, the transformed ones
 * first, each kind in address order; before running an xf clause it drops every other
 * lock. Nothing waits, no callback runs and no waiter is completed with a channel locked:
 * claimed waits go on a done list that is finished after unlocking.
 */
#ifndef RF_CHAN_IMPL_H
#define RF_CHAN_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "ringfold/chan.h"
#include "runtime/base/spin.h"
#include "runtime/chan/chan_ring.h"
#include "runtime/sched/wait.h"

enum chan_kind {
	KIND_UNBUF = RF_BUF_NONE,
	KIND_FIXED = RF_BUF_FIXED,
	KIND_DROPPING = RF_BUF_DROPPING,
	KIND_SLIDING = RF_BUF_SLIDING,
	KIND_PROMISE = RF_BUF_PROMISE
};

struct chan_wait;

typedef struct chan_node {
	struct chan_node *prev, *next; /* channel's list; under ch->lock */
	struct chan_wait *wait;
	rf_chan *ch;
	rf_val val; /* value of a put */
	int clause; /* index in the alts, 0 for a single op */
	bool is_put;
	bool linked; /* under ch->lock */
} chan_node;

typedef struct chan_list {
	chan_node *head, *tail;
	uint32_t len; /* linked nodes, stale ones included */
} chan_list;

typedef struct chan_wait {
	waiter w;      /* w.op = the winning chan_node */
	rf_chan_cb cb; /* callback form; NULL when a thread or fiber waits */
	rf_val cb_ctx;
	struct chan_wait *done_next; /* a claimer's done list; read before completing */
	int nnodes;
	chan_node *nodes;
} chan_wait;

struct rf_chan {
	chan_ring *fring;        /* fixed, no transformation: the lock-free buffer; else NULL */
	spinlock lock;           /* the lock of a channel without transformation */
	pthread_mutex_t xf_lock; /* the lock of a channel with one (has_xf) */
	_Atomic uint32_t refs;   /* acq_rel decrement; the last one frees */
	uint8_t kind;
	bool closed; /* under lock */
	bool has_xf;
	bool xf_done;             /* under lock: the transformation said RF_XF_DONE */
	bool delivered;           /* promise: under lock */
	bool frozen;              /* under lock: fring is frozen (CHAN_RING_SLOW set) */
	_Atomic bool closed_hint; /* relaxed copy of closed for rf_chan_closed */
	int close_code; /* what a take returns once closed and drained; set before sharing */
	uint32_t pending_limit;
	size_t n;                /* buffer size asked for */
	size_t cap, head, count; /* ring (not fring); cap may exceed n when a transformation
	                          * expands */
	rf_val *ring;
	rf_val pval; /* promise value */
	chan_list takes, puts;
	rf_xform xf;
	rf_release_fn release; /* set before sharing: owns the values it holds */
	rf_val release_ctx;
	bool caller_mem; /* rf_chan_init: the last reference does not free the struct */
};

static inline void chan_lock(rf_chan *ch)
{
	if (!ch->has_xf) {
		spin_lock(&ch->lock);
		return;
	}
	lockrank_acquire(LOCKRANK_CHAN_XF, ch, false);
	pthread_mutex_lock(&ch->xf_lock);
}

/* Under the lock: stop fring's fast operations before looking at it. */
static inline void chan_freeze(rf_chan *ch)
{
	if (!ch->frozen) {
		chan_ring_freeze(ch->fring);
		ch->frozen = true;
	}
}

static inline void chan_unlock(rf_chan *ch)
{
	if (!ch->has_xf) {
		/* len counts stale nodes too: the ring stays frozen until they are popped. A
		 * full or empty ring stays frozen too: the next operation on it would most
		 * likely wait and freeze it again (a put on a full one, a take on an empty
		 * one), and the one after that, which can go through, thaws it. */
		if (ch->frozen && !ch->closed && !ch->takes.len && !ch->puts.len &&
		    chan_ring_count(ch->fring) - 1 < ch->n - 1) {
			chan_ring_thaw(ch->fring);
			ch->frozen = false;
		}
		spin_unlock(&ch->lock);
		return;
	}
	pthread_mutex_unlock(&ch->xf_lock);
	lockrank_release(LOCKRANK_CHAN_XF, ch, false);
}

/* Claimed waits to finish, and dropped values to release, once every lock is released.
 * One operation drops values of one channel only (alts completes one clause), whose
 * release function and its ctx are copied here under the lock: once it is unlocked, the
 * operation's effect can be seen and the channel may be gone (see chan_final). */
#define CHAN_DROPS_INLINE 4
typedef struct chan_done {
	chan_wait *head;
	rf_release_fn rel; /* the channel's release function (ndrops > 0) */
	rf_val rel_ctx;
	uint32_t ndrops;   /* in drops, then in more */
	uint32_t cap_more; /* more's capacity (ndrops >= CHAN_DROPS_INLINE) */
	rf_val drops[CHAN_DROPS_INLINE];
	rf_val *more;
} chan_done;

/* Empty. rel, rel_ctx, drops and more are set by the first drop that needs them (ndrops counts
 * what is valid), so a put or take that drops nothing writes two words. */
static inline void chan_done_init(chan_done *d)
{
	d->head = NULL;
	d->ndrops = 0;
}

/* Under ch->lock: v was accepted and is discarded; release it after unlocking (no-op
 * without a release function or for RF_NIL). */
void chan_drop(rf_chan *ch, chan_done *done, rf_val v);

/* Under the channel lock. Complete now if possible: returns true and sets *rc (and *val
 * for a take); false means it would wait. Claimed waits go on done. With a
 * transformation a put's *rc may be -ENOMEM: its output could not all be buffered. */
bool chan_put_now(rf_chan *ch, rf_val v, int *rc, chan_done *done);
bool chan_take_now(rf_chan *ch, rf_val *val, int *rc, chan_done *done);

/* Under the lock of a channel with a transformation: whether chan_put_now /
 * chan_take_now would complete now. No side effect (alts decides with it before dropping
 * its other locks). */
bool chan_xf_ready(const rf_chan *ch, bool is_put);

/* Under ch->lock: whether one more node fits under the pending limit (stale nodes purged). */
bool chan_has_room(rf_chan *ch, chan_list *l);
void chan_link(rf_chan *ch, chan_node *n);
void chan_unlink(rf_chan *ch, chan_node *n);

/* No lock held: finish every claimed wait (wake it, or run its callback), then release
 * the dropped values. */
void chan_done_finish_all(chan_done *done);
static inline void chan_done_finish(chan_done *done)
{
	chan_wait *w = done->head;
	/* The common case inline: one thread or fiber to wake, nothing dropped. done_next
	 * is read before completing (a woken waiter's stack is gone). */
	if (w && !w->cb && !w->done_next) {
		done->head = NULL;
		waiter_complete(&w->w);
	}
	if (done->head || done->ndrops)
		chan_done_finish_all(done);
}

/* No lock held: unlink every node of w still linked (locks each channel in turn), except
 * those on `won` (NULL: none), the channel w was claimed through, whose claimer unlinked
 * them all and which whoever saw that win may already have freed. */
void chan_wait_unlink_all(chan_wait *w, const rf_chan *won);

/* Close with a code: takes return `code` once drained (rf_go's failed body). */
void chan_close_code(rf_chan *ch, int code);

/* Buffer (chan_buf.c), under the channel lock, fring frozen. */
int chan_buf_init(rf_chan *ch);
/* False for a ready-made map or filter made with a NULL function (chan_buf.c). */
bool chan_xform_valid(const rf_xform *xf);
static inline size_t chan_buf_count(const rf_chan *ch)
{
	if (ch->fring)
		return chan_ring_count(ch->fring);
	return ch->kind == KIND_PROMISE ? ch->delivered : ch->count;
}
static inline bool chan_buf_full(const rf_chan *ch)
{
	return ch->kind == KIND_FIXED && chan_buf_count(ch) >= ch->n;
}
/* 0, or -ENOMEM: a transformation's output outgrew the ring and it could not grow (the
 * value is dropped; the ring stays as it was). A value a dropping or sliding buffer or a
 * promise discards goes to done (chan_drop). */
int chan_buf_add(rf_chan *ch, rf_val v, chan_done *done);
static inline rf_val chan_buf_remove(rf_chan *ch)
{
	if (ch->fring)
		return chan_ring_remove(ch->fring);
	if (ch->kind == KIND_PROMISE)
		return ch->pval; /* a promise keeps its value for every taker */
	rf_val v = ch->ring[ch->head];
	ch->head = ch->head + 1 == ch->cap ? 0 : ch->head + 1;
	ch->count--;
	return v;
}
/* Pass v through the transformation (or straight in); sets ch->xf_done. Returns 0, or
 * -ENOMEM when some of the transformation's output could not be buffered. What is
 * discarded goes to done (chan_drop). */
int chan_buf_put(rf_chan *ch, rf_val v, chan_done *done);
void chan_buf_flush(rf_chan *ch, chan_done *done);

/* No lock: run xf's step on v, then its flush, collecting what they emit into *vals
 * (malloc'd, *n of them; free it). Returns 0, the step's negative code (values emitted
 * before it are still given), or -ENOMEM (nothing given). */
int chan_xform_apply(rf_xform *xf, rf_val v, rf_val **vals, size_t *n);

/* A reduction over what a transformation emits (transduce): acc = f(acc, v) per value.
 * rc: 0, RF_XF_DONE once f said so (reduced), or f's negative code (then nothing more is
 * folded). While flushing, values are folded even after f said RF_XF_DONE (as Clojure's
 * completion step does). */
typedef struct chan_fold {
	rf_update_fn f;
	rf_val acc;
	int rc;
	bool flushing;
} chan_fold;

/* No lock: step v through xf into fold (or, with fold->flushing, run xf's flush).
 * Returns 0 to go on, RF_XF_DONE when the step or f finished the reduction, or a
 * negative code of the step or f. */
int chan_xform_fold(rf_xform *xf, rf_val v, chan_fold *fold);

/* Start fn on a go process with rec as its argument (the async combinators, async.c);
 * on failure release chans[0..nchans) (rec's references, which may live in rec) and free
 * rec. */
int chan_go_start(rf_body_fn fn, void *rec, rf_chan **chans, size_t nchans, rf_chan **result);

#endif
