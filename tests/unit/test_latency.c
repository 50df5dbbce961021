// SPDX-License-Identifier: GPL-2.0
/* Histogram maths: log2 slots, time formats, deltas of map values. */
#include <string.h>
#include "unit.h"
#include "model/latency.h"
#include "present/lines.h"

static void test_histogram_maths(void)
{
	__u64 lo, hi;
	char buf[32];
	struct trap_latency a = { .count = 3, .sum_ns = 300, .min_ns = 50, .max_ns = 200 };
	struct trap_latency b = { .count = 5, .sum_ns = 1000, .min_ns = 20, .max_ns = 400 };
	struct trap_latency d;

	slot_bounds(0, &lo, &hi);
	CHECK(lo == 0 && hi == 1, "slot 0 is [0,1]: %llu %llu", lo, hi);
	slot_bounds(10, &lo, &hi);
	CHECK(lo == 1024 && hi == 2047, "slot 10 is [1024,2047]: %llu %llu", lo, hi);
	slot_bounds(LAT_SLOTS - 1, &lo, &hi);
	CHECK(lo == 1ULL << 31 && hi == ~0ULL, "last slot is open-ended");
	CHECK_STR(format_ns(999, buf, sizeof(buf)), "999ns");
	CHECK_STR(format_ns(4100, buf, sizeof(buf)), "4.10us");
	CHECK_STR(format_ns(1250000, buf, sizeof(buf)), "1.25ms");
	CHECK_STR(format_ns(2000000000ULL, buf, sizeof(buf)), "2.00s");

	a.slots[5] = 3;
	b.slots[5] = 3;
	b.slots[8] = 2;
	latency_delta(&d, &b, &a);	/* map went from a to b */
	CHECK_U64(d.count, 2);
	CHECK_U64(d.sum_ns, 700);
	CHECK_U64(d.slots[5], 0);
	CHECK_U64(d.slots[8], 2);
	latency_add(&a, &d);
	CHECK_U64(a.count, 5);
	CHECK_U64(a.min_ns, 20);
	CHECK_U64(a.max_ns, 400);
	/* a smaller map value means the entry was deleted and made anew */
	latency_delta(&d, &(struct trap_latency){ .count = 2, .sum_ns = 10 }, &b);
	CHECK_U64(d.count, 2);
	CHECK_U64(d.sum_ns, 10);
}

void unit_latency(void)
{
	test_histogram_maths();
}
