// SPDX-License-Identifier: GPL-2.0
/* The run's outputs: series per interval, summary and files at the end. */
#include <signal.h>
#include <stdio.h>
#include "model/guest_filter.h"
#include "present/csv_out.h"
#include "present/json_out.h"
#include "present/outputs.h"
#include "present/text.h"

int outputs_check(const struct options *opts)
{
	const struct { const char *path, *option; } files[] = {
		{ opts->csv_path, "--csv" }, { opts->csv_series_path, "--csv-series" },
		{ opts->json_path, "--json" }, { opts->json_series_path, "--json-series" },
		{ opts->csv_insns_path, "--csv-insns" },
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i].path && check_output_path(files[i].path, files[i].option))
			return -1;
	return 0;
}

/* A new part of a series: FILE.tmp.XXXXXX, renamed over FILE at commit. */
static int open_series(struct outfile *f, const char *path, bool csv)
{
	if (outfile_open(f, path))
		return -1;
	if (csv)
		csv_write_series_header(f->f);
	return 0;
}

int outputs_open(struct outputs *o, const struct options *opts)
{
	o->opts = opts;
	if (opts->csv_series_path && open_series(&o->series, opts->csv_series_path, true))
		return -1;
	if (opts->json_series_path && open_series(&o->jseries, opts->json_series_path, false))
		return -1;
	return 0;
}

bool outputs_have_series(const struct outputs *o)
{
	return o->series.f || o->jseries.f;
}

const struct trap_table *outputs_shown(struct outputs *o, const struct trap_table *all)
{
	if (!o->opts->nr_guest_globs)
		return all;
	table_free(&o->chosen);
	if (table_select(&o->chosen, all, o->opts->guest_globs, o->opts->nr_guest_globs))
		fprintf(stderr, "kvmprof: out of memory choosing the -g guests\n");
	return &o->chosen;
}

void outputs_interval(struct outputs *o, const struct trap_table *shown, double elapsed_s,
		      double interval_s)
{
	if (o->series.f)
		csv_write_series(o->series.f, shown, elapsed_s, interval_s);
	if (o->jseries.f)
		json_write_series(o->jseries.f, shown, elapsed_s, interval_s);
}

/* Commits a part of a series (replacing FILE: a rotation moves the
 * previous part away first) and opens the next. */
static void rotate_series(struct outputs *o, struct outfile *f, const char *path, bool csv)
{
	if (!path)
		return;
	if (f->f && outfile_commit(f))
		o->failed = true;
	if (open_series(f, path, csv))
		o->failed = true;
}

void outputs_rotate(struct outputs *o)
{
	rotate_series(o, &o->series, o->opts->csv_series_path, true);
	rotate_series(o, &o->jseries, o->opts->json_series_path, false);
}

/* One file written whole by write(f, shown, elapsed_s) */
static void write_file(struct outputs *o, const char *path, const struct trap_table *shown,
		       double elapsed_s, void (*write)(FILE *, const struct trap_table *, double))
{
	struct outfile f;

	if (!path)
		return;
	if (outfile_open(&f, path)) {
		o->failed = true;
		return;
	}
	write(f.f, shown, elapsed_s);
	if (outfile_commit(&f))
		o->failed = true;
}

static void write_histograms(FILE *f, const struct trap_table *s, double elapsed_s)
{
	csv_write_histograms(f, s);
}

static void write_insns(FILE *f, const struct trap_table *s, double elapsed_s)
{
	csv_write_insns(f, s);
}

int outputs_final(struct outputs *o, const struct trap_table *shown, double elapsed_s)
{
	signal(SIGPIPE, SIG_IGN);	/* the summary's reader may be gone: files still get written */
	report_summary(stdout, shown, elapsed_s, o->opts->top);
	write_file(o, o->opts->csv_path, shown, elapsed_s, write_histograms);
	write_file(o, o->opts->json_path, shown, elapsed_s, json_write_summary);
	write_file(o, o->opts->csv_insns_path, shown, elapsed_s, write_insns);
	if (o->series.f && outfile_commit(&o->series))
		o->failed = true;
	if (o->jseries.f && outfile_commit(&o->jseries))
		o->failed = true;
	return o->failed ? EXIT_RUNTIME : EXIT_OK;
}

void outputs_close(struct outputs *o)
{
	outfile_abort(&o->series);
	outfile_abort(&o->jseries);
	table_free(&o->chosen);
}
