// SPDX-License-Identifier: GPL-2.0
/* CSV: the writer's quoting, the report's reader, and its HTML escaping. */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "offline/csv_read.h"
#include "offline/html_report.h"
#include "present/csv_out.h"

static void csv_of(FILE *f, void *arg)
{
	csv_field(f, arg);
}

static void test_csv_quoting(void)
{
	char *s;

	s = capture(csv_of, "plain");
	CHECK_STR(s, "plain");
	free(s);
	s = capture(csv_of, "a,b");
	CHECK_STR(s, "\"a,b\"");
	free(s);
	s = capture(csv_of, "say \"hi\"");
	CHECK_STR(s, "\"say \"\"hi\"\"\"");
	free(s);
	s = capture(csv_of, "two\nlines");
	CHECK_STR(s, "\"two\nlines\"");
	free(s);
}

static void html_of(FILE *f, void *arg)
{
	html_text(f, arg);
}

/* kvmprof report's reader: RFC 4180 records back, malformed ones refused
 * with the line they are on; its HTML escaping. */
static void test_csv_reader(void)
{
	static const struct { const char *in; int rc; int nr; const char *last; unsigned long line; }
	cases[] = {
		{ "a,b,c\r\n", 1, 3, "c", 1 },
		{ "a,\"b,\"\"q\"\"\r\nx\",\r\n", 1, 3, "", 1 },	/* quoted comma, quotes, CRLF */
		{ "last,line", 1, 2, "line", 1 },			/* no final line break */
		{ "lf,only\n", 1, 2, "only", 1 },
		{ "\"open,\r\nrest\r\n", -1, 0, NULL, 1 },		/* a quote never closed */
		{ "a\"b,c\r\n", -1, 0, NULL, 1 },			/* a quote inside a field */
		{ "\"a\"b,c\r\n", -1, 0, NULL, 1 },			/* text after the closing quote */
		{ "a\rb\r\n", -1, 0, NULL, 1 },			/* a lone CR */
		{ "", 0, 0, NULL, 1 },
	};
	struct csv_reader r;
	char *s;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fmemopen((void *)cases[i].in, strlen(cases[i].in), "r");
		int rc;

		if (!f) {	/* fmemopen refuses a zero size on old glibc */
			f = fopen("/dev/null", "r");
		}
		csv_init(&r, f);
		rc = csv_next(&r);
		CHECK(rc == cases[i].rc, "case %zu: rc %d, want %d (%s)", i, rc, cases[i].rc, r.err);
		CHECK(r.line == cases[i].line, "case %zu: line %lu", i, r.line);
		if (rc == 1) {
			CHECK(r.nr == cases[i].nr, "case %zu: %d fields", i, r.nr);
			CHECK_STR(csv_get(&r, r.nr - 1), cases[i].last);
		}
		csv_close(&r);
	}
	/* the line of an error after a record spanning two lines */
	{
		static const char two[] = "h1,h2\r\n\"a\r\nb\",c\r\nx,y\"z\r\n";
		FILE *f = fmemopen((void *)two, sizeof(two) - 1, "r");

		csv_init(&r, f);
		CHECK(csv_next(&r) == 1 && csv_next(&r) == 1, "two records");
		CHECK_STR(csv_get(&r, 0), "a\r\nb");
		CHECK(csv_next(&r) == -1 && r.line == 4, "the bad record is on line 4 (%lu)", r.line);
		csv_close(&r);
	}
	s = capture(html_of, "<script>alert(\"x\")</script>&'\x1b\xc3");
	CHECK_STR(s, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;\\x1b\\xc3");
	free(s);
}

void unit_csv(void)
{
	test_csv_quoting();
	test_csv_reader();
}
