/* runtime/coll/phm_iter.c: iteration over a map version (rf_phm_iter): a depth-first walk
 * kept on a stack in the caller's iterator. No shared state: the version it walks is
 * immutable and held by the caller. */
#include <string.h>

#include "runtime/coll/hamt.h"

#define H_DEPTH 14 /* 13 bitmap levels (shift 0..60) and a collision node */

typedef struct h_iter {
	int depth;
	uint32_t pos[H_DEPTH];
	const hnode *node[H_DEPTH];
} h_iter;

_Static_assert(sizeof(h_iter) <= sizeof(rf_phm_iter), "rf_phm_iter too small");

void rf_phm_iter_init(const rf_phm *m, rf_phm_iter *it)
{
	if (!it)
		return;
	h_iter s = {.depth = 0};
	if (m && m->root) {
		s.depth = 1;
		s.node[0] = m->root;
	}
	memcpy(it, &s, sizeof(s));
}

bool rf_phm_iter_next(rf_phm_iter *it, rf_val *key, rf_val *val)
{
	if (!it)
		return false;
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
