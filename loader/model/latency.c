// SPDX-License-Identifier: GPL-2.0
/* Sums and differences of log2 latency histograms. */
#include <math.h>
#include <stdbool.h>
#include "model/latency.h"

void latency_add(struct trap_latency *dst, const struct trap_latency *src)
{
	if (!src->count)
		return;
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	for (int i = 0; i < LAT_SLOTS; i++)
		dst->slots[i] += src->slots[i];
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	if (src->min_ns && (!dst->min_ns || src->min_ns < dst->min_ns))
		dst->min_ns = src->min_ns;
	if (src->vcpu != VCPU_UNKNOWN)
		dst->vcpu = src->vcpu;
}

void latency_delta(struct trap_latency *dst, const struct trap_latency *now,
		   const struct trap_latency *before)
{
	bool restarted = now->count < before->count;	/* entry deleted and recreated */

	*dst = *now;
	if (restarted)
		return;
	dst->count -= before->count;
	dst->sum_ns -= before->sum_ns;
	for (int i = 0; i < LAT_SLOTS; i++)
		dst->slots[i] -= before->slots[i];
}

__u64 latency_delta_max(const struct trap_latency *now, const struct trap_latency *before,
			const struct trap_latency *delta)
{
	if (!delta->count)
		return 0;
	if (now->max_ns > before->max_ns)
		return now->max_ns;
	for (int i = LAT_SLOTS - 1; i >= 0; i--) {
		__u64 lo, hi;

		if (!delta->slots[i])
			continue;
		slot_bounds(i, &lo, &hi);
		return hi < now->max_ns ? hi : now->max_ns;
	}
	return now->max_ns;
}

void slot_bounds(int i, __u64 *lo, __u64 *hi)
{
	*lo = i ? 1ULL << i : 0;
	*hi = i == LAT_SLOTS - 1 ? ~0ULL : (1ULL << (i + 1)) - 1;
}

double latency_sq_delta(const struct trap_latency *now, const struct trap_latency *before)
{
	bool restarted = now->count < before->count;
	__u64 fine = now->sum_sq_fine - (restarted ? 0 : before->sum_sq_fine);
	__u64 coarse = now->sum_sq_coarse - (restarted ? 0 : before->sum_sq_coarse);
	double n = now->count - (restarted ? 0 : before->count);
	double sum = now->sum_ns - (restarted ? 0 : before->sum_ns);
	double ref = now->ref_ns ? now->ref_ns - 1.0 : 0;
	double rel = (double)fine + (double)coarse * (double)(1ULL << (2 * LAT_SQ_COARSE_SHIFT));

	/* the map's are distances from ref: sum (x - ref)^2 = sum x^2 - 2 ref sum x + n ref^2 */
	return rel + 2 * ref * sum - n * ref * ref;
}

double latency_stddev(const struct trap_latency *l, double sq)
{
	double n = l->count, mean, var;

	if (l->count < 2)
		return 0;
	mean = l->sum_ns / n;
	var = sq / n - mean * mean;
	return var > 0 ? sqrt(var) : 0;
}

double latency_quantile(const struct trap_latency *l, double q)
{
	__u64 n = 0, below = 0, lo, hi;
	double rank, v;

	for (int i = 0; i < LAT_SLOTS; i++)
		n += l->slots[i];
	if (!n)
		return 0;
	rank = q * n;
	for (int i = 0; i < LAT_SLOTS; i++) {
		if (!l->slots[i] || below + l->slots[i] < rank) {
			below += l->slots[i];
			continue;
		}
		slot_bounds(i, &lo, &hi);
		if (i == LAT_SLOTS - 1 || (l->max_ns && hi > l->max_ns))
			hi = l->max_ns ? l->max_ns : lo;
		if (l->min_ns && lo < l->min_ns && l->min_ns <= hi)
			lo = l->min_ns;
		v = lo + (rank - below) / l->slots[i] * (double)(hi - lo);
		return v;
	}
	return l->max_ns;
}
