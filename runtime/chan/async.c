/* runtime/chan/async.c: pipe, merge, split, onto-chan, to-chan, reduce, transduce, into.
 *
 * Each combinator is one go process (rf_go) that owns a heap record with its own
 * references to the channels it uses (rf_chan_retain), and frees both when it ends. No
 * shared state beyond the channels themselves.
 */
#include <stdlib.h>
#include <string.h>

#include "ringfold/async.h"
#include "runtime/chan/chan_impl.h"

int chan_go_start(rf_body_fn fn, void *rec, rf_chan **chans, size_t nchans, rf_chan **result)
{
	int rc = rf_go(fn, rf_from_ptr(rec), result);
	if (rc < 0) {
		for (size_t i = 0; i < nchans; i++)
			rf_chan_release(chans[i]);
		free(rec);
	}
	return rc;
}

/* ---- pipe ---- */

typedef struct pipe_rec {
	rf_chan *from, *to;
	bool close;
} pipe_rec;

static int pipe_go(rf_val arg, rf_val *out)
{
	pipe_rec *p = rf_to_ptr(arg);
	rf_val v;
	for (;;) {
		if (rf_chan_take(p->from, &v) < 0) {
			if (p->close)
				rf_chan_close(p->to);
			break;
		}
		if (rf_chan_put(p->to, v) < 0)
			break;
	}
	rf_chan_release(p->from);
	rf_chan_release(p->to);
	free(p);
	return 0;
}

int rf_pipe(rf_chan *from, rf_chan *to, bool close)
{
	if (!from || !to)
		return -EINVAL;
	pipe_rec *p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = (pipe_rec){rf_chan_retain(from), rf_chan_retain(to), close};
	return chan_go_start(pipe_go, p, (rf_chan *[]){from, to}, 2, NULL);
}

/* ---- merge ---- */

typedef struct merge_rec {
	rf_chan *out;
	size_t n;
	rf_alt ops[]; /* takes on the inputs still open */
} merge_rec;

static int merge_go(rf_val arg, rf_val *res)
{
	merge_rec *m = rf_to_ptr(arg);
	while (m->n > 0) {
		int which;
		rf_val v;
		int rc = rf_alts(m->ops, m->n, 0, &which, &v);
		if (rc == RF_ECLOSED) {
			rf_chan_release(m->ops[which].ch);
			m->ops[which] = m->ops[--m->n];
			continue;
		}
		if (rc < 0 || rf_chan_put(m->out, v) < 0)
			break;
	}
	rf_chan_close(m->out);
	for (size_t i = 0; i < m->n; i++)
		rf_chan_release(m->ops[i].ch);
	rf_chan_release(m->out);
	free(m);
	return 0;
}

int rf_merge(rf_chan *const *chs, size_t n, size_t buf, rf_chan **out)
{
	if ((!chs && n) || !out)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!chs[i])
			return -EINVAL;
	rf_chan *o;
	int rc = buf ? rf_chan_new_buf(RF_BUF_FIXED, buf, &o) : rf_chan_new(&o);
	if (rc < 0)
		return rc;
	merge_rec *m = malloc(sizeof(*m) + n * sizeof(rf_alt));
	if (!m) {
		rf_chan_release(o);
		return -ENOMEM;
	}
	m->out = rf_chan_retain(o);
	m->n = n;
	for (size_t i = 0; i < n; i++)
		m->ops[i] = (rf_alt){.ch = rf_chan_retain(chs[i])};
	if ((rc = chan_go_start(merge_go, m, (rf_chan *[]){o}, 1, NULL)) < 0) {
		for (size_t i = 0; i < n; i++)
			rf_chan_release(chs[i]);
		rf_chan_release(o);
		return rc;
	}
	*out = o;
	return 0;
}

/* ---- split ---- */

typedef struct split_rec {
	rf_body_fn pred;
	rf_chan *in, *t, *f;
} split_rec;

static int split_go(rf_val arg, rf_val *res)
{
	split_rec *s = rf_to_ptr(arg);
	rf_val v, yes;
	while (rf_chan_take(s->in, &v) == 0) {
		yes = RF_NIL;
		if (s->pred(v, &yes) < 0)
			continue;
		if (rf_chan_put(yes ? s->t : s->f, v) < 0)
			break;
	}
	rf_chan_close(s->t);
	rf_chan_close(s->f);
	rf_chan_release(s->in);
	rf_chan_release(s->t);
	rf_chan_release(s->f);
	free(s);
	return 0;
}

/* (chan buf): unbuffered for 0. */
static int chan_of(size_t buf, rf_chan **out)
{
	return buf ? rf_chan_new_buf(RF_BUF_FIXED, buf, out) : rf_chan_new(out);
}

int rf_split(rf_body_fn pred, rf_chan *ch, rf_chan **t, rf_chan **f)
{
	return rf_split_buf(pred, ch, 0, 0, t, f);
}

int rf_split_buf(rf_body_fn pred, rf_chan *ch, size_t tbuf, size_t fbuf, rf_chan **t, rf_chan **f)
{
	if (!pred || !ch || !t || !f)
		return -EINVAL;
	rf_chan *ct, *cf;
	int rc = chan_of(tbuf, &ct);
	if (rc < 0)
		return rc;
	if ((rc = chan_of(fbuf, &cf)) < 0) {
		rf_chan_release(ct);
		return rc;
	}
	split_rec *s = malloc(sizeof(*s));
	if (!s) {
		rf_chan_release(ct);
		rf_chan_release(cf);
		return -ENOMEM;
	}
	*s = (split_rec){pred, rf_chan_retain(ch), rf_chan_retain(ct), rf_chan_retain(cf)};
	if ((rc = chan_go_start(split_go, s, (rf_chan *[]){ch, ct, cf}, 3, NULL)) < 0) {
		rf_chan_release(ct);
		rf_chan_release(cf);
		return rc;
	}
	*t = ct;
	*f = cf;
	return 0;
}

/* ---- onto-chan, to-chan ---- */

typedef struct onto_rec {
	rf_chan *ch;
	bool close;
	size_t n;
	rf_val v[];
} onto_rec;

static int onto_go(rf_val arg, rf_val *res)
{
	onto_rec *o = rf_to_ptr(arg);
	for (size_t i = 0; i < o->n; i++)
		if (rf_chan_put(o->ch, o->v[i]) < 0)
			break;
	if (o->close)
		rf_chan_close(o->ch);
	rf_chan_release(o->ch);
	free(o);
	return RF_ECLOSED; /* the done channel closes without a value */
}

int rf_onto_chan(rf_chan *ch, const rf_val *vals, size_t n, bool close, rf_chan **done)
{
	if (!ch || (!vals && n) || n > (SIZE_MAX - sizeof(onto_rec)) / sizeof(rf_val))
		return -EINVAL; /* no array that long can exist */
	onto_rec *o = malloc(sizeof(*o) + n * sizeof(rf_val));
	if (!o)
		return -ENOMEM;
	o->ch = rf_chan_retain(ch);
	o->close = close;
	o->n = n;
	if (n)
		memcpy(o->v, vals, n * sizeof(rf_val));
	return chan_go_start(onto_go, o, &ch, 1, done);
}

int rf_to_chan(const rf_val *vals, size_t n, rf_chan **out)
{
	if ((!vals && n) || !out)
		return -EINVAL;
	rf_chan *ch;
	int rc = rf_chan_new_buf(RF_BUF_FIXED, n < 100 ? (n ? n : 1) : 100, &ch);
	if (rc < 0)
		return rc;
	if ((rc = rf_onto_chan(ch, vals, n, true, NULL)) < 0) {
		rf_chan_release(ch);
		return rc;
	}
	*out = ch;
	return 0;
}

/* ---- reduce, into ---- */

typedef struct reduce_rec {
	rf_update_fn f;
	rf_val init;
	rf_chan *ch;
} reduce_rec;

static int reduce_go(rf_val arg, rf_val *out)
{
	reduce_rec r = *(reduce_rec *)rf_to_ptr(arg);
	free(rf_to_ptr(arg));
	rf_val acc = r.init, v;
	int rc = 0;
	while (rf_chan_take(r.ch, &v) == 0) {
		rf_val next = RF_NIL;
		if ((rc = r.f(acc, v, &next)) < 0)
			break;
		acc = next;
		if (rc == RF_XF_DONE) /* Clojure's reduced: stop here */
			break;
	}
	rf_chan_release(r.ch);
	*out = acc;
	return rc < 0 ? rc : 0;
}

int rf_chan_reduce(rf_update_fn f, rf_val init, rf_chan *ch, rf_chan **out)
{
	if (!f || !ch || !out)
		return -EINVAL;
	reduce_rec *r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (reduce_rec){f, init, rf_chan_retain(ch)};
	return chan_go_start(reduce_go, r, &ch, 1, out);
}

typedef struct transduce_rec {
	rf_xform xf; /* the reduction's own copy: its state is per call */
	chan_fold fold;
	rf_chan *ch;
} transduce_rec;

static int transduce_go(rf_val arg, rf_val *out)
{
	transduce_rec *t = rf_to_ptr(arg);
	rf_val v;
	int rc = 0;
	while (rc == 0 && rf_chan_take(t->ch, &v) == 0)
		rc = chan_xform_fold(&t->xf, v, &t->fold);
	if (rc >= 0) { /* the completion step: the transformation's flush */
		t->fold.flushing = true;
		rc = chan_xform_fold(&t->xf, RF_NIL, &t->fold);
	}
	rf_chan_release(t->ch);
	*out = t->fold.acc;
	free(t);
	return rc < 0 ? rc : 0;
}

int rf_chan_transduce(const rf_xform *xf, rf_update_fn f, rf_val init, rf_chan *ch, rf_chan **out)
{
	if (!xf || !xf->step || !chan_xform_valid(xf) || !f || !ch || !out)
		return -EINVAL;
	transduce_rec *t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (transduce_rec){.xf = *xf, .fold = {.f = f, .acc = init}, .ch = rf_chan_retain(ch)};
	return chan_go_start(transduce_go, t, &ch, 1, out);
}

static int into_go(rf_val arg, rf_val *out)
{
	rf_chan *ch = rf_to_ptr(arg);
	size_t cap = 16;
	rf_vals *vs = malloc(sizeof(*vs) + cap * sizeof(rf_val));
	rf_val v;
	int rc = 0;
	if (!vs)
		rc = -ENOMEM;
	else
		vs->n = 0;
	while (rc == 0 && rf_chan_take(ch, &v) == 0) {
		if (vs->n == cap) {
			rf_vals *bigger = realloc(vs, sizeof(*vs) + 2 * cap * sizeof(rf_val));
			if (!bigger) {
				rc = -ENOMEM;
				break;
			}
			vs = bigger;
			cap *= 2;
		}
		vs->v[vs->n++] = v;
	}
	rf_chan_release(ch);
	if (rc < 0) {
		free(vs);
		return rc;
	}
	*out = rf_from_ptr(vs);
	return 0;
}

int rf_chan_into(rf_chan *ch, rf_chan **out)
{
	if (!ch || !out)
		return -EINVAL;
	rf_chan_retain(ch);
	int rc = rf_go(into_go, rf_from_ptr(ch), out);
	if (rc < 0)
		rf_chan_release(ch);
	return rc;
}
