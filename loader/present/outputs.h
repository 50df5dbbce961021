/* SPDX-License-Identifier: GPL-2.0 */
#ifndef OUTPUTS_H
#define OUTPUTS_H

#include <stdbool.h>
#include "cli/options.h"
#include "model/table.h"
#include "present/metrics.h"
#include "util/outfile.h"

/* What a run writes: the series files per interval (rotated at SIGHUP),
 * the summary on stdout and the --csv, --json and --csv-insns files at the
 * end, each written whole or not at all; with -g only the chosen guests.
 * --prom-file is /metrics' text, written whole and renamed every interval.
 * Zero-initialised, outputs_close frees what exists on every path. */
enum output_file { OUT_CSV, OUT_CSV_SERIES, OUT_JSON, OUT_JSON_SERIES, OUT_CSV_INSNS, OUT_PROM,
		   OUT_SLOW_LOG, OUT_CSV_RIPS, NR_OUTPUTS };

struct outputs {
	const struct options *opts;
	struct outpath paths[NR_OUTPUTS];	/* the ones asked for have a path */
	struct outfile series, jseries;	/* --csv-series, --json-series */
	struct outfile slow;		/* --slow-log, a series of its own */
	struct trap_table chosen;	/* -g: the chosen guests of the last read */
	bool failed;			/* a file could not be written: exit 1 */
	struct metrics prom;		/* --prom-file's label sets, as /metrics keeps its own */
	unsigned int prom_wait, prom_backoff;	/* reads to skip after a failed write */
};

/* Checks every file asked for (util/outfile.h), and that no two name the
 * same file; before any work: -1 after one line. */
int outputs_init(struct outputs *o, const struct options *opts);
/* Opens the series files; -1 after one line. */
int outputs_open(struct outputs *o);
bool outputs_have_series(const struct outputs *o);
/* Are any files asked for (the run then keeps what writing them needs)? */
bool outputs_have_files(const struct outputs *o);
/* What the tables, summary and files show: every guest, or with -g a copy
 * holding the guests whose names match. */
const struct trap_table *outputs_shown(struct outputs *o, const struct trap_table *all);
/* The series rows of a read, and the --prom-file. */
void outputs_interval(struct outputs *o, const struct trap_table *shown, double elapsed_s,
		      double interval_s);
/* --slow: one slow trap's line, to --slow-log or stderr (-g: the chosen
 * guests'); the session's on_slow. */
void outputs_slow(void *outputs, struct trap_table *table, const struct slow_trap *t);
/* SIGHUP: the series rows so far become the files, renamed into place
 * whole, and the next rows go to new parts with their own headers. */
void outputs_rotate(struct outputs *o);
/* After the final read: the summary, the files, the series committed.
 * Returns EXIT_OK, or EXIT_RUNTIME when a file could not be written. */
int outputs_final(struct outputs *o, const struct trap_table *shown, double elapsed_s);
void outputs_close(struct outputs *o);

#endif
