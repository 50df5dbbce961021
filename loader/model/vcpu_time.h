/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VCPU_TIME_H
#define VCPU_TIME_H

#include <stdbool.h>
#include "kvmprof.h"

/* What the accounting can tell apart on this kernel (trap_table.time_flags). */
#define TIME_ON		1	/* sched_switch and KVM_RUN traced: the accounting runs */
#define TIME_SPLIT_GUEST 2	/* kvm_exit and kvm_entry: guest and exit apart; else one "in KVM_RUN" */
#define TIME_POLLING	4	/* kvm_vcpu_wakeup: halt polling counted as halted, not exit */
#define TIME_ENTRIES	8	/* kvm_entry traced: guest and exit apart once a thread entered */

/* One vCPU thread's time, in the states of enum time_state (bpf/kvmprof.h),
 * from its vcpu_threads record.  Its wall time runs from the run's start
 * (or the thread's, if later) to the last read (or its end); outside is
 * the part of it before the thread's first event, plus what the record
 * counted outside (after its last trip to the VMM, when it ended).  Its
 * states never go back and always sum to its wall: the intervals add up to
 * the totals, exactly. */
struct thread_time {
	bool seen;		/* a record was read */
	__u64 ns[NR_TIME_STATES];	/* since start */
	__u64 interval[NR_TIME_STATES];	/* added by the last read */
	__u64 wall, interval_wall;
	__u64 start_ns;		/* CLOCK_MONOTONIC: the thread's start, 0 if before the run */
	__u64 first_ns, end_ns;	/* its first event, its end (0: live) */
	__u64 read_at;		/* the read that last updated it */
	bool entered;		/* kvm_entry seen: its guest time is measured */
};

/* Does record rec, read at now, add up: its states (closed, and the open
 * one up to now) summing to sum, its life from its first event?  A torn
 * copy does not.  TIME_RECORD_SLACK_NS allows for nothing but rounding. */
#define TIME_RECORD_SLACK_NS 1000
bool time_record_whole(const struct vcpu_thread *rec, __u64 now, __u64 sum);

/* Folds record rec, read at now (CLOCK_MONOTONIC, as bpf_ktime_get_ns), into t;
 * run_start is the run's start; its interval runs from its last read that added up. */
void thread_time_update(struct thread_time *t, const struct vcpu_thread *rec, __u64 run_start,
			__u64 now);

/* Sums of several threads' time (a guest's). */
struct time_sum {
	__u64 ns[NR_TIME_STATES], interval[NR_TIME_STATES];
	__u64 wall, interval_wall;
	int threads;
};
void time_sum_add(struct time_sum *sum, const struct thread_time *t);

/* The states a view shows: guest and exit folded into one where they
 * cannot be told apart (flags without TIME_SPLIT_GUEST). */
enum time_column { TCOL_GUEST, TCOL_EXIT, TCOL_KVM_RUN, TCOL_VMM, TCOL_HALTED, TCOL_PREEMPTED,
		   TCOL_OUTSIDE, NR_TIME_COLUMNS };
/* The columns shown under flags, in order, into cols; their count. */
int time_columns(unsigned int flags, enum time_column cols[NR_TIME_COLUMNS]);
/* A column's value from a state array (ns or interval). */
__u64 time_column_ns(enum time_column c, const __u64 ns[NR_TIME_STATES]);
/* "guest", "exit", "kvm_run", "vmm", "halted", "preempted", "outside";
 * the heading: "in KVM_RUN" for kvm_run */
const char *time_column_name(enum time_column c);
const char *time_column_heading(enum time_column c);
/* "guest" ... "outside" for a state (JSON keys, CSV codes, metric labels) */
const char *time_state_name(unsigned int state);

#endif
