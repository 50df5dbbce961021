/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RUNS_H
#define RUNS_H

#include "offline/csv_read.h"
#include "offline/run_data.h"
#include "util/index.h"

/* The finished runs a command line names, for kvmprof report and diff:
 * each --csv file starts a run, and a --csv-series file right after it is
 * its series (the first run's may also come before it); a run without one
 * takes the file beside its --csv named like it with -series.csv for .csv,
 * if a regular file is there.  Every input is read once, whole. */
#define MAX_RUNS 8
#define MAX_RUN_INPUTS (2 * MAX_RUNS)

struct run {
	struct csv_file *hist, *series;	/* series NULL: none */
	bool series_found;		/* series is the file found beside hist */
	struct run_data d;
};

struct runs {
	struct csv_file files[MAX_RUN_INPUTS + MAX_RUNS];	/* the inputs, then series found beside */
	char *found[MAX_RUNS];
	int nr_files;
	struct run run[MAX_RUNS];
	int nr;
};

/* Reads the inputs and sorts them into runs: at least min_runs, at most
 * max_runs.  EXIT_OK, or EXIT_RUNTIME (an input cannot be read or is not
 * kvmprof's) or EXIT_USAGE (the files do not make such runs) after one
 * line. */
int runs_open(struct runs *rs, const char *const *inputs, int n, int min_runs, int max_runs);
/* Reads the runs' rows: 0, or -1 after one line (malformed, or runs of two
 * architectures). */
int runs_read(struct runs *rs);
struct outpath;
/* -1 (one line) when the output is one of the inputs, by device and inode. */
int runs_output_is_input(const struct runs *rs, const struct outpath *to);
void runs_free(struct runs *rs);

/* A guest across runs: the guests of each run with its name (the nth of
 * that name in each run, in the order its --csv file names them), or
 * those a map pairs with it. */
struct guest_row {
	const char *name;		/* as the first run that has it names it */
	int nth;			/* 1, or 2 for the second guest of that name, ... */
	int map;			/* the map (1, 2, ...) that paired it, or 0 */
	struct run_guest *g[MAX_RUNS];	/* NULL where a run has none */
	int seen[MAX_RUNS];		/* nth 1: the guests of its name in each run */
};

struct guest_rows {
	struct guest_row *v;
	size_t nr, cap;
	struct index index;		/* by (map, name, nth) */
};

/* A name of the first run's guests (a) taken as the same guest as a name
 * of the second run's (b): --map A=B. */
struct guest_map {
	const char *a, *b;
};

/* Matches the guests of all runs by name (maps pair the first two runs'
 * others).  0, or -ENOMEM. */
int runs_match(const struct runs *rs, const struct guest_map *maps, int nr_maps,
	       struct guest_rows *out);
void guest_rows_free(struct guest_rows *gr);

#endif
