/* runtime/chan/mult.c: mult/tap and pub/sub.
 *
 * rf_mult: a go process takes each value of the source and offers it to a snapshot of the
 * taps with rf_chan_put_async; the last callback to finish wakes the process (an waiter
 * with a countdown), so every tap accepts a value before the next is taken, and taps
 * accept in parallel. Shared state: taps/ntaps/cap under m->lock (the process snapshots,
 * tap/untap edit); refs counts the caller's handle, the process and each pub using it.
 * Each tap entry holds a reference to its channel.
 *
 * rf_pub: a go process takes each value, asks topic_fn for its topic and puts the value on
 * that topic's channel, which is the source of a mult whose taps are the subscribers.
 * Shared state: the topic table under p->lock; refs as for mult.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ringfold/async.h"
#include "runtime/base/lockrank.h"
#include "runtime/chan/chan_impl.h"

typedef struct tap {
	rf_chan *ch;
	bool close;
} tap;

struct rf_mult {
	pthread_mutex_t lock;
	_Atomic uint32_t refs;
	rf_chan *src;
	tap *taps;
	size_t ntaps, cap;
};

static void mult_unref(rf_mult *m)
{
	/* acq_rel: the last owner sees every edit of the others. */
	if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < m->ntaps; i++)
		rf_chan_release(m->taps[i].ch);
	free(m->taps);
	rf_chan_release(m->src);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* One value's distribution: a countdown and a waiter the last put wakes. */
typedef struct dist {
	waiter w;
	_Atomic size_t left;
	size_t n;
	struct dist_slot {
		struct dist *d;
		rf_chan *ch;
		int rc;
	} slot[];
} dist;

static void dist_free(dist *d)
{
	for (size_t i = 0; i < d->n; i++)
		rf_chan_release(d->slot[i].ch);
	free(d);
}

static void dist_done(dist *d)
{
	/* acq_rel: the last decrement sees every slot's rc; claim/complete publish them. */
	if (atomic_fetch_sub_explicit(&d->left, 1, memory_order_acq_rel) != 1)
		return;
	if (waiter_claim(&d->w))
		waiter_complete(&d->w);
	else
		dist_free(d); /* shutdown cancelled the distributor's wait: d is ours */
}

static void dist_cb(int rc, rf_val v, rf_val ctx)
{
	struct dist_slot *s = rf_to_ptr(ctx);
	s->rc = rc;
	dist_done(s->d);
}

static int untap_locked(rf_mult *m, rf_chan *ch)
{
	for (size_t i = 0; i < m->ntaps; i++)
		if (m->taps[i].ch == ch) {
			rf_chan_release(ch);
			m->taps[i] = m->taps[--m->ntaps];
			return 0;
		}
	return 0;
}

static void distribute(rf_mult *m, rf_val v)
{
	mutex_lock_ranked(&m->lock, LOCKRANK_CHAN_MULT);
	size_t n = m->ntaps;
	dist *d = n ? malloc(sizeof(*d) + n * sizeof(d->slot[0])) : NULL;
	if (d)
		for (size_t i = 0; i < n; i++)
			d->slot[i] = (struct dist_slot){d, rf_chan_retain(m->taps[i].ch), 0};
	mutex_unlock_ranked(&m->lock, LOCKRANK_CHAN_MULT);
	if (!d)
		return; /* no taps: the value is dropped (out of memory: likewise) */
	d->n = n;
	atomic_init(&d->left, n + 1); /* + 1: ours, so no callback finishes before all are sent */
	waiter_init(&d->w);
	for (size_t i = 0; i < n; i++) {
		int rc = rf_chan_put_async(d->slot[i].ch, v, dist_cb, rf_from_ptr(&d->slot[i]));
		if (rc < 0 && rc != RF_ECLOSED) { /* not queued, callback not run */
			d->slot[i].rc = rc;
			dist_done(d);
		}
	}
	dist_done(d);
	if (waiter_wait(&d->w, DEADLINE_NONE) < 0)
		return; /* cancelled by shutdown: the last put's callback frees d */
	mutex_lock_ranked(&m->lock, LOCKRANK_CHAN_MULT);
	for (size_t i = 0; i < n; i++)
		if (d->slot[i].rc == RF_ECLOSED)
			untap_locked(m, d->slot[i].ch);
	mutex_unlock_ranked(&m->lock, LOCKRANK_CHAN_MULT);
	dist_free(d);
}

static int mult_go(rf_val arg, rf_val *out)
{
	rf_mult *m = rf_to_ptr(arg);
	rf_val v;
	while (rf_chan_take(m->src, &v) == 0)
		distribute(m, v);
	mutex_lock_ranked(&m->lock, LOCKRANK_CHAN_MULT);
	for (size_t i = 0; i < m->ntaps; i++)
		if (m->taps[i].close)
			rf_chan_close(m->taps[i].ch);
	mutex_unlock_ranked(&m->lock, LOCKRANK_CHAN_MULT);
	mult_unref(m);
	return 0;
}

int rf_mult_new(rf_chan *ch, rf_mult **out)
{
	if (!ch || !out)
		return -EINVAL;
	rf_mult *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	atomic_init(&m->refs, 2);
	m->src = rf_chan_retain(ch);
	int rc = rf_go(mult_go, rf_from_ptr(m), NULL);
	if (rc < 0) {
		atomic_store_explicit(&m->refs, 1, memory_order_relaxed);
		mult_unref(m);
		return rc;
	}
	*out = m;
	return 0;
}

int rf_mult_tap(rf_mult *m, rf_chan *ch, bool close)
{
	if (!m || !ch)
		return -EINVAL;
	int rc = 0;
	mutex_lock_ranked(&m->lock, LOCKRANK_CHAN_MULT);
	for (size_t i = 0; i < m->ntaps; i++)
		if (m->taps[i].ch == ch) {
			m->taps[i].close = close;
			goto out;
		}
	if (m->ntaps == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 4;
		tap *t = realloc(m->taps, cap * sizeof(*t));
		if (!t) {
			rc = -ENOMEM;
			goto out;
		}
		m->taps = t;
		m->cap = cap;
	}
	m->taps[m->ntaps++] = (tap){rf_chan_retain(ch), close};
out:
	mutex_unlock_ranked(&m->lock, LOCKRANK_CHAN_MULT);
	return rc;
}

int rf_mult_untap(rf_mult *m, rf_chan *ch)
{
	if (!m || !ch)
		return -EINVAL;
	mutex_lock_ranked(&m->lock, LOCKRANK_CHAN_MULT);
	untap_locked(m, ch);
	mutex_unlock_ranked(&m->lock, LOCKRANK_CHAN_MULT);
	return 0;
}

int rf_mult_untap_all(rf_mult *m)
{
	if (!m)
		return -EINVAL;
	mutex_lock_ranked(&m->lock, LOCKRANK_CHAN_MULT);
	while (m->ntaps)
		untap_locked(m, m->taps[0].ch);
	mutex_unlock_ranked(&m->lock, LOCKRANK_CHAN_MULT);
	return 0;
}

void rf_mult_free(rf_mult *m)
{
	if (m)
		mult_unref(m);
}

/* ---- pub/sub ---- */

typedef struct topic {
	rf_val topic;
	rf_chan *ch; /* the topic's channel: source of m */
	rf_mult *m;
} topic;

struct rf_pub {
	pthread_mutex_t lock;
	_Atomic uint32_t refs;
	rf_chan *src;
	rf_body_fn topic_fn;
	rf_body_fn buf_fn; /* NULL: unbuffered topic channels */
	topic *topics;
	size_t ntopics, cap;
};

static void drop_topic_locked(rf_pub *p, size_t i)
{
	rf_chan_close(p->topics[i].ch); /* its mult closes the close = true subscribers */
	rf_chan_release(p->topics[i].ch);
	rf_mult_free(p->topics[i].m);
	p->topics[i] = p->topics[--p->ntopics];
}

static void pub_unref(rf_pub *p)
{
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
		return;
	while (p->ntopics)
		drop_topic_locked(p, 0);
	free(p->topics);
	rf_chan_release(p->src);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static topic *find_topic(rf_pub *p, rf_val t)
{
	for (size_t i = 0; i < p->ntopics; i++)
		if (p->topics[i].topic == t)
			return &p->topics[i];
	return NULL;
}

static int pub_go(rf_val arg, rf_val *out)
{
	rf_pub *p = rf_to_ptr(arg);
	rf_val v;
	while (rf_chan_take(p->src, &v) == 0) {
		rf_val t = RF_NIL;
		if (p->topic_fn(v, &t) < 0)
			continue;
		mutex_lock_ranked(&p->lock, LOCKRANK_CHAN_PUB);
		topic *tp = find_topic(p, t);
		rf_chan *ch = tp ? rf_chan_retain(tp->ch) : NULL;
		mutex_unlock_ranked(&p->lock, LOCKRANK_CHAN_PUB);
		if (!ch)
			continue;                       /* no subscriber for this topic: dropped */
		if (rf_chan_put(ch, v) == RF_ECLOSED) { /* unsubscribed meanwhile */
			mutex_lock_ranked(&p->lock, LOCKRANK_CHAN_PUB);
			if ((tp = find_topic(p, t)) && tp->ch == ch)
				drop_topic_locked(p, (size_t)(tp - p->topics));
			mutex_unlock_ranked(&p->lock, LOCKRANK_CHAN_PUB);
		}
		rf_chan_release(ch);
	}
	mutex_lock_ranked(&p->lock, LOCKRANK_CHAN_PUB);
	while (p->ntopics)
		drop_topic_locked(p, 0);
	mutex_unlock_ranked(&p->lock, LOCKRANK_CHAN_PUB);
	pub_unref(p);
	return 0;
}

int rf_pub_new(rf_chan *ch, rf_body_fn topic_fn, rf_pub **out)
{
	return rf_pub_new_buf(ch, topic_fn, NULL, out);
}

int rf_pub_new_buf(rf_chan *ch, rf_body_fn topic_fn, rf_body_fn buf_fn, rf_pub **out)
{
	if (!ch || !topic_fn || !out)
		return -EINVAL;
	rf_pub *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	atomic_init(&p->refs, 2);
	p->src = rf_chan_retain(ch);
	p->topic_fn = topic_fn;
	p->buf_fn = buf_fn;
	int rc = rf_go(pub_go, rf_from_ptr(p), NULL);
	if (rc < 0) {
		atomic_store_explicit(&p->refs, 1, memory_order_relaxed);
		pub_unref(p);
		return rc;
	}
	*out = p;
	return 0;
}

int rf_pub_sub(rf_pub *p, rf_val t, rf_chan *ch, bool close)
{
	if (!p || !ch)
		return -EINVAL;
	int rc = 0;
	mutex_lock_ranked(&p->lock, LOCKRANK_CHAN_PUB);
	topic *tp = find_topic(p, t);
	if (!tp) {
		if (p->ntopics == p->cap) {
			size_t cap = p->cap ? 2 * p->cap : 4;
			topic *nt = realloc(p->topics, cap * sizeof(*nt));
			if (!nt) {
				rc = -ENOMEM;
				goto out;
			}
			p->topics = nt;
			p->cap = cap;
		}
		topic fresh = {.topic = t};
		rf_val n = 0;
		if (p->buf_fn && (rc = p->buf_fn(t, &n)) < 0)
			goto out;
		if (n < 0) {
			rc = -EINVAL;
			goto out;
		}
		rc = n ? rf_chan_new_buf(RF_BUF_FIXED, (size_t)n, &fresh.ch)
		       : rf_chan_new(&fresh.ch);
		if (rc < 0)
			goto out;
		if ((rc = rf_mult_new(fresh.ch, &fresh.m)) < 0) {
			rf_chan_release(fresh.ch);
			goto out;
		}
		p->topics[p->ntopics] = fresh;
		tp = &p->topics[p->ntopics++];
	}
	rc = rf_mult_tap(tp->m, ch, close);
out:
	mutex_unlock_ranked(&p->lock, LOCKRANK_CHAN_PUB);
	return rc;
}

int rf_pub_unsub(rf_pub *p, rf_val t, rf_chan *ch)
{
	if (!p || !ch)
		return -EINVAL;
	mutex_lock_ranked(&p->lock, LOCKRANK_CHAN_PUB);
	topic *tp = find_topic(p, t);
	if (tp)
		rf_mult_untap(tp->m, ch);
	mutex_unlock_ranked(&p->lock, LOCKRANK_CHAN_PUB);
	return 0;
}

int rf_pub_unsub_all(rf_pub *p)
{
	if (!p)
		return -EINVAL;
	mutex_lock_ranked(&p->lock, LOCKRANK_CHAN_PUB);
	for (size_t i = 0; i < p->ntopics; i++)
		rf_mult_untap_all(p->topics[i].m);
	while (p->ntopics) /* with no taps left, closing a topic closes no subscriber */
		drop_topic_locked(p, 0);
	mutex_unlock_ranked(&p->lock, LOCKRANK_CHAN_PUB);
	return 0;
}

int rf_pub_unsub_all_topic(rf_pub *p, rf_val t)
{
	if (!p)
		return -EINVAL;
	mutex_lock_ranked(&p->lock, LOCKRANK_CHAN_PUB);
	topic *tp = find_topic(p, t);
	if (tp) {
		rf_mult_untap_all(tp->m);
		drop_topic_locked(p, (size_t)(tp - p->topics)); /* no taps left to close */
	}
	mutex_unlock_ranked(&p->lock, LOCKRANK_CHAN_PUB);
	return 0;
}

void rf_pub_free(rf_pub *p)
{
	if (p)
		pub_unref(p);
}
