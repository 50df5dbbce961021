// SPDX-License-Identifier: GPL-2.0
/* The /metrics endpoint: a single-threaded, non-blocking HTTP server polled
 * from kvmprof's main loop between map reads. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "present/http.h"
#include "util/common.h"

#define MAX_CLIENTS 16
_Static_assert(HTTP_MAX_FDS == MAX_CLIENTS + 1, "the listening socket and every client");
#define MAX_REQUEST 8192	/* request line and headers; more is refused */
#define READ_TIMEOUT_S 5.0	/* to send the whole request */
#define WRITE_TIMEOUT_S 10.0	/* to take the whole response */

struct client {
	int fd;			/* -1: free */
	double deadline;
	size_t used;
	char req[MAX_REQUEST];
	char *out;		/* the response once the request is in */
	size_t out_len, out_off;
};

struct http_server {
	int fd;
	http_render_fn render;
	void *ctx;
	char address[128];
	char *unix_path;	/* unix:PATH: removed at close */
	struct client clients[MAX_CLIENTS];
};

/* Splits spec into host (loopback when empty) and port. */
static int split_addr(const char *spec, char *host, size_t hsize, char *port, size_t psize,
		      char *err, size_t esize)
{
	const char *colon = strrchr(spec, ':'), *p, *h = spec;
	size_t hlen;
	char *end;
	long v;

	if (!colon) {		/* "PORT" */
		p = spec;
		hlen = 0;
	} else {
		p = colon + 1;
		hlen = colon - spec;
		if (hlen && spec[0] == '[') {	/* "[::1]:PORT" */
			if (spec[hlen - 1] != ']') {
				snprintf(err, esize, "invalid --listen '%s': expected ADDR:PORT or [ADDR6]:PORT", spec);
				return -1;
			}
			h = spec + 1;
			hlen -= 2;
		} else if (memchr(spec, ':', hlen)) {
			snprintf(err, esize, "invalid --listen '%s': put an IPv6 address in brackets, [::1]:PORT", spec);
			return -1;
		}
	}
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno || end == p || *end || v < 1 || v > 65535) {
		snprintf(err, esize, "invalid --listen '%s': expected a port 1 to 65535", spec);
		return -1;
	}
	if (hlen >= hsize) {
		snprintf(err, esize, "invalid --listen '%s': address too long", spec);
		return -1;
	}
	if (hlen)
		memcpy(host, h, hlen);
	else	/* safe by default: only this machine can scrape */
		strcpy(host, "127.0.0.1");
	host[hlen ? hlen : strlen(host)] = '\0';
	snprintf(port, psize, "%ld", v);
	return 0;
}

#define UNIX_PREFIX "unix:"

/* "unix:PATH": a socket file, reached by who may write to it (0660) */
static bool is_unix(const char *spec)
{
	return !strncmp(spec, UNIX_PREFIX, strlen(UNIX_PREFIX));
}

int http_check_addr(const char *spec, char *err, size_t size)
{
	char host[64], port[8];
	size_t len = strlen(spec) - strlen(UNIX_PREFIX);

	if (!is_unix(spec))
		return split_addr(spec, host, sizeof(host), port, sizeof(port), err, size);
	if (!len || len >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, size, "invalid --listen '%s': unix:PATH with a path of 1 to %zu bytes", spec,
			 sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return -1;
	}
	return 0;
}

/* Binds the unix socket: a socket left by a killed run is replaced,
 * anything else at the path is refused. */
static int listen_unix(struct http_server *h, const char *spec)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = spec + strlen(UNIX_PREFIX);
	struct stat st;
	mode_t old;
	int err;

	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "kvmprof: --listen %s: something that is not a socket is there\n", spec);
			return -1;
		}
		unlink(path);
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	old = umask(0117);	/* 0660: root and the folder's group, by setgid or chgrp */
	err = h->fd < 0 || bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(h->fd, 64);
	umask(old);
	if (err) {
		fprintf(stderr, "kvmprof: cannot listen on %s: %s\n", spec, strerror(errno));
		return -1;
	}
	snprintf(h->address, sizeof(h->address), "%s", spec);
	h->unix_path = strdup(path);
	return 0;
}

/* Anyone who can reach a wider address reads every guest's pid and name. */
static void warn_if_open(const struct addrinfo *ai, const char *address)
{
	bool loopback = ai->ai_family == AF_INET ?
		(ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr) >> 24) == 127 :
		IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);

	if (!loopback)
		fprintf(stderr, "kvmprof: warning: /metrics at %s shows every guest's pid and name to "
			"whoever can reach that address; loopback or --listen unix:PATH keep it local\n",
			address);
}

struct http_server *http_listen(const char *spec, http_render_fn render, void *ctx)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai = NULL;
	char host[64], port[8], err[160], name[INET6_ADDRSTRLEN];
	struct http_server *h;
	int one = 1, rc;

	if (http_check_addr(spec, err, sizeof(err))) {
		fprintf(stderr, "kvmprof: %s\n", err);
		return NULL;
	}
	rc = is_unix(spec) ? 0 : (split_addr(spec, host, sizeof(host), port, sizeof(port), err, sizeof(err)),
				  getaddrinfo(host, port, &hints, &ai));
	if (rc) {
		fprintf(stderr, "kvmprof: --listen %s: %s\n", spec, gai_strerror(rc));
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		freeaddrinfo(ai);
		fprintf(stderr, "kvmprof: out of memory\n");
		return NULL;
	}
	h->render = render;
	h->ctx = ctx;
	for (int i = 0; i < MAX_CLIENTS; i++)
		h->clients[i].fd = -1;
	if (is_unix(spec)) {
		freeaddrinfo(ai);
		if (!listen_unix(h, spec))
			return h;
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return NULL;
	}
	h->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(h->fd, ai->ai_addr, ai->ai_addrlen) || listen(h->fd, 64)) {
		fprintf(stderr, "kvmprof: cannot listen on %s: %s\n", spec, strerror(errno));
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		freeaddrinfo(ai);
		return NULL;
	}
	if (ai->ai_family == AF_INET6)
		snprintf(h->address, sizeof(h->address), "[%s]:%s",
			 inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, name,
				   sizeof(name)), port);
	else
		snprintf(h->address, sizeof(h->address), "%s:%s",
			 inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, name,
				   sizeof(name)), port);
	warn_if_open(ai, h->address);
	freeaddrinfo(ai);
	return h;
}

const char *http_address(const struct http_server *h)
{
	return h->address;
}

static void drop_client(struct client *c)
{
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->used = c->out_len = c->out_off = 0;
}

/* Sets the response: a status line, headers, and body (taken over). */
static void respond(struct client *c, const char *status, const char *type, char *body,
		    size_t len, int head_only)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, type, len);

	if (head_only)
		len = 0;
	c->out = malloc(n + len);
	if (!c->out) {
		free(body);
		drop_client(c);
		return;
	}
	memcpy(c->out, hdr, n);
	if (len)
		memcpy(c->out + n, body, len);
	free(body);
	c->out_len = n + len;
	c->out_off = 0;
	c->deadline = now_s() + WRITE_TIMEOUT_S;
}

static void respond_text(struct client *c, const char *status, const char *text, int head_only)
{
	char *body = strdup(text);

	respond(c, status, "text/plain; charset=utf-8", body, body ? strlen(body) : 0, head_only);
}

/* A whole request is in: answer it. */
static void handle_request(struct http_server *h, struct client *c)
{
	char method[8], path[256];
	int head;

	c->req[c->used] = '\0';
	if (sscanf(c->req, "%7s %255s HTTP/1.%*1[01]", method, path) != 2 || path[0] != '/') {
		respond_text(c, "400 Bad Request", "bad request\n", 0);
		return;
	}
	head = !strcmp(method, "HEAD");
	if (!head && strcmp(method, "GET")) {
		respond_text(c, "405 Method Not Allowed", "only GET and HEAD\n", 0);
		return;
	}
	path[strcspn(path, "?")] = '\0';
	if (!strcmp(path, "/metrics")) {
		char *body;
		size_t len;

		if (h->render(h->ctx, &body, &len)) {
			respond_text(c, "500 Internal Server Error", "out of memory\n", head);
			return;
		}
		respond(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body, len, head);
	} else if (!strcmp(path, "/")) {
		respond_text(c, "200 OK", "kvmprof: metrics at /metrics\n", head);
	} else {
		respond_text(c, "404 Not Found", "not found: try /metrics\n", head);
	}
}

static void on_readable(struct http_server *h, struct client *c)
{
	ssize_t n = recv(c->fd, c->req + c->used, MAX_REQUEST - 1 - c->used, 0);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		drop_client(c);
		return;
	}
	if (n < 0)
		return;
	c->used += n;
	c->req[c->used] = '\0';
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
		handle_request(h, c);
	else if (c->used == MAX_REQUEST - 1)
		respond_text(c, "431 Request Header Fields Too Large", "request too large\n", 0);
	else if (memchr(c->req, '\0', c->used))	/* binary garbage */
		respond_text(c, "400 Bad Request", "bad request\n", 0);
}

static void on_writable(struct client *c)
{
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop_client(c);
		return;
	}
	c->out_off += n;
	if (c->out_off == c->out_len) {
		shutdown(c->fd, SHUT_WR);
		drop_client(c);
	}
}

static void accept_clients(struct http_server *h)
{
	for (;;) {
		int fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;

		if (fd < 0)
			return;
		for (i = 0; i < MAX_CLIENTS && h->clients[i].fd >= 0; i++)
			;
		if (i == MAX_CLIENTS) {	/* full: the oldest that has not sent its request goes */
			int old = -1;

			for (int j = 0; j < MAX_CLIENTS; j++)
				if (!h->clients[j].out &&
				    (old < 0 || h->clients[j].deadline < h->clients[old].deadline))
					old = j;
			if (old < 0) {
				close(fd);
				continue;
			}
			drop_client(&h->clients[old]);
			i = old;
		}
		h->clients[i].fd = fd;
		h->clients[i].deadline = now_s() + READ_TIMEOUT_S;
	}
}

int http_poll_fds(struct http_server *h, struct pollfd *fds, double *deadline)
{
	double now = now_s();
	int n = 0;

	fds[n++] = (struct pollfd){ .fd = h->fd, .events = POLLIN };
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &h->clients[i];

		if (c->fd < 0)
			continue;
		if (now >= c->deadline) {	/* too slow: never wait on it */
			drop_client(c);
			continue;
		}
		if (c->deadline < *deadline)
			*deadline = c->deadline;
		fds[n++] = (struct pollfd){ .fd = c->fd, .events = c->out ? POLLOUT : POLLIN };
	}
	return n;
}

void http_serve(struct http_server *h, const struct pollfd *fds, int n)
{
	for (int j = 1; j < n; j++) {
		struct client *c = NULL;

		if (!fds[j].revents)
			continue;
		for (int i = 0; i < MAX_CLIENTS && !c; i++)
			if (h->clients[i].fd == fds[j].fd)
				c = &h->clients[i];
		if (!c)
			continue;
		if (c->out)
			on_writable(c);
		else
			on_readable(h, c);
		if (c->fd >= 0 && c->out)	/* answered: try to send it now */
			on_writable(c);
	}
	if (n && fds[0].revents)
		accept_clients(h);
}

void http_close(struct http_server *h)
{
	if (!h)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (h->clients[i].fd >= 0)
			drop_client(&h->clients[i]);
	close(h->fd);
	if (h->unix_path)
		unlink(h->unix_path);
	free(h->unix_path);
	free(h);
}
