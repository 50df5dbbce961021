/* SPDX-License-Identifier: GPL-2.0 */
#ifndef JSON_WRITER_H
#define JSON_WRITER_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

/* A streaming JSON writer, after bpftool's json_writer: the commas between
 * members and elements and the escaping of strings live here alone.  In an
 * object, jw_name() comes before each value. */
#define JW_MAX_DEPTH 16

struct json_writer {
	FILE *f;
	int depth;
	bool has_items[JW_MAX_DEPTH];	/* the open container holds an item already */
	bool after_name;		/* a member's name was written: its value is next */
};

void jw_init(struct json_writer *w, FILE *f);
void jw_object(struct json_writer *w);
void jw_end_object(struct json_writer *w);
void jw_array(struct json_writer *w);
void jw_end_array(struct json_writer *w);
void jw_name(struct json_writer *w, const char *name);
void jw_string(struct json_writer *w, const char *s);
void jw_uint(struct json_writer *w, __u64 v);
void jw_int(struct json_writer *w, long long v);
/* v as printf's "%.3f" (or fmt), a finite number. */
void jw_float(struct json_writer *w, const char *fmt, double v);
void jw_bool(struct json_writer *w, bool v);
void jw_null(struct json_writer *w);
/* name: value in one call */
void jw_string_field(struct json_writer *w, const char *name, const char *s);
void jw_uint_field(struct json_writer *w, const char *name, __u64 v);

/* A JSON string: quotes and backslashes escaped, control bytes and DEL as
 * \u00XX. */
void json_string(FILE *f, const char *s);

#endif
