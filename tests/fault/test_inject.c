/* Failure injection over every family: the scenario (scenario.c) runs once to count the
 * wrapped allocation and resource calls it makes, then once per N with the Nth call
 * failing, each run in a fresh process (so LeakSanitizer checks each exit and a crash or
 * hang is caught). Every run must end cleanly: exit 0, no expectation broken, no leak
 * (the ASan build), within a time bound.
 *
 * Every N from 1 to the count when RF_FAULT_ALL=1; otherwise the first FIRST_N and then
 * an even sample up to SAMPLES runs in all, to keep tests/run short (said in the
 * output). The ctest registrations run it on io_uring, epoll and two simulated nodes.
 * Prints "N passed, M failed" at the end. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault/inject.h"
#include "fault/scenario.h"

#define FIRST_N 40
#define SAMPLES 160
#define RUN_MS 60000 /* per run: generous for sanitizers on a loaded machine */

static int child(long at)
{
	inject_arm(at);
	int bad = scenario();
	long n = inject_disarm();
	if (at == 0)
		printf("%ld\n", n);
	fflush(stdout);
	return bad ? 3 : 0;
}

/* Run the scenario with call `at` failing, in a new process; its exit status as a
 * string of what went wrong, or NULL. *count gets what a counting run printed. */
static const char *run(const char *self, long at, long *count)
{
	static char why[64];
	int out[2];
	if (pipe(out) < 0)
		return "pipe";
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return "fork";
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		close(out[0]);
		close(out[1]);
		char arg[32];
		snprintf(arg, sizeof(arg), "%ld", at);
		execl(self, self, "--run", arg, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	int status = 0;
	int waited = 0;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (waited++ >= RUN_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			close(out[0]);
			return "hang";
		}
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	char buf[64] = {0};
	ssize_t got = read(out[0], buf, sizeof(buf) - 1);
	close(out[0]);
	if (count)
		*count = got > 0 ? atol(buf) : -1;
	if (WIFSIGNALED(status)) {
		snprintf(why, sizeof(why), "signal %d", WTERMSIG(status));
		return why;
	}
	if (WEXITSTATUS(status) != 0) {
		snprintf(why, sizeof(why), "exit %d", WEXITSTATUS(status));
		return why;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--run"))
		return child(atol(argv[2]));
	const char *self = "/proc/self/exe";
	long count = 0;
	const char *why = run(self, 0, &count);
	if (why || count <= 0) {
		fprintf(stderr, "counting run failed: %s (count %ld)\n", why ? why : "-", count);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	const char *all = getenv("RF_FAULT_ALL");
	bool every = all && *all == '1';
	long runs = every || count <= SAMPLES ? count : SAMPLES;
	printf("scenario makes %ld wrapped calls; failing %s\n", count,
	       runs == count ? "each of them" : "a sample (RF_FAULT_ALL=1 for each)");
	int passed = 0, failed = 0;
	for (long i = 0; i < runs; i++) {
		long at = runs == count || i < FIRST_N
		              ? i + 1
		              : FIRST_N + 1 + (i - FIRST_N) * (count - FIRST_N) / (runs - FIRST_N);
		why = run(self, at, NULL);
		if (why) {
			fprintf(stderr, "call %ld failing: %s (rerun: %s --run %ld)\n", at, why,
			        argv[0], at);
			failed++;
		} else {
			passed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
