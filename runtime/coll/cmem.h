/* runtime/coll/cmem.h: the collections' node and version allocator (internal): a small
 * per-thread cache of freed blocks by 16-byte size class, in front of malloc (vectors,
 * versions) or of cslab's huge-page slabs (hash map nodes). A persistent update frees about
 * as many blocks as it allocates, of the same sizes (the old path and version go as the new
 * ones come), so most allocations are a pop from this thread's cache.
 *
 * A block from cmem_alloc(size) is freed by cmem_free(p, size) with a size of the same
 * class (any thread), or by free(); one from cmem_node_alloc(size) only by
 * cmem_node_free(p, size), likewise. Never hand one allocator's block to the other's free:
 * the caches hand a block out again for any size in its class.
 * Sanitizer builds go straight to malloc and free, so that ASan sees every reuse.
 */
#ifndef RF_COLL_CMEM_H
#define RF_COLL_CMEM_H

#include <stddef.h>
#include <stdint.h>

void *cmem_alloc(size_t size);
void cmem_free(void *p, size_t size);
/* Hash map nodes and future cells: blocks up to 640 bytes come from cslab.h's slabs,
 * larger ones from malloc. */
void *cmem_node_alloc(size_t size);
void cmem_node_free(void *p, size_t size);
/* Around a drop of many nodes (a whole map): the cache keeps the last blocks freed, which
 * would keep their slabs (and regions) from going back; after a drop that freed more than
 * a thousand nodes since mark, the thread's node cache is given back. */
uint64_t cmem_node_mark(void);
void cmem_node_settle(uint64_t mark);

#endif
