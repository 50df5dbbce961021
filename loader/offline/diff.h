/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DIFF_H
#define DIFF_H

#include <stdbool.h>
#include <stdio.h>
#include "cli/options.h"
#include "offline/runs.h"

/* kvmprof diff: two runs (A, B) compared guest by guest (matched by name,
 * or --map), and within a guest class by class, code by code and detail by
 * detail, biggest changes first (docs/diff.md). */

enum diff_level { DIFF_CLASS, DIFF_CODE, DIFF_DETAIL };

/* One side of a row: what run A (0) or B (1) holds for it. */
struct diff_side {
	__u64 count;
	double rate;		/* traps/s; < 0 without a series */
	double share;		/* % of the guest's traps */
	__u64 lat_count;	/* latency samples; the rest only when > 0 */
	double p50, p99;	/* ns, estimated from the log2 buckets */
};

struct diff_row {
	enum diff_level level;
	int class;
	__u64 code, detail;
	const char *name;	/* the class's, the code's or the detail's name */
	size_t more;		/* > 0: not a row but the sum of this many more (past -n) */
	struct diff_side side[2];
	double change;		/* what orders rows: |B - A| of the rate, else of the count */
};

struct diff_guest {
	const struct guest_row *match;	/* match->g[0], g[1]: the guest in A and B (or NULL) */
	struct diff_side total[2];	/* all its traps */
	struct diff_row *rows;		/* in the order shown */
	size_t nr, cap;
	bool latency;			/* some row has latency samples */
	double change;
	/* time shares: each state's % of the vCPU threads' wall time, in the
	 * runs that have them (vcpu_time rows) */
	bool timed[2], has_time[NR_TIME_COLUMNS];
	double time_share[2][NR_TIME_COLUMNS];
};

/* The first code or detail row whose figure changed above the threshold
 * the most, and how many did. */
struct diff_verdict {
	size_t above;
	const struct guest_row *match;	/* the worst row's guest */
	struct diff_row worst;
	double worst_pct;
};

struct diff {
	const struct runs *rs;
	double elapsed[2];	/* seconds; 0 without a series */
	bool rates;		/* both runs have a series */
	struct guest_rows rows;
	struct diff_guest *guests;	/* biggest change first */
	size_t nr_guests;
	enum diff_figure fail_on;	/* what the verdict judges */
	double fail_above;		/* < 0: no verdict */
	struct diff_verdict verdict;
};

/* Builds the comparison of rs's two runs, listing at most top codes per
 * class (and details per code); the rest in a `more` row.  Judges every
 * code and detail row (listed or not) by fail_on when fail_above >= 0.
 * 0 or -ENOMEM. */
int diff_build(struct diff *d, const struct runs *rs, const struct guest_map *maps, int nr_maps,
	       int top, enum diff_figure fail_on, double fail_above);
void diff_free(struct diff *d);

/* The value of a figure on one side; false when that side has none. */
bool diff_figure(const struct diff_side *s, enum diff_figure fig, double *v);
/* B against A, in percent: 0 when both are 0, +inf when only B has any. */
double diff_percent(double a, double b);
/* "2.00x", "new", "gone" or "-" (both 0); "" when a side has none. */
const char *diff_ratio_text(const struct diff_row *r, enum diff_figure fig, char *buf, size_t size);
/* The same for any two values a (A's) and b. */
const char *diff_ratio_of(double a, double b, char *buf, size_t size);
/* "+40", "-3", "0" for counts. */
const char *diff_count_delta(__u64 a, __u64 b, char *buf, size_t size);
/* The cells both outputs show: "812.5" (or "-" without rates), "12.50%"
 * (or "-" below 0), a latency as "4.10us" (or "-" without samples). */
const char *diff_rate_text(double rate, char *buf, size_t size);
const char *diff_pct_text(double pct, char *buf, size_t size);
const char *diff_ns_text(const struct diff_side *s, double ns, char *buf, size_t size);

/* "... 6 more codes" for a row that sums the rest. */
const char *diff_more_label(const struct diff_row *r, char *buf, size_t size);
/* How rates came about, or why there are none. */
const char *diff_rates_note(const struct diff *d);
#define DIFF_QUANTILE_NOTE "p50/p99 are estimated from the log2 buckets as everywhere in " \
	"kvmprof: the sample of rank q x samples, placed linearly within its bucket, whose bounds " \
	"are narrowed to the samples' minimum and maximum"

/* The text table (stdout) and the HTML page (-o). */
void diff_write_text(FILE *f, const struct diff *d);
void diff_write_html(FILE *f, const struct diff *d);

#endif
