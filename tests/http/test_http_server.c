/* The HTTP example server (api/examples/http) answering well-formed and hostile clients:
 * routes, keep-alive, pipelining, Connection: close, garbage, oversized heads, half
 * requests, slow clients, idle connections. Every case ends by stopping the server,
 * which fails if a connection's go process is stuck; the clients are plain blocking
 * sockets on the test thread with generous receive timeouts, and nothing sleeps.
 */
#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "client.h"
#include "fixture.h"
#include "responses.h"
#include "ringfold.h"

/* A fresh connection is served: the server survived whatever came before. */
static void assert_serves(void **state)
{
	struct client c;
	assert_int_equal(client_open(&c, server_port(state)), 0);
	assert_int_equal(client_expect(&c, GET("/plaintext"), HELLO), 0);
	client_close(&c);
}

/* Send req on a new connection: the server answers want and closes. */
static void assert_rejects(void **state, const char *req, size_t len, const char *want)
{
	struct client c;
	char got[4096];
	assert_int_equal(client_open(&c, server_port(state)), 0);
	assert_int_equal(client_send(&c, req, len), 0);
	int n = client_response(&c, got, sizeof got);
	if (n <= 0 || strcmp(got, want) != 0)
		fprintf(stderr, "request:\n%.*s\ngot (%d):\n%s\n", (int)len, req, n,
		        n > 0 ? got : "");
	assert_true(n > 0);
	assert_string_equal(got, want);
	assert_int_equal(client_eof(&c), 1);
	client_close(&c);
}

static void test_routes(void **state)
{
	struct client c;
	assert_int_equal(client_open(&c, server_port(state)), 0);
	assert_int_equal(client_expect(&c, GET("/plaintext"), HELLO), 0);
	assert_int_equal(client_expect(&c, GET("/plaintext?lang=en"), HELLO), 0);
	for (long n = 1; n <= 3; n++)
		assert_int_equal(client_expect(&c, GET("/counter"), counter_response(n)), 0);
	assert_int_equal(client_expect(&c, GET("/"), NOT_FOUND), 0);
	assert_int_equal(client_expect(&c, GET("/plaintext/"), NOT_FOUND), 0);
	assert_int_equal(
	    client_expect(&c, "DELETE /counter HTTP/1.1\r\nHost: t\r\n\r\n", NOT_ALLOWED), 0);
	/* A body is framed by Content-Length and dropped: the next request parses. */
	assert_int_equal(client_expect(&c,
	                               "POST /counter HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
	                               "\r\nhello",
	                               NOT_ALLOWED),
	                 0);
	assert_int_equal(client_expect(&c, GET("/counter"), counter_response(4)), 0);
	client_close(&c);
}

static void test_http10(void **state)
{
	struct client c;
	assert_int_equal(client_open(&c, server_port(state)), 0);
	assert_int_equal(client_expect(&c,
	                               "GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	                               HELLO_KEEP),
	                 0);
	assert_int_equal(client_expect(&c, "GET /plaintext HTTP/1.0\r\n\r\n", HELLO_CLOSE), 0);
	assert_int_equal(client_eof(&c), 1);
	client_close(&c);
}

static void test_connection_close(void **state)
{
	struct client c;
	assert_int_equal(client_open(&c, server_port(state)), 0);
	assert_int_equal(client_expect(&c, GET("/plaintext"), HELLO), 0);
	/* What follows the closing request is not answered. */
	assert_int_equal(
	    client_expect(&c,
	                  "GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
	                  "GET /counter HTTP/1.1\r\nHost: t\r\n\r\n",
	                  HELLO_CLOSE),
	    0);
	assert_int_equal(client_eof(&c), 1);
	client_close(&c);
	assert_int_equal(client_open(&c, server_port(state)), 0);
	assert_int_equal(client_expect(&c, GET("/counter"), counter_response(1)), 0);
	client_close(&c);
}

#define PIPELINE                                                                                   \
	GET("/plaintext")                                                                          \
	GET("/counter")                                                                            \
	GET("/missing")                                                                            \
	"POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: "                                  \
	"3\r\n\r\nabc" GET("/counter")

static void expect_pipeline(struct client *c, long first)
{
	const char *want[] = {HELLO, counter_response(first), NOT_FOUND, NOT_ALLOWED, NULL};
	char got[4096];
	for (int i = 0; i < 5; i++) {
		assert_true(client_response(c, got, sizeof got) > 0);
		assert_string_equal(got, want[i] ? want[i] : counter_response(first + 1));
	}
}

static void test_pipelined(void **state)
{
	struct client c;
	assert_int_equal(client_open(&c, server_port(state)), 0);
	assert_int_equal(client_send_str(&c, PIPELINE), 0);
	expect_pipeline(&c, 1);
	/* The same bytes cut at every 7th: requests and bodies split across reads. */
	const char *p = PIPELINE;
	for (size_t i = 0; i < strlen(p); i += 7)
		assert_int_equal(client_send(&c, p + i, strlen(p + i) < 7 ? strlen(p + i) : 7), 0);
	expect_pipeline(&c, 3);
	/* More pipelined requests than one read or one send buffer holds. */
	char many[64 * sizeof GET("/plaintext")] = "";
	for (int i = 0; i < 64; i++)
		strcat(many, GET("/plaintext"));
	for (int round = 0; round < 8; round++) {
		assert_int_equal(client_send_str(&c, many), 0);
		char got[256];
		for (int i = 0; i < 64; i++) {
			assert_true(client_response(&c, got, sizeof got) > 0);
			assert_string_equal(got, HELLO);
		}
	}
	client_close(&c);
}

static void test_garbage(void **state)
{
	static const char binary[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (char)0xfc};
	assert_rejects(state, binary, sizeof binary, BAD_REQUEST); /* a TLS hello */
	static const char *bad[] = {
	    "\r\n\r\n",
	    "HELLO\r\n\r\n",
	    " GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n",
	    "GET\r\n\r\n",
	    "GET plaintext HTTP/1.1\r\nHost: t\r\n\r\n",
	    "GET /plaintext HTTP/2.0\r\nHost: t\r\n\r\n",
	    "GET /plaintext HTTP/1.1 \r\nHost: t\r\n\r\n",
	    "GET /plaintext HTTP/1.1\r\n\r\n", /* no Host */
	    "GET /plaintext HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	    "GET /plaintext HTTP/1.1\r\nHost : t\r\n\r\n",
	    "GET /plaintext HTTP/1.1\r\nHost: t\r\n folded\r\n\r\n",
	    "GET /plaintext HTTP/1.1\nHost: t\n\n\r\n\r\n",
	    "GET /plaintext HTTP/1.1\r\nHost: t\rX: y\r\n\r\n",
	    "GET /plaintext HTTP/1.1\r\nHost: t\r\nX: a\001b\r\n\r\n",
	    "GET /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
	    "GET /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
	    "GET /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	    "GET /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_rejects(state, bad[i], strlen(bad[i]), BAD_REQUEST);
	const char *chunked =
	    "POST /plaintext HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
	assert_rejects(state, chunked, strlen(chunked), NOT_IMPLEMENTED);
	const char *huge = "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\n";
	assert_rejects(state, huge, strlen(huge), BODY_TOO_LARGE);
	/* Garbage after a good request on the same connection: the good one is answered. */
	struct client c;
	char got[512];
	assert_int_equal(client_open(&c, server_port(state)), 0);
	assert_int_equal(client_send_str(&c, GET("/plaintext") "\x01\x02\x03\r\n\r\n"), 0);
	assert_true(client_response(&c, got, sizeof got) > 0);
	assert_string_equal(got, HELLO);
	assert_true(client_response(&c, got, sizeof got) > 0);
	assert_string_equal(got, BAD_REQUEST);
	assert_int_equal(client_eof(&c), 1);
	client_close(&c);
	assert_serves(state);
}

/* A head of n bytes: request line, Host, then X-Pad lines; complete if `end`. */
static size_t padded_head(char *buf, size_t n, int end)
{
	size_t len = (size_t)sprintf(buf, "GET /plaintext HTTP/1.1\r\nHost: t\r\n");
	while (len + 40 < n)
		len += (size_t)sprintf(buf + len, "X-Pad: %030zu\r\n", len);
	len += (size_t)sprintf(buf + len, "%s", end ? "\r\n" : "");
	return len;
}

static void test_oversized_head(void **state)
{
	static char head[64 * 1024];
	/* Just under the limit is served. */
	struct client c;
	char got[512];
	size_t len = padded_head(head, 8100, 1);
	assert_true(len <= 8192);
	assert_int_equal(client_open(&c, server_port(state)), 0);
	assert_int_equal(client_send(&c, head, len), 0);
	assert_true(client_response(&c, got, sizeof got) > 0);
	assert_string_equal(got, HELLO);
	client_close(&c);
	/* Over it, complete or not, is 431 and a close; so is a 60 KiB head. */
	assert_rejects(state, head, padded_head(head, 8300, 1), TOO_LARGE);
	assert_rejects(state, head, padded_head(head, 9000, 0), TOO_LARGE);
	assert_rejects(state, head, padded_head(head, sizeof head - 100, 0), TOO_LARGE);
	assert_serves(state);
}

static void test_half_requests(void **state)
{
	static const char *halves[] = {
	    "G",
	    "GET /plaintext HTTP/1.1\r\nHo",
	    "GET /plaintext HTTP/1.1\r\nHost: t\r\n",
	    "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r",
	};
	struct client c;
	for (size_t i = 0; i < sizeof halves / sizeof halves[0]; i++) {
		/* Half a request, then our side ends: the server closes without a word. */
		assert_int_equal(client_open(&c, server_port(state)), 0);
		assert_int_equal(client_send_str(&c, halves[i]), 0);
		assert_int_equal(shutdown(c.fd, SHUT_WR), 0);
		assert_int_equal(client_eof(&c), 1);
		client_close(&c);
		/* Half a request, then the client is gone altogether. */
		assert_int_equal(client_open(&c, server_port(state)), 0);
		assert_int_equal(client_send_str(&c, halves[i]), 0);
		client_close(&c);
	}
	/* Half a body: the request was answered at its head; then the end of the input. */
	char got[512];
	assert_int_equal(client_open(&c, server_port(state)), 0);
	assert_int_equal(
	    client_send_str(&c,
	                    "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"),
	    0);
	assert_true(client_response(&c, got, sizeof got) > 0);
	assert_string_equal(got, NOT_ALLOWED);
	assert_int_equal(shutdown(c.fd, SHUT_WR), 0);
	assert_int_equal(client_eof(&c), 1);
	client_close(&c);
	assert_serves(state);
}

/* A client sending its request a byte at a time does not hold up anyone: between two of
 * its bytes another client is served, on its kept-alive connection and on a new one. */
static void test_slow_client(void **state)
{
	const char *req = "GET /counter HTTP/1.1\r\nHost: slow.example\r\nUser-Agent: slow\r\n\r\n";
	struct client slow, other;
	assert_int_equal(client_open(&slow, server_port(state)), 0);
	assert_int_equal(client_open(&other, server_port(state)), 0);
	size_t len = strlen(req);
	for (size_t i = 0; i < len; i++) {
		assert_int_equal(client_send(&slow, req + i, 1), 0);
		assert_int_equal(client_expect(&other, GET("/plaintext"), HELLO), 0);
		if (i % 16 == 0)
			assert_serves(state);
	}
	char got[512];
	assert_true(client_response(&slow, got, sizeof got) > 0);
	assert_string_equal(got, counter_response(1));
	client_close(&slow);
	client_close(&other);
}

/* Pipeline requests on c without reading a response until the server stops taking them:
 * its go process is then parked sending into a full socket. Returns 1 once a send made no
 * progress for a while with bytes still unsent, 0 if the server reset the connection
 * first, or -1 (another error, or the server read 64 MiB: it would have had to drop
 * responses to keep reading). */
static int stuff(struct client *c)
{
	static const char req[] = GET("/plaintext") GET("/plaintext") GET("/plaintext");
	size_t sent = 0, off = 0;
	while (sent < 64u << 20) {
		ssize_t n =
		    send(c->fd, req + off, sizeof req - 1 - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			sent += (size_t)n;
			off = (off + (size_t)n) % (sizeof req - 1);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == ECONNRESET || errno == EPIPE))
			return 0;
		if (n < 0 && errno != EAGAIN)
			return -1;
		struct pollfd p = {.fd = c->fd, .events = POLLOUT};
		if (poll(&p, 1, 300) == 0) {
			int unsent = 0;
			return ioctl(c->fd, SIOCOUTQ, &unsent) == 0 && unsent > 0 ? 1 : -1;
		}
	}
	return -1;
}

/* A client that sends requests but reads no response holds its go process in a send,
 * and nobody else: other clients are served meanwhile, and stopping the server ends it. */
static void test_slow_reader(void **state)
{
	struct client reader;
	assert_int_equal(client_open(&reader, server_port(state)), 0);
	assert_int_equal(stuff(&reader), 1);
	assert_serves(state);
	assert_serves(state);
	assert_int_equal(server_teardown(state), 0);
	client_close(&reader);
}

/* With idle_ms set, a send that makes no progress that long ends its connection: the
 * reader gets responses the kernel held, then the end (a close or a reset). */
static void test_slow_reader_idle(void **state)
{
	struct client reader;
	assert_int_equal(client_open(&reader, server_port(state)), 0);
	assert_in_range(stuff(&reader), 0, 1);
	assert_serves(state);
	char got[512];
	int n, answered = 0;
	while ((n = client_response(&reader, got, sizeof got)) > 0) {
		assert_string_equal(got, HELLO);
		answered++;
	}
	assert_true(answered > 0);
	assert_true(n == 0 || n == -ECONNRESET || n == -EPROTO);
	client_close(&reader);
	assert_serves(state);
}

/* With idle_ms set, a silent connection and a stalled half request are closed. */
static void test_idle_timeout(void **state)
{
	struct client silent, stalled, busy;
	assert_int_equal(client_open(&silent, server_port(state)), 0);
	assert_int_equal(client_open(&stalled, server_port(state)), 0);
	assert_int_equal(client_open(&busy, server_port(state)), 0);
	assert_int_equal(client_expect(&busy, GET("/plaintext"), HELLO), 0);
	assert_int_equal(client_send_str(&stalled, "GET /plaintext HTTP/1.1\r\n"), 0);
	assert_int_equal(client_eof(&silent), 1);
	assert_int_equal(client_eof(&stalled), 1);
	assert_int_equal(client_eof(&busy), 1);
	client_close(&silent);
	client_close(&stalled);
	client_close(&busy);
	assert_serves(state);
}

/* Stopping shuts down connections that are open and idle. */
static void test_stop_with_open_connections(void **state)
{
	struct client c[3];
	for (int i = 0; i < 3; i++) {
		assert_int_equal(client_open(&c[i], server_port(state)), 0);
		assert_int_equal(client_expect(&c[i], GET("/plaintext"), HELLO), 0);
	}
	assert_int_equal(client_send_str(&c[2], "GET /pla"), 0);
	assert_int_equal(server_teardown(state), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(client_eof(&c[i]), 1);
		client_close(&c[i]);
	}
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_routes, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(test_http10, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(test_connection_close, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(test_pipelined, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(test_garbage, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_head, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(test_half_requests, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(test_slow_client, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(test_idle_timeout, server_setup_idle, server_teardown),
	    cmocka_unit_test_setup(test_slow_reader, server_setup),
	    cmocka_unit_test_setup_teardown(test_slow_reader_idle, server_setup_idle,
	                                    server_teardown),
	    cmocka_unit_test_setup(test_stop_with_open_connections, server_setup),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
