// SPDX-License-Identifier: GPL-2.0
/* The floors under kvmprof's programs: BTF tracepoint programs that do
 * nothing, on kvm_emulate_insn (every emulated instruction) and on
 * sched_switch (every context switch on the host).  What kvmprof adds above
 * these is its own work; bench/floor attaches one of them. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/kvm_emulate_insn")
int BPF_PROG(floor_emulate_insn)
{
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(floor_sched_switch)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
