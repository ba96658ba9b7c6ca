/* tests/http/client.h: a plain-socket HTTP client for the tests, run on the test thread.
 *
 * Every socket gets CLIENT_WAIT_MS receive and send timeouts, so a server that stalls
 * fails a test (-EAGAIN) instead of hanging it; nothing here sleeps.
 */
#ifndef HTTP_TEST_CLIENT_H
#define HTTP_TEST_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define CLIENT_WAIT_MS 20000

struct client {
	int fd;
	size_t have;     /* bytes received and not yet returned */
	char buf[32768]; /* room for a batch of pipelined responses */
};

/* Connect to 127.0.0.1:port. Returns 0 or a negative errno. */
int client_open(struct client *c, uint16_t port);
void client_close(struct client *c);

/* Send all of s (len bytes, or strlen(s) for client_send_str). 0 or a negative errno. */
int client_send(struct client *c, const char *s, size_t len);
int client_send_str(struct client *c, const char *s);

/* Read one response (head, then Content-Length bytes of body) into out as a string, its
 * Date line cut out (the only line that changes from run to run). Returns its length,
 * 0 when the server closed before a byte of it, or a negative errno (-EAGAIN when
 * nothing came for CLIENT_WAIT_MS, -EMSGSIZE when it does not fit). */
int client_response(struct client *c, char *out, size_t cap);

/* Whether the server closed the connection with nothing more to say: 1 yes, 0 no (bytes
 * came), or a negative errno (-EAGAIN: it did not close within CLIENT_WAIT_MS). */
int client_eof(struct client *c);

/* Send req and compare the response with want: 0, or -1 after printing both. */
int client_expect(struct client *c, const char *req, const char *want);

#endif
