/* tests/reap.h: wait for a forked child, with a bound, so a child that hangs (deadlocked
 * in a lock another thread held across fork()) fails the test instead of hanging it; and
 * fork repeatedly while another thread works.
 */
#ifndef RF_TESTS_REAP_H
#define RF_TESTS_REAP_H

#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* Fork `forks` times, each time once *progress has moved (so every fork lands inside
 * another thread's run, not before its first step), and reap each child, which exits with
 * child(). Returns 0 when every child exited 0; else the first other outcome, with its
 * index in *at: rf_test_reap's code (-1: hung past hung_ms), or -2 when fork failed. */
static inline int rf_test_forks_during(atomic_long *progress, int forks, int (*child)(void),
                                       int hung_ms, int *at)
{
	for (int i = 0; i < forks; i++) {
		/* relaxed: a counter to wait on; the child's own work is what is checked */
		long seen = atomic_load_explicit(progress, memory_order_relaxed);
		while (atomic_load_explicit(progress, memory_order_relaxed) == seen)
			sched_yield();
		*at = i;
		pid_t pid = fork();
		if (pid < 0)
			return -2;
		if (pid == 0)
			_exit(child());
		int code = rf_test_reap(pid, hung_ms);
		if (code != 0)
			return code;
	}
	return 0;
}

#endif
