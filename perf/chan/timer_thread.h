/* perf/chan/timer_thread.h: the previous timeout channels, the timeout benchmarks' peer. */
#ifndef RF_PERF_TIMER_THREAD_H
#define RF_PERF_TIMER_THREAD_H

#include <stdint.h>

#include <ringfold.h>

/* A channel closed by the timer thread ms from now (as rf_chan_timeout did). */
int thread_timeout(int64_t ms, rf_chan **out);

#endif
