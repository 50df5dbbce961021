// SPDX-License-Identifier: GPL-2.0
/* Sums and differences of log2 latency histograms. */
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
