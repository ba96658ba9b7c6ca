/* http/routes.c: the routes of routes.h and the few bytes of each response. */
#include "routes.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void put(struct http_out *out, const char *s, size_t n)
{
	memcpy(out->buf + out->len, s, n);
	out->len += n;
}

static void put_str(struct http_out *out, const char *s)
{
	put(out, s, strlen(s));
}

static void put_num(struct http_out *out, unsigned long long v)
{
	char digits[24];
	size_t i = sizeof digits;
	do
		digits[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	put(out, digits + i, sizeof digits - i);
}

/* "Date: <IMF-fixdate>\r\n", formatted once a second per thread: a fiber never changes
 * threads, and the cache needs no lock. */
static void put_date(struct http_out *out)
{
	static _Thread_local time_t cached_at;
	static _Thread_local char line[48];
	static _Thread_local size_t line_len;
	time_t now = time(NULL);
	if (now != cached_at || line_len == 0) {
		struct tm tm;
		gmtime_r(&now, &tm);
		line_len = strftime(line, sizeof line, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
		cached_at = now;
	}
	put(out, line, line_len);
}

struct response {
	const char *status; /* "200 OK" */
	const char *type;   /* Content-Type */
	const char *extra;  /* more header lines, each ending in CRLF, or "" */
	const char *body;
	size_t body_len;
	bool close;      /* the connection ends after this response */
	bool keep_alive; /* say so: HTTP/1.0 keep-alive */
};

static void put_response(struct http_out *out, const struct response *r)
{
	put_str(out, "HTTP/1.1 ");
	put_str(out, r->status);
	put_str(out, "\r\nServer: ringfold\r\n");
	put_date(out);
	put_str(out, "Content-Type: ");
	put_str(out, r->type);
	put_str(out, "\r\nContent-Length: ");
	put_num(out, r->body_len);
	put_str(out, "\r\n");
	if (r->close)
		put_str(out, "Connection: close\r\n");
	else if (r->keep_alive)
		put_str(out, "Connection: keep-alive\r\n");
	put_str(out, r->extra);
	put_str(out, "\r\n");
	put(out, r->body, r->body_len);
}

/* The path of an origin-form target: up to the query. */
static struct http_str target_path(struct http_str t)
{
	const char *q = memchr(t.p, '?', t.len);
	return (struct http_str){t.p, q ? (size_t)(q - t.p) : t.len};
}

void http_route(const struct http_request *req, rf_atom *counter, struct http_out *out)
{
	struct response r = {.close = !req->keep_alive, .keep_alive = req->minor == 0, .extra = ""};
	struct http_str path = target_path(req->target);
	bool plaintext = http_str_is(path, "/plaintext");
	bool count = http_str_is(path, "/counter");
	char json[48];
	rf_val n;
	if (!plaintext && !count) {
		r.status = "404 Not Found";
		r.type = "text/plain";
		r.body = "Not Found\n";
	} else if (!http_str_is(req->method, "GET")) {
		r.status = "405 Method Not Allowed";
		r.type = "text/plain";
		r.extra = "Allow: GET\r\n";
		r.body = "Method Not Allowed\n";
	} else if (plaintext) {
		r.status = "200 OK";
		r.type = "text/plain";
		r.body = "Hello, World!";
	} else if (rf_atom_swap(counter, rf_inc, 0, &n) < 0) {
		r.status = "500 Internal Server Error";
		r.type = "text/plain";
		r.body = "Internal Server Error\n";
	} else {
		r.status = "200 OK";
		r.type = "application/json";
		snprintf(json, sizeof json, "{\"count\":%lld}", (long long)n);
		r.body = json;
	}
	r.body_len = strlen(r.body);
	put_response(out, &r);
}

void http_reject(int err, struct http_out *out)
{
	struct response r = {.type = "text/plain", .extra = "", .close = true};
	switch (err) {
	case HTTP_EBODY:
		r.status = "413 Content Too Large";
		r.body = "Content Too Large\n";
		break;
	case HTTP_ETOOLARGE:
		r.status = "431 Request Header Fields Too Large";
		r.body = "Request Header Fields Too Large\n";
		break;
	case HTTP_ENOTIMPL:
		r.status = "501 Not Implemented";
		r.body = "Not Implemented\n";
		break;
	default:
		r.status = "400 Bad Request";
		r.body = "Bad Request\n";
	}
	r.body_len = strlen(r.body);
	put_response(out, &r);
}
