/* The request head parser of the HTTP example (api/examples/http/parse.h) on its own:
 * fields, keep-alive rules, every prefix of a request (fed as it would arrive, so the
 * incremental search for the head's end is exercised), and each way to be rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "parse.h"

static ssize_t parse(const char *s, struct http_request *req)
{
	size_t scanned = 0;
	return http_parse(s, strlen(s), &scanned, req);
}

static void test_fields(void **state)
{
	struct http_request r;
	const char *s = "POST /counter?x=1 HTTP/1.1\r\nHost: t\r\ncontent-length:  12 \r\n"
	                "X-Empty:\r\n\r\nbody follows";
	assert_int_equal(parse(s, &r), strstr(s, "body") - s);
	assert_true(http_str_is(r.method, "POST"));
	assert_true(http_str_is(r.target, "/counter?x=1"));
	assert_int_equal(r.minor, 1);
	assert_true(r.keep_alive);
	assert_int_equal(r.content_length, 12);
	assert_int_equal(parse("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n", &r), 31);
	assert_true(http_str_is(r.target, "*"));
	assert_int_equal(r.content_length, 0);
	/* Repeating the same length is allowed. */
	assert_true(
	    parse("PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 03\r\n\r\n",
	          &r) > 0);
	assert_int_equal(r.content_length, 3);
}

static void test_keep_alive(void **state)
{
	struct http_request r;
	assert_true(parse("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &r) > 0);
	assert_false(r.keep_alive);
	assert_true(parse("GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, CLOSE\r\n\r\n", &r) >
	            0);
	assert_false(r.keep_alive);
	assert_true(parse("GET / HTTP/1.1\r\nHost: t\r\nConnection: closed\r\n\r\n", &r) > 0);
	assert_true(r.keep_alive);
	assert_true(parse("GET / HTTP/1.0\r\n\r\n", &r) > 0);
	assert_int_equal(r.minor, 0);
	assert_false(r.keep_alive);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r) > 0);
	assert_true(r.keep_alive);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", &r) > 0);
	assert_false(r.keep_alive);
}

/* Every prefix is incomplete (0) and the whole is complete, fed in order with one
 * `scanned` as a connection does; and from scratch at each prefix. */
static void test_prefixes(void **state)
{
	const char *s = "GET /plaintext HTTP/1.1\r\nHost: t\r\nAccept: */*\r\n\r\n";
	size_t len = strlen(s), scanned = 0, fresh;
	struct http_request r;
	for (size_t i = 0; i < len; i++) {
		fresh = 0;
		assert_int_equal(http_parse(s, i, &scanned, &r), 0);
		assert_int_equal(http_parse(s, i, &fresh, &r), 0);
	}
	assert_int_equal(http_parse(s, len, &scanned, &r), len);
	assert_true(http_str_is(r.target, "/plaintext"));
}

static void test_rejects(void **state)
{
	struct http_request r;
	static const char *bad[] = {
	    "\r\n\r\n",
	    "GET  / HTTP/1.1\r\nHost: t\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: t\r\nX-No-Colon\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: t\r\n: v\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: t\r\nX: \177\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1,1\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: t\r\nContent-Length:\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 0x10\r\n\r\n",
	    "GET /\x80 HTTP/1.1\r\nHost: t\r\n\r\n",
	    "GET / HTTP/1.2\r\nHost: t\r\n\r\n",
	    "GET / http/1.1\r\nHost: t\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i], &r) != HTTP_EBADREQ)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		assert_int_equal(parse(bad[i], &r), HTTP_EBADREQ);
	}
	/* Garbage is rejected before a head could end. */
	assert_int_equal(parse("\x16\x03\x01", &r), HTTP_EBADREQ);
	assert_int_equal(parse("GE{", &r), HTTP_EBADREQ);
	assert_int_equal(parse("GET", &r), 0);
	assert_int_equal(parse("GET /\x01", &r), 0); /* the target is checked at the end */
	assert_int_equal(
	    parse("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n", &r),
	    HTTP_ENOTIMPL);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\n", &r),
	                 HTTP_EBODY);
	assert_true(parse("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n", &r) > 0);
}

static void test_head_limit(void **state)
{
	static char head[HTTP_MAX_HEAD + 64];
	struct http_request r;
	size_t n = (size_t)sprintf(head, "GET / HTTP/1.1\r\nHost: t\r\nX: ");
	memset(head + n, 'a', HTTP_MAX_HEAD - 4 - n);
	memcpy(head + HTTP_MAX_HEAD - 4, "\r\n\r\n", 4);
	size_t scanned = 0;
	assert_int_equal(http_parse(head, HTTP_MAX_HEAD, &scanned, &r), HTTP_MAX_HEAD);
	head[HTTP_MAX_HEAD - 4] = 'a';
	memcpy(head + HTTP_MAX_HEAD - 3, "\r\n\r\n", 4);
	scanned = 0;
	assert_int_equal(http_parse(head, HTTP_MAX_HEAD - 1, &scanned, &r), 0);
	assert_int_equal(http_parse(head, HTTP_MAX_HEAD + 1, &scanned, &r), HTTP_ETOOLARGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fields),     cmocka_unit_test(test_keep_alive),
	    cmocka_unit_test(test_prefixes),   cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_head_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
