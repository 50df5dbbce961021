/* SPDX-License-Identifier: GPL-2.0 */
#ifndef OUTFILE_H
#define OUTFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* An output the command line named, checked once at start, before any
 * tracing.  A file (new, or a regular file) is written beside itself and
 * renamed into place, relative to its folder opened here once: the folder
 * is never looked up by name again, so swapping it for a symlink mid-run
 * changes nothing, and a symlink at the name is replaced, never followed.
 * A character device or a FIFO (/dev/null, a named pipe) and the
 * descriptors /dev/stdout, /dev/stderr, /dev/fd/N are written through.
 * Anything else (a folder, a block device, a socket) is refused. */
struct outpath {
	char *path;		/* as given, for messages */
	const char *option;	/* "--csv" */
	int dirfd;		/* the folder (O_DIRECTORY); -1 for a stream */
	char *name;		/* the file's name in that folder */
	int stream_fd;		/* written through this fd; -1 for a file */
	bool exists;		/* a file of that name is there (else dev, ino are the folder's) */
	dev_t dev;		/* what it names, for outpath_same */
	ino_t ino;
};

/* Checks path for option and opens its folder (or the stream); -1 after
 * one line naming the option and why. */
int outpath_init(struct outpath *p, const char *path, const char *option);
/* Do a and b name the same file, however spelt (streams never do: nothing
 * is replaced)? */
bool outpath_same(const struct outpath *a, const struct outpath *b);
void outpath_free(struct outpath *p);

/* A file written whole or not at all: a temporary file beside the target,
 * renamed over it at commit; for a stream, the stream itself. */
struct outfile {
	FILE *f;
	const struct outpath *to;
	char tmp[NAME_MAX + 1];	/* the temporary file's name in to's folder */
	int error;		/* the first write error (errno), for the commit's line */
};

int outfile_open(struct outfile *o, const struct outpath *to);
/* Flushes what was written so far (a series' rows), keeping the first
 * error for the commit. */
void outfile_flush(struct outfile *o);
/* Flushes, syncs and renames; on any write error removes the temporary
 * file and prints one line.  Returns 0 or -1. */
int outfile_commit(struct outfile *o);
void outfile_abort(struct outfile *o);

#endif
