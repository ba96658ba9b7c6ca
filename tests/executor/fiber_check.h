/* tests/executor/fiber_check.h: what the executor tests share besides the latch.
 *  - SCALE divides fiber counts under sanitizers: TSan makes each fiber cost a TSan
 *    thread state, ASan intercepts every stack's mmap; release runs the full counts.
 *  - WAIT_MS bounds every join, generously: sanitizers and a busy machine.
 *  - fcheck(x): cmocka's asserts longjmp to the test's thread, so on a fiber a failed
 *    check prints where and aborts. */
#ifndef RF_TEST_FIBER_CHECK_H
#define RF_TEST_FIBER_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#ifdef RF_TSAN
#define SCALE 10
#elif defined(RF_ASAN)
#define SCALE 4
#else
#define SCALE 1
#endif

#define WAIT_MS 60000

#define fcheck(x)                                                                                  \
	do {                                                                                       \
		if (!(x)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed on a fiber: %s\n", __FILE__,          \
			        __LINE__, #x);                                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
