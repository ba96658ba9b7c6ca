/* runtime/coll/cslab.h: memory for hash map nodes and future cells (internal): slabs of
 * one 16-byte size class, carved from 2 MB regions that are mapped for transparent huge
 * pages, behind cmem's per-thread node cache (cmem.h).
 *
 * A map of a million keys spreads over tens of megabytes, and a lookup's path is a random
 * walk through them: with 4 KB pages most of its levels miss the TLB as well as the cache.
 * Packing the nodes (of every map; futures' cells share the classes) into huge pages leaves the
 * whole trie within reach of a few dozen TLB entries. A slab lives in one region and serves
 * one class; an empty slab goes back to its region, and a region whose slabs are all empty
 * is unmapped (but the last one, kept against map/unmap churn), so memory comes back when
 * maps go. Blocks are freed by any thread, through cslab_give.
 */
#ifndef RF_COLL_CSLAB_H
#define RF_COLL_CSLAB_H

#include <stddef.h>

enum { CSLAB_GRAIN = 16, CSLAB_CLASSES = 40 }; /* blocks of 16 .. 640 bytes */

/* Up to `want` blocks of class c (each (c + 1) * CSLAB_GRAIN bytes, 16-aligned) into out;
 * returns how many (0: out of memory). Any thread; may map a region. */
unsigned cslab_take(unsigned c, void **out, unsigned want);
/* n blocks from cslab_take (any classes, any taker) back to their slabs. Any thread; may
 * unmap a region. */
void cslab_give(void *const *blocks, unsigned n);

#endif
