// SPDX-License-Identifier: GPL-2.0
/* Histogram maths: log2 slots, time formats, deltas of map values. */
#include <math.h>
#include <string.h>
#include "unit.h"
#include "model/latency.h"
#include "model/vcpu_time.h"
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

/* Quantiles from the log2 histogram, within the bucket; the deviation
 * from the squares; the squares' wrap-safe differences. */
static void test_quantiles(void)
{
	struct trap_latency l = { .count = 100, .min_ns = 1100, .max_ns = 7000 };
	struct trap_latency now = {}, before = {};
	double q, sq;

	/* 50 samples in [1024, 2047], 50 in [4096, 8191] (capped by max 7000) */
	l.slots[10] = 50;
	l.slots[12] = 50;
	l.sum_ns = 50 * 1500 + 50 * 6000;
	q = latency_quantile(&l, 0.5);
	CHECK(q >= 1100 && q <= 2047, "p50 in the low bucket, above the min: %.0f", q);
	CHECK(fabs(q - 2047) < 1, "p50: rank 50 of 50 ends the low bucket: %.0f", q);
	q = latency_quantile(&l, 0.9);	/* rank 90: 40 of 50 into [4096, 7000] */
	CHECK(fabs(q - (4096 + 0.8 * (7000 - 4096))) < 1, "p90 interpolated within the bucket: %.0f", q);
	CHECK(fabs(latency_quantile(&l, 1.0) - 7000) < 1, "p100 is the max");
	CHECK(latency_quantile(&(struct trap_latency){}, 0.5) == 0, "no samples: 0");
	/* two equal halves at 1500 and 6000: deviation 2250 */
	sq = 50 * 1500.0 * 1500 + 50 * 6000.0 * 6000;
	CHECK(fabs(latency_stddev(&l, sq) - 2250) < 0.5, "stddev %.2f", latency_stddev(&l, sq));
	CHECK(latency_stddev(&(struct trap_latency){ .count = 1, .sum_ns = 5 }, 25) == 0, "one sample: 0");
	/* the map's squares wrapped between two reads: the difference holds */
	before.count = 1;
	before.sum_sq_fine = ~0ULL - 99;	/* 100 below the wrap */
	before.sum_sq_coarse = ~0ULL;
	now = before;
	now.count = 3;
	now.sum_sq_fine = 400;			/* + 500 */
	now.sum_sq_coarse = 1;			/* + 2 */
	CHECK(latency_sq_delta(&now, &before) == 500.0 + 2.0 * (1 << 20), "wrapped squares: %.0f",
	      latency_sq_delta(&now, &before));
	now.count = 0;	/* deleted and made again: all of now */
	CHECK(latency_sq_delta(&now, &before) == 400.0 + 1.0 * (1 << 20), "restarted squares");
	/* distances from a reference, 2 ms: samples 2.000 and 2.010 ms */
	before = (struct trap_latency){};
	now = (struct trap_latency){ .count = 2, .sum_ns = 4010000, .ref_ns = 2000000 + 1,
				     .sum_sq_fine = 10000ULL * 10000 };
	sq = latency_sq_delta(&now, &before);
	CHECK(fabs(sq - (2e6 * 2e6 + 2.01e6 * 2.01e6)) < 1, "squares from distances: %.0f", sq);
	CHECK(fabs(latency_stddev(&now, sq) - 5000) < 0.01, "a 10 us spread at 2 ms: stddev %.4f",
	      latency_stddev(&now, sq));
}

/* A thread's record into its time: the open segment, outside before its
 * first event, intervals, states that never go back. */
static void test_thread_time(void)
{
	struct vcpu_thread rec = { .first_ns = 1500, .since_ns = 2000, .state = TIME_VMM, .tgid = 1 };
	struct thread_time t = { .start_ns = 0 };
	__u64 sum = 0;

	rec.time_ns[TIME_EXIT] = 300;	/* 1500..1800 */
	rec.time_ns[TIME_HALTED] = 200;	/* 1800..2000 */
	thread_time_update(&t, &rec, 1000, 3000);	/* run from 1000, read at 3000 */
	CHECK_U64(t.wall, 2000);
	CHECK_U64(t.ns[TIME_OUTSIDE], 500);	/* 1000..1500, before its first event */
	CHECK_U64(t.ns[TIME_VMM], 1000);	/* the open segment, to the read */
	for (int s = 0; s < NR_TIME_STATES; s++)
		sum += t.ns[s];
	CHECK_U64(sum, t.wall);
	CHECK_U64(t.interval_wall, 2000);
	CHECK_U64(t.interval[TIME_OUTSIDE], 500);
	/* the next read: the VMM trip closed at 3500, exit since */
	rec.time_ns[TIME_VMM] = 1500;
	rec.state = TIME_EXIT;
	rec.since_ns = 3500;
	thread_time_update(&t, &rec, 1000, 4000);
	CHECK_U64(t.interval_wall, 1000);
	CHECK_U64(t.interval[TIME_VMM], 500);
	CHECK_U64(t.interval[TIME_EXIT], 500);
	CHECK_U64(t.interval[TIME_OUTSIDE], 0);
	/* a record read mid-update, a segment behind: no state goes back */
	rec.time_ns[TIME_VMM] = 1400;
	thread_time_update(&t, &rec, 1000, 4100);
	CHECK_U64(t.ns[TIME_VMM], 1500);
	/* torn: the exit closed at 8500 (5000 more), but the copy has the
	 * state and start of before: its states sum past its life, left out */
	rec.time_ns[TIME_VMM] = 1500;
	rec.time_ns[TIME_EXIT] = 300 + 5000;
	CHECK(!time_record_whole(&rec, 9000, 300 + 200 + 1500 + 5000 + (9000 - 3500)), "torn: not whole");
	thread_time_update(&t, &rec, 1000, 9000);
	CHECK_U64(t.ns[TIME_EXIT], 900);	/* as the read at 4100 left it: 300 + 4100 - 3500 */
	rec.state = TIME_VMM;
	rec.since_ns = 8500;
	thread_time_update(&t, &rec, 1000, 9000);
	CHECK_U64(t.ns[TIME_EXIT], 5300);
	CHECK_U64(t.ns[TIME_VMM], 2000);	/* 1500 closed + 8500..9000 */
	/* a thread started in the run: its wall from its start */
	memset(&t, 0, sizeof(t));
	t.start_ns = 1200;
	rec = (struct vcpu_thread){ .first_ns = 1300, .since_ns = 1300, .state = TIME_EXIT, .tgid = 1 };
	thread_time_update(&t, &rec, 1000, 2300);
	CHECK_U64(t.wall, 1100);
	CHECK_U64(t.ns[TIME_OUTSIDE], 100);
	/* it ended at 2500, its last trip to the VMM (from 2100) outside: the
	 * exit the read at 2300 saw open stays shown, the outside it lacks is
	 * made up as far as the 200 ns of wall added allow */
	rec.end_ns = 2500;
	rec.time_ns[TIME_EXIT] = 800;
	rec.time_ns[TIME_OUTSIDE] = 400;
	rec.state = TIME_OUTSIDE;
	thread_time_update(&t, &rec, 1000, 2600);
	CHECK_U64(t.wall, 1300);
	CHECK_U64(t.ns[TIME_EXIT], 1000);
	CHECK_U64(t.ns[TIME_OUTSIDE], 300);
	CHECK_U64(t.interval_wall, 200);
	CHECK_U64(t.interval[TIME_OUTSIDE], 200);
}

/* A state the last read saw open goes back (BPF learned of an unseen switch
 * in: the time was the guest's): no interval is negative, each sums to its
 * wall, their sum is the totals, and the totals come back to the record as
 * the state grows again. */
static void test_thread_time_goes_back(void)
{
	struct vcpu_thread rec = { .first_ns = 1000, .since_ns = 1000, .state = TIME_PREEMPTED, .tgid = 1 };
	struct thread_time t = {};
	__u64 sums[NR_TIME_STATES] = {}, total;

	thread_time_update(&t, &rec, 1000, 5000);	/* preempted 4000, open */
	for (int s = 0; s < NR_TIME_STATES; s++)
		sums[s] += t.interval[s];
	/* switched out at 6000, its 3000 ns of CPU since 1000 the guest's */
	rec.time_ns[TIME_PREEMPTED] = 2000;
	rec.time_ns[TIME_GUEST] = 3000;
	rec.state = TIME_HALTED;
	rec.since_ns = 6000;
	thread_time_update(&t, &rec, 1000, 7000);	/* the wall adds 2000 */
	CHECK_U64(t.ns[TIME_PREEMPTED], 4000);
	CHECK_U64(t.interval_wall, 2000);
	/* lacking: guest 3000, halted 1000 (open); 2000 to give, in shares */
	CHECK_U64(t.interval[TIME_GUEST], 1500);
	CHECK_U64(t.interval[TIME_HALTED], 500);
	for (int s = 0; s < NR_TIME_STATES; s++)
		sums[s] += t.interval[s];
	/* preempted again 20000..30000: it has grown past what was shown */
	rec.time_ns[TIME_HALTED] = 14000;	/* 6000..20000 */
	rec.time_ns[TIME_PREEMPTED] = 12000;
	rec.state = TIME_GUEST;
	rec.since_ns = 30000;
	thread_time_update(&t, &rec, 1000, 31000);
	for (int s = 0; s < NR_TIME_STATES; s++) {
		sums[s] += t.interval[s];
		CHECK_U64(sums[s], t.ns[s]);
	}
	CHECK_U64(t.ns[TIME_GUEST], 4000);
	CHECK_U64(t.ns[TIME_HALTED], 14000);
	CHECK_U64(t.ns[TIME_PREEMPTED], 12000);
	total = t.ns[TIME_GUEST] + t.ns[TIME_HALTED] + t.ns[TIME_PREEMPTED] + t.ns[TIME_OUTSIDE];
	CHECK_U64(total, t.wall);
	CHECK_U64(t.wall, 30000);
}

/* The states shown: guest and exit folded where they are not told apart. */
static void test_time_columns(void)
{
	enum time_column cols[NR_TIME_COLUMNS];
	__u64 ns[NR_TIME_STATES] = { [TIME_GUEST] = 5, [TIME_EXIT] = 7, [TIME_VMM] = 11 };
	int n = time_columns(TIME_ON, cols);

	CHECK(n == 5 && cols[0] == TCOL_KVM_RUN && cols[4] == TCOL_OUTSIDE, "folded: %d columns", n);
	CHECK_U64(time_column_ns(TCOL_KVM_RUN, ns), 12);
	CHECK_STR(time_column_heading(TCOL_KVM_RUN), "in KVM_RUN");
	n = time_columns(TIME_ON | TIME_SPLIT_GUEST, cols);
	CHECK(n == 6 && cols[0] == TCOL_GUEST && cols[1] == TCOL_EXIT, "apart: %d columns", n);
	CHECK_STR(time_state_name(TIME_PREEMPTED), "preempted");
}

void unit_latency(void)
{
	test_histogram_maths();
	test_quantiles();
	test_thread_time();
	test_thread_time_goes_back();
	test_time_columns();
}
