/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RUN_DATA_H
#define RUN_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "kvmprof.h"
#include "model/vcpu_time.h"
#include "util/index.h"

/* A finished run as its files hold it (--csv, optionally --csv-series), for
 * kvmprof report and kvmprof diff.  Names come from the files: nothing is
 * decoded again. */

struct run_code {
	__u32 class;
	__u64 code;
	__u64 detail;		/* in a guest's details: the exit's detail */
	char *name;
	char *detail_name;	/* in a guest's details; NULL in its codes */
	__u64 count;
	__u64 lat_count, lat_sum_ns, lat_min_ns, lat_max_ns;	/* min 0: none */
	__u64 lat_slots[LAT_SLOTS];	/* the samples in each log2 bucket */
};

/* Codes by (class, code, detail), found through an index. */
struct run_codes {
	struct run_code *v;
	size_t nr, cap;
	struct index index;
};

/* One guest's traps in one interval of the series, and its vCPU threads'
 * time in that interval (the series' vcpu_time rows, by time column). */
struct run_point {
	size_t interval;
	__u64 count[NR_CLASSES];
	__u64 time_ns[NR_TIME_COLUMNS];
};

struct run_guest {
	__u32 pid;
	char *name;
	__u64 total, class_total[NR_CLASSES];
	/* latency per class, summed over codes and threads */
	__u64 lat_count[NR_CLASSES], lat_sum_ns[NR_CLASSES], lat_max_ns[NR_CLASSES];
	__u64 lat_min_ns[NR_CLASSES];
	__u64 lat_slots[NR_CLASSES][LAT_SLOTS];
	int threads;			/* distinct thread ids */
	struct run_codes codes;		/* by (class, code): an exit's details summed */
	struct run_codes details;	/* the keys that have a detail, by (class, code, detail) */
	struct run_point *points;	/* in interval order */
	size_t nr_points, points_cap;
	__u64 series_total;		/* traps the series holds for this guest */
	bool series_time;		/* the series holds its vCPU time too */
	/* where its vCPU threads' time went (the --csv file's vcpu_time rows,
	 * model/vcpu_time.h), summed over its threads, and their wall time */
	bool has_time[NR_TIME_COLUMNS];
	__u64 time_ns[NR_TIME_COLUMNS], time_wall_ns;
};

struct run_interval {
	double end_s, len_s;		/* elapsed at its end, its length */
};

struct run_data {
	struct run_guest *guests;	/* in the order the --csv file first names them */
	size_t nr_guests, guests_cap;
	struct run_interval *intervals;
	size_t nr_intervals, intervals_cap;
	bool has_series;
	struct index guest_index;	/* guests by pid */
	struct run_thread {
		__u32 pid, tid;
		bool traps, timed;	/* seen in a trap row, in a vcpu_time row */
		__u64 wall_ns;		/* its vcpu_time rows' */
	} *threads;			/* the threads seen */
	size_t nr_threads, threads_cap;
	struct index thread_index;	/* threads by (pid, tid) */
	/* where each class first appears (file, line), for the architecture
	 * checks: a run holds one architecture's classes */
	const char *class_path[NR_CLASSES];
	unsigned long class_line[NR_CLASSES];
};

struct csv_file;

/* Each prints one line ("kvmprof: COMMAND: FILE:LINE: why") and returns -1
 * on a file that cannot be read or is not what kvmprof writes, or that
 * holds classes of two architectures (x86's pio with arm64's wfx). */
int run_load_histograms(struct run_data *d, const struct csv_file *file);
int run_load_series(struct run_data *d, const struct csv_file *file);
/* Which of kvmprof's CSV files this is, from its header: 'h' (--csv), 's'
 * (--csv-series), or 0 (prints one line) when neither or unreadable. */
int run_file_kind(const struct csv_file *file);
void run_free(struct run_data *d);
/* The entry of (class, code, detail) in s, or NULL (detail 0 in codes). */
const struct run_code *run_codes_find(const struct run_codes *s, __u32 class, __u64 code, __u64 detail);
/* The command the error lines name ("report", the default, or "diff"). */
void run_set_command(const char *name);
const char *run_command(void);
/* Prints "kvmprof: COMMAND: PATH[:LINE]: why" (path and why escaped; no
 * "PATH: " when path is NULL); returns -1. */
int run_fail(const char *path, unsigned long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The run's length: the series' last elapsed_s, 0 without a series. */
double run_elapsed(const struct run_data *d);
/* The architecture its classes belong to: 'x' (x86: emulate, pio, msr,
 * cpuid), 'a' (arm64: wfx, sysreg, fault), 0 when it has only classes both
 * have; *class is the first class that says so. */
int run_arch(const struct run_data *d, int *class);
const char *run_arch_name(int arch);

#endif
