/* tests/http/fixture.c: the server fixture of fixture.h. */
#include "fixture.h"

#include <stdio.h>

#include "responses.h"
#include "server.h"

/* Connections still open when a test ends are shut down by the stop; their go processes
 * end at once unless one is stuck. */
#define STOP_MS 10000

static int start(void **state, int64_t idle_ms)
{
	struct http_server *s;
	struct http_config cfg = {.host = "127.0.0.1", .idle_ms = idle_ms};
	if (http_server_start(&cfg, &s) < 0)
		return -1;
	*state = s;
	return 0;
}

int server_setup(void **state)
{
	return start(state, 0);
}

int server_setup_idle(void **state)
{
	return start(state, 200);
}

int server_teardown(void **state)
{
	int rc = http_server_stop(*state, STOP_MS);
	if (rc < 0)
		fprintf(stderr, "http_server_stop: %d\n", rc);
	return rc < 0 ? -1 : 0;
}

uint16_t server_port(void **state)
{
	return http_server_port(*state);
}

const char *counter_response(long n)
{
	static char buf[256];
	char body[32];
	int len = snprintf(body, sizeof body, "{\"count\":%ld}", n);
	snprintf(buf, sizeof buf,
	         "HTTP/1.1 200 OK\r\nServer: ringfold\r\nContent-Type: application/json\r\n"
	         "Content-Length: %d\r\n\r\n%s",
	         len, body);
	return buf;
}
