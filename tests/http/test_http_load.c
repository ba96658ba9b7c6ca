/* Many concurrent keep-alive connections to the HTTP example server, from the test
 * thread: every connection has a request in flight at once, round after round, some
 * pipelined, some closing; every response is exact and the counter atom hands out each
 * count exactly once. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "client.h"
#include "fixture.h"
#include "responses.h"
#include "ringfold.h"

#define CONNS 400
#define ROUNDS 10

/* Read one GET /counter response and mark its count seen. */
static void take_count(struct client *c, bool *seen, long max)
{
	char got[512];
	assert_true(client_response(c, got, sizeof got) > 0);
	const char *body = strstr(got, "\r\n\r\n{\"count\":");
	assert_non_null(body);
	long n = strtol(body + 13, NULL, 10);
	assert_true(n >= 1 && n <= max);
	assert_false(seen[n]);
	seen[n] = true;
	assert_string_equal(got, counter_response(n));
}

static void test_many_connections(void **state)
{
	/* Both ends of every connection live in this process. */
	struct rlimit lim;
	getrlimit(RLIMIT_NOFILE, &lim);
	if (lim.rlim_cur < 2 * CONNS + 64 && lim.rlim_max >= 2 * CONNS + 64) {
		lim.rlim_cur = 2 * CONNS + 64;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
	static struct client c[CONNS];
	long total = (long)CONNS * ROUNDS * 3 / 2; /* GET /counter requests */
	bool *seen = calloc((size_t)total + 1, 1);
	assert_non_null(seen);
	for (int i = 0; i < CONNS; i++)
		assert_int_equal(client_open(&c[i], server_port(state)), 0);
	for (int round = 0; round < ROUNDS; round++) {
		/* Odd connections pipeline two requests, even ones send one and a plaintext. */
		for (int i = 0; i < CONNS; i++)
			assert_int_equal(
			    client_send_str(&c[i], i % 2 ? GET("/counter") GET("/counter")
			                                 : GET("/counter") GET("/plaintext")),
			    0);
		for (int i = 0; i < CONNS; i++) {
			take_count(&c[i], seen, total);
			if (i % 2) {
				take_count(&c[i], seen, total);
			} else {
				char got[512];
				assert_true(client_response(&c[i], got, sizeof got) > 0);
				assert_string_equal(got, HELLO);
			}
		}
	}
	/* A quarter close with Connection: close, the rest just go. */
	for (int i = 0; i < CONNS; i++) {
		if (i % 4 == 0) {
			assert_int_equal(client_expect(&c[i],
			                               "GET /plaintext HTTP/1.1\r\nHost: t\r\n"
			                               "Connection: close\r\n\r\n",
			                               HELLO_CLOSE),
			                 0);
			assert_int_equal(client_eof(&c[i]), 1);
		}
		client_close(&c[i]);
	}
	long counted = 0;
	for (long n = 1; n <= total; n++)
		counted += seen[n];
	assert_int_equal(counted, total);
	free(seen);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_many_connections, server_setup, server_teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
