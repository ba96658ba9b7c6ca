/* runtime/coll/phm_iter.c: iteration over a map version (rf_coll_iter): a depth-first walk
 * kept on a stack in the caller's iterator. No shared state: the version it walks is
 * immutable and held by the caller. */
#include <string.h>

#include "runtime/coll/hamt.h"

#define H_DEPTH 14 /* 13 bitmap levels (shift 0..60) and a collision node */

typedef struct h_iter {
	uint32_t kind; /* COLL_PHM (coll.h) */
	int depth;
	uint32_t pos[H_DEPTH];
	const hnode *node[H_DEPTH];
} h_iter;

_Static_assert(sizeof(h_iter) <= sizeof(rf_coll_iter), "rf_coll_iter too small");

void rf_phm_iter_init(const rf_phm *m, rf_coll_iter *it)
{
	if (!it)
		return;
	h_iter s = {.kind = COLL_PHM, .depth = 0};
	if (m && m->root) {
		s.depth = 1;
		s.node[0] = m->root;
	}
	memcpy(it, &s, sizeof(s));
}

bool phm_iter_next(rf_coll_iter *it, rf_val *key, rf_val *val)
{
	h_iter *s = (h_iter *)(void *)it;
	while (s->depth > 0) {
		int d = s->depth - 1;
		const hnode *n = s->node[d];
		uint32_t p = s->pos[d], e = h_entries(n);
		uint32_t c = h_children(n);
		if (p < e) {
			s->pos[d]++;
			if (key)
				*key = n->slot[2 * p];
			if (val)
				*val = n->slot[2 * p + 1];
			return true;
		}
		if (p < e + c) {
			s->pos[d]++;
			s->node[d + 1] = h_kid(n, p - e);
			s->pos[d + 1] = 0;
			s->depth++;
			continue;
		}
		s->depth--;
	}
	return false;
}
