/* runtime/fj/pmap.c: pmap into an array, and the streaming pmap (ringfold/pmap.h).
 *
 * Stream contract. The ring holds `ahead` slots; element i lives in slot i % ahead. The
 * consumer (one at a time) owns next/issued and starts element i + ahead in a slot only
 * after taking element i out of it. A slot's job runs on a pool worker; slot fields
 * value/rc/done/waiter are written under the slot's spin lock by the worker (once per
 * element) and by the consumer (registering a waiter, taking the result, reusing the
 * slot), so the consumer reuses a slot only after the worker has left it. The waiter
 * protocol (runtime/sched/wait.h) does the sleeping; a waiter is on at most one slot.
 */
#include <stdlib.h>

#include "ringfold/fj.h"
#include "ringfold/pmap.h"
#include "runtime/base/ctx.h"
#include "runtime/fj/fj.h"
#include "runtime/fj/range.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"
#include "runtime/var/convey.h"

typedef struct pmap_ctx {
	fj_range range;
	const rf_val *in;
	rf_val *out;
	rf_update_fn f;
	rf_val arg;
} pmap_ctx;

static int pmap_leaf(fj_range *r, size_t lo, size_t hi, rf_val *acc)
{
	pmap_ctx *p = (pmap_ctx *)r;
	for (size_t i = lo; i < hi; i++) {
		rf_val y = RF_NIL;
		int rc = p->f(p->in[i], p->arg, &y);
		if (rc < 0)
			return rc;
		p->out[i] = y;
	}
	return 0;
}

static int pmap_combine(fj_range *r, rf_val a, rf_val b, rf_val *out)
{
	return 0;
}

int rf_pmap_n(const rf_val *in, size_t n, size_t chunk, rf_update_fn f, rf_val arg, rf_val *out)
{
	if (!f || !chunk || (n && (!in || !out)))
		return -EINVAL;
	if (!n)
		return 0;
	pmap_ctx p = {.range = {.leaf = chunk, .leaf_fn = pmap_leaf, .combine = pmap_combine},
	              .in = in,
	              .out = out,
	              .f = f,
	              .arg = arg};
	atomic_init(&p.range.failed, 0);
	rf_val ignored;
	return fj_range_invoke(&p.range, -1, 0, n, &ignored);
}

int rf_pmap(const rf_val *in, size_t n, rf_update_fn f, rf_val arg, rf_val *out)
{
	return rf_pmap_n(in, n, RF_PMAP_DEFAULT_CHUNK, f, arg, out);
}

typedef struct slot {
	fj_job job;
	struct rf_pmap_stream *s;
	size_t idx;
	atomic_flag lock;
	int done, rc;   /* under lock */
	rf_val value;   /* under lock */
	waiter *waiter; /* under lock: the consumer waiting for this slot */
} slot;

struct rf_pmap_stream {
	const rf_val *in;
	size_t n, ahead;
	rf_update_fn f;
	rf_val arg;
	int node;
	void *frame;         /* the creator's bindings, conveyed to every element */
	size_t next, issued; /* consumer only */
	slot slots[];
};

static void slot_lock(slot *sl)
{
	while (atomic_flag_test_and_set_explicit(&sl->lock, memory_order_acquire))
		;
}

static void slot_unlock(slot *sl)
{
	atomic_flag_clear_explicit(&sl->lock, memory_order_release);
}

static void slot_run(fj_job *j)
{
	slot *sl = (slot *)j;
	rf_pmap_stream *s = sl->s;
	rf_val v = RF_NIL;
	int rc = s->f(s->in[sl->idx], s->arg, &v);
	slot_lock(sl);
	sl->value = v;
	sl->rc = rc;
	sl->done = 1;
	waiter *w = sl->waiter;
	sl->waiter = NULL;
	if (w && waiter_claim(w))
		waiter_complete(w); /* never blocks: allowed under the spin lock */
	slot_unlock(sl);
}

/* Consumer: start element s->issued in its slot. */
static void issue(rf_pmap_stream *s)
{
	slot *sl = &s->slots[s->issued % s->ahead];
	sl->job = (fj_job){.run = slot_run, .frame = s->frame};
	sl->idx = s->issued++;
	sl->done = 0;
	sl->waiter = NULL;
	if (fj_submit(s->node, &sl->job) < 0)
		slot_run(&sl->job); /* the pool is stopping: compute it here instead */
}

int rf_pmap_stream_new(const rf_val *in, size_t n, rf_update_fn f, rf_val arg, size_t ahead,
                       rf_pmap_stream **out)
{
	if (!f || !out || (n && !in))
		return -EINVAL;
	int rc = fj_ensure();
	if (rc < 0)
		return rc;
	if (fj_self_worker())
		return -EDEADLK;
	if (!ahead) {
		ahead = 2;
		for (int k = 0; k < fj_pool_count(); k++)
			ahead += (size_t)fj_pool_workers(k);
	}
	if (ahead > n)
		ahead = n ? n : 1;
	if (ahead > (SIZE_MAX - sizeof(rf_pmap_stream)) / sizeof(slot))
		return -EINVAL; /* n larger than any array in could be */
	rf_pmap_stream *s = calloc(1, sizeof(*s) + ahead * sizeof(slot));
	if (!s)
		return -ENOMEM;
	*s = (rf_pmap_stream){
	    .in = in, .n = n, .ahead = ahead, .f = f, .arg = arg, .node = fj_home_node()};
	if (var_bindings_capture(&s->frame) < 0) { /* held for the stream's life; jobs borrow it */
		free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ahead; i++) {
		s->slots[i].s = s;
		atomic_flag_clear_explicit(&s->slots[i].lock, memory_order_relaxed);
	}
	while (s->issued < n && s->issued < ahead)
		issue(s);
	*out = s;
	return 0;
}

/* Wait until slot sl is done or the deadline passes. 0, -ETIMEDOUT or RF_ESHUTDOWN. */
static int wait_slot(slot *sl, uint64_t deadline)
{
	waiter w;
	waiter_init(&w);
	slot_lock(sl);
	if (sl->done) {
		slot_unlock(sl);
		return 0;
	}
	sl->waiter = &w;
	slot_unlock(sl);
	fiber_wait_on(WAIT_FJ, NULL);
	int rc = waiter_wait(&w, deadline);
	if (rc < 0) {
		slot_lock(sl);
		if (sl->waiter == &w)
			sl->waiter = NULL;
		slot_unlock(sl);
	}
	return rc;
}

static int next(rf_pmap_stream *s, uint64_t deadline, rf_val *out)
{
	if (s->next >= s->n)
		return RF_EEND;
	slot *sl = &s->slots[s->next % s->ahead];
	int rc = wait_slot(sl, deadline);
	if (rc < 0)
		return rc;
	slot_lock(sl); /* the worker has left the slot once we hold the lock */
	rf_val v = sl->value;
	rc = sl->rc;
	slot_unlock(sl);
	s->next++;
	if (s->issued < s->n)
		issue(s);
	if (rc == 0)
		*out = v;
	return rc;
}

int rf_pmap_stream_next(rf_pmap_stream *s, rf_val *out)
{
	if (!s || !out)
		return -EINVAL;
	return next(s, DEADLINE_NONE, out);
}

int rf_pmap_stream_next_timeout(rf_pmap_stream *s, int64_t timeout_ms, rf_val *out)
{
	if (!s || !out || timeout_ms < 0)
		return -EINVAL;
	return next(s, time_deadline_after_ms(timeout_ms), out);
}

void rf_pmap_stream_free(rf_pmap_stream *s)
{
	if (!s)
		return;
	for (size_t i = s->next; i < s->issued; i++) {
		slot *sl = &s->slots[i % s->ahead];
		wait_slot(sl, DEADLINE_NONE);
		slot_lock(sl); /* wait until the worker has left the slot */
		slot_unlock(sl);
	}
	var_bindings_release(s->frame);
	free(s);
}
