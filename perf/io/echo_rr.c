/* perf/io/echo_rr.c: a request/response echo server on ringfold and a client that loads
 * it, for counting the server's syscalls per request (strace -c -f on the server).
 *
 *   echo_rr server PORT CONNS      serve until CONNS connections have come and gone;
 *                                  a listener go process, a go process per connection
 *                                  that echoes 64-byte requests
 *   echo_rr client PORT CONNS N    CONNS threads, each one connection making N requests
 *                                  one at a time (no pipelining); prints requests/s
 *
 * perf/io/syscalls-per-request runs both under strace for each backend.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ringfold.h>

enum { MSG = 64 };

static _Atomic int closed_conns;
static int want_conns;

static int conn(rf_val arg, rf_val *out)
{
	int fd = (int)arg;
	char buf[4096]; /* a server reads what is there: a request is a short read */
	for (;;) {
		ssize_t n = rf_io_recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		if (rf_io_send(fd, buf, (size_t)n, 0) != n)
			break;
	}
	rf_io_close(fd);
	atomic_fetch_add(&closed_conns, 1);
	return 0;
}

static int listener(rf_val arg, rf_val *out)
{
	int lfd = (int)arg;
	for (int i = 0; i < want_conns; i++) {
		int fd = rf_io_accept(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return fd;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (rf_go(conn, (rf_val)fd, NULL))
			abort();
	}
	return 0;
}

static int serve(int port, int conns)
{
	want_conns = conns;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 1024)) {
		perror("echo_rr: bind/listen");
		return 1;
	}
	rf_chan *done;
	rf_val v;
	if (rf_go(listener, (rf_val)lfd, &done))
		return 1;
	rf_chan_take(done, &v);
	rf_chan_release(done);
	while (atomic_load(&closed_conns) < conns)
		rf_sleep_ms(10);
	static rf_stats st;
	rf_stats_get(&st);
	for (int i = 0; i < st.workers; i++)
		fprintf(stderr, "echo_rr: worker %d ran %llu fibers\n", i,
		        (unsigned long long)st.executor[i].fibers_run);
	rf_shutdown();
	close(lfd);
	return 0;
}

struct client {
	int port, n;
};

static void *client_thread(void *arg)
{
	struct client *c = arg;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)c->port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		usleep(1000);
	char buf[MSG] = {1};
	for (int i = 0; i < c->n; i++) {
		if (send(fd, buf, MSG, 0) != MSG)
			abort();
		size_t got = 0;
		while (got < MSG) {
			ssize_t k = recv(fd, buf + got, MSG - got, 0);
			if (k <= 0)
				abort();
			got += (size_t)k;
		}
	}
	close(fd);
	return NULL;
}

static int load(int port, int conns, int n)
{
	pthread_t *t = calloc((size_t)conns, sizeof(*t));
	struct client c = {port, n};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < conns; i++)
		pthread_create(&t[i], NULL, client_thread, &c);
	for (int i = 0; i < conns; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("echo_rr: %d requests in %.3f s: %.0f requests/s\n", conns * n, s, conns * n / s);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "server"))
		return serve(atoi(argv[2]), atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "client"))
		return load(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: echo_rr server PORT CONNS | client PORT CONNS N\n");
	return 2;
}
