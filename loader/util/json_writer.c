// SPDX-License-Identifier: GPL-2.0
/* A streaming JSON writer: separators and escaping in one place. */
#include "util/json_writer.h"

void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void jw_init(struct json_writer *w, FILE *f)
{
	*w = (struct json_writer){ .f = f };
}

/* Before any value: the comma after the previous item of an array (in an
 * object jw_name wrote it). */
static void before_value(struct json_writer *w)
{
	if (w->after_name) {
		w->after_name = false;
		return;
	}
	if (w->depth && w->has_items[w->depth - 1])
		fputc(',', w->f);
	if (w->depth)
		w->has_items[w->depth - 1] = true;
}

static void container_open(struct json_writer *w, char c)
{
	before_value(w);
	fputc(c, w->f);
	if (w->depth < JW_MAX_DEPTH)
		w->has_items[w->depth] = false;
	w->depth++;
}

static void container_close(struct json_writer *w, char c)
{
	fputc(c, w->f);
	if (w->depth)
		w->depth--;
}

void jw_object(struct json_writer *w)
{
	container_open(w, '{');
}

void jw_end_object(struct json_writer *w)
{
	container_close(w, '}');
}

void jw_array(struct json_writer *w)
{
	container_open(w, '[');
}

void jw_end_array(struct json_writer *w)
{
	container_close(w, ']');
}

void jw_name(struct json_writer *w, const char *name)
{
	before_value(w);
	json_string(w->f, name);
	fputc(':', w->f);
	w->after_name = true;
}

void jw_string(struct json_writer *w, const char *s)
{
	before_value(w);
	json_string(w->f, s);
}

void jw_uint(struct json_writer *w, __u64 v)
{
	before_value(w);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

void jw_int(struct json_writer *w, long long v)
{
	before_value(w);
	fprintf(w->f, "%lld", v);
}

void jw_float(struct json_writer *w, const char *fmt, double v)
{
	before_value(w);
	fprintf(w->f, fmt ? fmt : "%.3f", v);
}

void jw_bool(struct json_writer *w, bool v)
{
	before_value(w);
	fputs(v ? "true" : "false", w->f);
}

void jw_null(struct json_writer *w)
{
	before_value(w);
	fputs("null", w->f);
}

void jw_string_field(struct json_writer *w, const char *name, const char *s)
{
	jw_name(w, name);
	jw_string(w, s);
}

void jw_uint_field(struct json_writer *w, const char *name, __u64 v)
{
	jw_name(w, name);
	jw_uint(w, v);
}
