// SPDX-License-Identifier: GPL-2.0
/* `kvmprof report`: a finished run's --csv (and --csv-series) files as one
 * HTML page.  Each input is read once, whole; the page is written whole or
 * not at all, never over an input. */
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
#include "util/outfile.h"
#include "util/text.h"

/* The --csv-series file beside a --csv file by the usual name: run.csv ->
 * run-series.csv, if a regular file of that name is there (a FIFO or a
 * device there is no series: it would be waited on). */
static char *series_beside(const char *hist_path)
{
	size_t n = strlen(hist_path);
	struct stat st;
	char *p;

	if (n < 4 || strcmp(hist_path + n - 4, ".csv") ||
	    asprintf(&p, "%.*s-series.csv", (int)(n - 4), hist_path) < 0)
		return NULL;
	if (stat(p, &st) || !S_ISREG(st.st_mode)) {
		free(p);
		return NULL;
	}
	return p;
}

/* -o must not name an input, however spelt: compared by device and inode. */
static int same_as_input(const struct outpath *to, const struct csv_file *const *inputs, int n)
{
	struct stat st;

	for (int i = 0; i < n; i++)
		if (inputs[i] && to->exists && !stat(inputs[i]->path, &st) && st.st_dev == to->dev &&
		    st.st_ino == to->ino) {
			fprintf(stderr, "kvmprof: report -o %s: that is the input %s\n", to->path,
				inputs[i]->path);
			return -1;
		}
	return 0;
}

static int load(struct csv_file *f, const char *path)
{
	char shown[1024];

	if (!csv_file_load(f, path))
		return 0;
	escape_text(path, shown, sizeof(shown));
	fprintf(stderr, "kvmprof: report: %s: cannot read: %s\n", shown,
		errno == EFBIG ? "larger than 1 GiB" : strerror(errno));
	return -1;
}

/* Sorts the inputs into the --csv file and at most one --csv-series file,
 * by their headers (either order works); EXIT_OK or the exit status. */
static int sort_inputs(struct csv_file *files, int n, struct csv_file **hist, struct csv_file **series)
{
	for (int i = 0; i < n; i++) {
		int kind = run_file_kind(&files[i]);
		struct csv_file **slot = kind == 'h' ? hist : series;

		if (!kind)
			return EXIT_RUNTIME;
		if (*slot) {
			fprintf(stderr, "kvmprof: report: %s and %s are both %s files: give one --csv "
				"and at most one --csv-series file\n", (*slot)->path, files[i].path,
				kind == 'h' ? "--csv" : "--csv-series");
			return EXIT_USAGE;
		}
		*slot = &files[i];
	}
	if (!*hist) {
		fprintf(stderr, "kvmprof: report: %s is a --csv-series file; the report needs the "
			"run's --csv file too\n", (*series)->path);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

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

static int write_page(const struct outpath *to, struct run_data *d, const struct csv_file *hist,
		      const struct csv_file *series, int top)
{
	struct outfile o;

	if (outfile_open(&o, to))
		return -1;
	html_write_report(o.f, d, hist->path, series ? series->path : NULL, top);
	return outfile_commit(&o);
}

int report_command(int argc, char **argv)
{
	struct csv_file files[3] = {};	/* the inputs, and a series found beside */
	struct csv_file *hist = NULL, *series = NULL;
	struct outpath to = { .dirfd = -1, .stream_fd = -1 };
	struct report_options opts;
	struct run_data d = {};
	char *found = NULL, *out_path = NULL;
	int rc = EXIT_RUNTIME, n;

	rc = parse_report_options(argc, argv, &opts);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	rc = EXIT_RUNTIME;
	for (n = 0; n < opts.nr_inputs; n++)
		if (load(&files[n], opts.inputs[n]))
			goto out;
	if ((rc = sort_inputs(files, n, &hist, &series)) != EXIT_OK)
		goto out;
	rc = EXIT_RUNTIME;
	if (!series && (found = series_beside(hist->path))) {
		if (load(&files[n], found))
			goto out;
		if (run_file_kind(&files[n]) != 's') {	/* its own line if unreadable */
			fprintf(stderr, "kvmprof: report: %s (beside %s) is not a --csv-series file: "
				"give the series file as an argument\n", found, hist->path);
			goto out;
		}
		series = &files[n++];
	}
	out_path = page_name(&opts, hist->path);
	if (!out_path) {
		fprintf(stderr, "kvmprof: out of memory\n");
		goto out;
	}
	if (outpath_init(&to, out_path, "report -o") ||
	    same_as_input(&to, (const struct csv_file *[]){ hist, series }, 2))
		goto out;
	if (run_load_histograms(&d, hist) || (series && run_load_series(&d, series)))
		goto out;
	if (write_page(&to, &d, hist, series, opts.top))
		goto out;
	fprintf(stderr, "kvmprof: report: wrote %s (%zu guests%s%s)\n", out_path, d.nr_guests,
		series ? ", series from " : ", no series", series ? series->path : "");
	rc = EXIT_OK;
out:
	for (int i = 0; i < 3; i++)
		csv_file_free(&files[i]);
	outpath_free(&to);
	run_free(&d);
	free(found);
	free(out_path);
	return rc;
}
