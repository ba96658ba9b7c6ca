/* tests/http/client.c: the test client of client.h.
 *
 * EINTR is retried: a socket with a timeout returns it for any interruption of the
 * thread, and under the io_uring backend this thread sees some with no signal sent. */
#include "client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int client_open(struct client *c, uint16_t port)
{
	c->have = 0;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	struct timeval tv = {.tv_sec = CLIENT_WAIT_MS / 1000};
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons(port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1; /* a byte at a time must go out a byte at a time */
	/* Timeouts after connect: with one, an interrupted connect cannot be restarted. */
	if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
		int rc = -errno;
		close(c->fd);
		return rc;
	}
	return 0;
}

void client_close(struct client *c)
{
	close(c->fd);
}

int client_send(struct client *c, const char *s, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = send(c->fd, s + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

int client_send_str(struct client *c, const char *s)
{
	return client_send(c, s, strlen(s));
}

/* Receive more into the buffer: bytes received, 0 at end of file, or -errno. */
static ssize_t fill(struct client *c)
{
	if (c->have == sizeof c->buf)
		return -EMSGSIZE;
	ssize_t n;
	do
		n = recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	c->have += (size_t)n;
	return n;
}

/* The length of the complete response at the start of the buffer, or 0. */
static size_t complete(const struct client *c)
{
	const char *end = memmem(c->buf, c->have, "\r\n\r\n", 4);
	if (!end)
		return 0;
	size_t head = (size_t)(end + 4 - c->buf), body = 0;
	const char *cl = memmem(c->buf, head, "\r\nContent-Length: ", 18);
	if (cl)
		body = strtoul(cl + 18, NULL, 10);
	return head + body <= c->have ? head + body : 0;
}

int client_response(struct client *c, char *out, size_t cap)
{
	size_t len;
	while ((len = complete(c)) == 0) {
		ssize_t n = fill(c);
		if (n <= 0)
			return n == 0 && c->have == 0 ? 0 : n == 0 ? -EPROTO : (int)n;
	}
	if (len >= cap)
		return -EMSGSIZE;
	size_t o = 0;
	const char *date = memmem(c->buf, len, "\r\nDate: ", 8);
	const char *date_end =
	    date ? memmem(date + 2, len - (size_t)(date + 2 - c->buf), "\r\n", 2) : NULL;
	for (size_t i = 0; i < len; i++)
		if (!date_end || c->buf + i < date + 2 || c->buf + i >= date_end + 2)
			out[o++] = c->buf[i];
	out[o] = '\0';
	memmove(c->buf, c->buf + len, c->have - len);
	c->have -= len;
	return (int)o;
}

int client_eof(struct client *c)
{
	if (c->have > 0)
		return 0;
	ssize_t n = fill(c);
	return n == 0 ? 1 : n > 0 ? 0 : (int)n;
}

int client_expect(struct client *c, const char *req, const char *want)
{
	char got[4096];
	int rc = client_send_str(c, req);
	if (rc == 0)
		rc = client_response(c, got, sizeof got);
	if (rc > 0 && strcmp(got, want) == 0)
		return 0;
	fprintf(stderr, "request:\n%s\nwanted:\n%s\ngot (%d):\n%s\n", req, want, rc,
	        rc > 0 ? got : "");
	return -1;
}
