// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the CSV field and JSON string writers, the CSV reader of
 * kvmprof report and its HTML escaping.  Whatever the bytes, a CSV field
 * must parse back (RFC 4180) to exactly them, also through csv_next; a JSON
 * string must be one valid JSON string that decodes to exactly them; the
 * reader must take any bytes without crashing; escaped HTML text must hold
 * no byte that could open a tag, an entity or leave an attribute. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "present/csv_out.h"
#include "util/json_writer.h"
#include "offline/csv_read.h"
#include "offline/html_report.h"

/* One RFC 4180 field that must span all of buf; returns the decoded length. */
static size_t parse_csv_field(const char *buf, size_t len, char *out)
{
	size_t o = 0, i = 0;

	if (!len || buf[0] != '"') {	/* unquoted: no comma, quote, CR or LF */
		if (len && strchr(CSV_FORMULA_START, buf[0]))
			abort();	/* a spreadsheet would run it */
		for (; i < len; i++) {
			if (strchr(",\"\r\n", buf[i]))
				abort();
			out[o++] = buf[i];
		}
		return o;
	}
	for (i = 1; i < len; i++) {
		if (buf[i] == '"') {
			if (i + 1 < len && buf[i + 1] == '"') {
				out[o++] = '"';
				i++;
				continue;
			}
			if (i + 1 != len)
				abort();	/* text after the closing quote */
			out[o] = '\0';
			if (o && strchr(CSV_FORMULA_START, out[0]) && out[0] != 0x27)
				abort();	/* a formula not neutralised */
			if (csv_unformula(out) != out) {	/* the ' the writer put first */
				memmove(out, out + 1, o - 1);
				o--;
			}
			return o;
		}
		out[o++] = buf[i];
	}
	abort();	/* no closing quote */
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	abort();
}

/* One JSON string that must span all of buf; returns the decoded length. */
static size_t parse_json_string(const char *buf, size_t len, char *out)
{
	size_t o = 0;

	if (len < 2 || buf[0] != '"' || buf[len - 1] != '"')
		abort();
	for (size_t i = 1; i < len - 1; i++) {
		unsigned char c = buf[i];

		if (c < 0x20 || c == '"')
			abort();	/* must have been escaped */
		if (c != '\\') {
			out[o++] = c;
			continue;
		}
		if (++i >= len - 1)
			abort();
		switch (buf[i]) {
		case '"': case '\\': case '/': out[o++] = buf[i]; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u': {
			int v;

			if (i + 4 > len - 2)
				abort();	/* four hex digits before the closing quote */
			v = hex(buf[i + 1]) << 12 | hex(buf[i + 2]) << 8 | hex(buf[i + 3]) << 4 |
			    hex(buf[i + 4]);
			if (v > 0xff)
				abort();	/* the writer only escapes single bytes */
			out[o++] = v;
			i += 4;
			break;
		}
		default:
			abort();
		}
	}
	return o;
}

static void check(void (*write)(FILE *, const char *), size_t (*parse)(const char *, size_t, char *),
		  const char *s)
{
	char *buf = NULL, *back;
	size_t size = 0, n;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return;
	write(f, s);
	fclose(f);
	back = malloc(size + 1);
	if (back) {
		n = parse(buf, size, back);
		if (n != strlen(s) || memcmp(back, s, n))
			abort();
	}
	free(back);
	free(buf);
}

/* Three fields written with csv_field and a CRLF, read back by csv_next. */
static void check_reader(const char *s)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	struct csv_reader r;

	if (!f)
		return;
	csv_field(f, s);
	fputs(",x,", f);
	csv_field(f, s);
	fputs("\r\n", f);
	fclose(f);
	f = fmemopen(buf, size, "r");
	if (!f) {
		free(buf);
		return;
	}
	csv_init(&r, f);
	if (strlen(s) * 2 + 8 < CSV_MAX_RECORD) {
		if (csv_next(&r) != 1 || r.nr != 3 || strcmp(csv_unformula(csv_get(&r, 0)), s) ||
		    strcmp(csv_get(&r, 1), "x") || strcmp(csv_unformula(csv_get(&r, 2)), s) ||
		    csv_next(&r) != 0)
			abort();
	}
	csv_close(&r);
	free(buf);
}

/* Any bytes: records until the end or an error, never past the limits. */
static void check_raw(const uint8_t *data, size_t len)
{
	FILE *f = fmemopen((void *)data, len, "r");
	struct csv_reader r;
	int rc;

	if (!f)
		return;
	csv_init(&r, f);
	while ((rc = csv_next(&r)) == 1)
		if (r.nr < 1 || r.nr > CSV_MAX_FIELDS || r.len > CSV_MAX_RECORD)
			abort();
	if (rc < 0 && (!r.err[0] || !r.line))
		abort();
	csv_close(&r);
}

static void check_html(const char *s)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return;
	html_text(f, s);
	fclose(f);
	for (size_t i = 0; i < size; i++) {
		unsigned char c = buf[i];

		if (c == '<' || c == '>' || c == '"' || c == '\'' || c < 0x20 || c >= 0x7f)
			abort();
		/* every & starts one of the entities html_text writes */
		if (c == '&' && strncmp(buf + i, "&amp;", 5) && strncmp(buf + i, "&lt;", 4) &&
		    strncmp(buf + i, "&gt;", 4) && strncmp(buf + i, "&quot;", 6) &&
		    strncmp(buf + i, "&#39;", 5))
			abort();
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';	/* the writers take C strings: up to the first NUL */
	check(csv_field, parse_csv_field, s);
	check(json_string, parse_json_string, s);
	check_reader(s);
	check_html(s);
	check_raw(data, len);
	free(s);
	return 0;
}
