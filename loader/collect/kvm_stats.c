// SPDX-License-Identifier: GPL-2.0
/* KVM's own counters, read from the kernel by an iterator over the open
 * files of every process: no debugfs (which lockdown refuses), no stats fd
 * of the VMM's (QEMU before 8.1 keeps none; KVM_GET_STATS_FD refuses
 * another process), nothing on any event's path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kvm_stats.skel.h"
#include "collect/iter_read.h"
#include "collect/kvm_stats.h"
#include "util/vec.h"

int kvm_stats_open(struct kvm_stats *k)
{
	memset(k, 0, sizeof(*k));
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(k->why, sizeof(k->why), "the kernel has no BTF");
		return -1;
	}
	k->skel = kvm_stats_bpf__open();
	if (!k->skel) {
		snprintf(k->why, sizeof(k->why), "cannot open the counters' BPF object: %s", strerror(errno));
		return -1;
	}
	if (kvm_stats_bpf__load(k->skel)) {
		/* a kernel without task_file iterators (before 5.8), or whose KVM
		 * types are in no BTF (KVM a module, no module BTF: before 5.11) */
		snprintf(k->why, sizeof(k->why), "the kernel refused the counters' iterator (task_file "
			 "iterators are Linux 5.8+; struct kvm_vcpu must be in the kernel's BTF)");
		return -1;
	}
	k->link = bpf_program__attach_iter(k->skel->progs.vcpu_stats, NULL);
	if (!k->link) {
		snprintf(k->why, sizeof(k->why), "cannot attach the counters' iterator: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int take_record(const void *rec, void *ctx)
{
	struct kvm_stats *k = ctx;

	if (VEC_GROW(k->recs, k->cap, k->nr + 1))
		return -ENOMEM;
	memcpy(&k->recs[k->nr++], rec, sizeof(k->recs[0]));
	return 0;
}

int kvm_stats_read(struct kvm_stats *k)
{
	k->nr = 0;
	if (!k->link)
		return -ENODEV;
	k->skel->bss->vcpu_fops = 0;
	return iter_read(bpf_link__fd(k->link), sizeof(k->recs[0]), take_record, k);
}

void kvm_stats_close(struct kvm_stats *k)
{
	bpf_link__destroy(k->link);
	kvm_stats_bpf__destroy(k->skel);
	free(k->recs);
	memset(k, 0, sizeof(*k));
}
