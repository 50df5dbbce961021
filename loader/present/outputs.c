// SPDX-License-Identifier: GPL-2.0
/* The run's outputs: series per interval, summary and files at the end. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include "model/guest_filter.h"
#include "present/csv_out.h"
#include "present/json_out.h"
#include "present/outputs.h"
#include "present/slow_log.h"
#include "present/text.h"
#include "util/common.h"

int outputs_init(struct outputs *o, const struct options *opts)
{
	const struct { const char *path, *option; } asked[NR_OUTPUTS] = {
		[OUT_CSV] = { opts->csv_path, "--csv" },
		[OUT_CSV_SERIES] = { opts->csv_series_path, "--csv-series" },
		[OUT_JSON] = { opts->json_path, "--json" },
		[OUT_JSON_SERIES] = { opts->json_series_path, "--json-series" },
		[OUT_CSV_INSNS] = { opts->csv_insns_path, "--csv-insns" },
		[OUT_PROM] = { opts->prom_path, "--prom-file" },
		[OUT_SLOW_LOG] = { opts->slow_log_path, "--slow-log" },
		[OUT_CSV_RIPS] = { opts->csv_rips_path, "--csv-rips" },
	};

	o->opts = opts;
	metrics_init(&o->prom, opts->metrics_no_vcpu, opts->metrics_no_code, opts->metrics_max_series,
		     opts->metrics_grace_s);
	for (int i = 0; i < NR_OUTPUTS; i++)
		o->paths[i] = (struct outpath){ .dirfd = -1, .stream_fd = -1 };
	for (int i = 0; i < NR_OUTPUTS; i++) {
		if (!asked[i].path)
			continue;
		if (outpath_init(&o->paths[i], asked[i].path, asked[i].option))
			return -1;
		for (int j = 0; j < i; j++)
			if (o->paths[j].path && outpath_same(&o->paths[i], &o->paths[j])) {
				fprintf(stderr, "kvmprof: %s %s and %s %s are the same file\n",
					o->paths[j].option, o->paths[j].path, o->paths[i].option,
					o->paths[i].path);
				return -1;
			}
	}
	return 0;
}

/* A new part of a series: written beside FILE, renamed over it at commit. */
static int open_series(struct outfile *f, const struct outpath *to, bool csv)
{
	if (outfile_open(f, to))
		return -1;
	if (csv)
		csv_write_series_header(f->f);
	return 0;
}

int outputs_open(struct outputs *o)
{
	if (o->paths[OUT_CSV_SERIES].path && open_series(&o->series, &o->paths[OUT_CSV_SERIES], true))
		return -1;
	if (o->paths[OUT_JSON_SERIES].path && open_series(&o->jseries, &o->paths[OUT_JSON_SERIES], false))
		return -1;
	if (o->paths[OUT_SLOW_LOG].path && open_series(&o->slow, &o->paths[OUT_SLOW_LOG], false))
		return -1;
	return 0;
}

void outputs_slow(void *outputs, struct trap_table *table, const struct slow_trap *t)
{
	struct outputs *o = outputs;
	const struct guest *g;

	if (o->opts->nr_guest_globs) {
		table_note_thread(table, t->tgid, t->tid, NULL, NULL);
		g = table_find_guest(table, t->tgid);
		if (!g || !guest_name_matches(g->name, o->opts->guest_globs, o->opts->nr_guest_globs))
			return;
	}
	slow_log_line(o->slow.f ? o->slow.f : stderr, table, t);
}

bool outputs_have_files(const struct outputs *o)
{
	for (int i = 0; i < NR_OUTPUTS; i++)
		if (o->paths[i].path)
			return true;
	return false;
}

bool outputs_have_series(const struct outputs *o)
{
	return o->series.f || o->jseries.f || o->slow.f;
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

/* --prom-file: the text a scrape of /metrics would get, renamed over FILE
 * whole (node_exporter's textfile collector reads only *.prom, never the
 * temporary NAME.tmp.XXXXXX beside it).  A write that fails is one line;
 * the next tries are 1, 2, 4 ... up to 64 reads later, so a full disk is
 * not a line a second. */
static void write_prom(struct outputs *o, const struct trap_table *shown)
{
	struct outfile f;
	char *text;
	size_t len;

	if (!o->paths[OUT_PROM].path)
		return;
	if (o->prom_wait) {
		o->prom_wait--;
		return;
	}
	if (metrics_render(&o->prom, shown, now_s(), &text, &len)) {
		fprintf(stderr, "kvmprof: --prom-file %s: out of memory\n", o->paths[OUT_PROM].path);
		o->failed = true;
		return;
	}
	if (!outfile_open(&f, &o->paths[OUT_PROM])) {
		fwrite(text, 1, len, f.f);
		if (!outfile_commit(&f)) {
			o->prom_backoff = 0;
			free(text);
			return;
		}
	}
	free(text);
	o->failed = true;
	o->prom_wait = o->prom_backoff;
	o->prom_backoff = o->prom_backoff ? (o->prom_backoff < 64 ? o->prom_backoff * 2 : 64) : 1;
}

void outputs_interval(struct outputs *o, const struct trap_table *shown, double elapsed_s,
		      double interval_s)
{
	write_prom(o, shown);
	if (o->series.f)
		csv_write_series(o->series.f, shown, elapsed_s, interval_s);
	if (o->jseries.f)
		json_write_series(o->jseries.f, shown, elapsed_s, interval_s);
	outfile_flush(&o->series);
	outfile_flush(&o->jseries);
	outfile_flush(&o->slow);
}

/* Commits a part of a series (replacing FILE: a rotation moves the
 * previous part away first) and opens the next. */
static void rotate_series(struct outputs *o, struct outfile *f, enum output_file which, bool csv)
{
	if (!o->paths[which].path)
		return;
	if (f->f && outfile_commit(f))
		o->failed = true;
	if (open_series(f, &o->paths[which], csv))
		o->failed = true;
}

void outputs_rotate(struct outputs *o)
{
	rotate_series(o, &o->series, OUT_CSV_SERIES, true);
	rotate_series(o, &o->jseries, OUT_JSON_SERIES, false);
	rotate_series(o, &o->slow, OUT_SLOW_LOG, false);
}

/* One file written whole by write(f, shown, elapsed_s) */
static void write_file(struct outputs *o, enum output_file which, const struct trap_table *shown,
		       double elapsed_s, void (*write)(FILE *, const struct trap_table *, double))
{
	struct outfile f;

	if (!o->paths[which].path)
		return;
	if (outfile_open(&f, &o->paths[which])) {
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

static void write_rips(FILE *f, const struct trap_table *s, double elapsed_s)
{
	csv_write_rips(f, s);
}

int outputs_final(struct outputs *o, const struct trap_table *shown, double elapsed_s)
{
	/* the files first: a stdout that blocks (a reader that stopped
	 * reading) must not keep them from being written */
	signal(SIGPIPE, SIG_IGN);
	write_file(o, OUT_CSV, shown, elapsed_s, write_histograms);
	write_file(o, OUT_JSON, shown, elapsed_s, json_write_summary);
	write_file(o, OUT_CSV_INSNS, shown, elapsed_s, write_insns);
	write_file(o, OUT_CSV_RIPS, shown, elapsed_s, write_rips);
	if (o->prom_wait) {	/* the last read's was skipped after a failure: try once more */
		o->prom_wait = 0;
		write_prom(o, shown);
	}
	if (o->series.f && outfile_commit(&o->series))
		o->failed = true;
	if (o->jseries.f && outfile_commit(&o->jseries))
		o->failed = true;
	if (o->slow.f && outfile_commit(&o->slow))
		o->failed = true;
	report_summary(stdout, shown, elapsed_s, &(struct summary_view){ .top = o->opts->top,
		       .order = o->opts->sort, .per_vcpu = o->opts->per_vcpu,
		       .max_keys = o->opts->max_keys, .max_guest_keys = o->opts->max_guest_keys });
	return o->failed ? EXIT_RUNTIME : EXIT_OK;
}

void outputs_close(struct outputs *o)
{
	outfile_abort(&o->series);
	outfile_abort(&o->jseries);
	outfile_abort(&o->slow);
	for (int i = 0; i < NR_OUTPUTS; i++)
		if (o->paths[i].path)
			outpath_free(&o->paths[i]);
	table_free(&o->chosen);
	metrics_free(&o->prom);
}
