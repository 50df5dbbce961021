// SPDX-License-Identifier: GPL-2.0
/* Output files that appear whole or not at all, written where the command
 * line said and nowhere else. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/outfile.h"

#define TMP_SUFFIX ".tmp."
#define TMP_RANDOM 6	/* NAME.tmp.XXXXXX */

/* The descriptor a /dev/stdout-like path names, -1 for any other path: its
 * open file is written through, never reopened (that would truncate a
 * redirected file) nor replaced (that would replace the symlink). */
static int named_fd(const char *path)
{
	static const char *const prefixes[] = { "/dev/fd/", "/proc/self/fd/" };
	char *end;
	long n;

	if (!strcmp(path, "/dev/stdout"))
		return 1;
	if (!strcmp(path, "/dev/stderr"))
		return 2;
	for (size_t i = 0; i < 2; i++) {
		size_t len = strlen(prefixes[i]);

		if (strncmp(path, prefixes[i], len) || !isdigit((unsigned char)path[len]))
			continue;
		n = strtol(path + len, &end, 10);
		if (!*end && n >= 0 && n < 1 << 20)
			return n;
	}
	return -1;
}

static int fail(const struct outpath *p, const char *fmt, const char *arg)
{
	fprintf(stderr, "kvmprof: %s %s: ", p->option, p->path);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return -1;
}

/* A new temporary name beside name, created exclusively (never through a
 * symlink); the fd, or -1 with errno. */
static int open_tmp(int dirfd, const char *name, char *tmp)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	for (int attempt = 0; attempt < 100; attempt++) {
		unsigned char r[TMP_RANDOM];
		size_t n = strlen(name);
		int fd;

		if (getrandom(r, sizeof(r), 0) != sizeof(r))
			for (int i = 0; i < TMP_RANDOM; i++)
				r[i] = rand();
		memcpy(tmp, name, n);
		memcpy(tmp + n, TMP_SUFFIX, sizeof(TMP_SUFFIX) - 1);
		n += sizeof(TMP_SUFFIX) - 1;
		for (int i = 0; i < TMP_RANDOM; i++)
			tmp[n++] = chars[r[i] % (sizeof(chars) - 1)];
		tmp[n] = '\0';
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* Temporary files of ours that a killed kvmprof left beside name. */
static void remove_stale(int dirfd, const char *name)
{
	size_t n = strlen(name), suffix = sizeof(TMP_SUFFIX) - 1;
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;

		if (strlen(e->d_name) != n + suffix + TMP_RANDOM || strncmp(e->d_name, name, n) ||
		    strncmp(e->d_name + n, TMP_SUFFIX, suffix))
			continue;
		if (!fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode) &&
		    st.st_uid == geteuid())
			unlinkat(dirfd, e->d_name, 0);
	}
	closedir(d);
}

/* A device, FIFO or named descriptor: the fd to write through. */
static int open_stream(struct outpath *p, int fd_named)
{
	struct stat st;
	int fd = fd_named >= 0 ? fcntl(fd_named, F_DUPFD_CLOEXEC, 0) :
		 open(p->path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return fail(p, "%s", errno == ENXIO ? "a FIFO no process is reading" :
			    errno == EBADF ? "that descriptor is not open" : strerror(errno));
	if (fd_named < 0)	/* O_NONBLOCK only for a FIFO's open; writes may wait */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	fstat(fd, &st);
	p->stream_fd = fd;
	p->exists = true;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	return 0;
}

/* The folder, opened once; then a file made and removed in it, so what
 * would fail at the end (a read-only or special file system) fails now. */
static int open_folder(struct outpath *p)
{
	char *copy = strdup(p->path), *dir = copy ? dirname(copy) : NULL;
	char tmp[NAME_MAX + 1];
	struct stat st;
	int fd, err = 0;

	if (!copy)
		return fail(p, "%s", strerror(ENOMEM));
	p->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0)
		err = errno == ENOENT ? fail(p, "folder %s does not exist", dir) :
		      fail(p, "%s", strerror(errno));
	else if (faccessat(p->dirfd, ".", W_OK, AT_EACCESS)) {
		char why[PATH_MAX + 64];

		snprintf(why, sizeof(why), "cannot write in %s: %s", dir, strerror(errno));
		err = fail(p, "%s", why);
	}
	else if ((fd = open_tmp(p->dirfd, p->name, tmp)) < 0)
		err = fail(p, "cannot make a file there: %s", strerror(errno));
	else {
		close(fd);
		unlinkat(p->dirfd, tmp, 0);
		remove_stale(p->dirfd, p->name);
		/* what it names: the file, or (for a new one) folder and name */
		p->exists = !fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW);
		if (!p->exists)
			fstat(p->dirfd, &st);
		p->dev = st.st_dev;
		p->ino = st.st_ino;
	}
	free(copy);
	return err;
}

int outpath_init(struct outpath *p, const char *path, const char *option)
{
	int fd_named = named_fd(path);
	struct stat st;
	char *copy;

	*p = (struct outpath){ .option = option, .dirfd = -1, .stream_fd = -1, .path = strdup(path) };
	if (!p->path)
		return -1;
	if (!*path)
		return fail(p, "%s", "empty file name");
	if (fd_named >= 0)
		return open_stream(p, fd_named);
	if (!stat(path, &st)) {
		if (S_ISDIR(st.st_mode))
			return fail(p, "%s", "is a folder, not a file");
		if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
			return open_stream(p, -1);
		if (!S_ISREG(st.st_mode))
			return fail(p, "%s", "is neither a file, a character device nor a FIFO");
	}
	copy = strdup(path);
	p->name = copy ? strdup(basename(copy)) : NULL;
	free(copy);
	if (!p->name)
		return fail(p, "%s", strerror(ENOMEM));
	if (path[strlen(path) - 1] == '/')
		return fail(p, "%s", "is a folder, not a file");
	if (strlen(p->name) + sizeof(TMP_SUFFIX) - 1 + TMP_RANDOM > NAME_MAX)
		return fail(p, "%s", "file name too long (the file written beside it adds 11 bytes to it)");
	return open_folder(p);
}

bool outpath_same(const struct outpath *a, const struct outpath *b)
{
	if (a->stream_fd >= 0 || b->stream_fd >= 0)	/* written through: nothing replaced */
		return false;
	if (a->dev != b->dev || a->ino != b->ino || a->exists != b->exists)
		return false;
	return a->exists || !strcmp(a->name, b->name);
}

void outpath_free(struct outpath *p)
{
	if (p->dirfd >= 0)
		close(p->dirfd);
	if (p->stream_fd >= 0)
		close(p->stream_fd);
	free(p->path);
	free(p->name);
	*p = (struct outpath){ .dirfd = -1, .stream_fd = -1 };
}

static bool is_stream(const struct outpath *p)
{
	return p->stream_fd >= 0;
}

int outfile_open(struct outfile *o, const struct outpath *to)
{
	int fd;

	*o = (struct outfile){ .to = to };
	fd = is_stream(to) ? fcntl(to->stream_fd, F_DUPFD_CLOEXEC, 0) : open_tmp(to->dirfd, to->name, o->tmp);
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		/* as at a failed commit: the folder may have turned read-only
		 * or full since the start */
		fprintf(stderr, "kvmprof: cannot write %s: %s (the previous file, if any, is kept)\n",
			to->path, strerror(errno));
		if (fd >= 0 && !is_stream(to)) {
			close(fd);
			unlinkat(to->dirfd, o->tmp, 0);
		}
		*o = (struct outfile){};
		return -1;
	}
	if (!is_stream(to))
		fchmod(fd, 0644);	/* whatever the umask: a report is for reading */
	return 0;
}

void outfile_flush(struct outfile *o)
{
	errno = 0;
	if (o->f && (fflush(o->f) || ferror(o->f)) && !o->error)
		o->error = errno ? errno : EIO;
}

void outfile_abort(struct outfile *o)
{
	if (o->f) {
		fclose(o->f);
		if (!is_stream(o->to))
			unlinkat(o->to->dirfd, o->tmp, 0);
	}
	*o = (struct outfile){};
}

int outfile_commit(struct outfile *o)
{
	bool stream;
	int err = 0;

	if (!o->f)
		return -1;
	stream = is_stream(o->to);
	outfile_flush(o);
	err = o->error;
	if (!err && !stream && fsync(fileno(o->f)))
		err = errno;
	if (fclose(o->f) && !err)
		err = errno;
	o->f = NULL;
	if (!err && !stream && renameat(o->to->dirfd, o->tmp, o->to->dirfd, o->to->name))
		err = errno;
	if (err) {
		fprintf(stderr, "kvmprof: cannot write %s: %s%s\n", o->to->path, strerror(err),
			stream ? "" : " (the previous file, if any, is kept)");
		if (!stream)
			unlinkat(o->to->dirfd, o->tmp, 0);
		*o = (struct outfile){};
		return -1;
	}
	*o = (struct outfile){};
	return 0;
}
