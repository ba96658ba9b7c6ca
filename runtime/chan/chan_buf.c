/* runtime/chan/chan_buf.c: the buffer kinds and transformations of a channel.
 *
 * Every function here runs with the channel lock held (see chan_impl.h); nothing is
 * atomic. The buffer is a ring of cap slots; cap starts at n and doubles only when a
 * transformation emits more values than a fixed buffer has room for (core.async lets an
 * expanding transducer overfill its buffer), so growth only happens under a transformed
 * channel's mutex, never under a spin lock. If the ring cannot grow, the value that did
 * not fit is dropped, the ring stays consistent, and the put that made it reports
 * -ENOMEM (a flush at close has nobody to report to). A promise channel keeps its one
 * value in pval. A fixed channel without transformation never grows: its buffer is the
 * lock-free ring fring (chan_ring.h), frozen whenever these functions touch it.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/chan/chan_impl.h"

/* Where a transformation's values go: a channel's buffer (ch, under its lock; what it
 * discards goes to done), or an array owned by the caller (ch NULL; pipeline runs
 * transformations outside any lock), or a reduction (fold: transduce, no lock). `in` is
 * the value being stepped (has_in): whether
 * the step emitted it decides whether the channel still owns it. */
struct rf_xform_sink {
	rf_chan *ch;
	chan_done *done;
	chan_fold *fold; /* with ch NULL: fold what is emitted instead of keeping it */
	rf_val *vals;
	size_t n, cap;
	int err;
	bool has_in, passed;
	rf_val in;
};

chan_ring *chan_ring_new(uint64_t cap)
{
	uint64_t lap = 1;
	while (lap <= cap)
		lap <<= 1;
	size_t align = _Alignof(chan_ring); /* aligned_alloc: the size a multiple of it */
	size_t size = (sizeof(chan_ring) + cap * sizeof(chan_slot) + align - 1) & ~(align - 1);
	chan_ring *r = aligned_alloc(align, size);
	if (!r)
		return NULL;
	r->cap = cap;
	r->one_lap = lap;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	for (uint64_t i = 0; i < cap; i++) /* every slot free for the first lap */
		atomic_init(&r->slots[i].stamp, i);
	return r;
}

int chan_buf_init(rf_chan *ch)
{
	if (ch->kind == KIND_UNBUF || ch->kind == KIND_PROMISE)
		return 0;
	if (ch->kind == KIND_FIXED && !ch->has_xf) {
		if (ch->n >= UINT64_C(1) << 40) /* more than 16 TiB of slots */
			return -ENOMEM;
		ch->fring = chan_ring_new(ch->n);
		return ch->fring ? 0 : -ENOMEM;
	}
	if (ch->n > SIZE_MAX / sizeof(rf_val))
		return -ENOMEM;
	ch->cap = ch->n; /* grows past n only when a transformation expands */
	ch->ring = malloc(ch->cap * sizeof(rf_val));
	return ch->ring ? 0 : -ENOMEM;
}

static int ring_grow(rf_chan *ch)
{
	if (ch->cap > SIZE_MAX / 2 / sizeof(rf_val))
		return -ENOMEM;
	size_t cap = ch->cap * 2;
	rf_val *r = malloc(cap * sizeof(rf_val));
	if (!r)
		return -ENOMEM; /* see the file comment */
	size_t first = ch->cap - ch->head < ch->count ? ch->cap - ch->head : ch->count;
	memcpy(r, ch->ring + ch->head, first * sizeof(rf_val));
	memcpy(r + first, ch->ring, (ch->count - first) * sizeof(rf_val));
	free(ch->ring);
	ch->ring = r;
	ch->cap = cap;
	ch->head = 0;
	return 0;
}

int chan_buf_add(rf_chan *ch, rf_val v, chan_done *done)
{
	if (ch->fring) { /* fixed: the caller checked that it is not full */
		chan_ring_add(ch->fring, v);
		return 0;
	}
	switch (ch->kind) {
	case KIND_PROMISE:
		if (!ch->delivered) {
			ch->pval = v;
			ch->delivered = true;
		} else {
			chan_drop(ch, done, v);
		}
		return 0;
	case KIND_DROPPING:
		if (ch->count >= ch->n) {
			chan_drop(ch, done, v);
			return 0;
		}
		break;
	case KIND_SLIDING:
		if (ch->count >= ch->n)
			chan_drop(ch, done, chan_buf_remove(ch));
		break;
	default:
		break;
	}
	if (ch->count == ch->cap && ring_grow(ch) < 0) {
		chan_drop(ch, done, v);
		return -ENOMEM;
	}
	size_t tail = ch->head + ch->count; /* < 2 * cap: a compare, not a division */
	ch->ring[tail >= ch->cap ? tail - ch->cap : tail] = v;
	ch->count++;
	return 0;
}

void rf_xform_emit(rf_xform_sink *sink, rf_val v)
{
	if (sink->ch) {
		if (sink->has_in && v == sink->in)
			sink->passed = true;
		if (chan_buf_add(sink->ch, v, sink->done) < 0)
			sink->err = -ENOMEM;
		return;
	}
	if (sink->fold) {
		chan_fold *f = sink->fold;
		if (f->rc < 0 || (f->rc == RF_XF_DONE && !f->flushing))
			return; /* failed, or reduced: a step's further output is not wanted */
		rf_val next = RF_NIL;
		int rc = f->f(f->acc, v, &next);
		if (rc >= 0)
			f->acc = next;
		if (rc < 0 || rc == RF_XF_DONE)
			f->rc = rc;
		return;
	}
	if (sink->n == sink->cap) {
		size_t cap = sink->cap ? 2 * sink->cap : 4;
		rf_val *vals = realloc(sink->vals, cap * sizeof(rf_val));
		if (!vals) {
			sink->err = -ENOMEM;
			return;
		}
		sink->vals = vals;
		sink->cap = cap;
	}
	sink->vals[sink->n++] = v;
}

int chan_xform_apply(rf_xform *xf, rf_val v, rf_val **vals, size_t *n)
{
	USER_CALL();
	rf_xform_sink sink = {0};
	int rc = xf->step(xf, v, &sink);
	if (xf->flush)
		xf->flush(xf, &sink);
	if (sink.err < 0) {
		free(sink.vals);
		return sink.err;
	}
	*vals = sink.vals;
	*n = sink.n;
	return rc < 0 ? rc : 0;
}

int chan_xform_fold(rf_xform *xf, rf_val v, chan_fold *fold)
{
	USER_CALL();
	rf_xform_sink sink = {.fold = fold};
	if (fold->flushing) {
		if (xf->flush)
			xf->flush(xf, &sink);
		return fold->rc < 0 ? fold->rc : 0;
	}
	int rc = xf->step(xf, v, &sink);
	if (fold->rc < 0)
		return fold->rc;
	if (rc < 0)
		return rc;
	return rc == RF_XF_DONE || fold->rc == RF_XF_DONE ? RF_XF_DONE : 0;
}

int chan_buf_put(rf_chan *ch, rf_val v, chan_done *done)
{
	if (!ch->has_xf)
		return chan_buf_add(ch, v, done);
	if (ch->xf_done) { /* reduced: what still arrives is dropped (core.async aborts it) */
		chan_drop(ch, done, v);
		return 0;
	}
	USER_CALL();
	rf_xform_sink sink = {.ch = ch, .done = done, .has_in = true, .in = v};
	if (ch->xf.step(&ch->xf, v, &sink) == RF_XF_DONE)
		ch->xf_done = true;
	if (!sink.passed) /* filtered out, failed, or replaced by what it emitted */
		chan_drop(ch, done, v);
	return sink.err;
}

void chan_buf_flush(rf_chan *ch, chan_done *done)
{
	if (ch->has_xf && ch->xf.flush) {
		USER_CALL();
		rf_xform_sink sink = {.ch = ch, .done = done};
		ch->xf.flush(&ch->xf, &sink); /* output that cannot be buffered is dropped */
	}
}

static int step_map(rf_xform *xf, rf_val v, rf_xform_sink *sink)
{
	rf_val out = RF_NIL;
	int rc = xf->fn(v, &out);
	if (rc < 0)
		return rc;
	rf_xform_emit(sink, out);
	return 0;
}

static int step_filter(rf_xform *xf, rf_val v, rf_xform_sink *sink)
{
	rf_val keep = RF_NIL;
	int rc = xf->fn(v, &keep);
	if (rc < 0)
		return rc;
	if (keep)
		rf_xform_emit(sink, v);
	return 0;
}

/* (take n): state counts what is left; the n-th value closes the channel at once. */
static int step_take(rf_xform *xf, rf_val v, rf_xform_sink *sink)
{
	if (xf->state > 0) {
		rf_xform_emit(sink, v);
		xf->state--;
	}
	return xf->state > 0 ? 0 : RF_XF_DONE;
}

bool chan_xform_valid(const rf_xform *xf)
{
	return (xf->step != step_map && xf->step != step_filter) || xf->fn;
}

rf_xform rf_xform_map(rf_body_fn fn)
{
	return (rf_xform){.step = step_map, .fn = fn};
}
rf_xform rf_xform_filter(rf_body_fn pred)
{
	return (rf_xform){.step = step_filter, .fn = pred};
}
rf_xform rf_xform_take(int64_t n)
{
	return (rf_xform){.step = step_take, .state = n};
}
