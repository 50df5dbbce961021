// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the command line.  The input is split at newlines into
 * arguments; parse_options must return a documented result and, when it
 * accepts, options within their documented ranges. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cli/options.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *buf = malloc(len + 1), *argv[MAX_ARGS + 2];
	struct options o;
	int argc = 1, ret;

	if (!buf)
		return 0;
	memcpy(buf, data, len);
	buf[len] = '\0';
	argv[0] = "kvmprof";
	for (char *p = buf; argc <= MAX_ARGS; argc++) {
		char *nl = memchr(p, '\n', buf + len - p);

		argv[argc] = p;
		if (!nl) {
			argc++;
			break;
		}
		*nl = '\0';
		p = nl + 1;
	}
	argv[argc] = NULL;
	ret = parse_options(argc, argv, &o);
	if (ret != 0 && ret != -1 && ret != EXIT_USAGE)
		abort();
	if (ret == 0) {
		if (!(o.interval_s > 0) || !isfinite(o.interval_s) || o.interval_s > 366.0 * 86400)
			abort();
		if (o.duration_s < 0 || !isfinite(o.duration_s) || o.duration_s > 366.0 * 86400)
			abort();
		if (o.nr_pids < 0 || o.nr_pids > MAX_PID_FILTER || o.top < 1 || o.top > 1000)
			abort();
		for (int i = 0; i < o.nr_pids; i++)
			if (o.pids[i] <= 0)
				abort();
		if (o.nr_guest_globs < 0 || o.nr_guest_globs > MAX_GUEST_GLOBS)
			abort();
		for (int i = 0; i < o.nr_guest_globs; i++)
			if (!o.guest_globs[i][0])
				abort();
		if ((unsigned)o.attach > ATTACH_KPROBE)
			abort();
		if (o.csv_path && o.csv_series_path && !strcmp(o.csv_path, o.csv_series_path))
			abort();
	}
	free(buf);
	return 0;
}
