/* rf_stats: made on the heap and sized by the machine, filled without starting the
 * runtime, the parked gauge and node totals, deltas, JSON, RF_STATS_DUMP, and more
 * workers than any fixed table would hold, read from a fiber's stack. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fiber_check.h"
#include "latch.h"
#include "runtime/base/time.h"
#include "runtime/sched/sched.h"

static void bad_input(void **state)
{
	assert_int_equal(rf_stats_new(NULL), -EINVAL);
	assert_int_equal(rf_stats_get(NULL), -EINVAL);
	rf_stats fake = {0}; /* not made by rf_stats_new: size is 0 */
	assert_int_equal(rf_stats_get(&fake), -EINVAL);
	assert_int_equal(rf_stats_json(NULL, NULL, 0, NULL), -EINVAL);
	rf_stats *st;
	assert_int_equal(rf_stats_new(&st), 0);
	assert_int_equal(rf_stats_json(st, NULL, 10, NULL), -EINVAL);
	assert_int_equal(rf_stats_write_json(st, -1), -EINVAL);
	assert_int_equal(rf_stats_sub(st, NULL), -EINVAL);
	rf_stats_free(st);
	rf_stats_free(NULL);
}

static void does_not_start_the_runtime(void **state)
{
	rf_stats *st;
	assert_int_equal(rf_stats_new(&st), 0);
	assert_int_equal(rf_stats_get(st), 0);
	assert_int_equal(st->running, 0);
	assert_int_equal(st->workers, 0);
	assert_int_equal(st->io_backend, RF_IO_AUTO);
	assert_false(sched_running());
	rf_stats_free(st);
}

static uint64_t total_parked(rf_stats *st)
{
	assert_int_equal(rf_stats_get(st), 0);
	return st->total_executor.parked;
}

struct parker {
	waiter w;
	_Atomic int ready; /* w is set up (release; the main thread's acquire pairs) */
	latch *done;
};

static void park_fn(void *arg)
{
	struct parker *p = arg;
	waiter_init(&p->w);
	atomic_store_explicit(&p->ready, 1, memory_order_release);
	RF_CHECK(waiter_wait(&p->w, DEADLINE_NONE) == 0);
	latch_down(p->done);
}

/* K fibers parked on waiters: the gauge counts them, the delta counts their spawns and
 * parks, the node totals add up to the totals. */
static void parked_gauge_delta_and_node_totals(void **state)
{
	enum { K = 40 };
	assert_int_equal(sched_ensure(), 0);
	rf_stats *base, *st;
	assert_int_equal(rf_stats_new(&base), 0);
	assert_int_equal(rf_stats_new(&st), 0);
	assert_int_equal(rf_stats_get(base), 0);
	assert_int_equal(base->running, 1);
	uint64_t parked0 = base->total_executor.parked;
	latch done;
	latch_init(&done, K);
	static struct parker p[K];
	for (int i = 0; i < K; i++) {
		p[i].done = &done;
		assert_int_equal(fiber_spawn(park_fn, &p[i], SCHED_WORKER_ANY, NULL), 0);
	}
	uint64_t until = time_now_ns() + (uint64_t)WAIT_MS * 1000000u;
	while (total_parked(st) < parked0 + K && time_now_ns() < until)
		usleep(1000);
	assert_int_equal(st->total_executor.parked, parked0 + K);
	for (int i = 0; i < K; i++) {
		/* the gauge counts the parks, the flag publishes the waiter they park on */
		while (!atomic_load_explicit(&p[i].ready, memory_order_acquire) &&
		       time_now_ns() < until)
			usleep(100);
		assert_int_equal(atomic_load_explicit(&p[i].ready, memory_order_acquire), 1);
		assert_true(waiter_claim(&p[i].w));
		waiter_complete(&p[i].w);
	}
	assert_int_equal(latch_wait(&done, WAIT_MS), 0);
	until = time_now_ns() + (uint64_t)WAIT_MS * 1000000u;
	while (total_parked(st) > parked0 && time_now_ns() < until)
		usleep(1000);
	assert_int_equal(st->total_executor.parked, parked0);

	uint64_t sum_run = 0, sum_parks = 0;
	int workers = 0;
	for (int k = 0; k < st->nodes; k++) {
		assert_int_equal(st->node[k].node, k);
		sum_run += st->node[k].executor.fibers_run;
		sum_parks += st->node[k].executor.parks;
		workers += st->node[k].workers;
	}
	assert_int_equal(workers, st->workers);
	assert_int_equal(sum_run, st->total_executor.fibers_run);
	assert_int_equal(sum_parks, st->total_executor.parks);

	assert_int_equal(rf_stats_sub(st, base), 0);
	assert_int_equal(st->total_executor.fibers_spawned, K);
	assert_true(st->total_executor.parks >= K);
	assert_true(st->total_executor.fibers_run >= 2 * K); /* first run and after the wake */
	rf_stats_free(base);
	rf_stats_free(st);
	rf_shutdown();
}

static void json_fits_or_says_how_much(void **state)
{
	assert_int_equal(sched_ensure(), 0);
	rf_stats *st;
	assert_int_equal(rf_stats_new(&st), 0);
	assert_int_equal(rf_stats_get(st), 0);
	size_t need = 0, len = 0;
	char small[16];
	assert_int_equal(rf_stats_json(st, small, sizeof(small), &need), -ENOSPC);
	assert_true(need > sizeof(small));
	char *buf = malloc(need + 1);
	assert_int_equal(rf_stats_json(st, buf, need + 1, &len), 0);
	assert_int_equal(len, need);
	assert_int_equal(strlen(buf), len);
	assert_true(buf[0] == '{' && buf[len - 1] == '}');
	char want[64];
	snprintf(want, sizeof(want), "\"workers\":%d,", st->workers);
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, "\"running\":true"));
	/* the fd form writes the same text and a newline */
	FILE *tmp = tmpfile();
	assert_int_equal(rf_stats_write_json(st, fileno(tmp)), 0);
	rewind(tmp);
	char *back = calloc(1, len + 2);
	assert_int_equal(fread(back, 1, len + 1, tmp), len + 1);
	assert_memory_equal(back, buf, len);
	assert_int_equal(back[len], '\n');
	fclose(tmp);
	free(back);
	free(buf);
	rf_stats_free(st);
	rf_shutdown();
}

/* More executor workers than the old fixed table's 256, read from a fiber (64 KiB
 * stack): the snapshot lives on the heap and grows to fit. */
struct big {
	int workers;
	int rc;
	latch *done;
};

static void stats_on_fiber(void *arg)
{
	struct big *b = arg;
	rf_stats *st;
	b->rc = rf_stats_new(&st);
	if (!b->rc)
		b->rc = rf_stats_get(st);
	if (!b->rc) {
		b->workers = st->workers;
		for (int i = 0; i < st->workers; i++)
			RF_CHECK(st->executor[i].node == (i < st->workers / 2 ? 0 : 1));
	}
	rf_stats_free(st);
	latch_down(b->done);
}

static void more_workers_than_256(void **state)
{
	/* it sets every knob itself: the @epoll and @2node runs would repeat it */
	if (getenv("RF_IO_BACKEND") || getenv("RF_TOPOLOGY"))
		skip();
	rf_config cfg;
	assert_int_equal(rf_config_default(&cfg), 0);
	cfg.topology = "0:0,1:1";
	cfg.workers_per_node = 130 / SCALE;
	cfg.io_backend = RF_IO_EPOLL;
	assert_int_equal(rf_init(&cfg), 0);
	latch done;
	latch_init(&done, 1);
	struct big b = {.rc = 1, .done = &done};
	assert_int_equal(fiber_spawn(stats_on_fiber, &b, 0, NULL), 0);
	assert_int_equal(latch_wait(&done, WAIT_MS), 0);
	assert_int_equal(b.rc, 0);
	assert_int_equal(b.workers, 2 * (130 / SCALE));
	rf_shutdown();
}

/* RF_STATS_DUMP in a child: written at rf_shutdown, and at exit when the program never
 * shut the runtime down. */
static void dump_child(int shut)
{
	assert_int_equal(sched_ensure(), 0);
	if (shut)
		rf_shutdown();
	exit(0);
}

static void check_dump(const char *arg)
{
	char path[] = "/tmp/rf_stats_dumpXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	pid_t pid = fork();
	if (pid == 0) {
		setenv("RF_STATS_DUMP", path, 1);
		execl("/proc/self/exe", "test_stats", arg, (char *)NULL);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	char buf[1 << 16];
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	unlink(path);
	assert_true(n > 2 && buf[0] == '{' && buf[n - 1] == '\n');
	assert_non_null(strstr(buf, "\"running\":true"));
	assert_null(strstr(buf, "\"workers\":0,"));
}

static void dump_at_shutdown_and_at_exit(void **state)
{
	check_dump("--dump-shutdown");
	check_dump("--dump-exit");
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--dump-shutdown"))
		dump_child(1);
	if (argc > 1 && !strcmp(argv[1], "--dump-exit"))
		dump_child(0);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bad_input),
	    cmocka_unit_test(does_not_start_the_runtime),
	    cmocka_unit_test(parked_gauge_delta_and_node_totals),
	    cmocka_unit_test(json_fits_or_says_how_much),
	    cmocka_unit_test(more_workers_than_256),
	    cmocka_unit_test(dump_at_shutdown_and_at_exit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
