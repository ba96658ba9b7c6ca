/* perf/executor/bench_shutdown.c: how long rf_shutdown takes with many fibers parked.
 *
 *   shutdown_10k_parked  10,000 futures parked in equal shares on channel takes, a
 *                        promise deref, a lock, a 1 h sleep and a pipe read; the time
 *                        of rf_shutdown, which cancels each wait (RF_ESHUTDOWN) and
 *                        waits for every fiber to return. Afterwards every future must
 *                        be realized with RF_ESHUTDOWN (else the binary aborts).
 *                        ns_per_op = the shutdown's wall time.
 *                        | pthread: 10,000 threads (64 KiB stacks) blocked in the same
 *                          shares on a condvar, a condvar, a semaphore held at 0 (a
 *                          mutex wait is no cancellation point), a nanosleep and a pipe
 *                          read, stopped by pthread_cancel and joined
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "ringfold/chan.h"
#include "ringfold/future.h"
#include "ringfold/io.h"
#include "ringfold/lock.h"
#include "ringfold/promise.h"
#include "ringfold/runtime.h"

#define N 10000

static struct {
	rf_chan *ch[4]; /* 500 takes each: under the 1,024 pending takes a channel allows */
	rf_promise *p;
	rf_lock *lock;
	int pipe[2];
	_Atomic int entered;
} g;

static int parked(rf_val i, rf_val *out)
{
	atomic_fetch_add(&g.entered, 1);
	char c;
	switch (i % 5) {
	case 0:
		return rf_chan_take(g.ch[i % 4], out);
	case 1:
		return rf_promise_deref(g.p, out);
	case 2: {
		int rc = rf_lock_lock(g.lock);
		if (rc == 0)
			rf_lock_unlock(g.lock);
		return rc;
	}
	case 3:
		return rf_sleep_ms(3600000);
	default:
		return (int)rf_io_read(g.pipe[0], &c, 1);
	}
}

static void wait_entered(int n)
{
	while (atomic_load(&g.entered) < n) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	struct timespec ts = {0, 50000000}; /* let the last ones park */
	nanosleep(&ts, NULL);
}

static uint64_t rf_shutdown_parked(uint64_t ops, void *arg)
{
	static rf_future *fs[N];
	atomic_store(&g.entered, 0);
	for (int i = 0; i < 4; i++)
		if (rf_chan_new(&g.ch[i]))
			abort();
	if (rf_promise_new(&g.p) || rf_lock_new(&g.lock) || pipe(g.pipe) || rf_lock_lock(g.lock))
		abort();
	for (int i = 0; i < N; i++)
		if (rf_future_call(parked, i, &fs[i]))
			abort();
	wait_entered(N);
	uint64_t t0 = bench_now_ns();
	rf_shutdown();
	uint64_t dt = bench_now_ns() - t0;
	for (int i = 0; i < N; i++) {
		rf_val v;
		bool realized = rf_future_realized(fs[i]);
		int rc = realized ? rf_future_deref(fs[i], &v) : 0;
		if (!realized || rc != RF_ESHUTDOWN) {
			fprintf(stderr,
			        "shutdown_10k_parked: future %d (kind %d) realized %d with %d, not "
			        "RF_ESHUTDOWN\n",
			        i, i % 5, realized, rc);
			abort();
		}
		rf_future_free(fs[i]);
	}
	rf_lock_unlock(g.lock);
	rf_lock_free(g.lock);
	rf_promise_free(g.p);
	for (int i = 0; i < 4; i++)
		rf_chan_release(g.ch[i]);
	close(g.pipe[0]);
	close(g.pipe[1]);
	return dt;
}

static pthread_mutex_t pm = PTHREAD_MUTEX_INITIALIZER;
static sem_t held;
static pthread_cond_t pc = PTHREAD_COND_INITIALIZER;

static void unlock_pm(void *m)
{
	pthread_mutex_unlock(m);
}

static void *pthread_parked(void *arg)
{
	int kind = (int)(intptr_t)arg;
	char c;
	atomic_fetch_add(&g.entered, 1);
	switch (kind) {
	case 0:
	case 1:
		pthread_mutex_lock(&pm);
		pthread_cleanup_push(unlock_pm, &pm);
		for (;;)
			pthread_cond_wait(&pc, &pm);
		pthread_cleanup_pop(1);
		break;
	case 2:
		sem_wait(&held); /* a lock nobody releases; unlike a mutex, a cancellation point */
		break;
	case 3: {
		struct timespec ts = {3600, 0};
		nanosleep(&ts, NULL);
		break;
	}
	default:
		(void)read(g.pipe[0], &c, 1);
	}
	return NULL;
}

static uint64_t pthread_shutdown_parked(uint64_t ops, void *arg)
{
	static pthread_t ts[N];
	atomic_store(&g.entered, 0);
	if (pipe(g.pipe) || sem_init(&held, 0, 0))
		abort();
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 65536);
	int n = 0;
	for (; n < N; n++)
		if (pthread_create(&ts[n], &a, pthread_parked, (void *)(intptr_t)(n % 5)))
			break;
	pthread_attr_destroy(&a);
	wait_entered(n);
	uint64_t t0 = bench_now_ns();
	for (int i = 0; i < n; i++)
		pthread_cancel(ts[i]);
	for (int i = 0; i < n; i++)
		pthread_join(ts[i], NULL);
	uint64_t dt = bench_now_ns() - t0;
	sem_destroy(&held);
	close(g.pipe[0]);
	close(g.pipe[1]);
	if (n < N)
		fprintf(stderr, "shutdown_10k_parked pthread: only %d threads\n", n);
	return dt;
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	if (bench_wanted("shutdown_10k_parked")) {
		bench_run("shutdown_10k_parked", "ringfold", 1, rf_shutdown_parked, NULL);
		bench_run("shutdown_10k_parked", "pthread", 1, pthread_shutdown_parked, NULL);
	}
	return 0;
}
