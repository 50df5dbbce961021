// SPDX-License-Identifier: GPL-2.0
/* The finished runs a command line names (kvmprof report, kvmprof diff):
 * their files read once, sorted into runs, their rows read; and their
 * guests matched across runs by name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/options.h"
#include "model/classes.h"
#include "offline/runs.h"
#include "util/outfile.h"
#include "util/text.h"
#include "util/vec.h"

/* One line: "kvmprof: COMMAND: ...", escaped whole. */
#define say(...) run_fail(NULL, 0, __VA_ARGS__)

static int load(struct csv_file *f, const char *path)
{
	if (!csv_file_load(f, path))
		return 0;
	say("%s: cannot read: %s", path, errno == EFBIG ? "larger than 1 GiB" : strerror(errno));
	return -1;
}

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

static bool same_file(const struct csv_file *a, const struct csv_file *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/* Input i, of kind 'h' or 's', into the runs so far; a series before any
 * --csv file waits in *pending for the first.  EXIT_OK or EXIT_USAGE. */
static int place(struct runs *rs, int i, int kind, struct csv_file **pending, int max_runs)
{
	struct csv_file *f = &rs->files[i], **slot;
	struct run *r;

	for (int j = 0; j < i; j++)
		if (same_file(&rs->files[j], f)) {
			say("%s and %s are both %s files, and the same file: name each run once",
			    rs->files[j].path, f->path, kind == 'h' ? "--csv" : "--csv-series");
			return EXIT_USAGE;
		}
	if (kind == 'h') {
		if (rs->nr == max_runs) {
			say("%s: one run too many: %s", f->path, max_runs == 2 ?
			    "diff compares two runs" : "report shows at most 8 runs side by side");
			return EXIT_USAGE;
		}
		r = &rs->run[rs->nr++];
		r->hist = f;
		r->series = *pending;
		*pending = NULL;
		return EXIT_OK;
	}
	slot = rs->nr ? &rs->run[rs->nr - 1].series : pending;
	if (*slot) {
		say("%s and %s are both --csv-series files of one run: give each --csv file at most "
		    "one --csv-series file, right after it", (*slot)->path, f->path);
		return EXIT_USAGE;
	}
	*slot = f;
	return EXIT_OK;
}

/* Each run without a series takes the one beside its --csv file. */
static int find_series(struct runs *rs)
{
	for (int i = 0; i < rs->nr; i++) {
		struct run *r = &rs->run[i];
		struct csv_file *f = &rs->files[rs->nr_files];

		if (r->series || !(rs->found[i] = series_beside(r->hist->path)))
			continue;
		if (load(f, rs->found[i]))
			return -1;
		rs->nr_files++;
		if (run_file_kind(f) != 's') {	/* its own line if unreadable */
			say("%s (beside %s) is not a --csv-series file: give the series file as an "
			    "argument", rs->found[i], r->hist->path);
			return -1;
		}
		r->series = f;
		r->series_found = true;
	}
	return 0;
}

/* Too few runs: what was given instead. */
static int too_few(const struct runs *rs, struct csv_file *pending, int min_runs)
{
	struct csv_file *series = pending;

	for (int i = 0; !series && i < rs->nr; i++)
		series = rs->run[i].series;
	if (min_runs == 1)
		say("%s is a --csv-series file; the report needs the run's --csv file too",
		    series->path);
	else if (series)
		run_fail(series->path, 1, "a --csv-series file where a --csv file is wanted: diff "
			 "compares two runs' --csv files, each may be followed by its --csv-series file");
	else
		say("give two runs' --csv files");
	return EXIT_USAGE;
}

int runs_open(struct runs *rs, const char *const *inputs, int n, int min_runs, int max_runs)
{
	struct csv_file *pending = NULL;
	int rc;

	memset(rs, 0, sizeof(*rs));
	for (; rs->nr_files < n; rs->nr_files++)
		if (load(&rs->files[rs->nr_files], inputs[rs->nr_files]))
			return EXIT_RUNTIME;
	for (int i = 0; i < n; i++) {
		int kind = run_file_kind(&rs->files[i]);

		if (!kind)
			return EXIT_RUNTIME;
		if ((rc = place(rs, i, kind, &pending, max_runs)) != EXIT_OK)
			return rc;
	}
	if (rs->nr < min_runs)
		return too_few(rs, pending, min_runs);
	return find_series(rs) ? EXIT_RUNTIME : EXIT_OK;
}

/* Every run holds one architecture's classes (run_data checks each run's
 * own): the first run that says which is the others' measure. */
static int check_arch(const struct runs *rs)
{
	int first = -1, arch0 = 0, c0 = 0;

	for (int i = 0; i < rs->nr; i++) {
		const struct run_data *d = &rs->run[i].d;
		int c, arch = run_arch(d, &c);

		if (!arch)
			continue;
		if (first < 0) {
			first = i;
			arch0 = arch;
			c0 = c;
		} else if (arch != arch0) {
			return run_fail(d->class_path[c], d->class_line[c], "class %s is %s's, but %s "
					"is an %s run (class %s at line %lu): runs of two architectures",
					class_name(c), run_arch_name(arch), rs->run[first].hist->path,
					run_arch_name(arch0), class_name(c0),
					rs->run[first].d.class_line[c0]);
		}
	}
	return 0;
}

int runs_read(struct runs *rs)
{
	for (int i = 0; i < rs->nr; i++) {
		struct run *r = &rs->run[i];

		if (run_load_histograms(&r->d, r->hist) || (r->series && run_load_series(&r->d, r->series)))
			return -1;
	}
	return check_arch(rs);
}

int runs_output_is_input(const struct runs *rs, const struct outpath *to)
{
	for (int i = 0; to->exists && i < rs->nr_files; i++)
		if (rs->files[i].dev == to->dev && rs->files[i].ino == to->ino) {
			say("-o %s: that is the input %s", to->path, rs->files[i].path);
			return -1;
		}
	return 0;
}

void runs_free(struct runs *rs)
{
	for (int i = 0; i < rs->nr_files; i++)
		csv_file_free(&rs->files[i]);
	for (int i = 0; i < rs->nr; i++)
		run_free(&rs->run[i].d);
	for (int i = 0; i < MAX_RUNS; i++)
		free(rs->found[i]);
	memset(rs, 0, sizeof(*rs));
}

/* ---- guests across runs ---- */

static size_t key_hash(int map, const char *name, int nth)
{
	return hash_bytes(name, strlen(name), (__u64)map << 32 | (__u32)nth);
}

static size_t row_hash(const void *gr, size_t i)
{
	const struct guest_row *r = &((const struct guest_rows *)gr)->v[i];

	return key_hash(r->map, r->name, r->nth);
}

/* The row of (map, name, nth), added if new. */
static struct guest_row *row_of(struct guest_rows *gr, int map, const char *name, int nth)
{
	size_t h = key_hash(map, name, nth), pos;
	struct guest_row *r;

	for (size_t i = index_first(&gr->index, h, &pos); i != INDEX_NONE; i = index_next(&gr->index, &pos))
		if (gr->v[i].map == map && gr->v[i].nth == nth && !strcmp(gr->v[i].name, name))
			return &gr->v[i];
	if (VEC_GROW(gr->v, gr->cap, gr->nr + 1) || index_reserve(&gr->index, gr->nr + 1, row_hash, gr))
		return NULL;
	r = &gr->v[gr->nr];
	*r = (struct guest_row){ .name = name, .nth = nth, .map = map };
	index_add(&gr->index, h, gr->nr++, row_hash, gr);	/* reserved */
	return r;
}

/* The map a guest of run `run` named name is paired by, 1 + its index, or 0. */
static int map_of(const struct guest_map *maps, int nr_maps, int run, const char *name)
{
	for (int m = 0; run < 2 && m < nr_maps; m++)
		if (!strcmp(run ? maps[m].b : maps[m].a, name))
			return m + 1;
	return 0;
}

int runs_match(const struct runs *rs, const struct guest_map *maps, int nr_maps,
	       struct guest_rows *out)
{
	memset(out, 0, sizeof(*out));
	for (int run = 0; run < rs->nr; run++) {
		const struct run_data *d = &rs->run[run].d;

		for (size_t i = 0; i < d->nr_guests; i++) {
			struct run_guest *g = &d->guests[i];
			int map = map_of(maps, nr_maps, run, g->name), nth;
			/* a map's rows go by its first side's name */
			const char *name = map ? maps[map - 1].a : g->name;
			struct guest_row *r = row_of(out, map, name, 1);

			if (!r)
				return -ENOMEM;
			nth = ++r->seen[run];	/* the first row counts them */
			if (nth > 1 && !(r = row_of(out, map, name, nth)))
				return -ENOMEM;
			r->g[run] = g;
		}
	}
	return 0;
}

void guest_rows_free(struct guest_rows *gr)
{
	free(gr->v);
	index_free(&gr->index);
	memset(gr, 0, sizeof(*gr));
}
