/* http/server.h: an HTTP/1.1 keep-alive server on ringfold's go processes.
 *
 * One listener go process accepts connections and starts a go process per connection,
 * which reads requests (pipelined ones too), answers them (routes.h) and keeps the
 * connection open until the client closes it, asks for "Connection: close", sends
 * something the parser rejects, or stays silent longer than idle_ms.
 */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include <stdint.h>

struct http_server;

struct http_config {
	const char *host; /* IPv4 address to bind; NULL: any */
	uint16_t port;    /* 0: an ephemeral port (see http_server_port) */
	int64_t idle_ms;  /* close a connection silent this long; 0: never */
};

/* Bind, listen and start the listener go process. Returns 0 with *out set, or a negative
 * errno (-EINVAL for a malformed host, -EADDRINUSE, -ENOMEM, ...). Any context. */
int http_server_start(const struct http_config *cfg, struct http_server **out);

/* The port the server listens on. */
uint16_t http_server_port(const struct http_server *s);

/* Stop accepting, shut down every open connection (a request being answered is finished
 * first), wait up to ms for their go processes to end, free the server. Returns 0, or
 * -ETIMEDOUT when connections were still open at the deadline: the server is then left
 * running down on its own (not freed), as a thread that overran a join would be. Blocks:
 * call it from a plain thread. */
int http_server_stop(struct http_server *s, int64_t ms);

#endif
