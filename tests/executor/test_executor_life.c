/* Executor life cycle: worker placement, start-up knobs, shutdown with parked fibers,
 * restart, shutdown hooks, the stall detector, stats, and a stack overflow caught in a
 * child process. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fiber_check.h"
#include "latch.h"
#include "numa/topology.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"

static const char *self_exe;

struct where {
	int cpu, worker, ncpus_allowed;
	latch *l;
};

static void where_fn(void *arg)
{
	struct where *w = arg;
	cpu_set_t set;
	CPU_ZERO(&set);
	pthread_getaffinity_np(pthread_self(), sizeof(set), &set);
	w->ncpus_allowed = CPU_COUNT(&set);
	w->cpu = sched_getcpu();
	w->worker = sched_worker_self();
	latch_down(w->l);
}

static void check_placement(int per_node)
{
	const topology *t = sched_topology();
	assert_non_null(t);
	int n = sched_workers();
	assert_int_equal(n, per_node ? per_node * t->nnodes : t->ncpus);
	struct where w[TOPO_MAX_CPUS];
	latch l;
	latch_init(&l, n);
	for (int i = 0; i < n; i++) {
		w[i] = (struct where){.l = &l};
		assert_int_equal(fiber_spawn(where_fn, &w[i], i, NULL), 0);
	}
	assert_int_equal(latch_wait(&l, WAIT_MS), 0);
	rf_stats *sp;
	assert_int_equal(rf_stats_new(&sp), 0);
	assert_int_equal(rf_stats_get(sp), 0);
	rf_stats st = *sp;
	assert_int_equal(st.running, 1);
	assert_int_equal(st.workers, n);
	assert_int_equal(st.nodes, t->nnodes);
	assert_true(st.io_backend == RF_IO_URING || st.io_backend == RF_IO_EPOLL);
	for (int i = 0; i < n; i++) {
		assert_int_equal(w[i].worker, i);
		assert_int_equal(w[i].ncpus_allowed, 1); /* pinned */
		assert_int_equal(w[i].cpu, st.executor[i].cpu);
		assert_int_equal(st.executor[i].node, topo_node_of_cpu(t, w[i].cpu));
		assert_true(st.executor[i].fibers_run >= 1);
		assert_true(st.executor[i].fibers_spawned >= 1);
	}
	/* workers fill the nodes in topology order */
	for (int i = 1; i < n; i++)
		assert_true(st.executor[i].node >= st.executor[i - 1].node);
	rf_stats_free(sp);
}

static void placement_default(void **state)
{
	assert_int_equal(sched_ensure(), 0);
	check_placement(0);
	rf_shutdown();
}

static void placement_two_nodes_and_per_node_knob(void **state)
{
	rf_config cfg;
	assert_int_equal(rf_config_default(&cfg), 0);
	cfg.topology = "0:0,1:1";
	cpu_set_t set;
	sched_getaffinity(0, sizeof(set), &set);
	if (!CPU_ISSET(0, &set) || !CPU_ISSET(1, &set))
		skip();
	assert_int_equal(rf_init(&cfg), 0);
	assert_int_equal(sched_topology()->nnodes, 2);
	check_placement(0);
	rf_shutdown();
	cfg.workers_per_node = 2;
	assert_int_equal(rf_init(&cfg), 0);
	check_placement(2);
	rf_shutdown();
}

static void bad_config(void **state)
{
	rf_config cfg;
	assert_int_equal(rf_config_default(&cfg), 0);
	cfg.stack_size = 0;
	assert_int_equal(rf_init(&cfg), RF_ECONFIG);
	assert_int_equal(rf_config_default(&cfg), 0);
	cfg.workers_per_node = -1;
	assert_int_equal(rf_init(&cfg), RF_ECONFIG);
	assert_int_equal(rf_config_default(&cfg), 0);
	cfg.topology = "0:0,0:1";
	assert_int_equal(rf_init(&cfg), RF_ETOPOLOGY);
	assert_int_equal(rf_config_default(&cfg), 0);
	assert_int_equal(rf_init(&cfg), 0);
	assert_int_equal(rf_init(&cfg), RF_ESTARTED);
	rf_shutdown();
	rf_shutdown(); /* stopped: a no-op */
}

/* --- shutdown with fibers parked, and restart ---------------------------------------- */

static _Atomic int unwound; /* fibers that saw RF_ESHUTDOWN and returned */

static void park_forever(void *arg)
{
	waiter w;
	waiter_init(&w);
	latch_down(arg);
	RF_CHECK(waiter_wait(&w, DEADLINE_NONE) == RF_ESHUTDOWN); /* nobody completes it */
	/* every later wait on the unwinding worker fails at once instead of parking */
	waiter_init(&w);
	RF_CHECK(waiter_wait(&w, DEADLINE_NONE) == RF_ESHUTDOWN);
	atomic_fetch_add(&unwound, 1);
}

static void sleep_long(void *arg)
{
	latch_down(arg);
	RF_CHECK(sched_sleep_until(time_now_ns() + 3600000000000u) == RF_ESHUTDOWN);
	atomic_fetch_add(&unwound, 1);
}

/* Never waits: rf_shutdown waits for it, so it stops once its worker unwinds. */
static void spin_yield(void *arg)
{
	latch_down(arg);
	while (!sched_cancelling())
		fiber_yield();
	atomic_fetch_add(&unwound, 1);
}

static void count_fn(void *arg)
{
	latch_down(arg);
}

/* Shutdown with parked fibers: each one's wait ends with RF_ESHUTDOWN and it returns
 * (its stack is freed only then); a restart runs new fibers on the same workers. */
static void shutdown_with_parked_fibers_then_restart(void **state)
{
	for (int round = 0; round < 3; round++) {
		enum { N = 300 / SCALE };
		latch l;
		latch_init(&l, 3 * N);
		atomic_store(&unwound, 0);
		for (int i = 0; i < N; i++) {
			assert_int_equal(fiber_spawn(park_forever, &l, SCHED_WORKER_ANY, NULL), 0);
			assert_int_equal(fiber_spawn(sleep_long, &l, SCHED_WORKER_ANY, NULL), 0);
			assert_int_equal(fiber_spawn(spin_yield, &l, SCHED_WORKER_ANY, NULL), 0);
		}
		assert_int_equal(latch_wait(&l, WAIT_MS), 0);
		uint64_t t0 = time_now_ns();
		if (round == 1) {
			/* the graceful form waits its timeout out, then cancels */
			assert_int_equal(rf_shutdown_timeout(50), -ETIMEDOUT);
			assert_true(time_now_ns() - t0 >= 50000000u);
		} else {
			rf_shutdown();
		}
		assert_true(time_now_ns() - t0 <
		            30000000000u); /* no hang; generous for sanitizers */
		assert_int_equal(atomic_load(&unwound), 3 * N);
		/* first use after shutdown starts it again */
		latch_init(&l, 1000);
		for (int i = 0; i < 1000; i++)
			assert_int_equal(fiber_spawn(count_fn, &l, SCHED_WORKER_ANY, NULL), 0);
		assert_int_equal(latch_wait(&l, WAIT_MS), 0);
		/* nothing parked: the graceful form returns as soon as they are done */
		assert_int_equal(rf_shutdown_timeout(WAIT_MS), 0);
	}
	assert_int_equal(rf_shutdown_timeout(-1), -EINVAL);
}

/* --- shutdown hooks run first, with the workers still up ----------------------------- */

static _Atomic int hook_ran;

static void hook_fiber(void *arg)
{
	sched_sleep_until(time_now_ns() + 10000000u); /* parks: the workers must still run */
	latch_down(arg);
}

static void hook(void)
{
	latch l;
	latch_init(&l, 1);
	if (fiber_spawn(hook_fiber, &l, SCHED_WORKER_ANY, NULL) == 0 &&
	    latch_wait(&l, WAIT_MS) == 0)
		atomic_fetch_add(&hook_ran, 1);
}

static void second_hook(void)
{
	atomic_fetch_add(&hook_ran, 10);
}

static void shutdown_hooks(void **state)
{
	assert_int_equal(sched_ensure(), 0);
	assert_int_equal(sched_on_shutdown(hook), 0);
	assert_int_equal(sched_on_shutdown(hook), 0); /* once only */
	assert_int_equal(sched_on_shutdown(second_hook), 0);
	rf_shutdown();
	assert_int_equal(atomic_load(&hook_ran), 11);
	/* after the workers stopped, spawns start a new runtime rather than fail */
	assert_int_equal(sched_ensure(), 0);
	rf_shutdown();
	assert_int_equal(atomic_load(&hook_ran), 22);
}

/* --- stall detector ------------------------------------------------------------------ */

static uint64_t cpu_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Burns 300 ms of CPU without parking (CPU time: a loaded machine cannot shorten it). */
static void busy_fn(void *arg)
{
	uint64_t until = cpu_now_ns() + 300000000u;
	while (cpu_now_ns() < until)
		;
	latch_down(arg);
}

static void stall_detected(void **state)
{
	rf_config cfg;
	assert_int_equal(rf_config_default(&cfg), 0);
	cfg.stall_ms = 50;
	assert_int_equal(rf_init(&cfg), 0);
	latch l;
	latch_init(&l, 1);
	assert_int_equal(fiber_spawn(busy_fn, &l, 0, NULL), 0);
	assert_int_equal(latch_wait(&l, WAIT_MS), 0);
	rf_stats *st;
	assert_int_equal(rf_stats_new(&st), 0);
	assert_int_equal(rf_stats_get(st), 0);
	assert_int_equal(st->executor[0].stalls, 1); /* reported once, not per sample */
	rf_stats_free(st);
	rf_shutdown();
}

/* --- stack overflow, in a child process ---------------------------------------------- */

static volatile int depth_limit = 1 << 30; /* opaque to the compiler: no "infinite" */

static int recurse(int depth)
{
	volatile char pad[512];
	pad[0] = (char)depth;
	if (depth >= depth_limit)
		return 0;
	return recurse(depth + 1) + pad[0];
}

static void overflow_fn(void *arg)
{
	recurse(0);
}

static int overflow_child(void)
{
	latch l;
	latch_init(&l, 1);
	if (fiber_spawn(overflow_fn, &l, SCHED_WORKER_ANY, NULL))
		return 2;
	latch_wait(&l, WAIT_MS);
	return 3; /* not reached: the process dies of SIGSEGV */
}

static void stack_overflow_is_named(void **state)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		execl(self_exe, self_exe, "--overflow-child", (char *)NULL);
		_exit(4);
	}
	close(fds[1]);
	char buf[8192];
	size_t len = 0;
	ssize_t n;
	while ((n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	print_message("child said: %s", buf);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
	assert_non_null(strstr(buf, "ringfold: fiber stack overflow"));
	assert_non_null(strstr(buf, "RF_STACK_SIZE"));
}

int main(int argc, char **argv)
{
	self_exe = "/proc/self/exe";
	if (argc > 1 && !strcmp(argv[1], "--overflow-child"))
		return overflow_child();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bad_config),
	    cmocka_unit_test(placement_default),
	    cmocka_unit_test(placement_two_nodes_and_per_node_knob),
	    cmocka_unit_test(shutdown_with_parked_fibers_then_restart),
	    cmocka_unit_test(shutdown_hooks),
	    cmocka_unit_test(stall_detected),
	    cmocka_unit_test(stack_overflow_is_named),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
