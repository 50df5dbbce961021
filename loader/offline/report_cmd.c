// SPDX-License-Identifier: GPL-2.0
/* `kvmprof report`: a finished run's --csv (and --csv-series) files as one
 * HTML page, or several runs side by side.  Each input is read once,
 * whole; the page is written whole or not at all, never over an input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/options.h"
#include "offline/csv_read.h"
#include "offline/html_report.h"
#include "offline/run_data.h"
#include "offline/report_cmd.h"
#include "offline/runs.h"
#include "util/outfile.h"
#include "util/text.h"

/* The page's name: -o, else the --csv file's with .html for .csv. */
static char *page_name(const struct report_options *opts, const char *hist)
{
	size_t n = strlen(hist);
	char *p = NULL;

	if (opts->out_path)
		return strdup(opts->out_path);
	if (n > 4 && !strcmp(hist + n - 4, ".csv"))
		return asprintf(&p, "%.*s.html", (int)n - 4, hist) < 0 ? NULL : p;
	return asprintf(&p, "%s.html", hist) < 0 ? NULL : p;
}

static int write_page(const struct outpath *to, struct runs *rs, int top)
{
	struct run *r = &rs->run[0];
	struct outfile o;

	if (outfile_open(&o, to))
		return -1;
	if (rs->nr == 1)
		html_write_report(o.f, &r->d, r->hist->path, r->series ? r->series->path : NULL, top);
	else if (html_write_runs(o.f, rs))
		fprintf(stderr, "kvmprof: out of memory\n");	/* the page says so too */
	return outfile_commit(&o);
}

/* "(2 guests, series from run-series.csv)", one run's part of the last line. */
static void say_written(const struct run *r)
{
	char shown[1024];

	escape_text(r->series ? r->series->path : "", shown, sizeof(shown));
	fprintf(stderr, "%zu guests%s%s", r->d.nr_guests, r->series ? ", series from " : ", no series",
		shown);
}

int report_command(int argc, char **argv)
{
	struct outpath to = { .dirfd = -1, .stream_fd = -1 };
	struct report_options opts;
	struct runs rs;
	char *out_path = NULL, shown[1024];
	int rc;

	rc = parse_report_options(argc, argv, &opts);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = runs_open(&rs, opts.inputs, opts.nr_inputs, 1, MAX_RUNS)) != EXIT_OK)
		goto out;
	rc = EXIT_RUNTIME;
	out_path = page_name(&opts, rs.run[0].hist->path);
	if (!out_path) {
		fprintf(stderr, "kvmprof: out of memory\n");
		goto out;
	}
	if (outpath_init(&to, out_path, "report -o") || runs_output_is_input(&rs, &to) ||
	    runs_read(&rs) || write_page(&to, &rs, opts.top))
		goto out;
	escape_text(out_path, shown, sizeof(shown));
	fprintf(stderr, "kvmprof: report: wrote %s (", shown);
	for (int i = 0; i < rs.nr; i++) {
		if (rs.nr > 1)
			fprintf(stderr, "%srun %d: ", i ? "; " : "", i + 1);
		say_written(&rs.run[i]);
	}
	fputs(")\n", stderr);
	rc = EXIT_OK;
out:
	runs_free(&rs);
	outpath_free(&to);
	free(out_path);
	return rc;
}
