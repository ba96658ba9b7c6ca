/* tests/io/fake_executor.c: a minimal stand-in for the executor (runtime/sched.h), so the
 * fiber paths of io/ can be tested on their own, against nothing but the documented
 * interface: one worker thread owning an rf_io, ucontext fibers, park/resume with
 * deadlines, sleeping in rf_io_poll and woken by rf_io_wake.
 *
 * Linked into test_io_fake_exec ahead of the library with --allow-multiple-definition,
 * so its rf_fiber_* and rf_sched_* win over the library's. Started by a constructor,
 * stopped by a destructor. Not built under sanitizers (ucontext switches are not
 * annotated here).
 *
 * Shared state: everything under `lock`, except cur and main_ctx (worker thread only).
 * A fiber is on at most one of: the ready queue, the parked list, running.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "io/backend.h"
#include "runtime/sched.h"
#include "runtime/wait.h"

struct rf_fiber {
	ucontext_t ctx;
	rf_fiber_fn fn;
	void *arg;
	struct rf_fiber *next, *prev; /* ready queue or parked list */
	bool (*commit)(void *);
	bool (*on_timeout)(void *);
	void *park_arg;
	uint64_t deadline;
	bool parked, done;
	char stack[128 * 1024];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct rf_fiber *ready_head, *ready_tail, *parked;
static rf_io *io;
static pthread_t worker;
static bool stop;
static ucontext_t main_ctx;
static struct rf_fiber *cur;
static _Thread_local bool on_worker;

static void push_ready(struct rf_fiber *f) /* lock held */
{
	f->next = NULL;
	if (ready_tail)
		ready_tail->next = f;
	else
		ready_head = f;
	ready_tail = f;
}

static void unpark(struct rf_fiber *f) /* lock held */
{
	if (f->prev)
		f->prev->next = f->next;
	else
		parked = f->next;
	if (f->next)
		f->next->prev = f->prev;
	f->parked = false;
	push_ready(f);
}

struct rf_fiber *rf_fiber_self(void)
{
	return on_worker ? cur : NULL;
}
int rf_sched_worker_self(void)
{
	return on_worker ? 0 : -1;
}
int rf_sched_workers(void)
{
	return 1;
}

static void trampoline(void)
{
	cur->fn(cur->arg);
	cur->done = true;
	swapcontext(&cur->ctx, &main_ctx);
}

int rf_fiber_spawn(rf_fiber_fn fn, void *arg, int w, void *bindings)
{
	struct rf_fiber *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fn = fn;
	f->arg = arg;
	getcontext(&f->ctx);
	f->ctx.uc_stack.ss_sp = f->stack;
	f->ctx.uc_stack.ss_size = sizeof(f->stack);
	f->ctx.uc_link = NULL;
	makecontext(&f->ctx, trampoline, 0);
	pthread_mutex_lock(&lock);
	push_ready(f);
	pthread_mutex_unlock(&lock);
	if (!on_worker)
		rf_io_wake(io);
	return 0;
}

void rf_fiber_park(bool (*commit)(void *), bool (*on_timeout)(void *), void *arg,
                   uint64_t deadline_ns)
{
	cur->commit = commit;
	cur->on_timeout = on_timeout;
	cur->park_arg = arg;
	cur->deadline = deadline_ns;
	swapcontext(&cur->ctx, &main_ctx);
}

void rf_fiber_resume(struct rf_fiber *f)
{
	pthread_mutex_lock(&lock);
	unpark(f);
	pthread_mutex_unlock(&lock);
	if (!on_worker)
		rf_io_wake(io);
}

void rf_fiber_yield(void)
{
	rf_fiber_park(NULL, NULL, NULL, RF_NO_DEADLINE);
}

/* After a fiber switched back: finish it, re-queue it, or park it. Worker only. */
static void settle(struct rf_fiber *f)
{
	if (f->done) {
		free(f);
		return;
	}
	pthread_mutex_lock(&lock);
	if (!f->commit) { /* yield */
		push_ready(f);
	} else {
		/* Listed before commit: a resume racing with it (from a pool thread) finds
		 * the fiber parked. */
		f->parked = true;
		f->prev = NULL;
		f->next = parked;
		if (parked)
			parked->prev = f;
		parked = f;
		pthread_mutex_unlock(&lock);
		bool sleep = f->commit(f->park_arg);
		pthread_mutex_lock(&lock);
		if (!sleep && f->parked)
			unpark(f);
	}
	pthread_mutex_unlock(&lock);
}

static void *worker_main(void *unused)
{
	on_worker = true;
	rf_io *mine;
	if (rf_io_create(&mine, 0))
		abort();
	__atomic_store_n(&io, mine, __ATOMIC_RELEASE);
	pthread_mutex_lock(&lock);
	for (;;) {
		struct rf_fiber *f = ready_head;
		if (f) {
			ready_head = f->next;
			if (!ready_head)
				ready_tail = NULL;
			pthread_mutex_unlock(&lock);
			cur = f;
			swapcontext(&main_ctx, &f->ctx);
			cur = NULL;
			settle(f);
			rf_io_poll(io, 0);
			pthread_mutex_lock(&lock);
			continue;
		}
		if (stop)
			break;
		/* Deadlines: each fires once; only this thread runs fibers, so a parked
		 * fiber cannot go away while the lock is dropped around on_timeout. */
		uint64_t next;
	rescan:
		next = RF_NO_DEADLINE;
		for (struct rf_fiber *p = parked; p; p = p->next) {
			if (p->deadline <= rf_now_ns()) {
				p->deadline = RF_NO_DEADLINE;
				pthread_mutex_unlock(&lock);
				bool fire = p->on_timeout(p->park_arg);
				pthread_mutex_lock(&lock);
				if (fire && p->parked)
					unpark(p);
				goto rescan;
			}
			if (p->deadline < next)
				next = p->deadline;
		}
		if (ready_head)
			continue;
		pthread_mutex_unlock(&lock);
		/* No sleeping flag: rf_fiber_resume and spawn always wake; a wake-up that
		 * lands before this poll makes it return at once. */
		rf_io_poll(io, next);
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	rf_io_destroy(io);
	return NULL;
}

__attribute__((constructor)) static void fake_start(void)
{
	const char *b = getenv("RF_IO_BACKEND");
	rf_io_choose(b && !strcmp(b, "epoll") ? RF_IO_EPOLL : RF_IO_AUTO);
	pthread_mutex_lock(&lock);
	stop = false;
	pthread_mutex_unlock(&lock);
	if (pthread_create(&worker, NULL, worker_main, NULL))
		abort();
	/* Wait until io exists, so spawn's wake-up has a target. */
	while (!__atomic_load_n(&io, __ATOMIC_ACQUIRE))
		sched_yield();
}

__attribute__((destructor)) static void fake_stop(void)
{
	pthread_mutex_lock(&lock);
	stop = true;
	pthread_mutex_unlock(&lock);
	rf_io_wake(io);
	pthread_join(worker, NULL);
}
