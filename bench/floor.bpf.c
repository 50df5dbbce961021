// SPDX-License-Identifier: GPL-2.0
/* The floors under kvmprof's programs: programs that do nothing, of the
 * attach type kvmprof uses, on each hot event kvmprof traces (tp_btf on the
 * KVM events and sched_switch, a classic tracepoint on sys_enter_ioctl).
 * What kvmprof adds above these is its own work; bench/floor attaches the
 * ones named on its command line. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define FLOOR(event)				\
	SEC("tp_btf/" #event)			\
	int BPF_PROG(floor_##event)		\
	{					\
		return 0;			\
	}

FLOOR(kvm_emulate_insn)
FLOOR(sched_switch)
FLOOR(kvm_pio)
FLOOR(kvm_mmio)
FLOOR(kvm_userspace_exit)
FLOOR(kvm_msr)
FLOOR(kvm_cpuid)
FLOOR(kvm_exit)
FLOOR(kvm_entry)

SEC("tracepoint/syscalls/sys_enter_ioctl")
int floor_sys_enter_ioctl(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
