/* perf/agent/bench_agent.c: agents beside the peers a C programmer would use instead.
 *
 * agent_send_10x1e6: the tutorial's ten agents summing 1e6 numbers sent round-robin from
 *   one thread, timed from the first send until all ten have caught up (await).
 *   Peer `mutex_condvar_pool`: a mutex-guarded queue per agent, drained one agent at a
 *   time by a pool of one thread per CPU fed through a mutex+condvar run queue (the
 *   agent is queued on the pool when a send finds it idle, like ours).
 * agent_send_via_10x1e6: the same through rf_agent_send_via to an executor of one OS
 *   thread per CPU (Clojure's send-via), beside the same `mutex_condvar_pool` peer, whose
 *   pool is that: one thread per CPU.
 * agent_sendoff_10k_sleep: 10,000 agents, each sent one action that sleeps 100 ms;
 *   timed until all have run (ns_per_op = total / 10,000; the target is 150 ms in all).
 *   Peer `thread_per_action`: one thread per blocking action (the JVM's send-off
 *   model), each sleeping 100 ms, all joined.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "perf/harness.h"
#include "ringfold.h"
#include "runtime/sched/wait.h"

enum { AGENTS = 10, SLEEPERS = 10000 };

/* ---- agent_send_10x1e6, ringfold ---- */

/* arg: NULL sends to fibers; an rf_executor * sends through it (send-via). */
static uint64_t rf_send_10x(uint64_t ops, void *arg)
{
	rf_executor *ex = arg;
	rf_agent *sums[AGENTS];
	for (int i = 0; i < AGENTS; i++)
		if (rf_agent_new(0, NULL, &sums[i]))
			abort();
	uint64_t t0 = bench_now_ns();
	for (uint64_t x = 0; x < ops; x++)
		if (ex ? rf_agent_send_via(sums[x % AGENTS], ex, rf_add, (rf_val)x)
		       : rf_agent_send(sums[x % AGENTS], rf_add, (rf_val)x))
			abort();
	if (rf_agent_await(sums, AGENTS))
		abort();
	uint64_t t = bench_now_ns() - t0;
	rf_val total = 0, v;
	for (int i = 0; i < AGENTS; i++) {
		rf_agent_deref(sums[i], &v);
		total += v;
		rf_agent_free(sums[i]);
	}
	if (total != (rf_val)(ops * (ops - 1) / 2))
		abort();
	return t;
}

/* ---- agent_send_10x1e6, peer: mutex+condvar queue per agent, thread pool ---- */

struct peer_node {
	struct peer_node *next;
	rf_update_fn fn;
	rf_val arg;
};

struct peer_agent {
	pthread_mutex_t lock;
	struct peer_node *head, *tail;
	bool scheduled; /* under lock: queued on the pool or being drained */
	rf_val value;   /* drainer only */
	uint64_t done;  /* under lock */
	pthread_cond_t idle;
	struct peer_agent *run_next; /* under pool.lock */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct peer_agent *head, *tail;
	bool stop;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, false};

static void pool_push(struct peer_agent *a)
{
	pthread_mutex_lock(&pool.lock);
	a->run_next = NULL;
	if (pool.tail)
		pool.tail->run_next = a;
	else
		pool.head = a;
	pool.tail = a;
	pthread_cond_signal(&pool.ready);
	pthread_mutex_unlock(&pool.lock);
}

static void *pool_worker(void *unused)
{
	for (;;) {
		pthread_mutex_lock(&pool.lock);
		while (!pool.head && !pool.stop)
			pthread_cond_wait(&pool.ready, &pool.lock);
		struct peer_agent *a = pool.head;
		if (!a) {
			pthread_mutex_unlock(&pool.lock);
			return NULL;
		}
		pool.head = a->run_next;
		if (!pool.head)
			pool.tail = NULL;
		pthread_mutex_unlock(&pool.lock);

		pthread_mutex_lock(&a->lock); /* take the whole batch */
		struct peer_node *n = a->head;
		a->head = a->tail = NULL;
		pthread_mutex_unlock(&a->lock);
		uint64_t ran = 0;
		while (n) {
			struct peer_node *next = n->next;
			n->fn(a->value, n->arg, &a->value);
			free(n);
			ran++;
			n = next;
		}
		pthread_mutex_lock(&a->lock);
		a->done += ran;
		bool more = a->head != NULL;
		a->scheduled = more;
		if (!more)
			pthread_cond_broadcast(&a->idle);
		pthread_mutex_unlock(&a->lock);
		if (more)
			pool_push(a);
	}
}

static void peer_send(struct peer_agent *a, rf_update_fn fn, rf_val arg)
{
	struct peer_node *n = malloc(sizeof(*n));
	if (!n)
		abort();
	n->next = NULL;
	n->fn = fn;
	n->arg = arg;
	pthread_mutex_lock(&a->lock);
	if (a->tail)
		a->tail->next = n;
	else
		a->head = n;
	a->tail = n;
	bool schedule = !a->scheduled;
	a->scheduled = true;
	pthread_mutex_unlock(&a->lock);
	if (schedule)
		pool_push(a);
}

static uint64_t peer_send_10x(uint64_t ops, void *arg)
{
	int nthreads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t threads[256];
	if (nthreads > 256)
		nthreads = 256;
	pool.stop = false;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&threads[i], NULL, pool_worker, NULL);
	struct peer_agent sums[AGENTS];
	for (int i = 0; i < AGENTS; i++) {
		sums[i] = (struct peer_agent){.head = NULL};
		pthread_mutex_init(&sums[i].lock, NULL);
		pthread_cond_init(&sums[i].idle, NULL);
	}
	uint64_t t0 = bench_now_ns();
	for (uint64_t x = 0; x < ops; x++)
		peer_send(&sums[x % AGENTS], rf_add, (rf_val)x);
	for (int i = 0; i < AGENTS; i++) { /* await: every send has run */
		uint64_t expect = ops / AGENTS + ((uint64_t)i < ops % AGENTS);
		pthread_mutex_lock(&sums[i].lock);
		while (sums[i].done < expect)
			pthread_cond_wait(&sums[i].idle, &sums[i].lock);
		pthread_mutex_unlock(&sums[i].lock);
	}
	uint64_t t = bench_now_ns() - t0;
	pthread_mutex_lock(&pool.lock);
	pool.stop = true;
	pthread_cond_broadcast(&pool.ready);
	pthread_mutex_unlock(&pool.lock);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	rf_val total = 0;
	for (int i = 0; i < AGENTS; i++)
		total += sums[i].value;
	if (total != (rf_val)(ops * (ops - 1) / 2))
		abort();
	return t;
}

/* ---- agent_sendoff_10k_sleep ---- */

static int sleep_100ms(rf_val old, rf_val arg, rf_val *out)
{
	sched_sleep_until(time_now_ns() + 100000000u);
	*out = old + 1;
	return 0;
}

static uint64_t rf_sendoff_sleep(uint64_t ops, void *arg)
{
	rf_agent **agents = calloc(ops, sizeof(*agents));
	for (uint64_t i = 0; i < ops; i++)
		if (rf_agent_new(0, NULL, &agents[i]))
			abort();
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++)
		if (rf_agent_send_off(agents[i], sleep_100ms, 0))
			abort();
	if (rf_agent_await(agents, ops))
		abort();
	uint64_t t = bench_now_ns() - t0;
	for (uint64_t i = 0; i < ops; i++) {
		rf_val v;
		rf_agent_deref(agents[i], &v);
		if (v != 1)
			abort();
		rf_agent_free(agents[i]);
	}
	free(agents);
	return t;
}

static void *sleeper(void *unused)
{
	struct timespec ts = {0, 100000000};
	nanosleep(&ts, NULL);
	return NULL;
}

static uint64_t peer_thread_per_action(uint64_t ops, void *arg)
{
	pthread_t *t = calloc(ops, sizeof(*t));
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++)
		if (pthread_create(&t[i], &attr, sleeper, NULL))
			abort();
	for (uint64_t i = 0; i < ops; i++)
		pthread_join(t[i], NULL);
	uint64_t el = bench_now_ns() - t0;
	pthread_attr_destroy(&attr);
	free(t);
	return el;
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	if (bench_wanted("agent_send_10x1e6")) {
		bench_run("agent_send_10x1e6", "ringfold", 1000000, rf_send_10x, NULL);
		bench_run("agent_send_10x1e6", "mutex_condvar_pool", 1000000, peer_send_10x, NULL);
	}
	if (bench_wanted("agent_send_via_10x1e6")) {
		rf_executor *ex;
		if (rf_executor_new((int)sysconf(_SC_NPROCESSORS_ONLN), &ex))
			abort();
		bench_run("agent_send_via_10x1e6", "ringfold", 1000000, rf_send_10x, ex);
		bench_run("agent_send_via_10x1e6", "mutex_condvar_pool", 1000000, peer_send_10x,
		          NULL);
		rf_executor_free(ex);
	}
	if (bench_wanted("agent_sendoff_10k_sleep")) {
		bench_run("agent_sendoff_10k_sleep", "ringfold", SLEEPERS, rf_sendoff_sleep, NULL);
		bench_run("agent_sendoff_10k_sleep", "thread_per_action", SLEEPERS,
		          peer_thread_per_action, NULL);
	}
	rf_shutdown();
	return 0;
}
