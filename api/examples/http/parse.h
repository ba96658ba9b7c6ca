/* http/parse.h: an HTTP/1.1 request head parser (RFC 9112), one request at a time.
 *
 * http_parse looks at the bytes a connection has received and either finds one complete
 * request head (request line and header fields up to the empty line), says more bytes are
 * needed, or rejects the input. It copies nothing: the request's strings point into the
 * caller's buffer. The body is not part of the head: content_length says how many bytes
 * follow it, and the caller frames them (so pipelined requests after a body parse right).
 *
 * Accepted: methods and header names made of token characters, an origin-form target
 * (starting with '/') or "*", HTTP/1.0 and HTTP/1.1, CRLF line ends. Rejected with
 * HTTP_EBADREQ: anything else, including bare LF, obsolete line folding, a space before a
 * header's colon, a malformed or conflicting Content-Length (request smuggling), and
 * Content-Length beside Transfer-Encoding. Transfer-Encoding alone (chunked bodies) is
 * HTTP_ENOTIMPL: this server only frames bodies by Content-Length.
 */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The longest head accepted: a longer one is HTTP_ETOOLARGE (431). */
#define HTTP_MAX_HEAD 8192
/* The largest body announced: a larger one is HTTP_EBODY (413). */
#define HTTP_MAX_BODY (1u << 20)

/* Why a request was rejected; each maps to a status in http_status_of. */
enum http_error {
	HTTP_EBADREQ = -400,   /* malformed */
	HTTP_EBODY = -413,     /* Content-Length above HTTP_MAX_BODY */
	HTTP_ETOOLARGE = -431, /* head longer than HTTP_MAX_HEAD */
	HTTP_ENOTIMPL = -501,  /* Transfer-Encoding */
};

struct http_str {
	const char *p;
	size_t len;
};

struct http_request {
	struct http_str method;
	struct http_str target;
	int minor;             /* HTTP/1.<minor>: 0 or 1 */
	bool keep_alive;       /* 1.1 unless "Connection: close"; 1.0 only with "keep-alive" */
	size_t content_length; /* body bytes after the head */
};

/* Parse one request head at buf[0..len). *scanned is how far an earlier call on the same
 * request got looking for the head's end (0 for a new request): a head that arrives a
 * byte at a time then costs linear time, not quadratic. Returns the head's length (> 0,
 * body excluded) with *req filled in, 0 when the head is not complete yet, or a negative
 * enum http_error. */
ssize_t http_parse(const char *buf, size_t len, size_t *scanned, struct http_request *req);

/* Whether s is exactly the string lit. */
bool http_str_is(struct http_str s, const char *lit);

#endif
