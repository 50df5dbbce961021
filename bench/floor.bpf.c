// SPDX-License-Identifier: GPL-2.0
/* The floor under every BPF tracer of kvm_emulate_insn: a BTF tracepoint
 * program that does nothing.  What kvmprof adds above this is its own work. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/kvm_emulate_insn")
int BPF_PROG(floor_emulate_insn)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
