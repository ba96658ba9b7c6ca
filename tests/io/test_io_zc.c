/* rf_io_send with zero-copy SEND_ZC (forced from 4 KiB here; untimed sends only): the
 * sender overwrites its buffer as soon as each call returns while the receiver reads only
 * later, so a call that returned before the kernel's notification (while skbs still point
 * at the buffer) would show as corrupt data; an AF_UNIX socket, which has no zero copy,
 * still sends; a timed send into a full socket times out (a plain send). Each with SEND_ZC forced
 * and with plain sends, on a plain thread and on a fiber, on io_uring (default) and epoll (@epoll),
 * where rf_io_send is the plain call whatever the size. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io/io_net.h"

enum { CHUNK = 64 * 1024, CHUNKS = 24 };

struct rx {
	int fd;
	size_t bytes;
	bool ok;
};

/* Starts reading late, so the data sits in the socket meanwhile. */
static void *receive(void *p)
{
	struct rx *r = p;
	usleep(30000);
	unsigned char *buf = malloc(CHUNK);
	size_t got = 0;
	r->ok = true;
	while (got < r->bytes) {
		ssize_t n = recv(r->fd, buf, CHUNK, 0);
		RF_CHECK(n > 0);
		for (ssize_t k = 0; k < n; k++)
			if (buf[k] != (unsigned char)(1 + (got + (size_t)k) / CHUNK))
				r->ok = false;
		got += (size_t)n;
	}
	free(buf);
	return NULL;
}

static void send_all(int fd, unsigned char *buf)
{
	for (int c = 0; c < CHUNKS; c++) {
		memset(buf, 1 + c, CHUNK);
		for (size_t off = 0; off < CHUNK;) {
			ssize_t n = rf_io_send(fd, buf + off, CHUNK - off, 0);
			RF_CHECK(n > 0);
			off += (size_t)n;
		}
		memset(buf, 0xEE, CHUNK); /* the call returned: the buffer is ours again */
	}
}

static int stream(int unix_socket)
{
	int sv[2];
	if (unix_socket)
		RF_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	else
		net_pair(sv);
	struct rx r = {.fd = sv[0], .bytes = (size_t)CHUNK * CHUNKS};
	pthread_t th;
	RF_CHECK(pthread_create(&th, NULL, receive, &r) == 0);
	unsigned char *buf = malloc(CHUNK);
	send_all(sv[1], buf);
	pthread_join(th, NULL);
	RF_CHECK(r.ok);
	free(buf);
	RF_CHECK(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	return 0;
}

static int full_times_out(void)
{
	int sv[2];
	net_pair(sv);
	int small = 16384;
	RF_CHECK(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) == 0);
	RF_CHECK(setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) == 0);
	unsigned char *buf = calloc(1, CHUNK);
	ssize_t n;
	int sends = 0;
	while ((n = rf_io_send_timeout(sv[1], buf, CHUNK, 0, 50)) > 0)
		RF_CHECK(++sends < 1000);
	RF_CHECK_EQ(n, -ETIMEDOUT);
	free(buf);
	RF_CHECK(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	return 0;
}

static int all_cases(void)
{
	RF_CHECK(stream(0) == 0);
	RF_CHECK(stream(1) == 0);
	RF_CHECK(full_times_out() == 0);
	return 0;
}

static void test_zc(void **s)
{
	io_set_zc_min(4096);
	run_case(all_cases);
	io_set_zc_min(SIZE_MAX);
}

static void test_plain(void **s)
{
	io_set_zc_min(SIZE_MAX);
	run_case(all_cases);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_zc),
	    cmocka_unit_test(test_plain),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
