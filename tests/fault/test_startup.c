/* Start-up faults: a passing io_uring probe failure does not pin the process to epoll;
 * a lasting one does; with RLIMIT_NOFILE too low to start, rf_init returns the errno
 * that stopped it and names what failed on stderr (in a child, so the limit stays
 * there). */
#include <errno.h>
#include <liburing.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/backend.h"
#include "ringfold/runtime.h"

/* Whether io_uring works here at all (tests/run also runs under a filter denying it). */
static bool uring_works(void)
{
	struct io_uring ring;
	if (io_uring_queue_init(2, &ring, 0) < 0)
		return false;
	io_uring_queue_exit(&ring);
	return true;
}

static int start_kind(void)
{
	rf_config cfg;
	assert_int_equal(rf_config_default(&cfg), 0);
	cfg.io_backend = RF_IO_AUTO;
	assert_int_equal(rf_init(&cfg), 0);
	rf_stats *st;
	assert_int_equal(rf_stats_new(&st), 0);
	assert_int_equal(rf_stats_get(st), 0);
	int kind = st->io_backend;
	rf_stats_free(st);
	rf_shutdown();
	return kind;
}

static void transient_probe_failure_is_retried(void **s)
{
	int want = uring_works() ? RF_IO_URING : RF_IO_EPOLL;
	io_test_fail_setup(-ENOMEM); /* one probe fails for want of memory */
	assert_int_equal(start_kind(), RF_IO_EPOLL);
	assert_int_equal(start_kind(), want); /* probed again: io_uring is back */
	io_test_fail_setup(-EMFILE);
	assert_int_equal(start_kind(), RF_IO_EPOLL);
	assert_int_equal(start_kind(), want);
}

static void lasting_probe_failure_sticks(void **s)
{
	io_test_fail_setup(-EPERM); /* a seccomp filter: not probed again */
	assert_int_equal(start_kind(), RF_IO_EPOLL);
	assert_int_equal(start_kind(), RF_IO_EPOLL);
	io_test_fail_setup(0);
}

/* In a child with RLIMIT_NOFILE = n: rf_init's code, and its stderr in buf. */
static int init_with_nofile(int n, char *buf, size_t len)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		close(p[1]);
		struct rlimit r = {(rlim_t)n, (rlim_t)n};
		setrlimit(RLIMIT_NOFILE, &r);
		int rc = rf_init(NULL);
		if (rc == 0)
			rf_shutdown();
		_exit(rc < 0 ? -rc % 256 : 0);
	}
	close(p[1]);
	size_t got = 0;
	ssize_t k;
	while (got < len - 1 && (k = read(p[0], buf + got, len - 1 - got)) > 0)
		got += (size_t)k;
	buf[got] = 0;
	close(p[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return -WEXITSTATUS(status);
}

static void too_few_descriptors_is_named(void **s)
{
	char log[4096];
	for (int n = 3; n <= 6; n++) {
		int rc = init_with_nofile(n, log, sizeof(log));
		print_message("RLIMIT_NOFILE %d: rf_init %d\n", n, rc);
		/* Not RF_ETOPOLOGY: the machine's shape is fine, descriptors ran out. */
		assert_int_equal(rc, -EMFILE);
		assert_non_null(strstr(log, strerror(EMFILE)));
		assert_non_null(strstr(log, "ringfold: "));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(transient_probe_failure_is_retried),
	    cmocka_unit_test(lasting_probe_failure_sticks),
	    cmocka_unit_test(too_few_descriptors_is_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
