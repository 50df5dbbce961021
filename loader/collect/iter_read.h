/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ITER_READ_H
#define ITER_READ_H

#include <stddef.h>

/* One record of an iterator's output; 0 goes on, anything else stops the
 * reading and is returned. */
typedef int (*iter_record_fn)(const void *rec, void *ctx);

/* Runs the BPF iterator of link_fd once, handing its output to each() one
 * whole record of rec_size bytes at a time, a few pages a read(2).  0,
 * each()'s stop, or -errno (-EIO: output that ends inside a record). */
int iter_read(int link_fd, size_t rec_size, iter_record_fn each, void *ctx);
/* The same from any fd, read to its end (the unit test's packet socket). */
int records_read(int fd, size_t rec_size, iter_record_fn each, void *ctx);

#endif
