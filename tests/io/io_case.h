/* tests/io/io_case.h: running one I/O case on a plain thread and on a fiber, which must
 * give the same results. A case is `int fn(void)` that checks with RF_CHECK (tests/check.h:
 * it aborts with file and line from any thread or fiber) and returns 0. */
#ifndef RF_TESTS_IO_CASE_H
#define RF_TESTS_IO_CASE_H

#include "check.h"
#include "executor/fiber_check.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"

struct io_case_run {
	int (*fn)(void);
	int rc;
	waiter done;
};

static void io_case_fiber(void *p)
{
	struct io_case_run *r = p;
	r->rc = r->fn();
	if (waiter_claim(&r->done))
		waiter_complete(&r->done);
}

/* Run fn on a fiber of `worker` (SCHED_WORKER_ANY: any) and return its result. */
static inline int io_case_on_fiber(int (*fn)(void), int worker)
{
	struct io_case_run r = {.fn = fn};
	waiter_init(&r.done);
	RF_CHECK(fiber_spawn(io_case_fiber, &r, worker, NULL) == 0);
	RF_CHECK(waiter_wait(&r.done, time_deadline_after_ms(WAIT_MS)) == 0);
	return r.rc;
}

/* fn on this plain thread, then on a fiber. */
static inline void run_case(int (*fn)(void))
{
	RF_CHECK(fn() == 0);
	RF_CHECK(io_case_on_fiber(fn, SCHED_WORKER_ANY) == 0);
}

#endif
