/* runtime/fj/reducible.h: the layout behind rf_reducible and the element pipeline
 * (internal). A reducible is a plain value: no shared state. */
#ifndef RF_FJ_REDUCIBLE_H
#define RF_FJ_REDUCIBLE_H

#include <stdbool.h>

#include "ringfold/fold.h"
#include "runtime/fj/range.h"

enum r_kind { R_INT64, R_DOUBLE, R_ELEMS, R_RANGE, R_SOURCE, R_RUNS };
enum r_stage_kind { R_MAP, R_FILTER, R_REMOVE, R_MAPCAT, R_TAKE_WHILE, R_BLOCK };

#define R_STOP 1 /* take-while ended the reduction (not an error) */

typedef struct r_stage {
	int kind;
	union {
		rf_update_fn f; /* R_MAP, R_FILTER, R_REMOVE, R_TAKE_WHILE */
		rf_mapcat_fn m; /* R_MAPCAT */
		rf_block_fn b;  /* R_BLOCK */
	};
	rf_val arg;
} r_stage;

typedef struct r_coll {
	int kind;
	int nstages;
	int bad;    /* 0, -E2BIG or -EINVAL: reported by the fold */
	int serial; /* holds a take-while */
	const void *base;
	size_t n, elem_size;
	int64_t start;
	rf_source_fn source;
	rf_run_fn runs; /* R_RUNS */
	rf_val src;
	const rf_numa_layout *layout;
	r_stage st[RF_R_MAX_STAGES];
} r_coll;

_Static_assert(sizeof(r_coll) <= sizeof(rf_reducible), "rf_reducible too small");

struct fold_ctx;

/* Reduce elements [lo, hi) of the fold's reducible into *acc: 0, R_STOP or a negative
 * code. */
typedef int (*r_leaf_fn)(const struct fold_ctx *cx, size_t lo, size_t hi, rf_val *acc);

/* Reduce the m elements at src (8-byte values) into *acc through the fold's stages. */
typedef int (*r_kernel)(const struct fold_ctx *cx, const void *src, size_t m, rf_val *acc);

/* One fold in progress: the range engine plus what the leaves need. */
typedef struct fold_ctx {
	fj_range range; /* first: leaves get the fold_ctx from the fj_range pointer */
	const r_coll *c;
	rf_update_fn combinef, reducef;
	r_leaf_fn leaf;                /* chosen once per fold by r_plan (leaf.c) */
	r_kernel kernel;               /* the fused loop of fused leaves, else NULL */
	uint64_t known_mul, known_add; /* r_plan_known's pipeline: keep, then mul*x + add */
	int known_keep;
} fold_ctx;

struct rf_emit {
	const fold_ctx *cx;
	int stage;
	rf_val *acc;
};

/* Choose cx->leaf (and cx->kernel) for cx->c and cx->reducef (leaf.c). */
void r_plan(fold_ctx *cx);

/* If cx's pipeline is only rf_add/rf_inc/rf_dec/rf_mul maps and rf_even/rf_odd filters
 * and removes, reduced with rf_add: set cx->known_* and cx->kernel (its call-free loop)
 * and return true (leaf_known.c). */
bool r_plan_known(fold_ctx *cx);

/* The leaf of pipelines with mapcat, take-while or a user source: each element walks the
 * stage list (fold.c). */
int r_step_leaf(const fold_ctx *cx, size_t lo, size_t hi, rf_val *acc);

/* Set up cx for folding c (checks functions and stages). 0 or -EINVAL / -E2BIG. */
int r_fold_setup(fold_ctx *cx, const r_coll *c, size_t n, rf_update_fn combinef, rf_val init,
                 rf_update_fn reducef);

/* Fold each node's part of c on its own node's pool (c->layout set). */
int r_fold_numa(fold_ctx *cx, rf_val *out);

#endif
