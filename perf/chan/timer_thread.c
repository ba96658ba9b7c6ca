/* perf/chan/timer_thread.c: the peer of the timeout benchmarks, ringfold's previous
 * timeout channels (core.async's timeout daemon without its coalescing): one thread, a
 * binary min-heap of (deadline, channel) under a global mutex, a condvar signal when a
 * new deadline is the earliest. Built on the public API only.
 *
 * Shared state: heap, len, cap, started under lock; the thread closes due channels after
 * dropping it.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include <ringfold.h>

#include "timer_thread.h"

typedef struct entry {
	uint64_t deadline;
	rf_chan *ch;
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static entry *heap;
static size_t len, cap;
static bool started;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sift_up(size_t i)
{
	entry e = heap[i];
	while (i > 0 && heap[(i - 1) / 2].deadline > e.deadline) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = e;
}

static void sift_down(size_t i)
{
	entry e = heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= len)
			break;
		if (c + 1 < len && heap[c + 1].deadline < heap[c].deadline)
			c++;
		if (heap[c].deadline >= e.deadline)
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = e;
}

static void *timer_main(void *arg)
{
	pthread_mutex_lock(&lock);
	for (;;) {
		uint64_t now = now_ns();
		while (len > 0 && heap[0].deadline <= now) {
			rf_chan *ch = heap[0].ch;
			heap[0] = heap[--len];
			if (len)
				sift_down(0);
			pthread_mutex_unlock(&lock);
			rf_chan_close(ch);
			rf_chan_release(ch);
			pthread_mutex_lock(&lock);
		}
		if (len == 0) {
			pthread_cond_wait(&cond, &lock);
			continue;
		}
		struct timespec ts = {(time_t)(heap[0].deadline / 1000000000u),
		                      (long)(heap[0].deadline % 1000000000u)};
		pthread_cond_timedwait(&cond, &lock, &ts);
	}
	return NULL;
}

int thread_timeout(int64_t ms, rf_chan **out)
{
	rf_chan *ch;
	if (rf_chan_new(&ch) < 0)
		return -1;
	uint64_t deadline = now_ns() + (uint64_t)ms * 1000000u;
	pthread_mutex_lock(&lock);
	if (!started) {
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&cond, &ca);
		pthread_t t;
		if (pthread_create(&t, NULL, timer_main, NULL))
			abort();
		pthread_detach(t);
		started = true;
	}
	if (len == cap) {
		cap = cap ? cap * 2 : 64;
		heap = realloc(heap, cap * sizeof(*heap));
		if (!heap)
			abort();
	}
	heap[len] = (entry){deadline, rf_chan_retain(ch)};
	sift_up(len++);
	if (heap[0].ch == ch)
		pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	*out = ch;
	return 0;
}
