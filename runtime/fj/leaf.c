/* runtime/fj/leaf.c: the loops fold's leaves run (internal; no shared state).
 *
 * r_plan looks at a reducible once per fold and picks the leaf loop every leaf of that
 * fold runs, so that nothing per element depends on the kind of stage or source:
 *   fast     no stage, a built-in reducef (rf_add, rf_max, rf_min over int64, rf_dadd over
 *            double): a plain loop, no call per element; the int64 ones read a page at a
 *            time, and max and min have an AVX2 clone (stream.h).
 *   known    only ringfold's own affine maps and parity predicates, reduced with rf_add:
 *            one call-free loop (leaf_known.c).
 *   fused    one or two map/filter/remove stages: one loop per shape (map, pred, map-map,
 *            map-pred, pred-map, pred-pred, none) x (reducef rf_add inlined or called),
 *            each element going through the stages and into the accumulator before the
 *            next is loaded: the user functions' own indirect calls and nothing else.
 *   staged   longer chains and rf_r_block stages: a block of R_BLOCK_LEN elements (L1)
 *            through one stage at a time; one call per element and stage, or per block.
 *   step     mapcat, take-while and user sources: each element walks the stage list
 *            (fold.c's step), since they hand elements on through rf_emit.
 * Int64 and double arrays are read in place (8-byte elements loaded with memcpy, so a
 * double's bits travel without aliasing its storage), and so are rf_r_runs sources, a run
 * at a time; ranges and rf_r_elems sources are generated a block at a time into a buffer
 * on the stack (rf_r_runs too, in staged leaves).
 *
 * Order of calls: fused and step loops call the user functions in element order, as
 * Clojure's reduce would. Staged loops run a whole block through a stage before the
 * next stage sees its first element; fold's functions are pure, so this is unobservable
 * except for which of several failing calls reports its error.
 */
#include <string.h>

#include "runtime/fj/reducible.h"
#include "runtime/fj/stream.h"

#define R_BLOCK_LEN 256 /* elements: 2 KiB of buffer, well inside L1 */

/* Chunk floor of the leaves that call no user function: an element costs a fraction of a
 * ns there, so a 512-element chunk (Clojure's n) would spend a noticeable share of its time
 * on the splitting loop (surplus check, announce, two indirect calls), and each leaf's
 * short vector loop would restart its prefetch stream more often. 4096 int64 are a page,
 * rf_fold_range's default grain. Still "at least n": only a smaller n is raised. */
#define R_CALL_FREE_LEAF 4096

static rf_val load(const void *src, size_t j)
{
	rf_val x;
	memcpy(&x, (const char *)src + j * sizeof(x), sizeof(x));
	return x;
}

/* Elements [lo, lo+m) of a range, rf_r_elems or rf_r_runs source into buf. */
static void generate(const r_coll *c, size_t lo, size_t m, rf_val *buf)
{
	if (c->kind == R_RUNS)
		for (size_t j = 0; j < m;) {
			const rf_val *run;
			size_t k = c->runs(c->src, lo + j, &run);
			k = k < m - j ? k : m - j;
			memcpy(buf + j, run, k * sizeof(rf_val));
			j += k;
		}
	else if (c->kind == R_RANGE)
		for (size_t j = 0; j < m; j++)
			buf[j] = (int64_t)((uint64_t)c->start + lo + j); /* no signed overflow */
	else
		for (size_t j = 0; j < m; j++)
			buf[j] = rf_from_ptr((const char *)c->base + (lo + j) * c->elem_size);
}

/* Run kernel k over [lo, hi): in place for arrays, a generated block at a time else. */
static int by_blocks(const fold_ctx *cx, size_t lo, size_t hi, rf_val *acc, r_kernel k)
{
	const r_coll *c = cx->c;
	if (c->kind == R_INT64 || c->kind == R_DOUBLE)
		return k(cx, (const char *)c->base + lo * sizeof(rf_val), hi - lo, acc);
	if (c->kind == R_RUNS) { /* each run in place */
		for (size_t i = lo; i < hi;) {
			const rf_val *run;
			size_t m = c->runs(c->src, i, &run);
			m = m < hi - i ? m : hi - i;
			int rc = k(cx, run, m, acc);
			if (rc < 0)
				return rc;
			i += m;
		}
		return 0;
	}
	rf_val buf[R_BLOCK_LEN];
	for (size_t b = lo; b < hi; b += R_BLOCK_LEN) {
		size_t m = hi - b < R_BLOCK_LEN ? hi - b : R_BLOCK_LEN;
		generate(c, b, m, buf);
		int rc = k(cx, buf, m, acc);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- fast: untransformed int64 / double arrays with a built-in reducing function ---- */

static inline __attribute__((always_inline)) void sum_block(const void *p, size_t k, void *st)
{
	uint64_t *s = st; /* four sums, wrapping like rf_add */
	size_t j = 0;
	for (; j + 4 <= k; j += 4) {
		s[0] += (uint64_t)load(p, j);
		s[1] += (uint64_t)load(p, j + 1);
		s[2] += (uint64_t)load(p, j + 2);
		s[3] += (uint64_t)load(p, j + 3);
	}
	for (; j < k; j++)
		s[0] += (uint64_t)load(p, j);
}

/* No AVX2 clone: the SSE2 loop already loads as fast as L1 serves, and from DRAM the AVX2
 * one measured 5-8 % slower (single thread, CPU time, alternated). */
static int sum_int64(const fold_ctx *cx, size_t lo, size_t hi, rf_val *acc)
{
	uint64_t s[4] = {0, 0, 0, 0};
	r_stream((const int64_t *)cx->c->base + lo, hi - lo, s, sum_block);
	*acc = (rf_val)((uint64_t)*acc + s[0] + s[1] + s[2] + s[3]);
	return 0;
}

static inline __attribute__((always_inline)) void max_block(const void *p, size_t k, void *st)
{
	int64_t m = *(int64_t *)st;
	for (size_t j = 0; j < k; j++)
		m = load(p, j) > m ? load(p, j) : m;
	*(int64_t *)st = m;
}

static inline __attribute__((always_inline)) int max_leaf(const fold_ctx *cx, size_t lo, size_t hi,
                                                          rf_val *acc)
{
	int64_t m = *acc;
	r_stream((const int64_t *)cx->c->base + lo, hi - lo, &m, max_block);
	*acc = m;
	return 0;
}

static inline __attribute__((always_inline)) void min_block(const void *p, size_t k, void *st)
{
	int64_t m = *(int64_t *)st;
	for (size_t j = 0; j < k; j++)
		m = load(p, j) < m ? load(p, j) : m;
	*(int64_t *)st = m;
}

static inline __attribute__((always_inline)) int min_leaf(const fold_ctx *cx, size_t lo, size_t hi,
                                                          rf_val *acc)
{
	int64_t m = *acc;
	r_stream((const int64_t *)cx->c->base + lo, hi - lo, &m, min_block);
	*acc = m;
	return 0;
}

/* name: the leaf `body` compiled for the baseline; name_avx2: for AVX2 (stream.h). */
#define R_LEAF(name, body)                                                                         \
	static int name(const fold_ctx *cx, size_t lo, size_t hi, rf_val *acc)                     \
	{                                                                                          \
		return body(cx, lo, hi, acc);                                                      \
	}                                                                                          \
	R_LEAF_AVX2(name, body)
#ifdef R_AVX2_CLONES
#define R_LEAF_AVX2(name, body)                                                                    \
	R_AVX2 static int name##_avx2(const fold_ctx *cx, size_t lo, size_t hi, rf_val *acc)       \
	{                                                                                          \
		return body(cx, lo, hi, acc);                                                      \
	}
#define R_PICK(name) (r_avx2 ? name##_avx2 : name)
bool r_avx2;

__attribute__((constructor)) static void detect_avx2(void)
{
	__builtin_cpu_init(); /* constructors may run before libgcc's own */
	r_avx2 = __builtin_cpu_supports("avx2");
}
#else
#define R_LEAF_AVX2(name, body)
#define R_PICK(name) (name)
#endif
R_LEAF(max_int64, max_leaf)
R_LEAF(min_int64, min_leaf)
#undef R_LEAF
#undef R_LEAF_AVX2

static int sum_double(const fold_ctx *cx, size_t lo, size_t hi, rf_val *acc)
{
	const double *a = cx->c->base;
	double s = rf_to_double(*acc);
	for (size_t i = lo; i < hi; i++)
		s += a[i];
	*acc = rf_from_double(s);
	return 0;
}

static r_leaf_fn fast_leaf(const r_coll *c, rf_update_fn reducef)
{
	if (c->nstages)
		return NULL;
	if (c->kind == R_INT64 && reducef == rf_add)
		return sum_int64;
	if (c->kind == R_INT64 && reducef == rf_max)
		return R_PICK(max_int64);
	if (c->kind == R_INT64 && reducef == rf_min)
		return R_PICK(min_int64);
	if (c->kind == R_DOUBLE && reducef == rf_dadd)
		return sum_double;
	return NULL;
}

/* ---- fused: up to two map/filter/remove stages, one loop per shape ---- */

enum { K_NONE, K_MAP, K_PRED };

/* x through stage s of kind k (K_PRED keeps x when the predicate's truth equals
 * keep_if): 1 when x goes on (rewritten by a map), 0 when dropped, or f's error. */
static inline __attribute__((always_inline)) int apply(const r_stage *s, int k, int keep_if,
                                                       rf_val *x)
{
	rf_val y = RF_NIL;
	int rc = s->f(*x, s->arg, &y);
	if (rc < 0)
		return rc;
	if (k == K_MAP) {
		*x = y;
		return 1;
	}
	return (y != 0) == keep_if;
}

/* The loop every fused kernel is; k0, k1 and add are constants in each caller, so the
 * compiler drops the branches on them. */
static inline __attribute__((always_inline)) int
fused(const fold_ctx *cx, const void *src, size_t m, rf_val *acc, int k0, int k1, int add)
{
	const r_stage *s0 = &cx->c->st[0], *s1 = &cx->c->st[1];
	const char *p = src, *end = p + m * sizeof(rf_val);
	rf_val a = *acc;
	for (; p != end; p += sizeof(rf_val)) {
		rf_val x = load(p, 0);
		int rc;
		if (k0 != K_NONE && (rc = apply(s0, k0, s0->kind == R_FILTER, &x)) <= 0) {
			if (rc < 0)
				return rc;
			continue;
		}
		if (k1 != K_NONE && (rc = apply(s1, k1, s1->kind == R_FILTER, &x)) <= 0) {
			if (rc < 0)
				return rc;
			continue;
		}
		if (add) {
			a = (rf_val)((uint64_t)a + (uint64_t)x); /* wrapping, like rf_add */
		} else {
			rf_val next = RF_NIL;
			if ((rc = cx->reducef(a, x, &next)) < 0)
				return rc;
			a = next;
		}
	}
	*acc = a;
	return 0;
}

#define R_KERNEL(name, k0, k1, add)                                                                \
	static int name(const fold_ctx *cx, const void *src, size_t m, rf_val *acc)                \
	{                                                                                          \
		return fused(cx, src, m, acc, k0, k1, add);                                        \
	}
R_KERNEL(k_none_add, K_NONE, K_NONE, 1)
R_KERNEL(k_none_call, K_NONE, K_NONE, 0)
R_KERNEL(k_map_add, K_MAP, K_NONE, 1)
R_KERNEL(k_map_call, K_MAP, K_NONE, 0)
R_KERNEL(k_pred_add, K_PRED, K_NONE, 1)
R_KERNEL(k_pred_call, K_PRED, K_NONE, 0)
R_KERNEL(k_map_map_add, K_MAP, K_MAP, 1)
R_KERNEL(k_map_map_call, K_MAP, K_MAP, 0)
R_KERNEL(k_map_pred_add, K_MAP, K_PRED, 1)
R_KERNEL(k_map_pred_call, K_MAP, K_PRED, 0)
R_KERNEL(k_pred_map_add, K_PRED, K_MAP, 1)
R_KERNEL(k_pred_map_call, K_PRED, K_MAP, 0)
R_KERNEL(k_pred_pred_add, K_PRED, K_PRED, 1)
R_KERNEL(k_pred_pred_call, K_PRED, K_PRED, 0)
#undef R_KERNEL

/* [k0][k1][add]; a first stage K_NONE only with no second. */
static const r_kernel kernels[3][3][2] = {
    [K_NONE][K_NONE] = {k_none_call, k_none_add},
    [K_MAP][K_NONE] = {k_map_call, k_map_add},
    [K_MAP][K_MAP] = {k_map_map_call, k_map_map_add},
    [K_MAP][K_PRED] = {k_map_pred_call, k_map_pred_add},
    [K_PRED][K_NONE] = {k_pred_call, k_pred_add},
    [K_PRED][K_MAP] = {k_pred_map_call, k_pred_map_add},
    [K_PRED][K_PRED] = {k_pred_pred_call, k_pred_pred_add},
};

static int fused_leaf(const fold_ctx *cx, size_t lo, size_t hi, rf_val *acc)
{
	return by_blocks(cx, lo, hi, acc, cx->kernel);
}

static int kernel_kind(const r_stage *s)
{
	return s->kind == R_MAP ? K_MAP : s->kind == R_FILTER || s->kind == R_REMOVE ? K_PRED : -1;
}

static r_kernel fused_kernel(const r_coll *c, rf_update_fn reducef)
{
	int k[2] = {K_NONE, K_NONE};
	if (c->nstages > 2 || c->kind == R_SOURCE)
		return NULL;
	for (int i = 0; i < c->nstages; i++)
		if ((k[i] = kernel_kind(&c->st[i])) < 0)
			return NULL;
	return kernels[k[0]][k[1]][reducef == rf_add];
}

/* ---- staged: any chain of map, filter, remove and block stages ---- */

/* in[0..m) through stage s into out (in == out, or out a buffer of R_BLOCK_LEN); returns
 * how many go on, or a negative code. */
static long run_stage(const r_stage *s, const void *in, rf_val *out, size_t m)
{
	size_t k = 0;
	int rc;
	if (s->kind == R_BLOCK) {
		if (in != out)
			for (size_t j = 0; j < m; j++)
				out[j] = load(in, j);
		if ((rc = s->b(out, m, s->arg, &k)) < 0)
			return rc;
		return (long)(k < m ? k : m);
	}
	int kind = kernel_kind(s), keep_if = s->kind == R_FILTER;
	for (size_t j = 0; j < m; j++) {
		rf_val x = load(in, j);
		if ((rc = apply(s, kind, keep_if, &x)) < 0)
			return rc;
		out[k] = x;
		k += (size_t)rc;
	}
	return (long)k;
}

/* Blocks alternate between two buffers, and a block's survivors are reduced only after
 * the next block went through the stages: by then the stores of the last stage (a block
 * function's, say) have reached the cache, where reducing them at once would stall the
 * reducing loop's wide loads on store forwarding. */
static int staged_leaf(const fold_ctx *cx, size_t lo, size_t hi, rf_val *acc)
{
	const r_coll *c = cx->c;
	const r_kernel reduce = kernels[K_NONE][K_NONE][cx->reducef == rf_add];
	const int in_place = c->kind == R_INT64 || c->kind == R_DOUBLE;
	rf_val buf[2][R_BLOCK_LEN];
	size_t pending = 0; /* survivors of the previous block, in buf[cur ^ 1] */
	int cur = 0, rc;
	for (size_t b = lo; b < hi; b += R_BLOCK_LEN, cur ^= 1) {
		size_t m = hi - b < R_BLOCK_LEN ? hi - b : R_BLOCK_LEN;
		const void *in = buf[cur];
		if (in_place)
			in = (const char *)c->base + b * sizeof(rf_val);
		else
			generate(c, b, m, buf[cur]);
		long kept = (long)m;
		for (int i = 0; i < c->nstages && kept > 0; i++, in = buf[cur])
			if ((kept = run_stage(&c->st[i], in, buf[cur], (size_t)kept)) < 0)
				return (int)kept;
		if ((rc = reduce(cx, buf[cur ^ 1], pending, acc)) < 0)
			return rc;
		pending = (size_t)kept;
	}
	return reduce(cx, buf[cur ^ 1], pending, acc);
}

static int staged_ok(const r_coll *c)
{
	if (c->kind == R_SOURCE)
		return 0;
	for (int i = 0; i < c->nstages; i++)
		if (c->st[i].kind == R_MAPCAT || c->st[i].kind == R_TAKE_WHILE)
			return 0;
	return 1;
}

void r_plan(fold_ctx *cx)
{
	const r_coll *c = cx->c;
	cx->kernel = NULL;
	if ((cx->leaf = fast_leaf(c, cx->reducef)) || r_plan_known(cx)) {
		if (!cx->leaf) /* r_plan_known chose the kernel */
			cx->leaf = fused_leaf;
		if (cx->range.leaf < R_CALL_FREE_LEAF)
			cx->range.leaf = R_CALL_FREE_LEAF;
		return;
	}
	if ((cx->kernel = fused_kernel(c, cx->reducef))) {
		cx->leaf = fused_leaf;
		return;
	}
	cx->leaf = staged_ok(c) ? staged_leaf : r_step_leaf;
}
