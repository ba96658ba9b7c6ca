/* tests/io/io_net.h: loopback TCP sockets for the io tests, and running a case with the
 * optional io_uring features turned off (as on a kernel without them). */
#ifndef RF_TESTS_IO_NET_H
#define RF_TESTS_IO_NET_H

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/io_case.h"
#include "io/io_impl.h"
#include "ringfold.h"

#define URF_ALL (URF_MS_ACCEPT | URF_BUF_RING | URF_SEND_ZC | URF_RING_FD)

/* A TCP socket listening on 127.0.0.1 (an ephemeral port); *port gets the port. */
static inline int net_listen(int backlog, struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	RF_CHECK(fd >= 0);
	*addr =
	    (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(*addr);
	RF_CHECK(bind(fd, (struct sockaddr *)addr, len) == 0);
	RF_CHECK(listen(fd, backlog) == 0);
	RF_CHECK(getsockname(fd, (struct sockaddr *)addr, &len) == 0);
	return fd;
}

/* A connected client (the connection is in the listener's backlog when this returns). */
static inline int net_connect(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	RF_CHECK(fd >= 0);
	RF_CHECK(rf_io_connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* A connected loopback TCP pair: out[0] the accepted side, out[1] the client. */
static inline void net_pair(int out[2])
{
	struct sockaddr_in a;
	int l = net_listen(4, &a);
	out[1] = net_connect(&a);
	out[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	RF_CHECK(out[0] >= 0);
	close(l);
}

/* fn on this plain thread and on a fiber, then on a fiber with the optional io_uring
 * features off (one-shot accept, plain recv, plain send: the fallbacks). */
static inline void run_case_all(int (*fn)(void))
{
	run_case(fn);
	io_test_uring_off(URF_ALL);
	RF_CHECK(io_case_on_fiber(fn, SCHED_WORKER_ANY) == 0);
	io_test_uring_off(0);
}

#endif
