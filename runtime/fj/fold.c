/* runtime/fj/fold.c: reducibles, the per-element pipeline (step), fold and reduce
 * (ringfold/fold.h); the leaf loops are in leaf.c.
 * No shared state of its own: a fold's context lives in the caller's frame for the whole
 * fold and is only read by the tasks (range.c handles its one shared flag). */
#include <string.h>

#include "runtime/fj/reducible.h"

static rf_reducible wrap(const r_coll *c)
{
	rf_reducible r;
	memset(&r, 0, sizeof(r));
	memcpy(&r, c, sizeof(*c));
	return r;
}

static r_coll unwrap(rf_reducible r)
{
	r_coll c;
	memcpy(&c, &r, sizeof(c));
	return c;
}

static rf_reducible source(int kind, const void *base, size_t n, size_t elem_size)
{
	r_coll c = {.kind = kind,
	            .base = base,
	            .n = n,
	            .elem_size = elem_size,
	            .bad = n && (!base || !elem_size) ? -EINVAL : 0};
	return wrap(&c);
}

rf_reducible rf_r_int64(const int64_t *a, size_t n)
{
	return source(R_INT64, a, n, 8);
}
rf_reducible rf_r_double(const double *a, size_t n)
{
	return source(R_DOUBLE, a, n, 8);
}
rf_reducible rf_r_elems(const void *base, size_t n, size_t elem_size)
{
	return source(R_ELEMS, base, n, elem_size);
}

rf_reducible rf_r_range(int64_t start, int64_t end)
{
	/* unsigned: (range INT64_MIN INT64_MAX) has 2^64 - 1 elements, past int64_t */
	r_coll c = {.kind = R_RANGE,
	            .start = start,
	            .n = end > start ? (size_t)((uint64_t)end - (uint64_t)start) : 0};
	return wrap(&c);
}

rf_reducible rf_r_source(rf_source_fn fn, rf_val src, size_t n)
{
	r_coll c = {.kind = R_SOURCE, .source = fn, .src = src, .n = n, .bad = fn ? 0 : -EINVAL};
	return wrap(&c);
}

rf_reducible rf_r_runs(rf_run_fn fn, rf_val src, size_t n)
{
	r_coll c = {.kind = R_RUNS, .runs = fn, .src = src, .n = n, .bad = fn ? 0 : -EINVAL};
	return wrap(&c);
}

static rf_reducible stage(rf_reducible r, r_stage st)
{
	r_coll c = unwrap(r);
	if (!st.f && !c.bad) /* one union: any NULL function */
		c.bad = -EINVAL;
	if (c.nstages == RF_R_MAX_STAGES) {
		c.bad = c.bad ? c.bad : -E2BIG;
		return wrap(&c);
	}
	c.st[c.nstages++] = st;
	if (st.kind == R_TAKE_WHILE)
		c.serial = 1;
	return wrap(&c);
}

rf_reducible rf_r_map(rf_reducible c, rf_update_fn f, rf_val arg)
{
	return stage(c, (r_stage){.kind = R_MAP, .f = f, .arg = arg});
}
rf_reducible rf_r_filter(rf_reducible c, rf_update_fn pred, rf_val arg)
{
	return stage(c, (r_stage){.kind = R_FILTER, .f = pred, .arg = arg});
}
rf_reducible rf_r_remove(rf_reducible c, rf_update_fn pred, rf_val arg)
{
	return stage(c, (r_stage){.kind = R_REMOVE, .f = pred, .arg = arg});
}
rf_reducible rf_r_mapcat(rf_reducible c, rf_mapcat_fn f, rf_val arg)
{
	return stage(c, (r_stage){.kind = R_MAPCAT, .m = f, .arg = arg});
}
rf_reducible rf_r_take_while(rf_reducible c, rf_update_fn pred, rf_val arg)
{
	return stage(c, (r_stage){.kind = R_TAKE_WHILE, .f = pred, .arg = arg});
}

rf_reducible rf_r_block(rf_reducible c, rf_block_fn fn, rf_val arg)
{
	return stage(c, (r_stage){.kind = R_BLOCK, .b = fn, .arg = arg});
}

rf_reducible rf_r_numa(rf_reducible r, const rf_numa_layout *layout)
{
	r_coll c = unwrap(r);
	c.layout = layout;
	if (!layout && !c.bad)
		c.bad = -EINVAL;
	return wrap(&c);
}

int rf_dadd(rf_val acc, rf_val x, rf_val *out)
{
	*out = rf_from_double(rf_to_double(acc) + rf_to_double(x));
	return 0;
}

/* Push x through stages i.. and into the reducing function. */
static int step(const fold_ctx *cx, int i, rf_val x, rf_val *acc)
{
	const r_coll *c = cx->c;
	for (; i < c->nstages; i++) {
		const r_stage *s = &c->st[i];
		rf_val y = RF_NIL;
		int rc;
		if (s->kind == R_MAPCAT) {
			rf_emit e = {cx, i + 1, acc};
			return s->m(x, s->arg, &e);
		}
		if (s->kind == R_BLOCK) { /* a slice of one */
			size_t kept = 0;
			if ((rc = s->b(&x, 1, s->arg, &kept)) < 0)
				return rc;
			if (!kept)
				return 0;
			continue;
		}
		if ((rc = s->f(x, s->arg, &y)) < 0)
			return rc;
		switch (s->kind) {
		case R_MAP:
			x = y;
			break;
		case R_FILTER:
			if (!y)
				return 0;
			break;
		case R_REMOVE:
			if (y)
				return 0;
			break;
		default: /* R_TAKE_WHILE */
			if (!y)
				return R_STOP;
		}
	}
	rf_val next = RF_NIL;
	int rc = cx->reducef(*acc, x, &next);
	*acc = next;
	return rc;
}

int rf_emit_val(rf_emit *e, rf_val v)
{
	if (!e)
		return -EINVAL;
	return step(e->cx, e->stage, v, e->acc);
}

int r_step_leaf(const fold_ctx *cx, size_t lo, size_t hi, rf_val *acc)
{
	const r_coll *c = cx->c;
	int rc = 0;
	switch (c->kind) {
	case R_INT64: {
		const int64_t *a = c->base;
		for (size_t i = lo; i < hi && !rc; i++)
			rc = step(cx, 0, a[i], acc);
		break;
	}
	case R_DOUBLE: {
		const double *a = c->base; /* doubles travel as their bits */
		for (size_t i = lo; i < hi && !rc; i++)
			rc = step(cx, 0, rf_from_double(a[i]), acc);
		break;
	}
	case R_ELEMS:
		for (size_t i = lo; i < hi && !rc; i++)
			rc =
			    step(cx, 0, rf_from_ptr((const char *)c->base + i * c->elem_size), acc);
		break;
	case R_RANGE:
		for (size_t i = lo; i < hi && !rc; i++)
			rc = step(cx, 0, (int64_t)((uint64_t)c->start + i), acc);
		break;
	case R_RUNS:
		for (size_t i = lo; i < hi && !rc;) {
			const rf_val *run;
			size_t m = c->runs(c->src, i, &run);
			for (size_t j = 0; j < m && i < hi && !rc; j++, i++)
				rc = step(cx, 0, run[j], acc);
		}
		break;
	default: { /* R_SOURCE */
		rf_emit e = {cx, 0, acc};
		rc = c->source(c->src, lo, hi, &e);
	}
	}
	return rc;
}

static int fold_leaf(fj_range *r, size_t lo, size_t hi, rf_val *acc)
{
	const fold_ctx *cx = (const fold_ctx *)r;
	int rc = cx->leaf(cx, lo, hi, acc);
	return rc > 0 ? 0 : rc; /* R_STOP cannot occur: take-while folds serially */
}

static int fold_combine(fj_range *r, rf_val left, rf_val right, rf_val *out)
{
	*out = RF_NIL;
	return ((fold_ctx *)r)->combinef(left, right, out);
}

int r_fold_setup(fold_ctx *cx, const r_coll *c, size_t n, rf_update_fn combinef, rf_val init,
                 rf_update_fn reducef)
{
	if (c->bad)
		return c->bad;
	if (!combinef || !reducef || n == 0)
		return -EINVAL;
	*cx = (fold_ctx){
	    .range = {.leaf = n, .init = init, .leaf_fn = fold_leaf, .combine = fold_combine},
	    .c = c,
	    .combinef = combinef,
	    .reducef = reducef};
	atomic_init(&cx->range.failed, 0);
	r_plan(cx);
	return 0;
}

static int reduce_serial(const fold_ctx *cx, rf_val init, rf_val *out)
{
	rf_val acc = init;
	int rc = cx->leaf(cx, 0, cx->c->n, &acc);
	if (rc < 0)
		return rc;
	*out = acc;
	return 0;
}

int rf_fold_n(rf_reducible coll, size_t n, rf_update_fn combinef, rf_val init, rf_update_fn reducef,
              rf_val *out)
{
	r_coll c = unwrap(coll);
	fold_ctx cx;
	int rc = r_fold_setup(&cx, &c, n, combinef, init, reducef);
	if (rc < 0)
		return rc;
	if (!out)
		return -EINVAL;
	if (c.layout)
		return r_fold_numa(&cx, out);
	if (c.serial || c.n <= cx.range.leaf)
		return reduce_serial(&cx, init, out);
	return fj_range_invoke(&cx.range, -1, 0, c.n, out);
}

int rf_fold(rf_reducible c, rf_update_fn combinef, rf_val init, rf_update_fn reducef, rf_val *out)
{
	return rf_fold_n(c, RF_FOLD_DEFAULT_N, combinef, init, reducef, out);
}

int rf_r_reduce(rf_reducible coll, rf_update_fn f, rf_val init, rf_val *out)
{
	r_coll c = unwrap(coll);
	fold_ctx cx;
	int rc = r_fold_setup(&cx, &c, 1, f, init, f);
	if (rc < 0)
		return rc;
	if (!out)
		return -EINVAL;
	return reduce_serial(&cx, init, out);
}
