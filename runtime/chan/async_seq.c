/* runtime/chan/async_seq.c: take and map over channels (core.async's async/take and
 * async/map).
 *
 * Each is one go process owning a heap record with its own references to the channels it
 * uses (rf_chan_retain), freed when it ends. As in core.async, neither stops when its
 * output is closed by someone else: take still takes its n values, map still maps until
 * an input closes; what the output refuses is dropped.
 */
#include <stdlib.h>

#include "ringfold/async.h"
#include "runtime/chan/chan_impl.h"

/* ---- take ---- */

typedef struct take_rec {
	int64_t n;
	rf_chan *in, *out;
} take_rec;

static int take_go(rf_val arg, rf_val *res)
{
	take_rec *t = rf_to_ptr(arg);
	rf_val v;
	for (int64_t i = 0; i < t->n && rf_chan_take(t->in, &v) == 0; i++)
		(void)rf_chan_put(t->out, v);
	rf_chan_close(t->out);
	rf_chan_release(t->in);
	rf_chan_release(t->out);
	free(t);
	return 0;
}

int rf_chan_take_n(int64_t n, rf_chan *ch, size_t buf, rf_chan **out)
{
	if (!ch || !out)
		return -EINVAL;
	rf_chan *o;
	int rc = buf ? rf_chan_new_buf(RF_BUF_FIXED, buf, &o) : rf_chan_new(&o);
	if (rc < 0)
		return rc;
	take_rec *t = malloc(sizeof(*t));
	if (!t) {
		rf_chan_release(o);
		return -ENOMEM;
	}
	*t = (take_rec){n, rf_chan_retain(ch), rf_chan_retain(o)};
	if ((rc = chan_go_start(take_go, t, (rf_chan *[]){ch, o}, 2, NULL)) < 0) {
		rf_chan_release(o);
		return rc;
	}
	*out = o;
	return 0;
}

/* ---- map ---- */

typedef struct map_rec {
	rf_vals_fn f;
	rf_val ctx;
	rf_chan *out;
	size_t n;
	rf_val *vals; /* one round's values, one per input */
	rf_chan *chs[];
} map_rec;

static int map_go(rf_val arg, rf_val *res)
{
	map_rec *m = rf_to_ptr(arg);
	int failed = 0;
	for (;;) {
		size_t i = 0;
		while (i < m->n && rf_chan_take(m->chs[i], &m->vals[i]) == 0)
			i++;
		if (i < m->n)
			break; /* an input closed: the round's other values go with it */
		rf_val r = RF_NIL;
		int rc = m->f(m->vals, m->n, m->ctx, &r);
		if (rc < 0) {
			failed = rc;
			break;
		}
		(void)rf_chan_put(m->out, r);
	}
	if (failed)
		chan_close_code(m->out, failed);
	else
		rf_chan_close(m->out);
	for (size_t i = 0; i < m->n; i++)
		rf_chan_release(m->chs[i]);
	rf_chan_release(m->out);
	free(m);
	return 0;
}

int rf_chan_map(rf_vals_fn f, rf_val ctx, rf_chan *const *chs, size_t n, size_t buf, rf_chan **out)
{
	if (!f || !chs || n == 0 || !out ||
	    n > (SIZE_MAX / 2 - sizeof(map_rec)) / sizeof(rf_val) / 2)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!chs[i])
			return -EINVAL;
	rf_chan *o;
	int rc = buf ? rf_chan_new_buf(RF_BUF_FIXED, buf, &o) : rf_chan_new(&o);
	if (rc < 0)
		return rc;
	map_rec *m = malloc(sizeof(*m) + n * sizeof(rf_chan *) + n * sizeof(rf_val));
	if (!m) {
		rf_chan_release(o);
		return -ENOMEM;
	}
	*m = (map_rec){.f = f, .ctx = ctx, .out = rf_chan_retain(o), .n = n};
	m->vals = (rf_val *)(m->chs + n);
	for (size_t i = 0; i < n; i++)
		m->chs[i] = rf_chan_retain(chs[i]);
	if ((rc = chan_go_start(map_go, m, (rf_chan *[]){o}, 1, NULL)) < 0) {
		for (size_t i = 0; i < n; i++)
			rf_chan_release(chs[i]);
		rf_chan_release(o);
		return rc;
	}
	*out = o;
	return 0;
}
