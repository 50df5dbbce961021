// SPDX-License-Identifier: GPL-2.0
/* Reading back the CSV files kvmprof writes (RFC 4180), strictly. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include "offline/csv_read.h"
#include "present/csv_out.h"	/* CSV_FORMULA_START */

void csv_init(struct csv_reader *r, FILE *f)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->next_line = 1;
}

int csv_file_load(struct csv_file *f, const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);	/* a FIFO's open never waits */
	size_t cap = 0;
	struct stat st;
	ssize_t n;

	*f = (struct csv_file){ .path = path };
	if (fd < 0)
		return -1;
	if (!fstat(fd, &st)) {
		f->dev = st.st_dev;
		f->ino = st.st_ino;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);	/* its reads may */
	for (;;) {
		if (f->len == cap) {
			char *more;

			if (cap >= CSV_MAX_FILE) {
				errno = EFBIG;
				break;
			}
			cap = cap ? cap * 2 : 65536;
			if (!(more = realloc(f->data, cap + 1)))
				break;
			f->data = more;
		}
		n = read(fd, f->data + f->len, cap - f->len);
		if (n > 0)
			f->len += n;
		else if (!n) {
			close(fd);
			f->data = f->data ? f->data : malloc(1);
			return f->data ? 0 : -1;
		} else if (errno != EINTR) {
			break;
		}
	}
	n = errno;
	close(fd);
	csv_file_free(f);
	errno = n;
	return -1;
}

void csv_file_free(struct csv_file *f)
{
	free(f->data);
	f->data = NULL;
	f->len = 0;
}

int csv_open(struct csv_reader *r, const struct csv_file *file)
{
	FILE *f = fmemopen(file->data, file->len, "r");

	if (!f && !file->len)	/* glibc refuses an empty buffer: an empty stream */
		f = fopen("/dev/null", "r");
	if (!f)
		return -1;
	csv_init(r, f);
	r->buf = malloc(CSV_MAX_RECORD + 1);
	if (!r->buf) {
		fclose(f);
		r->f = NULL;
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void csv_close(struct csv_reader *r)
{
	if (r->f)
		fclose(r->f);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

static int bad(struct csv_reader *r, const char *why)
{
	snprintf(r->err, sizeof(r->err), "%s", why);
	r->line = r->next_line;
	return -1;
}

static int put(struct csv_reader *r, char c)
{
	if (r->len == CSV_MAX_RECORD)
		return bad(r, "record longer than 64 KiB");
	r->buf[r->len++] = c;
	return 0;
}

static int end_field(struct csv_reader *r)
{
	if (put(r, '\0'))
		return -1;
	if (r->nr == CSV_MAX_FIELDS)
		return bad(r, "more than 64 fields");
	r->nr++;
	r->start[r->nr] = r->len;	/* where the next field would begin */
	return 0;
}

enum csv_state { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED };

/* The end of the file: 1 (a last record without a line break), 0 (the
 * end, after the last line break) or -1. */
static int csv_at_eof(struct csv_reader *r, enum csv_state state)
{
	if (ferror(r->f))
		return bad(r, strerror(errno ? errno : EIO));
	if (state == QUOTED) {	/* said where the record starts */
		unsigned long start = r->line;

		bad(r, "a quoted field that starts here is not closed");
		r->line = start;
		return -1;
	}
	if (state == FIELD_START && r->nr == 0)
		return 0;
	return end_field(r) ? -1 : 1;
}

/* A comma or line break that ends a field: 1 when it ends the record. */
static int csv_field_end(struct csv_reader *r, enum csv_state *state, int c)
{
	if (end_field(r))
		return -1;
	if (c == '\n')
		return 1;
	*state = FIELD_START;
	return 0;
}

/* One character of a record (a CRLF comes as '\n'): 0 to read on, 1 when
 * the record is complete, -1 when it is malformed. */
static int csv_step(struct csv_reader *r, enum csv_state *state, int c)
{
	switch (*state) {
	case FIELD_START:
		if (c == '"') {
			*state = QUOTED;
			return 0;
		}
		*state = UNQUOTED;
		/* fall through */
	case UNQUOTED:
		if (c == '"')
			return bad(r, "a quote inside an unquoted field");
		if (c == ',' || c == '\n')
			return csv_field_end(r, state, c);
		return put(r, c);
	case QUOTED:
		if (c == '"') {
			*state = QUOTE_IN_QUOTED;
			return 0;
		}
		return put(r, c);
	case QUOTE_IN_QUOTED:
		if (c == '"') {	/* a doubled quote */
			*state = QUOTED;
			return put(r, '"');
		}
		if (c == ',' || c == '\n')
			return csv_field_end(r, state, c);
		return bad(r, "text after the closing quote of a field");
	}
	return 0;
}

int csv_next(struct csv_reader *r)
{
	enum csv_state state = FIELD_START;
	int c, rc;

	if (!r->buf && !(r->buf = malloc(CSV_MAX_RECORD + 1)))
		return bad(r, "out of memory");
	r->line = r->next_line;
	r->len = 0;
	r->nr = 0;
	r->start[0] = 0;
	r->err[0] = '\0';
	do {
		c = getc(r->f);
		if (c == EOF)
			return csv_at_eof(r, state);
		if (c == '\0')
			return bad(r, "a NUL byte");
		if (c == '\n')
			r->next_line++;
		if (c == '\r' && state != QUOTED) {	/* only as part of CRLF */
			if (getc(r->f) != '\n')
				return bad(r, "a carriage return not followed by a line feed");
			c = '\n';
			r->next_line++;
		}
		rc = csv_step(r, &state, c);
	} while (!rc);
	return rc;
}

const char *csv_unformula(const char *field)
{
	return field[0] == '\'' && field[1] && strchr(CSV_FORMULA_START, field[1]) ? field + 1 : field;
}
