/* http/parse.c: the request head parser of parse.h. */
#include "parse.h"

#include <string.h>
#include <strings.h>

/* tchar of RFC 9110 5.6.2: the characters of methods and header names. */
static bool is_tchar(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return true;
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* VCHAR: the visible characters a target is made of. */
static bool is_vchar(unsigned char c)
{
	return c > ' ' && c < 0x7f;
}

bool http_str_is(struct http_str s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

static bool str_is_nocase(struct http_str s, const char *lit)
{
	return s.len == strlen(lit) && strncasecmp(s.p, lit, s.len) == 0;
}

/* A cursor over the head; every step checks it stays before end. */
struct cursor {
	const char *p, *end;
};

/* A run of token characters ending before `stop`; false if empty or stop is missing. */
static bool take_token(struct cursor *c, char stop, struct http_str *out)
{
	const char *s = c->p;
	while (c->p < c->end && is_tchar((unsigned char)*c->p))
		c->p++;
	if (c->p == s || c->p == c->end || *c->p != stop)
		return false;
	*out = (struct http_str){s, (size_t)(c->p - s)};
	c->p++;
	return true;
}

static bool take_crlf(struct cursor *c)
{
	if (c->end - c->p < 2 || c->p[0] != '\r' || c->p[1] != '\n')
		return false;
	c->p += 2;
	return true;
}

/* request-line = method SP request-target SP HTTP-version CRLF */
static bool request_line(struct cursor *c, struct http_request *req)
{
	if (!take_token(c, ' ', &req->method))
		return false;
	const char *t = c->p;
	while (c->p < c->end && is_vchar((unsigned char)*c->p))
		c->p++;
	req->target = (struct http_str){t, (size_t)(c->p - t)};
	if (req->target.len == 0 || (t[0] != '/' && !http_str_is(req->target, "*")))
		return false;
	if (c->end - c->p < 9 || memcmp(c->p, " HTTP/1.", 8) != 0)
		return false;
	if (c->p[8] != '0' && c->p[8] != '1')
		return false;
	req->minor = c->p[8] - '0';
	c->p += 9;
	return take_crlf(c);
}

/* field-value with its surrounding whitespace trimmed; no control characters. */
static bool field_value(struct cursor *c, struct http_str *out)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
	const char *s = c->p;
	while (c->p < c->end && *c->p != '\r') {
		unsigned char ch = (unsigned char)*c->p;
		if ((ch < ' ' && ch != '\t') || ch == 0x7f)
			return false;
		c->p++;
	}
	const char *e = c->p;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*out = (struct http_str){s, (size_t)(e - s)};
	return take_crlf(c);
}

/* Content-Length = 1*DIGIT; false on anything else or overflow. */
static bool parse_length(struct http_str v, size_t *out)
{
	size_t n = 0;
	if (v.len == 0 || v.len > 18)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
		n = n * 10 + (size_t)(v.p[i] - '0');
	}
	*out = n;
	return true;
}

/* Connection = #connection-option: look for "close" and "keep-alive" in the list. */
static void connection_options(struct http_str v, bool *close, bool *keep)
{
	size_t i = 0;
	while (i < v.len) {
		while (i < v.len && (v.p[i] == ',' || v.p[i] == ' ' || v.p[i] == '\t'))
			i++;
		size_t s = i;
		while (i < v.len && v.p[i] != ',' && v.p[i] != ' ' && v.p[i] != '\t')
			i++;
		struct http_str opt = {v.p + s, i - s};
		*close |= str_is_nocase(opt, "close");
		*keep |= str_is_nocase(opt, "keep-alive");
	}
}

/* What the header fields said, checked once the head is read. */
struct fields {
	bool has_length, has_te, close, keep;
	int hosts;
};

static bool header_field(struct cursor *c, struct fields *f, struct http_request *req)
{
	struct http_str name, value;
	if (!take_token(c, ':', &name) || !field_value(c, &value))
		return false;
	if (str_is_nocase(name, "content-length")) {
		size_t n;
		if (!parse_length(value, &n) || (f->has_length && n != req->content_length))
			return false;
		f->has_length = true;
		req->content_length = n;
	} else if (str_is_nocase(name, "transfer-encoding")) {
		f->has_te = true;
	} else if (str_is_nocase(name, "connection")) {
		connection_options(value, &f->close, &f->keep);
	} else if (str_is_nocase(name, "host")) {
		f->hosts++;
	}
	return true;
}

/* A head that has not ended yet may already be hopeless: reject a method that is not a
 * token at once, so garbage does not wait for HTTP_MAX_HEAD bytes. */
static bool hopeless_prefix(const char *buf, size_t len)
{
	for (size_t i = 0; i < len && buf[i] != ' '; i++)
		if (!is_tchar((unsigned char)buf[i]))
			return true;
	return len > 0 && buf[0] == ' ';
}

ssize_t http_parse(const char *buf, size_t len, size_t *scanned, struct http_request *req)
{
	size_t limit = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
	size_t from = *scanned > 3 ? *scanned - 3 : 0;
	const char *end = from < limit ? memmem(buf + from, limit - from, "\r\n\r\n", 4) : NULL;
	if (!end) {
		*scanned = limit;
		if (hopeless_prefix(buf, limit))
			return HTTP_EBADREQ;
		return len >= HTTP_MAX_HEAD ? HTTP_ETOOLARGE : 0;
	}
	*req = (struct http_request){0};
	struct cursor c = {buf, end + 2}; /* the empty line's CRLF ends the loop below */
	struct fields f = {0};
	if (!request_line(&c, req))
		return HTTP_EBADREQ;
	while (c.p < c.end)
		if (!header_field(&c, &f, req))
			return HTTP_EBADREQ;
	if ((f.has_te && f.has_length) || f.hosts > 1 || (req->minor == 1 && f.hosts == 0))
		return HTTP_EBADREQ;
	if (f.has_te)
		return HTTP_ENOTIMPL;
	if (req->content_length > HTTP_MAX_BODY)
		return HTTP_EBODY;
	req->keep_alive = req->minor == 1 ? !f.close : f.keep && !f.close;
	return end + 4 - buf;
}
