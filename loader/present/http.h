/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

/* A tiny non-blocking HTTP/1.x server for /metrics: one request per
 * connection, bounded request size, time limits, a fixed number of clients,
 * so no client can block or stop the collection it runs beside. */
struct http_server;

/* Produces the /metrics body in a malloc'd buffer; 0 or -errno. */
typedef int (*http_render_fn)(void *ctx, char **body, size_t *len);

/* Checks "ADDR:PORT", "[ADDR6]:PORT", ":PORT" or "PORT" (the last two on
 * loopback); returns 0, or -1 with a message in err. */
int http_check_addr(const char *spec, char *err, size_t size);

/* Binds and listens; NULL after one line on stderr. */
struct http_server *http_listen(const char *spec, http_render_fn render, void *ctx);
/* "127.0.0.1:9464", as bound. */
const char *http_address(const struct http_server *h);

/* Waits up to timeout_s for the server's sockets or extra_fd (-1: none),
 * serving what is ready.  Returns 1 when extra_fd is readable, 0 on a
 * timeout, -1 on a signal. */
int http_wait(struct http_server *h, int extra_fd, double timeout_s);

void http_close(struct http_server *h);

#endif
