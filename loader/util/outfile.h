/* SPDX-License-Identifier: GPL-2.0 */
#ifndef OUTFILE_H
#define OUTFILE_H

#include <stdio.h>

/* Checks that path can be written (its folder exists and is writable, it is
 * not a folder); prints one line and returns -1 if not. */
int check_output_path(const char *path, const char *what);

/* A file written beside its final path and renamed into place on success,
 * so a failed or interrupted write never replaces a good file. */
struct outfile {
	FILE *f;
	char *path, *tmp_path;
};

int outfile_open(struct outfile *o, const char *path);
/* Flushes, syncs and renames; on any write error removes the temporary
 * file and prints one line.  Returns 0 or -1. */
int outfile_commit(struct outfile *o);
void outfile_abort(struct outfile *o);

#endif
