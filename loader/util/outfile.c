// SPDX-License-Identifier: GPL-2.0
/* Output files that appear whole or not at all. */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/outfile.h"

int check_output_path(const char *path, const char *what)
{
	char *copy = strdup(path), *dir;
	struct stat st;
	int ret = 0;

	if (!copy)
		return -1;
	dir = dirname(copy);
	if (!*path) {
		fprintf(stderr, "kvmprof: %s: empty file name\n", what);
		ret = -1;
	} else if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "kvmprof: %s %s: is a folder, not a file\n", what, path);
		ret = -1;
	} else if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "kvmprof: %s %s: folder %s does not exist\n", what, path, dir);
		ret = -1;
	} else if (access(dir, W_OK)) {
		fprintf(stderr, "kvmprof: %s %s: cannot write in %s: %s\n", what, path, dir,
			strerror(errno));
		ret = -1;
	}
	free(copy);
	return ret;
}

int outfile_open(struct outfile *o, const char *path)
{
	int fd;

	memset(o, 0, sizeof(*o));
	o->path = strdup(path);
	if (!o->path || asprintf(&o->tmp_path, "%s.tmp.XXXXXX", path) < 0) {
		free(o->path);
		return -1;
	}
	fd = mkstemp(o->tmp_path);
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		/* the file the user named, as at a failed commit: the folder
		 * may have gone or turned read-only since the start */
		fprintf(stderr, "kvmprof: cannot write %s: %s (the previous file, if any, is kept)\n",
			path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(o->tmp_path);
		}
		free(o->path);
		free(o->tmp_path);
		o->path = o->tmp_path = NULL;
		return -1;
	}
	fchmod(fd, 0644);	/* mkstemp makes 0600; a report is for reading */
	return 0;
}

void outfile_abort(struct outfile *o)
{
	if (o->f)
		fclose(o->f);
	if (o->tmp_path)
		unlink(o->tmp_path);
	free(o->path);
	free(o->tmp_path);
	memset(o, 0, sizeof(*o));
}

int outfile_commit(struct outfile *o)
{
	int err = 0;

	if (!o->f)
		return -1;
	if (fflush(o->f) || ferror(o->f) || fsync(fileno(o->f)))
		err = errno ? errno : EIO;
	if (fclose(o->f) && !err)
		err = errno;
	o->f = NULL;
	if (!err && rename(o->tmp_path, o->path))
		err = errno;
	if (err) {
		fprintf(stderr, "kvmprof: cannot write %s: %s (the previous file, if any, is kept)\n",
			o->path, strerror(err));
		outfile_abort(o);
		return -1;
	}
	free(o->path);
	free(o->tmp_path);
	memset(o, 0, sizeof(*o));
	return 0;
}
