// SPDX-License-Identifier: GPL-2.0
/* stdout written by a thread of its own (util/async_out.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "util/async_out.h"

#define QUEUE_MAX (8u << 20)	/* what a stalled reader may leave waiting */
#define CHUNK (64u << 10)

static struct {
	pthread_mutex_t lock;
	pthread_cond_t more, progress;
	char *buf;
	size_t head, len, cap;	/* a ring of cap bytes, len of them queued from head */
	size_t written, dropped;
	bool broken;		/* fd 1 refused a write (EPIPE, EIO): the rest is dropped */
} q = { .lock = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER,
	.progress = PTHREAD_COND_INITIALIZER };

static ssize_t queue_write(void *cookie, const char *data, size_t size)
{
	pthread_mutex_lock(&q.lock);
	if (q.broken || q.len + size > q.cap) {
		q.dropped += size;	/* never blocks the caller: dropped, and said at the end */
	} else {
		for (size_t i = 0, at = (q.head + q.len) % q.cap; i < size; ) {
			size_t n = size - i < q.cap - at ? size - i : q.cap - at;

			memcpy(q.buf + at, data + i, n);
			i += n;
			at = 0;
		}
		q.len += size;
		pthread_cond_signal(&q.more);
	}
	pthread_mutex_unlock(&q.lock);
	return size;
}

static void *writer(void *arg)
{
	static char chunk[CHUNK];

	for (;;) {
		size_t n;

		pthread_mutex_lock(&q.lock);
		while (!q.len)
			pthread_cond_wait(&q.more, &q.lock);
		n = q.len < CHUNK ? q.len : CHUNK;
		if (n > q.cap - q.head)
			n = q.cap - q.head;
		memcpy(chunk, q.buf + q.head, n);
		pthread_mutex_unlock(&q.lock);
		for (size_t off = 0; off < n;) {
			ssize_t w = write(STDOUT_FILENO, chunk + off, n - off);

			if (w > 0) {
				off += w;
			} else if (errno != EINTR) {
				/* the reader is gone: the main thread learns it as
				 * from its own write (SIGPIPE is blocked here) */
				if (errno == EPIPE)
					kill(getpid(), SIGPIPE);
				pthread_mutex_lock(&q.lock);
				q.broken = true;
				pthread_mutex_unlock(&q.lock);
				break;
			}
		}
		pthread_mutex_lock(&q.lock);
		q.head = (q.head + n) % q.cap;
		q.len -= n;
		if (q.broken) {
			q.dropped += q.len;
			q.len = 0;
		}
		q.written += n;
		pthread_cond_broadcast(&q.progress);
		pthread_mutex_unlock(&q.lock);
	}
	return NULL;
}

int async_stdout_start(void)
{
	cookie_io_functions_t io = { .write = queue_write };
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, old;
	FILE *f;

	fflush(stdout);
	q.cap = QUEUE_MAX;
	q.buf = malloc(q.cap);
	f = q.buf ? fopencookie(NULL, "w", io) : NULL;
	if (!f)
		return -1;
	/* the signals stay with the main thread: its waits and writes end */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thread, &attr, writer, NULL)) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		fclose(f);
		return -1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	setvbuf(f, NULL, _IOLBF, 0);
	stdout = f;
	return 0;
}

size_t async_stdout_drain(volatile sig_atomic_t *signals, double stall_s)
{
	sig_atomic_t seen = *signals;
	double stalled = 0;
	size_t last, left;
	struct timespec deadline;

	fflush(stdout);
	if (!q.buf)
		return 0;
	pthread_mutex_lock(&q.lock);
	for (last = q.written; q.len && *signals == seen;) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_nsec += 100 * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&q.progress, &q.lock, &deadline) != ETIMEDOUT)
			continue;
		if (q.written != last) {	/* a slow reader, not a stopped one */
			last = q.written;
			stalled = 0;
			continue;
		}
		if ((stalled += 0.1) >= stall_s)
			break;
	}
	left = q.broken ? 0 : q.len + q.dropped;	/* broken: the reader left, as with head -3 */
	pthread_mutex_unlock(&q.lock);
	return left;
}
