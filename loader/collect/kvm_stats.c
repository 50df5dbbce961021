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

/* Records a read(2) asks for: at least the seq file's 8 pages (32 records
 * of 1016 bytes with 4 KB pages); a whole multiple, so none comes cut. */
#define STATS_PER_READ 64

int kvm_stats_read(struct kvm_stats *k)
{
	int fd;
	ssize_t n;

	k->nr = 0;
	if (!k->link)
		return -ENODEV;
	k->skel->bss->vcpu_fops = 0;
	fd = bpf_iter_create(bpf_link__fd(k->link));
	if (fd < 0)
		return -errno;
	for (;;) {
		/* many records a read(2): each read starts the iterator again */
		if (VEC_GROW(k->recs, k->cap, k->nr + STATS_PER_READ)) {
			close(fd);
			return -ENOMEM;
		}
		/* the seq file hands out whole records */
		n = read(fd, &k->recs[k->nr], STATS_PER_READ * sizeof(k->recs[0]));
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || n % sizeof(k->recs[0])) {
			int err = n < 0 ? -errno : -EIO;

			close(fd);
			return err;
		}
		k->nr += n / sizeof(k->recs[0]);
	}
	close(fd);
	return 0;
}

void kvm_stats_close(struct kvm_stats *k)
{
	bpf_link__destroy(k->link);
	kvm_stats_bpf__destroy(k->skel);
	free(k->recs);
	memset(k, 0, sizeof(*k));
}
