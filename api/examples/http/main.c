/* http_server PORT [WORKERS]: the HTTP/1.1 example server (routes.h) on ringfold.
 *
 * WORKERS sets the executor workers per NUMA node (default: one per CPU). Prints
 * "listening on port N" once it accepts (PORT 0 picks a free port), serves until SIGINT
 * or SIGTERM, then stops: connections are shut down and given a second to end, and
 * each executor worker's count of go processes is printed on stderr.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <ringfold.h>

#include "server.h"

static int parse_arg(const char *s, long max, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Where the go processes ran: one line per executor worker, on stderr. */
static void print_workers(void)
{
	rf_stats *st;
	if (rf_stats_new(&st) < 0)
		return;
	if (rf_stats_get(st) == 0)
		for (int i = 0; i < st->workers; i++)
			fprintf(stderr,
			        "worker %d (cpu %d): %llu go processes started, %llu resumed\n", i,
			        st->executor[i].cpu,
			        (unsigned long long)st->executor[i].fibers_spawned,
			        (unsigned long long)st->executor[i].fibers_run);
	rf_stats_free(st);
}

int main(int argc, char **argv)
{
	long port = 0, workers = 0;
	if (argc < 2 || argc > 3 || parse_arg(argv[1], 65535, &port) < 0 ||
	    (argc == 3 && parse_arg(argv[2], 1024, &workers) < 0)) {
		fprintf(stderr, "usage: %s PORT [WORKERS]\n", argv[0]);
		return 2;
	}
	/* Signals are taken by sigwait below, so block them before any thread starts. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	rf_config cfg;
	int rc = rf_config_default(&cfg);
	if (rc == 0 && workers > 0)
		cfg.workers_per_node = (int)workers;
	struct http_server *srv = NULL;
	if (rc == 0)
		rc = rf_init(&cfg);
	if (rc == 0)
		rc = http_server_start(&(struct http_config){.port = (uint16_t)port}, &srv);
	if (rc < 0) {
		fprintf(stderr, "http_server: %s\n", rf_strerror(rc));
		return 1;
	}
	printf("listening on port %u\n", http_server_port(srv));
	fflush(stdout);

	int sig;
	sigwait(&stop, &sig);
	rc = http_server_stop(srv, 1000);
	print_workers();
	rf_shutdown();
	return rc < 0 ? 1 : 0;
}
