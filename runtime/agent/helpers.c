/* runtime/agent/helpers.c: the helper threads that drain agents when the executor
 * cannot take a drain (fiber_spawn failed: no fiber stack, runtime stopping or not
 * running). Accepted actions must run regardless, so the drain goes to a small elastic
 * pool: an idle helper takes it, or a new helper is started; a helper that stays idle
 * for HELPER_IDLE_NS exits. If no thread can be started either, the caller drains the
 * agent itself: the one case where an action runs in its sender's thread.
 *
 * Everything here is under h_lock: the list of agents waiting for a helper (linked through
 * rf_agent.helper_next, a field only this file touches, and only while the agent has a
 * drain pending), the count of idle helpers, and the condition they wait on.
 */
#include <pthread.h>
#include <time.h>

#include "runtime/agent/agent_internal.h"
#include "runtime/sched/sched.h"

#define HELPER_IDLE_NS 200000000u

static pthread_mutex_t h_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t h_ready;
static pthread_once_t h_once = PTHREAD_ONCE_INIT;
static rf_agent *h_head, *h_tail; /* under h_lock */
static int h_idle;                /* under h_lock */

static void init_cond(void)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&h_ready, &attr);
	pthread_condattr_destroy(&attr);
}

/* Fork child: no helper thread exists; queued drains stay queued for the next helper
 * the child starts (the next schedule finds nobody idle and starts one). */
static void helpers_fork_child(void)
{
	pthread_mutex_init(&h_lock, NULL);
	init_cond();
	h_idle = 0;
}

static void helpers_init(void)
{
	init_cond();
	sched_on_fork_child(helpers_fork_child);
}

static rf_agent *pop(void)
{
	rf_agent *a = h_head;
	if (a && !(h_head = a->helper_next))
		h_tail = NULL;
	return a;
}

static void *helper(void *unused)
{
	pthread_setname_np(pthread_self(), "rf-agent");
	sched_busy(1);
	pthread_mutex_lock(&h_lock);
	for (;;) {
		rf_agent *a = pop();
		if (a) {
			pthread_mutex_unlock(&h_lock);
			agent_drain_run(a);
			pthread_mutex_lock(&h_lock);
			continue;
		}
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += HELPER_IDLE_NS;
		until.tv_sec += until.tv_nsec / 1000000000;
		until.tv_nsec %= 1000000000;
		h_idle++;
		int rc = 0;
		sched_busy(-1);
		while (!h_head && rc == 0)
			rc = pthread_cond_timedwait(&h_ready, &h_lock, &until);
		sched_busy(1);
		h_idle--;
		if (!h_head)
			break;
	}
	pthread_mutex_unlock(&h_lock);
	sched_busy(-1);
	return NULL;
}

void agent_helpers_schedule(rf_agent *a)
{
	pthread_once(&h_once, helpers_init);
	pthread_mutex_lock(&h_lock);
	a->helper_next = NULL;
	if (h_tail)
		h_tail->helper_next = a;
	else
		h_head = a;
	h_tail = a;
	bool wake = h_idle > 0;
	if (wake)
		pthread_cond_signal(&h_ready);
	pthread_mutex_unlock(&h_lock);
	if (wake)
		return;
	pthread_attr_t attr;
	pthread_t t;
	if (pthread_attr_init(&attr) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		int rc = pthread_create(&t, &attr, helper, NULL);
		pthread_attr_destroy(&attr);
		if (rc == 0)
			return;
	}
	/* No thread to be had: take the drain back (unless a helper got to it) and run it. */
	pthread_mutex_lock(&h_lock);
	rf_agent *prev = NULL, *cur = h_head;
	while (cur && cur != a)
		prev = cur, cur = cur->helper_next;
	if (cur) {
		if (prev)
			prev->helper_next = cur->helper_next;
		else
			h_head = cur->helper_next;
		if (h_tail == cur)
			h_tail = prev;
	}
	pthread_mutex_unlock(&h_lock);
	if (cur)
		agent_drain_run(a);
}
