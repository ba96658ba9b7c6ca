/* runtime/base/time.h: the monotonic clock and absolute deadlines (internal).
 *
 * Every wait in ringfold takes an absolute CLOCK_MONOTONIC deadline in ns; public calls
 * take a timeout in ms and turn it into a deadline once, here.
 */
#ifndef RF_BASE_TIME_H
#define RF_BASE_TIME_H

#include <stdint.h>

#define DEADLINE_NONE UINT64_MAX

/* Current time, CLOCK_MONOTONIC, in ns. */
uint64_t time_now_ns(void);

/* Absolute deadline ms from now; a negative ms or one past the clock's range gives
 * DEADLINE_NONE. */
uint64_t time_deadline_after_ms(int64_t ms);

#endif
