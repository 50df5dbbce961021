/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LINES_H
#define LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "model/summary.h"

/* Where rendered lines go: stdout (the summary) or the live view's body.
 * A line is whole, without its newline; attr is one of LINE_*, which the
 * live view maps to terminal attributes and a file ignores. */
enum line_attr { LINE_PLAIN, LINE_BOLD, LINE_TITLE, LINE_ALERT };

struct sink {
	void (*line)(void *ctx, enum line_attr attr, const char *text);
	void *ctx;
	int width;		/* columns it has room for */
};

void sink_printf(const struct sink *k, enum line_attr attr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A sink writing lines to f. */
struct sink file_sink(FILE *f);

/* Nanoseconds as "812ns", "4.10us", "1.25ms", "2.00s". */
const char *format_ns(__u64 ns, char *buf, size_t size);
/* "avg/max" of count samples summing sum, or "-" without samples. */
void latency_cell(char *buf, size_t size, __u64 count, __u64 sum, __u64 max);
/* text cut to width bytes, its end marked '~' when cut. */
void fit_text(char *text, size_t width);

struct check_result;
/* A check against KVM's counters as one line's text. */
void check_text(const struct check_result *r, char *buf, size_t size);

/* A log2 histogram as bars, like bcc's print_log2_hist, each line
 * indented by indent. */
void render_histogram(const struct sink *k, const __u64 *slots, int indent);

/* How the guest's details count rates: over the last interval (the live
 * view) or over the run (the summary). */
struct detail_view {
	bool interval_rates;
	double seconds;		/* the interval or the run; 0: no rates yet */
	int top;		/* codes per class and instructions listed; 0: all */
	unsigned int time_flags;	/* TIME_* (vcpu_time.h): the vCPU time table, and its notes */
};

/* A guest's details, as the summary and the live view's drill-down show
 * them: its vCPU threads, per class its total, codes (an exit's details
 * under it, devices beside ports and addresses), per-device subtotals and
 * latency histogram, then its emulated instructions and failures. */
void render_guest_detail(const struct sink *k, const struct sum_guest *g,
			 const struct detail_view *v);

#endif
