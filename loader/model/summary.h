/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SUMMARY_H
#define SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include "model/table.h"

struct insn_sum;

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
	size_t nr;
	double at_s;	/* when, as elapsed seconds; 0: no baseline */
};

/* One code and detail of a guest, over all its threads. */
struct sum_code {
	struct trap_key key;	/* tgid and tid 0 */
	__u64 total, interval;
	struct trap_latency lat;
};

/* A code with its details: codes[first, end) of the guest. */
struct sum_group {
	size_t first, end;
	__u64 total, interval;
	struct trap_latency lat;
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
	__u64 int_lat_count, int_lat_sum, int_lat_max;	/* the last interval's */
	size_t first_group, end_group;		/* groups of the guest */
	size_t first_device, end_device;	/* devices of the guest */
};

struct sum_thread {
	__u32 tid;
	int vcpu;		/* -1: not known */
	__u64 total, interval;
};

struct sum_guest {
	const struct guest *guest;
	__u64 total, interval;
	int vcpus;			/* its vCPU threads */
	struct sum_class classes[NR_CLASSES];
	bool has_top;
	struct trap_key top;		/* the row with the most traps in the interval */
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
};

struct summary {
	struct sum_guest *guests;	/* in the table's order */
	size_t nr_guests, live;
	__u64 total, interval;
	__u64 drops;
};

/* The guest-level sums of every guest of s, with the baseline's totals
 * when base is given.  0 or -ENOMEM. */
int summary_build(struct summary *sum, const struct trap_table *s, const struct baseline *base);
/* Fills guest i's codes, groups, devices, threads and instructions. */
int summary_detail(struct summary *sum, const struct trap_table *s, const struct baseline *base, size_t i);
/* Both for every guest: what the text summary and the JSON show. */
int summary_build_all(struct summary *sum, const struct trap_table *s);
void summary_free(struct summary *sum);

/* c: what each row holds now becomes the zero of the totals. */
int baseline_take(struct baseline *b, const struct trap_table *s, double at_s);
void baseline_free(struct baseline *b);

#endif
