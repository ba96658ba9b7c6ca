/* tests/reap.h: wait for a forked child, with a bound, so a child that hangs (deadlocked
 * in a lock another thread held across fork()) fails the test instead of hanging it.
 */
#ifndef RF_TESTS_REAP_H
#define RF_TESTS_REAP_H

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

/* pid's exit code, 128 + the signal that ended it, or -1 when it still ran after
 * timeout_ms (then it is killed and reaped). Polls every millisecond. */
static inline int rf_test_reap(pid_t pid, int timeout_ms)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long deadline = now.tv_sec * 1000LL + now.tv_nsec / 1000000 + timeout_ms;
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (r < 0 || now.tv_sec * 1000LL + now.tv_nsec / 1000000 > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
}

#endif
