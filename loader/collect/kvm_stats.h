/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KVM_STATS_H
#define KVM_STATS_H

#include <stddef.h>
#include "kvmprof.h"

struct kvm_stats_bpf;
struct bpf_link;

/* KVM's per-vCPU statistics of every VM on the host, through the
 * task_file iterator (bpf/kvm_stats.bpf.c): loaded and attached once (while
 * kvmprof has its capabilities), run by each read. */
struct kvm_stats {
	struct kvm_stats_bpf *skel;
	struct bpf_link *link;
	char why[200];			/* why the counters cannot be read here; "" when they can */
	struct vcpu_stats *recs;	/* the last read's, one per vCPU */
	size_t nr, cap;
};

/* 0, or -1 with why set (no line printed: the caller says it once). */
int kvm_stats_open(struct kvm_stats *k);
/* One pass of the iterator into recs; 0 or -errno. */
int kvm_stats_read(struct kvm_stats *k);
void kvm_stats_close(struct kvm_stats *k);

#endif
