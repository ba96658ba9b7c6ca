/* tests/http/fixture.h: a server per test, started in-process on an ephemeral loopback
 * port and stopped after the test; a stop that finds a connection's go process stuck
 * fails the test (cmocka teardown). */
#ifndef HTTP_TEST_FIXTURE_H
#define HTTP_TEST_FIXTURE_H

#include <stdint.h>

struct http_server;

/* cmocka setup and teardown: *state becomes the struct http_server. The _idle setup
 * closes connections after 200 ms of silence. */
int server_setup(void **state);
int server_setup_idle(void **state);
int server_teardown(void **state);

uint16_t server_port(void **state);

/* The exact response of GET /counter that returns n. */
const char *counter_response(long n);

#endif
