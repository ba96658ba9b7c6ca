/* runtime/coll/cmem.h: the collections' node and version allocator (internal): malloc
 * behind a small per-thread cache of freed blocks, by 16-byte size class. A persistent
 * update frees about as many blocks as it allocates, of the same sizes (the old path and
 * version go as the new ones come), so most allocations are a pop from this thread's
 * cache instead of a trip through malloc and free.
 *
 * A block from cmem_alloc(size) is freed by cmem_free(p, size) with a size of the same
 * class (any thread), or by free(). Never cmem_free a block that did not come from
 * cmem_alloc: the cache hands a block out again for any size in its class.
 * Sanitizer builds go straight to malloc and free, so that ASan sees every reuse.
 */
#ifndef RF_COLL_CMEM_H
#define RF_COLL_CMEM_H

#include <stddef.h>

void *cmem_alloc(size_t size);
void cmem_free(void *p, size_t size);

#endif
