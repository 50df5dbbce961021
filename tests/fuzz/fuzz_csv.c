// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the CSV field and JSON string writers.  Whatever the bytes, a
 * CSV field must parse back (RFC 4180) to exactly them, and a JSON string
 * must be one valid JSON string that decodes to exactly them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "csv.h"

/* One RFC 4180 field that must span all of buf; returns the decoded length. */
static size_t parse_csv_field(const char *buf, size_t len, char *out)
{
	size_t o = 0, i = 0;

	if (!len || buf[0] != '"') {	/* unquoted: no comma, quote, CR or LF */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';	/* the writers take C strings: up to the first NUL */
	check(csv_field, parse_csv_field, s);
	check(json_string, parse_json_string, s);
	free(s);
	return 0;
}
