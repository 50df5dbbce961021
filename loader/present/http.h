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

/* The server's sockets to poll (its listening socket, then its clients),
 * at most HTTP_MAX_FDS, lowering *deadline to the clients' time limits. */
#define HTTP_MAX_FDS 17
struct pollfd;
int http_poll_fds(struct http_server *h, struct pollfd *fds, double *deadline);
/* Serves what poll found ready among the n fds http_poll_fds gave. */
void http_serve(struct http_server *h, const struct pollfd *fds, int n);
void http_close(struct http_server *h);

#endif
