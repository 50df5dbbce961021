/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RUN_DATA_H
#define RUN_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "kvmprof.h"
#include "util/index.h"

/* A finished run as its files hold it (--csv, optionally --csv-series), for
 * kvmprof report.  Names come from the files: nothing is decoded again. */

struct run_code {
	__u32 class;
	__u64 code;
	char *name;
	__u64 count;
	__u64 lat_count, lat_sum_ns, lat_max_ns;
};

/* One guest's traps in one interval of the series. */
struct run_point {
	size_t interval;
	__u64 count[NR_CLASSES];
};

struct run_guest {
	__u32 pid;
	char *name;
	__u64 total, class_total[NR_CLASSES];
	/* latency per class, summed over codes and threads */
	__u64 lat_count[NR_CLASSES], lat_sum_ns[NR_CLASSES], lat_max_ns[NR_CLASSES];
	__u64 lat_slots[NR_CLASSES][LAT_SLOTS];
	int threads;			/* distinct thread ids */
	struct run_code *codes;
	size_t nr_codes, codes_cap;
	struct index code_index;	/* codes by (class, code) */
	struct run_point *points;	/* in interval order */
	size_t nr_points, points_cap;
	__u64 series_total;		/* traps the series holds for this guest */
};

struct run_interval {
	double end_s, len_s;		/* elapsed at its end, its length */
};

struct run_data {
	struct run_guest *guests;
	size_t nr_guests, guests_cap;
	struct run_interval *intervals;
	size_t nr_intervals, intervals_cap;
	bool has_series;
	struct index guest_index;	/* guests by pid */
	struct run_thread { __u32 pid, tid; } *threads;	/* the threads seen */
	size_t nr_threads, threads_cap;
	struct index thread_index;	/* threads by (pid, tid) */
};

struct csv_file;

/* Each prints one line ("kvmprof: report: FILE:LINE: why") and returns -1
 * on a file that cannot be read or is not what kvmprof writes. */
int run_load_histograms(struct run_data *d, const struct csv_file *file);
int run_load_series(struct run_data *d, const struct csv_file *file);
/* Which of kvmprof's CSV files this is, from its header: 'h' (--csv), 's'
 * (--csv-series), or 0 (prints one line) when neither or unreadable. */
int run_file_kind(const struct csv_file *file);
void run_free(struct run_data *d);

#endif
