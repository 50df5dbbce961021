/* SPDX-License-Identifier: GPL-2.0 */
#ifndef COUNTERS_H
#define COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include "kvmprof.h"
#include "model/table.h"
#include "util/index.h"

/* KVM's own counters per vCPU (collect/kvm_stats.c reads them), and the
 * self-check of kvmprof's counts against them.
 *
 * The window.  kvmprof counts the events between attaching and detaching
 * its programs.  KVM's counters are read just before attaching (lo) and
 * just after (hi), and at every read just before the maps are read (pre)
 * and just after (post); the final read comes before the detach (pre) and
 * after it (post).  So the events of a pair that holds number, per vCPU,
 * between pre - hi and post - lo: kvmprof's count must lie in that range,
 * which is one number when the guest is quiet at both ends (a vCPU made
 * after attaching has lo = hi = 0).  A vCPU gone at the last read (its
 * guest ended) keeps its last values, and only the lower bound holds. */
struct vcpu_counters {
	__u32 pid, tid, vcpu_id;
	__u64 vm;
	__u64 start_time;	/* its process's (/proc stat): a reused pid is another guest */
	__u64 present;		/* enum kvm_stat bits */
	__u32 hists;
	__u64 lo[NR_KVM_STATS], hi[NR_KVM_STATS];	/* the window's start */
	__u64 pre[NR_KVM_STATS], post[NR_KVM_STATS];	/* the last read's */
	__u64 prev_post[NR_KVM_STATS];			/* the read before: the interval's rates */
	__u64 hist_lo[NR_KVM_HISTS][KVM_HIST_BUCKETS], hist[NR_KVM_HISTS][KVM_HIST_BUCKETS];
	bool gone;		/* not seen at the last read */
	bool seen;		/* in this read (scratch) */
};

enum counters_phase {
	COUNTERS_BEFORE_ATTACH, COUNTERS_AFTER_ATTACH,	/* the window's start */
	COUNTERS_PRE, COUNTERS_POST,			/* around each read of the maps */
};

struct kvm_counters {
	struct vcpu_counters *v;
	size_t nr, cap;
	struct index by_pid;	/* v's entries by their process: a host has thousands */
	bool readable;		/* false: why says why, once */
	char why[200];
	bool since_start;	/* --since-start: counts since each VM was made (kvm_stat -i) */
};

/* The records of one pass of the iterator, in phase; start_time(r) gives
 * a record's process start as /proc/PID/stat has it.  0 or -ENOMEM. */
int counters_take(struct kvm_counters *c, const struct vcpu_stats *recs, size_t n, enum counters_phase phase,
		  __u64 (*start_time)(const struct vcpu_stats *r));
/* A read's pre pass without reading: KVM's counts at the last post pass are
 * as good a floor (they only grow), one pass of the iterator a read less. */
void counters_pre_from_post(struct kvm_counters *c);
void counters_free(struct kvm_counters *c);

/* A pair: a KVM counter and the kvmprof count it equals, one to one, where
 * it holds (docs/kvm-counters.md has the increment sites). */
struct check_pair {
	enum kvm_stat stat;
	unsigned int class;		/* the class kvmprof counts it in */
	bool (*counts)(const struct trap_key *key);	/* which of its codes; NULL all */
	bool x86, arm64;
	const char *holds;		/* where, for the docs and --list-probes */
};
extern const struct check_pair check_pairs[];
extern const size_t nr_check_pairs;

/* One pair's check for one guest. */
enum check_verdict { CHECK_EQUAL, CHECK_WITHIN, CHECK_DIFFERS };
struct check_result {
	const struct check_pair *pair;
	__u64 kvmprof;
	__u64 kvm_low, kvm_high;	/* the range KVM's counters allow; high ~0: no upper bound */
	enum check_verdict verdict;
	const char *why;		/* the likely cause of a difference; NULL */
};

/* The checks of guest g (pairs whose class is traced and whose counter
 * this kernel has) into out (room for nr_check_pairs); their number. */
size_t counters_check(const struct kvm_counters *c, const struct trap_table *s, const struct guest *g,
		      struct check_result *out);
/* "exits" ... "halt_wait_ns" */
const char *kvm_stat_name(unsigned int stat);

/* --counters: the counters as CLASS_COUNTER rows of s, one per vCPU and
 * counter (the halt-poll histograms as the latency of the *_ns codes):
 * counts since the window's start, or since each VM was made. */
int counters_to_rows(const struct kvm_counters *c, struct trap_table *s);

#endif
