/* rf_dump, the deadlock report, the dump signal and stall backtraces. The reports go to
 * stderr of a child process, which the parent reads back. */
#include <fcntl.h>
#include <pthread.h>
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
#include "ringfold.h"
#include "runtime/base/time.h"
#include "runtime/sched/sched.h"

/* --- children ---------------------------------------------------------------------- */

/* Named and exported (-rdynamic): the reports should show these names. */
int dump_test_waits_on_chan(rf_val c, rf_val *out)
{
	rf_val v;
	return rf_chan_take(rf_to_ptr(c), &v);
}

int dump_test_sleeps(rf_val ms, rf_val *out)
{
	return rf_sleep_ms(ms);
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Spins for ms of this thread's CPU time (the stall detector's measure: on a loaded
 * machine wall time would say little), bounded by a minute of wall time. */
int dump_test_spins(rf_val ms, rf_val *out)
{
	uint64_t until = cpu_ns() + (uint64_t)ms * 1000000u;
	uint64_t wall = time_now_ns() + 60000000000u;
	while (cpu_ns() < until && time_now_ns() < wall)
		;
	return 0;
}

static rf_chan *go(rf_body_fn fn, rf_val arg)
{
	rf_chan *r;
	if (rf_go(fn, arg, &r) < 0)
		exit(3);
	return r;
}

/* Every fiber and the main thread wait on channels nobody will put to. */
static void child_deadlock(void)
{
	rf_chan *a, *b;
	if (rf_chan_new(&a) < 0 || rf_chan_new(&b) < 0)
		exit(3);
	go(dump_test_waits_on_chan, rf_from_ptr(a));
	rf_val v;
	rf_chan_take(b, &v); /* never returns */
	exit(4);
}

/* The main thread waits on a channel a fiber puts to after sleeping: no deadlock. */
int dump_test_sleep_then_put(rf_val c, rf_val *out)
{
	rf_sleep_ms(1500);
	return rf_chan_put(rf_to_ptr(c), 7);
}

static void child_slow_but_alive(void)
{
	rf_chan *c;
	if (rf_chan_new(&c) < 0)
		exit(3);
	go(dump_test_sleep_then_put, rf_from_ptr(c));
	rf_val v;
	exit(rf_chan_take(c, &v) == 0 && v == 7 ? 0 : 5);
}

/* Two plain threads hand a turn back and forth through promises for 2 s, each turn
 * after 10 ms of work outside ringfold, so one of them is nearly always asleep in a
 * wait; no fiber runs. Their waits end all the time: no deadlock. */
enum { TURNS = 200 };
static rf_promise *turn[TURNS + 1];

static void *pong_thread(void *arg)
{
	for (int i = 1; i <= TURNS; i += 2) {
		rf_val v;
		if (rf_deref(turn[i - 1], &v) < 0)
			exit(5);
		usleep(10000);
		rf_promise_deliver(turn[i], i);
	}
	return NULL;
}

static void child_threads_pingpong(void)
{
	rf_config cfg; /* the runtime runs, and so does its deadlock report */
	if (rf_config_default(&cfg) < 0 || rf_init(&cfg) < 0)
		exit(3);
	for (int i = 0; i <= TURNS; i++)
		if (rf_promise_new(&turn[i]) < 0)
			exit(3);
	pthread_t t;
	if (pthread_create(&t, NULL, pong_thread, NULL))
		exit(3);
	for (int i = 0; i <= TURNS; i += 2) {
		usleep(10000);
		rf_promise_deliver(turn[i], i);
		rf_val v;
		if (i < TURNS && rf_deref(turn[i + 1], &v) < 0)
			exit(5);
	}
	pthread_join(t, NULL);
	exit(0);
}

static void child_stall(void)
{
	rf_config cfg;
	if (rf_config_default(&cfg) < 0)
		exit(3);
	cfg.stall_ms = 50;
	if (rf_init(&cfg) < 0)
		exit(3);
	rf_chan *r = go(dump_test_spins, 400);
	rf_val v;
	rf_chan_take(r, &v);
	rf_shutdown();
	exit(0);
}

/* A parked fiber, then the dump signal to itself; the monitor dumps to stderr. */
static void child_signal(void)
{
	rf_chan *a;
	if (rf_chan_new(&a) < 0)
		exit(3);
	go(dump_test_waits_on_chan, rf_from_ptr(a));
	/* the dump must find the fiber parked: wait for the gauge, not for luck */
	rf_stats *st;
	if (rf_stats_new(&st) < 0)
		exit(3);
	for (int tries = 0; rf_stats_get(st) == 0 && st->total_executor.parked == 0; tries++) {
		if (tries == 30000)
			exit(6);
		rf_sleep_ms(1);
	}
	rf_stats_free(st);
	raise(SIGUSR2);
	rf_sleep_ms(30000); /* the parent kills us once it saw the dump */
	exit(0);
}

/* --- the parent's side ------------------------------------------------------------- */

typedef struct child {
	pid_t pid;
	char path[64];
} child;

static child spawn_child(const char *mode, const char *env1, const char *env2)
{
	child c;
	strcpy(c.path, "/tmp/rf_dump_testXXXXXX");
	int fd = mkstemp(c.path);
	assert_true(fd >= 0);
	c.pid = fork();
	assert_true(c.pid >= 0);
	if (c.pid == 0) {
		dup2(fd, 2);
		if (env1)
			putenv((char *)env1);
		if (env2)
			putenv((char *)env2);
		execl("/proc/self/exe", "test_dump", mode, (char *)NULL);
		_exit(127);
	}
	close(fd);
	return c;
}

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	return buf;
}

/* Wait until the child's stderr holds `text` (true) or ms passed (false). */
static bool wait_text(child *c, const char *text, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		if (strstr(slurp(c->path), text))
			return true;
		usleep(10000);
	}
	return strstr(slurp(c->path), text) != NULL;
}

static int end_child(child *c, bool kill_it)
{
	if (kill_it)
		kill(c->pid, SIGKILL);
	int status;
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void deadlock_reported_once_with_the_dump(void **state)
{
	child c = spawn_child("--deadlock", NULL, NULL);
	bool seen = wait_text(&c, "all go processes are asleep", WAIT_MS);
	/* the dump follows the line: wait for its fiber line, then for more reports */
	bool dumped = seen && wait_text(&c, "dump_test_waits_on_chan", 5000);
	usleep(1500000);
	end_child(&c, true);
	char *err = slurp(c.path);
	unlink(c.path);
	if (!seen || !dumped)
		fprintf(stderr, "child stderr:\n%s\n", err);
	assert_true(seen);
	assert_true(dumped);
	assert_int_equal(count(err, "all go processes are asleep"), 1);
	assert_non_null(strstr(err, "parked on channel 0x"));
	assert_non_null(strstr(err, "plain threads waiting"));
}

static void deadlock_report_can_be_turned_off(void **state)
{
	child c = spawn_child("--deadlock", "RF_DEADLOCK_REPORT=0", NULL);
	usleep(2000000); /* reported within about 1 s when on (see the test above) */
	end_child(&c, true);
	char *err = slurp(c.path);
	unlink(c.path);
	assert_null(strstr(err, "asleep"));
}

/* The child in `mode` exits 0 by itself, and no deadlock was reported meanwhile. */
static void assert_ends_without_deadlock(const char *mode)
{
	child c = spawn_child(mode, NULL, NULL);
	assert_int_equal(end_child(&c, false), 0);
	char *err = slurp(c.path);
	unlink(c.path);
	assert_null(strstr(err, "asleep"));
}

static void a_sleeping_fiber_is_no_deadlock(void **state)
{
	assert_ends_without_deadlock("--alive");
}

static void plain_threads_waking_each_other_are_no_deadlock(void **state)
{
	assert_ends_without_deadlock("--threads");
}

static void stall_report_names_the_entry_and_backtrace(void **state)
{
	child c = spawn_child("--stall", NULL, NULL);
	assert_int_equal(end_child(&c, false), 0);
	char *err = slurp(c.path);
	unlink(c.path);
	if (!strstr(err, "backtrace of the stalled fiber"))
		fprintf(stderr, "child stderr:\n%s\n", err);
	assert_non_null(strstr(err, "ringfold: stall: fiber"));
	assert_non_null(strstr(err, "stall: entry"));
	char *bt = strstr(err, "backtrace of the stalled fiber");
	assert_non_null(bt);
	/* the entry line names the go block's body; the backtrace passes through it */
	assert_non_null(strstr(err, "(dump_test_spins+"));
	assert_non_null(strstr(bt, "dump_test_spins"));
}

static void dump_signal_prints_every_fiber(void **state)
{
	child c = spawn_child("--signal", "RF_DUMP_SIGNAL=SIGUSR2", NULL);
	bool seen = wait_text(&c, "dump_test_waits_on_chan", WAIT_MS);
	end_child(&c, true);
	char *err = slurp(c.path);
	unlink(c.path);
	if (!seen)
		fprintf(stderr, "child stderr:\n%s\n", err);
	assert_true(seen);
	assert_non_null(strstr(err, "ringfold: dump on signal:"));
	assert_non_null(strstr(err, "parked on channel 0x"));
}

/* --- rf_dump in process ------------------------------------------------------------ */

static void dump_bad_input_and_not_running(void **state)
{
	assert_int_equal(rf_dump(-1), -EINVAL);
	FILE *f = tmpfile();
	assert_int_equal(rf_dump(fileno(f)), 0);
	assert_false(sched_running());
	fclose(f);
}

static void dump_lists_parked_fibers(void **state)
{
	rf_chan *a;
	assert_int_equal(rf_chan_new(&a), 0);
	rf_chan *r1 = go(dump_test_waits_on_chan, rf_from_ptr(a));
	rf_chan *r2 = go(dump_test_sleeps, 60000);
	char want[64];
	snprintf(want, sizeof(want), "parked on channel %p", (void *)a);
	FILE *f = tmpfile();
	char buf[1 << 14];
	size_t n = 0;
	uint64_t until = time_now_ns() + (uint64_t)WAIT_MS * 1000000u;
	do { /* both go blocks reach their park soon after they start */
		assert_int_equal(ftruncate(fileno(f), 0), 0);
		assert_int_equal(lseek(fileno(f), 0, SEEK_SET), 0);
		assert_int_equal(rf_dump(fileno(f)), 0);
		rewind(f);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = 0;
	} while ((!strstr(buf, want) || !strstr(buf, "on timer")) && time_now_ns() < until &&
	         !usleep(1000));
	fclose(f);
	assert_non_null(strstr(buf, "ringfold: dump:"));
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, "entry dump_test_waits_on_chan+"));
	assert_non_null(strstr(buf, "on timer (with a deadline)"));
	assert_non_null(strstr(buf, "entry dump_test_sleeps+"));
	rf_chan_close(a);
	rf_val v;
	rf_chan_take(r1, &v);
	rf_chan_release(r1);
	rf_chan_release(r2); /* abandoned at shutdown */
	rf_chan_release(a);
	rf_shutdown();
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--deadlock"))
		child_deadlock();
	if (argc > 1 && !strcmp(argv[1], "--alive"))
		child_slow_but_alive();
	if (argc > 1 && !strcmp(argv[1], "--threads"))
		child_threads_pingpong();
	if (argc > 1 && !strcmp(argv[1], "--stall"))
		child_stall();
	if (argc > 1 && !strcmp(argv[1], "--signal"))
		child_signal();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dump_bad_input_and_not_running),
	    cmocka_unit_test(dump_lists_parked_fibers),
	    cmocka_unit_test(deadlock_reported_once_with_the_dump),
	    cmocka_unit_test(deadlock_report_can_be_turned_off),
	    cmocka_unit_test(a_sleeping_fiber_is_no_deadlock),
	    cmocka_unit_test(plain_threads_waking_each_other_are_no_deadlock),
	    cmocka_unit_test(stall_report_names_the_entry_and_backtrace),
	    cmocka_unit_test(dump_signal_prints_every_fiber),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
