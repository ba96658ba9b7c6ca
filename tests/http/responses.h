/* tests/http/responses.h: the server's exact responses, less the Date line (client.h). */
#ifndef HTTP_TEST_RESPONSES_H
#define HTTP_TEST_RESPONSES_H

#define HEAD(status, type, len)                                                                    \
	"HTTP/1.1 " status "\r\nServer: ringfold\r\nContent-Type: " type                           \
	"\r\nContent-Length: " len "\r\n"

#define HELLO HEAD("200 OK", "text/plain", "13") "\r\nHello, World!"
#define HELLO_CLOSE HEAD("200 OK", "text/plain", "13") "Connection: close\r\n\r\nHello, World!"
#define HELLO_KEEP HEAD("200 OK", "text/plain", "13") "Connection: keep-alive\r\n\r\nHello, World!"
#define NOT_FOUND HEAD("404 Not Found", "text/plain", "10") "\r\nNot Found\n"
#define NOT_ALLOWED                                                                                \
	HEAD("405 Method Not Allowed", "text/plain", "19")                                         \
	"Allow: GET\r\n\r\nMethod Not "                                                            \
	"Allowed\n"
#define BAD_REQUEST                                                                                \
	HEAD("400 Bad Request", "text/plain", "12") "Connection: close\r\n\r\nBad Request\n"
#define TOO_LARGE                                                                                  \
	HEAD("431 Request Header Fields Too Large", "text/plain", "32")                            \
	"Connection: close\r\n\r\nRequest Header Fields Too Large\n"
#define BODY_TOO_LARGE                                                                             \
	HEAD("413 Content Too Large", "text/plain", "18")                                          \
	"Connection: close\r\n\r\nContent Too Large\n"
#define NOT_IMPLEMENTED                                                                            \
	HEAD("501 Not Implemented", "text/plain", "16")                                            \
	"Connection: close\r\n\r\nNot "                                                            \
	"Implemented\n"

#define GET(path) "GET " path " HTTP/1.1\r\nHost: test\r\n\r\n"

#endif
