/* SPDX-License-Identifier: GPL-2.0 */
#ifndef REPORT_H
#define REPORT_H

#include <stdio.h>
#include "model/stats.h"

/* Totals of one guest, summed over its rows. */
struct guest_sum {
	struct guest *guest;
	__u64 total, interval;
	__u64 class_total[NR_CLASSES], class_interval[NR_CLASSES];
	struct trap_latency class_lat[NR_CLASSES];	/* since start */
	__u64 class_int_lat_count[NR_CLASSES], class_int_lat_sum[NR_CLASSES];
	__u64 class_int_lat_max[NR_CLASSES];
	int vcpus;			/* distinct vCPU threads */
	const struct trap_row *top;	/* most frequent code in the interval */
};

/* One code and detail of one guest, over all its threads. */
struct code_sum {
	__u32 class;
	__u16 detail_flags;	/* DETAIL_*, 0: the code has no detail */
	__u32 detail;
	__u64 code;
	__u64 count, interval;
	__u64 code_count;	/* count of all of the code's details */
	struct trap_latency lat;
};

/* Traps to one device (devices.h) within a class. */
struct device_sum {
	const char *name;
	__u64 count, interval;
};
#define MAX_DEVICE_SUMS 64

/* Sums per guest, in s->guests order; the caller frees. */
struct guest_sum *sum_guests(struct stats *s);
/* The guest's codes and details, merged over threads, sorted by class, then
 * code by count, then detail by count: a code's details are adjacent; the
 * caller frees. */
struct code_sum *sum_codes(const struct stats *s, const struct guest *g, size_t *nr);
/* End of the code group starting at codes[k]: its entries differ only in detail. */
size_t code_group_end(const struct code_sum *codes, size_t nr, size_t k);
/* Per-device totals of codes[k..end) (one class), by count; returns how many. */
size_t sum_devices(const struct code_sum *codes, size_t k, size_t end, struct device_sum *out);

void report_interval(FILE *out, struct stats *s, double interval_s, double elapsed_s);
void report_summary(FILE *out, struct stats *s, double elapsed_s, int top);

/* A log2 histogram as bars, like bcc's print_log2_hist. */
void print_log2_hist(FILE *out, const __u64 *slots, int nr_slots, const char *unit);
/* Nanoseconds as "812ns", "4.10us", "1.25ms", "2.00s". */
const char *format_ns(__u64 ns, char *buf, size_t size);
/* Bucket i of the log2 histogram covers [lo, hi] ns. */
void slot_bounds(int i, __u64 *lo, __u64 *hi);

#endif
