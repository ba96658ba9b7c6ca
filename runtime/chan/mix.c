/* runtime/chan/mix.c: mix (admix, unmix, toggle, solo mode).
 *
 * A go process alts over the inputs that are heard (not paused; when some input is
 * soloed, only soloed ones, plus the others when the solo mode is mute) and the change
 * channel; a change (admix, unmix, toggle, solo mode, free) offers a token on the change
 * channel so the process rebuilds its set. Values from muted inputs are taken and dropped.
 * Shared state: ins/nins/cap/solo_mode/freed under m->lock; each input entry holds a
 * reference to its channel; refs counts the caller's handle and the process.
 * The process ends when out closes, or when the handle is freed and no input is left.
 */
#include <pthread.h>
#include <stdlib.h>

#include "ringfold/async.h"
#include "runtime/chan/chan_impl.h"

typedef struct mix_in {
	rf_chan *ch;
	int flags;
} mix_in;

struct rf_mix {
	pthread_mutex_t lock;
	_Atomic uint32_t refs;
	rf_chan *out;
	rf_chan *change; /* sliding buffer 1 */
	mix_in *ins;
	size_t nins, cap;
	int solo_mode;
	bool freed;
};

static void mix_unref(rf_mix *m)
{
	if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < m->nins; i++)
		rf_chan_release(m->ins[i].ch);
	free(m->ins);
	rf_chan_release(m->out);
	rf_chan_release(m->change);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static void unmix_locked(rf_mix *m, rf_chan *ch)
{
	for (size_t i = 0; i < m->nins; i++)
		if (m->ins[i].ch == ch) {
			rf_chan_release(ch);
			m->ins[i] = m->ins[--m->nins];
			return;
		}
}

/* Build the alts set: ops[0] is the change channel. Returns the count, 0 when done.
 * muted[i] says whether ops[i]'s values are dropped. References held on each channel. */
static size_t build(rf_mix *m, rf_alt **ops, bool **muted, size_t *cap)
{
	pthread_mutex_lock(&m->lock);
	if (m->freed && m->nins == 0) {
		pthread_mutex_unlock(&m->lock);
		return 0;
	}
	if (*cap < m->nins + 1) {
		*cap = m->nins + 1;
		rf_alt *o = realloc(*ops, *cap * sizeof(**ops));
		bool *u = realloc(*muted, *cap * sizeof(**muted));
		if (o)
			*ops = o;
		if (u)
			*muted = u;
		if (!o || !u) {
			pthread_mutex_unlock(&m->lock);
			return 0;
		}
	}
	bool solo = false;
	for (size_t i = 0; i < m->nins; i++)
		solo |= (m->ins[i].flags & RF_MIX_SOLO) != 0;
	size_t k = 0;
	(*ops)[k] = (rf_alt){.ch = rf_chan_retain(m->change)};
	(*muted)[k++] = false;
	for (size_t i = 0; i < m->nins; i++) {
		int f = m->ins[i].flags;
		bool pause = solo ? !(f & RF_MIX_SOLO) && m->solo_mode == RF_MIX_PAUSE
		                  : (f & RF_MIX_PAUSE) != 0;
		if (pause)
			continue;
		(*muted)[k] = solo ? !(f & RF_MIX_SOLO) : (f & RF_MIX_MUTE) != 0;
		(*ops)[k++] = (rf_alt){.ch = rf_chan_retain(m->ins[i].ch)};
	}
	pthread_mutex_unlock(&m->lock);
	return k;
}

static int mix_go(rf_val arg, rf_val *res)
{
	rf_mix *m = rf_to_ptr(arg);
	rf_alt *ops = NULL;
	bool *muted = NULL;
	size_t cap = 0, k;
	bool run = true;
	while (run && (k = build(m, &ops, &muted, &cap)) > 0) {
		int which;
		rf_val v;
		int rc = rf_alts(ops, k, 0, &which, &v);
		if (rc == RF_ECLOSED && which > 0) {
			pthread_mutex_lock(&m->lock);
			unmix_locked(m, ops[which].ch);
			pthread_mutex_unlock(&m->lock);
		} else if (rc == 0 && which > 0 && !muted[which]) {
			run = rf_chan_put(m->out, v) == 0;
		} else if (rc == RF_ESHUTDOWN) {
			run = false;
		}
		for (size_t i = 0; i < k; i++)
			rf_chan_release(ops[i].ch);
	}
	free(ops);
	free(muted);
	mix_unref(m);
	return 0;
}

static void changed(rf_mix *m)
{
	rf_chan_offer(m->change, 1); /* sliding: never refused */
}

int rf_mix_new(rf_chan *to, rf_mix **out)
{
	if (!to || !out)
		return -EINVAL;
	rf_mix *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	int rc = rf_chan_new_buf(RF_BUF_SLIDING, 1, &m->change);
	if (rc < 0) {
		free(m);
		return rc;
	}
	pthread_mutex_init(&m->lock, NULL);
	atomic_init(&m->refs, 2);
	m->out = rf_chan_retain(to);
	m->solo_mode = RF_MIX_MUTE;
	if ((rc = rf_go(mix_go, rf_from_ptr(m), NULL)) < 0) {
		atomic_store_explicit(&m->refs, 1, memory_order_relaxed);
		mix_unref(m);
		return rc;
	}
	*out = m;
	return 0;
}

int rf_mix_toggle(rf_mix *m, rf_chan *in, int flags)
{
	if (!m || !in || (flags & ~(RF_MIX_MUTE | RF_MIX_PAUSE | RF_MIX_SOLO)))
		return -EINVAL;
	int rc = 0;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nins; i++)
		if (m->ins[i].ch == in) {
			m->ins[i].flags = flags;
			goto out;
		}
	if (m->nins == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 4;
		mix_in *n = realloc(m->ins, cap * sizeof(*n));
		if (!n) {
			rc = -ENOMEM;
			goto out;
		}
		m->ins = n;
		m->cap = cap;
	}
	m->ins[m->nins++] = (mix_in){rf_chan_retain(in), flags};
out:
	pthread_mutex_unlock(&m->lock);
	changed(m);
	return rc;
}

int rf_mix_admix(rf_mix *m, rf_chan *in)
{
	if (!m || !in)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	int flags = 0;
	for (size_t i = 0; i < m->nins; i++)
		if (m->ins[i].ch == in)
			flags = m->ins[i].flags; /* admix of a member keeps its toggles */
	pthread_mutex_unlock(&m->lock);
	return rf_mix_toggle(m, in, flags);
}

int rf_mix_unmix(rf_mix *m, rf_chan *in)
{
	if (!m || !in)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	unmix_locked(m, in);
	pthread_mutex_unlock(&m->lock);
	changed(m);
	return 0;
}

int rf_mix_unmix_all(rf_mix *m)
{
	if (!m)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	while (m->nins)
		unmix_locked(m, m->ins[0].ch);
	pthread_mutex_unlock(&m->lock);
	changed(m);
	return 0;
}

int rf_mix_solo_mode(rf_mix *m, int mode)
{
	if (!m || (mode != RF_MIX_MUTE && mode != RF_MIX_PAUSE))
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	m->solo_mode = mode;
	pthread_mutex_unlock(&m->lock);
	changed(m);
	return 0;
}

void rf_mix_free(rf_mix *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->freed = true;
	pthread_mutex_unlock(&m->lock);
	changed(m);
	mix_unref(m);
}
