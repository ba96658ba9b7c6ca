/* http/server.c: the listening socket, the listener go process, and stopping. */
#include "server_impl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connections accepted ahead of the listener go process taking them. */
#define ACCEPT_BACKLOG 1024

static int listen_on(const struct http_config *cfg, uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(cfg->port)};
	if (cfg->host && inet_pton(AF_INET, cfg->host, &a.sin_addr) != 1)
		return -EINVAL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	socklen_t len = sizeof a;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static bool stopping(struct http_server *s)
{
	rf_lock_lock(&s->lock);
	bool stop = s->stopping;
	rf_lock_unlock(&s->lock);
	return stop;
}

/* One connection fewer (lock held); the last one during a stop says so. */
static void count_down(struct http_server *s)
{
	if (--s->open == 0 && s->stopping)
		rf_promise_deliver(s->drained, 1);
}

/* Count a new connection and start its go process. One that cannot start (no memory,
 * runtime shut down) is closed: its client sees the close, others are unaffected. */
static void start_conn(struct http_server *s, int fd)
{
	int one = 1; /* responses go out whole: no Nagle delay behind the client's ACKs */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct http_conn_start *st = malloc(sizeof *st);
	if (!st) {
		close(fd);
		return;
	}
	*st = (struct http_conn_start){s, fd};
	rf_lock_lock(&s->lock);
	s->open++;
	rf_lock_unlock(&s->lock);
	if (rf_go(http_conn_go, rf_from_ptr(st), NULL) < 0) {
		rf_lock_lock(&s->lock);
		count_down(s);
		rf_lock_unlock(&s->lock);
		free(st);
		close(fd);
	}
}

/* The listener go process: take connections until stopped; a go process per connection. */
static int listener_go(rf_val arg, rf_val *out)
{
	struct http_server *s = rf_to_ptr(arg);
	for (;;) {
		int fd = rf_io_listener_accept(s->accepts);
		if (fd >= 0) {
			start_conn(s, fd);
			continue;
		}
		if (stopping(s))
			return 0;
		switch (fd) {
		case -EMFILE: /* out of descriptors or memory: give closing connections time */
		case -ENFILE:
		case -ENOBUFS:
		case -ENOMEM:
			rf_sleep_ms(10);
			break;
		case -EBADF:
		case -EINVAL:
		case -ENOTSOCK:
		case -EOPNOTSUPP:
			return fd;
		default: /* the connection's own trouble (ECONNABORTED, EPROTO, network errors) */
			break;
		}
	}
}

static void free_server(struct http_server *s)
{
	rf_promise_free(s->drained);
	rf_lock_destroy(&s->lock);
	rf_atom_destroy(&s->counter);
	free(s);
}

int http_server_start(const struct http_config *cfg, struct http_server **out)
{
	struct http_server *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = listen_on(cfg, &s->port);
	if (rc < 0) {
		free(s);
		return rc;
	}
	s->fd = rc;
	s->idle_ms = cfg->idle_ms;
	/* Neither init can fail on storage of the right size. */
	rf_atom_init(&s->counter, 0);
	rf_lock_init(&s->lock);
	if ((rc = rf_io_listener_new(s->fd, SOCK_CLOEXEC, ACCEPT_BACKLOG, &s->accepts)) < 0 ||
	    (rc = rf_promise_new(&s->drained)) < 0 ||
	    (rc = rf_go(listener_go, rf_from_ptr(s), &s->listener)) < 0) {
		rf_io_listener_free(s->accepts);
		close(s->fd);
		free_server(s);
		return rc;
	}
	*out = s;
	return 0;
}

uint16_t http_server_port(const struct http_server *s)
{
	return s->port;
}

void http_server_enter(struct http_server *s, struct http_conn *c)
{
	rf_lock_lock(&s->lock);
	c->prev = NULL;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	if (s->stopping)
		shutdown(c->fd, SHUT_RDWR);
	rf_lock_unlock(&s->lock);
}

void http_server_leave(struct http_server *s, struct http_conn *c)
{
	rf_lock_lock(&s->lock);
	if (c->prev)
		c->prev->next = c->next;
	else if (s->conns == c)
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	rf_lock_unlock(&s->lock);
}

void http_server_end(struct http_server *s)
{
	rf_lock_lock(&s->lock);
	count_down(s);
	rf_lock_unlock(&s->lock);
}

int http_server_stop(struct http_server *s, int64_t ms)
{
	rf_lock_lock(&s->lock);
	s->stopping = true;
	rf_lock_unlock(&s->lock);
	rf_io_listener_close(s->accepts); /* wakes the listener's accept with -EBADF */
	rf_val v;
	rf_chan_take(s->listener, &v);
	rf_chan_release(s->listener);
	rf_io_listener_free(s->accepts);
	close(s->fd);

	rf_lock_lock(&s->lock);
	for (struct http_conn *c = s->conns; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR); /* their reads see end of file */
	if (s->open == 0)
		rf_promise_deliver(s->drained, 1);
	rf_lock_unlock(&s->lock);
	rf_val drained;
	int rc = rf_promise_deref_timeout(s->drained, ms, &drained);
	if (rc < 0)
		return rc;
	/* The last connection delivered holding the lock: once we hold it, it is gone. */
	rf_lock_lock(&s->lock);
	rf_lock_unlock(&s->lock);
	free_server(s);
	return 0;
}
