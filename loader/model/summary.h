/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SUMMARY_H
#define SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include "cli/options.h"
#include "model/table.h"

struct insn_sum;
struct check_result;
struct rip_sum;

/* What the views show, built once per read from the table: per guest its
 * totals, per class its totals and latency, and (summary_detail) its codes
 * merged over threads, grouped by code with the details under it, its
 * devices, vCPU threads and instructions.  The text summary, the batch
 * tables, the live view and the JSON render it; none walks the rows. */

/* The live view's "since c": each row's count and latency at that moment,
 * by row index (rows are only appended); later rows start from zero. */
struct baseline {
	__u64 *count;
	struct trap_latency *lat;
	double *lat_sq;
	size_t nr;
	double at_s;	/* when, as elapsed seconds; 0: no baseline */
};

/* One code and detail of a guest, over all its threads. */
struct sum_code {
	struct trap_key key;	/* tgid and tid 0 */
	__u64 total, interval;
	struct trap_latency lat;
	double lat_sq;		/* its samples' squares, ns^2 (model/latency.h) */
};

/* A code with its details: codes[first, end) of the guest. */
struct sum_group {
	size_t first, end;
	__u64 total, interval;
	struct trap_latency lat;
	double lat_sq;
	bool details;		/* an exit whose details are listed under it */
};

/* Traps to one device (devices.h) within a class. */
struct sum_device {
	const char *name;
	__u64 total, interval;
};

struct sum_class {
	__u64 total, interval;
	struct trap_latency lat;	/* since start (or the baseline) */
	double lat_sq;
	__u64 int_lat_count, int_lat_sum, int_lat_max;	/* the last interval's */
	size_t first_group, end_group;		/* groups of the guest */
	size_t first_device, end_device;	/* devices of the guest */
};

struct sum_thread {
	__u32 tid;
	int vcpu;		/* -1: not known */
	__u64 total, interval;
	struct thread_time time;
};

struct sum_guest {
	const struct guest *guest;
	__u64 total, interval;
	int vcpus;			/* its vCPU threads */
	struct time_sum time;		/* its vCPU threads' time */
	struct sum_class classes[NR_CLASSES];
	bool has_top;
	struct trap_key top;		/* the row with the most traps in the interval (--sort: time, mean, max) */
	size_t top_row;			/* its index in the table */
	/* summary_detail: */
	bool detailed;
	struct sum_code *codes;
	size_t nr_codes;
	struct sum_group *groups;	/* by class, then total, then code */
	size_t nr_groups;
	struct sum_device *devices;	/* per class by total, then name */
	size_t nr_devices;
	struct sum_thread *threads;	/* by vCPU number, then thread id */
	size_t nr_threads;
	struct insn_sum *insns, *failed;	/* most frequent first */
	size_t nr_insns, nr_failed;
	struct rip_sum *rips;		/* --rip: per reason its guest addresses, most first */
	size_t nr_rips;
	struct check_result *checks;	/* against KVM's counters (model/counters.h) */
	size_t nr_checks;
};

struct summary {
	struct sum_guest *guests;	/* in the table's order */
	size_t nr_guests, live;
	__u64 total, interval;
	__u64 drops;
	unsigned int time_flags;	/* the table's: TIME_* (vcpu_time.h) */
	enum code_order order;		/* codes within a class (summary_detail) */
	const char *counters_why;	/* KVM's counters unreadable: why; NULL when read (or not tried) */
};

/* The guest-level sums of every guest of s, with the baseline's totals
 * when base is given; each guest's top row and (summary_detail) its codes
 * in order.  0 or -ENOMEM. */
int summary_build(struct summary *sum, const struct trap_table *s, const struct baseline *base,
		  enum code_order order);
/* Fills guest i's codes, groups, devices, threads and instructions. */
int summary_detail(struct summary *sum, const struct trap_table *s, const struct baseline *base, size_t i);
/* Both for every guest: what the text summary and the JSON show. */
int summary_build_all(struct summary *sum, const struct trap_table *s, enum code_order order);
/* A code group's figure that --sort orders by: count, total time, mean, max. */
double group_order_figure(const struct sum_group *g, enum code_order order);
void summary_free(struct summary *sum);

/* c: what each row holds now becomes the zero of the totals. */
int baseline_take(struct baseline *b, const struct trap_table *s, double at_s);
void baseline_free(struct baseline *b);

#endif
