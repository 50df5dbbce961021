// SPDX-License-Identifier: GPL-2.0
/* Helpers several unit test files use: a stream captured as a string, the
 * name of a code, and the reports written to a stream. */
#include <stdio.h>
#include "unit.h"
#include "model/names.h"
#include "present/csv_out.h"
#include "present/json_out.h"
#include "present/text.h"

const char *name_of(unsigned int class, __u64 code)
{
	static char buf[128];

	code_name(class, code, buf, sizeof(buf));
	return buf;
}

char *capture(void (*fn)(FILE *, void *), void *arg)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	fn(f, arg);
	fclose(f);
	return buf;
}

void summary_of(FILE *f, void *arg)
{
	report_summary(f, arg, 1.0, &(struct summary_view){ .top = 5 });
}

void json_of(FILE *f, void *arg)
{
	json_write_summary(f, arg, 1.0);
}

void csv_histograms_of(FILE *f, void *arg)
{
	csv_write_histograms(f, arg);
}
