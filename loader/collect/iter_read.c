// SPDX-License-Identifier: GPL-2.0
/* BPF iterators' output as whole records.  The seq file under an iterator
 * cuts its output where a read(2) ends, which may be inside a record (its
 * buffer is 8 pages, 512 KB with 64 KB pages): what is left of one read is
 * put before the next. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "collect/iter_read.h"

#define ITER_READ_BYTES (64 * 1024)	/* a read(2): 8 pages of 4 KB and more */

int records_read(int fd, size_t rec_size, iter_record_fn each, void *ctx)
{
	size_t cap = ITER_READ_BYTES + rec_size, have = 0, used;
	char *buf = malloc(cap);
	int err = 0;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		n = read(fd, buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0) {
			err = have ? -EIO : 0;
			break;
		}
		have += n;
		for (used = 0; have - used >= rec_size && !err; used += rec_size)
			err = each(buf + used, ctx);
		if (err)
			break;
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	free(buf);
	return err;
}

int iter_read(int link_fd, size_t rec_size, iter_record_fn each, void *ctx)
{
	int fd = bpf_iter_create(link_fd), err;

	if (fd < 0)
		return -errno;
	err = records_read(fd, rec_size, each, ctx);
	close(fd);
	return err;
}
