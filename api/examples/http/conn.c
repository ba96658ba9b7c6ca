/* http/conn.c: the go process of one connection.
 *
 * It reads into `in`, answers every complete request found there (pipelined requests
 * included) into `out`, and sends `out` once per read: a client that sends ten requests
 * in one packet gets ten responses in one send. Both buffers live on the go process's
 * stack, so an idle connection costs its stack and nothing else. A request's body (by
 * Content-Length) is read and dropped: no route uses one.
 */
#include "server_impl.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "routes.h"

/* Twice the longest head: after a complete request the rest always has room to grow. */
#define IN_SIZE (2 * HTTP_MAX_HEAD)
#define OUT_SIZE 8192
/* After a final response: how long to wait for the client to close, and how much more
 * of its input to read meanwhile. Closing with unread input makes the kernel send a
 * reset, which may destroy the response before the client reads it. */
#define LINGER_MS 2000
#define LINGER_BYTES (256 * 1024)

struct conn_io {
	struct http_conn c;
	int64_t idle_ms;
	rf_atom *counter;
	size_t have;    /* bytes in `in`: the start of a request, or body to drop */
	size_t skip;    /* body bytes of the last request not received yet */
	size_t scanned; /* the parser's progress on the request at the start of `in` */
	char in[IN_SIZE];
	char out_buf[OUT_SIZE];
	struct http_out out;
};

static ssize_t recv_some(struct conn_io *io, void *buf, size_t len)
{
	if (io->idle_ms > 0)
		return rf_io_recv_timeout(io->c.fd, buf, len, 0, io->idle_ms);
	return rf_io_recv(io->c.fd, buf, len, 0);
}

static ssize_t send_some(struct conn_io *io, const void *buf, size_t len)
{
	if (io->idle_ms > 0)
		return rf_io_send_timeout(io->c.fd, buf, len, 0, io->idle_ms);
	return rf_io_send(io->c.fd, buf, len, 0);
}

static int flush(struct conn_io *io)
{
	for (size_t done = 0; done < io->out.len;) {
		ssize_t n = send_some(io, io->out.buf + done, io->out.len - done);
		if (n < 0)
			return (int)n;
		done += (size_t)n;
	}
	io->out.len = 0;
	return 0;
}

/* Send what is left, end our side and drain the client's until it closes. */
static void finish(struct conn_io *io)
{
	if (flush(io) < 0)
		return;
	shutdown(io->c.fd, SHUT_WR);
	for (size_t drained = 0; drained < LINGER_BYTES;) {
		ssize_t n = rf_io_recv_timeout(io->c.fd, io->in, sizeof io->in, 0, LINGER_MS);
		if (n <= 0)
			return;
		drained += (size_t)n;
	}
}

/* Answer the requests complete in `in`; keep the incomplete rest at its start.
 * Returns 1 to read more, 0 when the connection is to end (its last response appended),
 * or a negative code from send. */
static int answer(struct conn_io *io)
{
	size_t off = 0;
	bool more = true;
	while (more) {
		size_t k = io->skip < io->have - off ? io->skip : io->have - off;
		off += k;
		io->skip -= k;
		if (io->skip > 0 || off == io->have)
			break;
		struct http_request req;
		ssize_t n = http_parse(io->in + off, io->have - off, &io->scanned, &req);
		if (n == 0)
			break;
		if (io->out.cap - io->out.len < HTTP_MAX_RESPONSE) {
			int rc = flush(io);
			if (rc < 0)
				return rc;
		}
		if (n < 0) {
			http_reject((int)n, &io->out);
			return 0;
		}
		off += (size_t)n;
		io->scanned = 0;
		io->skip = req.content_length;
		http_route(&req, io->counter, &io->out);
		more = req.keep_alive;
	}
	memmove(io->in, io->in + off, io->have - off);
	io->have -= off;
	return more ? 1 : 0;
}

static void serve(struct conn_io *io)
{
	for (;;) {
		ssize_t n = recv_some(io, io->in + io->have, sizeof io->in - io->have);
		if (n <= 0)
			return; /* closed, reset, idle too long or stopped */
		io->have += (size_t)n;
		int rc = answer(io);
		if (rc == 0) {
			finish(io);
			return;
		}
		if (rc < 0 || flush(io) < 0)
			return;
	}
}

int http_conn_go(rf_val arg, rf_val *out)
{
	struct http_conn_start *st = rf_to_ptr(arg);
	struct http_server *s = st->srv;
	struct conn_io io = {.c = {.fd = st->fd}, .idle_ms = s->idle_ms, .counter = &s->counter};
	free(st);
	io.out = (struct http_out){.buf = io.out_buf, .cap = sizeof io.out_buf};
	http_server_enter(s, &io.c);
	serve(&io);
	http_server_leave(s, &io.c);
	rf_io_close(io.c.fd); /* parks on io_uring */
	http_server_end(s);
	return 0;
}
