/* runtime/chan/timer.c: timeout channels.
 *
 * One timer thread (core.async's timeout daemon) keeps a binary min-heap of
 * (deadline, channel) and closes each channel when its deadline passes; the heap holds a
 * reference to each channel until then. Arming costs O(log n) and a condvar signal only
 * when the new deadline is the earliest, so thousands of timeouts are cheap.
 *
 * Shared state: heap, len, cap, started, all under timer_lock. The thread sleeps on
 * timer_cond (CLOCK_MONOTONIC) until the earliest deadline or a new earlier one. Channels
 * are closed after dropping timer_lock (closing completes waiters; see chan_impl.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "runtime/chan/chan_impl.h"
#include "runtime/sched/sched.h"

typedef struct timer_entry {
	uint64_t deadline;
	rf_chan *ch;
} timer_entry;

static pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cond;
static timer_entry *heap;
static size_t len, cap;
static bool started;

static void sift_up(size_t i)
{
	timer_entry e = heap[i];
	while (i > 0 && heap[(i - 1) / 2].deadline > e.deadline) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = e;
}

static void sift_down(size_t i)
{
	timer_entry e = heap[i];
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
	pthread_setname_np(pthread_self(), "rf-timer");
	sched_busy(1);
	pthread_mutex_lock(&timer_lock);
	for (;;) {
		uint64_t now = time_now_ns();
		while (len > 0 && heap[0].deadline <= now) {
			rf_chan *ch = heap[0].ch;
			heap[0] = heap[--len];
			if (len)
				sift_down(0);
			pthread_mutex_unlock(&timer_lock);
			rf_chan_close(ch);
			rf_chan_free(ch);
			pthread_mutex_lock(&timer_lock);
		}
		if (len == 0) { /* no timeout pending: it wakes nobody until one is made */
			sched_busy(-1);
			pthread_cond_wait(&timer_cond, &timer_lock);
			sched_busy(1);
			continue;
		}
		struct timespec ts = {(time_t)(heap[0].deadline / 1000000000u),
		                      (long)(heap[0].deadline % 1000000000u)};
		pthread_cond_timedwait(&timer_cond, &timer_lock, &ts);
	}
	return NULL;
}

/* Under timer_lock. */
static int timer_start(void)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&timer_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &attr, timer_main, NULL);
	pthread_attr_destroy(&attr);
	if (rc) {
		pthread_cond_destroy(&timer_cond);
		return -ENOMEM;
	}
	started = true;
	return 0;
}

int rf_chan_timeout(int64_t ms, rf_chan **out)
{
	if (ms < 0 || !out)
		return -EINVAL;
	rf_chan *ch;
	int rc = rf_chan_new(&ch);
	if (rc < 0)
		return rc;
	uint64_t deadline = time_deadline_after_ms(ms);
	pthread_mutex_lock(&timer_lock);
	if (!started && (rc = timer_start()) < 0)
		goto fail;
	if (len == cap) {
		size_t ncap = cap ? cap * 2 : 64;
		timer_entry *h = realloc(heap, ncap * sizeof(*h));
		if (!h) {
			rc = -ENOMEM;
			goto fail;
		}
		heap = h;
		cap = ncap;
	}
	heap[len] = (timer_entry){deadline, rf_chan_retain(ch)};
	sift_up(len++);
	if (heap[0].ch == ch)
		pthread_cond_signal(&timer_cond);
	pthread_mutex_unlock(&timer_lock);
	*out = ch;
	return 0;
fail:
	pthread_mutex_unlock(&timer_lock);
	rf_chan_free(ch);
	return rc;
}
