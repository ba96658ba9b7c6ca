/* http/server_impl.h: what the listener (server.c) and the connections (conn.c) share.
 *
 * The lock guards `conns`, `open` and `stopping`; nobody parks while holding it. `open`
 * counts connections from accept until their go process ends, so a stop that sees 0 knows
 * no connection can still appear; `conns` lists those whose go process has started and
 * not yet left, so that stop can shut their sockets down. Once `stopping` is set, a
 * connection that starts shuts itself down, and the one that brings `open` to 0 delivers
 * `drained`.
 */
#ifndef HTTP_SERVER_IMPL_H
#define HTTP_SERVER_IMPL_H

#include <ringfold.h>

#include "server.h"

struct http_conn {
	int fd;
	struct http_conn *prev, *next;
};

struct http_server {
	int fd;                  /* the listening socket */
	rf_io_listener *accepts; /* its accepts (one multishot request on io_uring) */
	uint16_t port;
	int64_t idle_ms;
	rf_atom counter;   /* GET /counter */
	rf_chan *listener; /* the listener's result */
	rf_lock lock;
	struct http_conn *conns;
	long open;
	bool stopping;
	rf_promise *drained;
};

/* The go process of one connection; arg is a struct http_conn_start from the listener,
 * which it frees. */
struct http_conn_start {
	struct http_server *srv;
	int fd;
};
int http_conn_go(rf_val arg, rf_val *out);

/* A connection's go process enters once it runs, leaves before it closes its fd (from
 * then on stop does not touch the fd, whose number may be reused) and ends once it has
 * closed it, with nothing left that could park: a stop waiting for the last connection
 * returns only when no connection's go process can still be abandoned by rf_shutdown. */
void http_server_enter(struct http_server *s, struct http_conn *c);
void http_server_leave(struct http_server *s, struct http_conn *c);
void http_server_end(struct http_server *s);

#endif
