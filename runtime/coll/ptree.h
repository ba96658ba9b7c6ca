/* runtime/coll/ptree.h: the sorted map's weight-balanced tree (internal). Shared state:
 * nodes, under coll.h's contract (immutable once a version reaching them is returned;
 * counted references). Only a transient (tsorted.c) writes in place, in the nodes that
 * carry its token; the persistent operations here never do (and make nodes owned by no
 * transient, edit 0).
 *
 * Ownership in this file's functions: a subtree argument named as consumed is a
 * reference the callee takes over (stores in a node, or drops), also when it fails; any
 * other tree argument is borrowed. A function returning a tree hands over one reference.
 */
#ifndef RF_COLL_PTREE_H
#define RF_COLL_PTREE_H

#include "ringfold/psorted.h"
#include "runtime/coll/coll.h"

typedef struct tnode {
	_Atomic uint32_t rc;
	uint32_t pad_;
	uint64_t edit; /* token of the transient that owns it, or a stale one / 0 */
	size_t size;   /* entries in this subtree */
	struct tnode *l, *r;
	rf_val k, v;
} tnode;

/* The order and the element ops of one map, read by every operation on it. */
typedef struct torder {
	rf_compare_fn cmp; /* NULL: signed integers */
	rf_val ctx;
	const rf_coll_ops *ops;
} torder;

struct rf_psorted {
	coll_hdr h;
	uint32_t pad_;
	tnode *root;
	torder o;
};

struct rf_tsorted {
	uint64_t edit; /* this transient's token */
	tnode *root;   /* one reference */
	tnode *spare;  /* unused nodes for rotations, linked through l (tsorted.c) */
	size_t nspare;
	torder o;
};

#define DELTA 3 /* a side may hold up to DELTA times the other's entries */
#define RATIO 2 /* single rotation below this inner / outer ratio, else double */

#define TMAX_HEIGHT 160 /* > 2.41 * 64: log base 4/3 of 2^64, the bound for delta 3 */

static inline size_t t_size(const tnode *t)
{
	return t ? t->size : 0;
}
static inline int t_cmp(const torder *o, rf_val a, rf_val b)
{
	if (o->cmp)
		return o->cmp(a, b, o->ctx);
	return a < b ? -1 : a > b;
}

static inline void t_retain(tnode *t)
{
	if (t)
		rc_retain(&t->rc);
}

void tnode_drop(tnode *t, const rf_coll_ops *ops);

/* assoc / dissoc under t (borrowed). 0 and *out (a new reference; or t itself, no new
 * reference, when *changed is false), or -ENOMEM (nothing made). *delta: entries added
 * (+1, 0) for assoc. */
int ptree_assoc(const tnode *t, rf_val k, rf_val v, const torder *o, tnode **out, int *delta,
                bool *changed);
int ptree_dissoc(const tnode *t, rf_val k, const torder *o, tnode **out, bool *changed);

#endif
