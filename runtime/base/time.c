/* runtime/base/time.c: the monotonic clock and deadlines of time.h. */
#include <time.h>

#include "runtime/base/time.h"

uint64_t time_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t time_deadline_after_ms(int64_t ms)
{
	if (ms < 0 || (uint64_t)ms > (DEADLINE_NONE - time_now_ns()) / 1000000u)
		return DEADLINE_NONE;
	return time_now_ns() + (uint64_t)ms * 1000000u;
}
