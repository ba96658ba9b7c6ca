/* runtime/base/debug_alloc.h: force-included into every library source when
 * RF_DEBUG_INVARIANTS is on (CMakeLists.txt): the allocator's entry points first check
 * that no spin lock is held (runtime/base/lockrank.h), and fail while a test has asked
 * for it (debug_alloc_failing, to test the -ENOMEM paths). The real declarations come
 * first, so the macros only rename calls.
 */
#ifndef RF_BASE_DEBUG_ALLOC_H
#define RF_BASE_DEBUG_ALLOC_H

#include <stdlib.h>

#include "runtime/base/lockrank.h"

#define DEBUG_ALLOC_FAILS(what) debug_alloc_fails(what, __FILE__, __LINE__)
#define malloc(n) (DEBUG_ALLOC_FAILS("malloc") ? NULL : malloc(n))
#define calloc(n, s) (DEBUG_ALLOC_FAILS("calloc") ? NULL : calloc(n, s))
#define realloc(p, n) (DEBUG_ALLOC_FAILS("realloc") ? NULL : realloc(p, n))
#define aligned_alloc(a, n) (DEBUG_ALLOC_FAILS("aligned_alloc") ? NULL : aligned_alloc(a, n))

#endif
