/* http/routes.h: the server's routes and the responses it writes.
 *
 *   GET /plaintext   200 "Hello, World!" (text/plain)
 *   GET /counter     200 {"count":N}, N the value of an atom incremented by this request
 *   other methods    405 on those two paths
 *   anything else    404
 * Every response is HTTP/1.1 with Date, Content-Type and Content-Length, and says
 * "Connection: close" when the connection ends after it (or "keep-alive" to an HTTP/1.0
 * client that asked for it).
 */
#ifndef HTTP_ROUTES_H
#define HTTP_ROUTES_H

#include <ringfold.h>

#include "parse.h"

/* Room a single response may need in the output buffer. */
#define HTTP_MAX_RESPONSE 512

struct http_out {
	char *buf;
	size_t len, cap; /* cap - len >= HTTP_MAX_RESPONSE before each response */
};

/* Append the response to req. counter is the atom of /counter. Never blocks. */
void http_route(const struct http_request *req, rf_atom *counter, struct http_out *out);

/* Append the response rejecting a request with err (enum http_error), which closes the
 * connection. Never blocks. */
void http_reject(int err, struct http_out *out);

#endif
