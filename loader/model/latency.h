/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LATENCY_H
#define LATENCY_H

#include "kvmprof.h"

/* Adds the samples of src into dst (counts, sums, slots, min, max). */
void latency_add(struct trap_latency *dst, const struct trap_latency *src);
/* dst = now - before, slot by slot; min and max are taken from now. */
void latency_delta(struct trap_latency *dst, const struct trap_latency *now,
		   const struct trap_latency *before);
/* The largest sample of delta (now - before): now's max if it grew, else
 * the upper bound of delta's highest filled log2 slot (at most now's max). */
__u64 latency_delta_max(const struct trap_latency *now, const struct trap_latency *before,
			const struct trap_latency *delta);
/* Bucket i of the log2 histogram covers [lo, hi] ns. */
void slot_bounds(int i, __u64 *lo, __u64 *hi);
/* The samples' squares (in ns^2) the map added from before to now: each
 * field's difference (they wrap), the coarse one scaled, from distances to
 * the key's reference back to squares. */
double latency_sq_delta(const struct trap_latency *now, const struct trap_latency *before);
/* The samples' standard deviation from their count, sum and squares (ns). */
double latency_stddev(const struct trap_latency *l, double sq);
/* The q-quantile (0 < q <= 1) of l's samples, estimated from the log2
 * histogram: the bucket that holds the sample of rank q * count, and
 * within it linearly between its bounds (samples spread evenly over the
 * bucket), kept within the smallest and largest sample where known.
 * 0 without samples. */
double latency_quantile(const struct trap_latency *l, double q);

#endif
