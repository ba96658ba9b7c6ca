/* tests/executor/fiber_check.h: what the executor tests share besides the latch.
 *  - SCALE divides fiber counts under sanitizers: TSan makes each fiber cost a TSan
 *    thread state, ASan intercepts every stack's mmap; release runs the full counts.
 *  - WAIT_MS bounds every join, generously: sanitizers and a busy machine.
 *  - RF_CHECK (tests/check.h) for every check made on a fiber or another thread. */
#ifndef RF_TEST_FIBER_CHECK_H
#define RF_TEST_FIBER_CHECK_H

#include "check.h"

#ifdef RF_TSAN
#define SCALE 10
#elif defined(RF_ASAN)
#define SCALE 4
#else
#define SCALE 1
#endif

#define WAIT_MS 60000

#endif
