/* The io_uring-disabled path, forced through the test hook: the probe "fails" the way a
 * container's seccomp profile makes it fail, the choice falls back to epoll (logged
 * once on stderr), an explicit demand for io_uring is refused, and epoll works. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <liburing.h>

#include "io/backend.h"
#include "runtime/sched/wait.h"

/* Run choose(want) with stderr captured into buf. */
static int choose_captured(rf_io_backend want, char *buf, size_t n)
{
	int p[2];
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(p[1], 2);
	int rc = io_choose(want);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	ssize_t got = read(p[0], buf, n - 1);
	buf[got > 0 ? got : 0] = 0;
	close(p[0]);
	return rc;
}

static void forced_failure_falls_back(void **s)
{
	char log[512];
	io_test_fail_setup(-EPERM);
	assert_int_equal(io_kind(), RF_IO_AUTO);
	assert_int_equal(choose_captured(RF_IO_AUTO, log, sizeof(log)), RF_IO_EPOLL);
	assert_non_null(strstr(log, "io_uring unavailable"));
	assert_non_null(strstr(log, strerror(EPERM)));
	assert_int_equal(io_kind(), RF_IO_EPOLL);
	/* Logged once only. */
	assert_int_equal(choose_captured(RF_IO_AUTO, log, sizeof(log)), RF_IO_EPOLL);
	assert_string_equal(log, "");
	/* Demanding io_uring is refused; the earlier choice stands. */
	assert_int_equal(io_choose(RF_IO_URING), RF_ENOURING);
	assert_int_equal(io_kind(), RF_IO_EPOLL);

	io_poller *io;
	assert_int_equal(io_create(&io, 0), 0);
	io_wake(io);
	uint64_t t0 = time_now_ns();
	io_poll(io, DEADLINE_NONE); /* returns: the wake-up is pending */
	assert_true(time_now_ns() - t0 < 4000000000ull);
	io_destroy(io);
}

static void enosys_falls_back(void **s)
{
	char log[512];
	io_test_fail_setup(-ENOSYS);
	assert_int_equal(choose_captured(RF_IO_AUTO, log, sizeof(log)), RF_IO_EPOLL);
	assert_non_null(strstr(log, strerror(ENOSYS)));
}

static void hook_off_probes_again(void **s)
{
	io_test_fail_setup(0);
	int rc = io_choose(RF_IO_AUTO);
	/* Under a seccomp filter denying io_uring (tests/run's no-uring runs) the real probe
	 * falls back too; elsewhere it finds io_uring. */
	struct io_uring ring;
	int real = io_uring_queue_init(2, &ring, 0);
	if (real == 0) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		io_uring_prep_nop(sqe);
		real = io_uring_submit_and_wait(&ring, 1) < 0 ? -1 : 0;
		io_uring_queue_exit(&ring);
	}
	assert_int_equal(rc, real == 0 ? RF_IO_URING : RF_IO_EPOLL);
	io_poller *io;
	assert_int_equal(io_create(&io, 0), 0);
	assert_int_equal(io_poll(io, 0), 0);
	io_destroy(io);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(forced_failure_falls_back),
	    cmocka_unit_test(enosys_falls_back),
	    cmocka_unit_test(hook_off_probes_again),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
