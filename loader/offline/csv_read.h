/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CSV_READ_H
#define CSV_READ_H

#include <stdio.h>
#include <sys/types.h>

/* An RFC 4180 record reader for the files kvmprof writes: fields split on
 * commas, quoted fields may hold commas, doubled quotes and line breaks,
 * records end in CRLF or LF.  Anything else is refused with the line
 * number, never guessed at. */
#define CSV_MAX_FIELDS 64
#define CSV_MAX_RECORD 65536	/* bytes of one record */

struct csv_reader {
	FILE *f;
	unsigned long line;	/* where the record starts, or after an error where it is wrong */
	unsigned long next_line;
	char *buf;		/* the record's fields, each NUL-terminated */
	size_t len;
	size_t start[CSV_MAX_FIELDS + 1];
	int nr;			/* fields in the current record */
	char err[160];		/* why csv_next failed, without the line */
};

/* An input file read whole, once: a pipe or <(...) works, a FIFO with no
 * writer ends at once (empty) instead of hanging, and nothing is read
 * twice.  At most CSV_MAX_FILE bytes. */
#define CSV_MAX_FILE (1UL << 30)
struct csv_file {
	const char *path;
	char *data;
	size_t len;
	dev_t dev;	/* what was read, to tell inputs apart however spelt */
	ino_t ino;
};

/* 0, or -1 with errno set (EFBIG past CSV_MAX_FILE). */
int csv_file_load(struct csv_file *f, const char *path);
void csv_file_free(struct csv_file *f);
/* Reads the records of f; 0, or -1 with errno set. */
int csv_open(struct csv_reader *r, const struct csv_file *f);
/* Reads from f (csv_close closes it). */
void csv_init(struct csv_reader *r, FILE *f);
/* Reads the next record: 1, 0 at the end of the file, -1 when it is
 * malformed or cannot be read (r->err says why, r->line where). */
int csv_next(struct csv_reader *r);
static inline const char *csv_get(const struct csv_reader *r, int i)
{
	return i >= 0 && i < r->nr ? r->buf + r->start[i] : NULL;
}
void csv_close(struct csv_reader *r);
/* A text field as kvmprof wrote it: without the ' it puts before a field
 * a spreadsheet would take as a formula (present/csv_out.h). */
const char *csv_unformula(const char *field);

#endif
