// SPDX-License-Identifier: GPL-2.0
/* kvmprof: count KVM traps per guest, vCPU thread, class and code, with
 * log2 latency histograms for exits (exit -> entry) and trips to the VMM
 * (userspace exit -> next KVM_RUN).  Each event has several attach
 * variants; the loader enables one per event before load.  This unit
 * defines the maps and switches (state.bpf.h) and holds the events every
 * architecture has; the architecture's own events are in traps_ARCH.bpf.c,
 * linked with it into one object (bpftool gen object). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#define KVMPROF_DEFINE_STATE
#include "aggregate.bpf.h"
#include "core_fixes.bpf.h"

#define KVM_RUN_IOCTL 0xae80	/* _IO(KVMIO, 0x80) */

/* ---- classic tracepoints: the record layout comes from CO-RE ---- */

SEC("tracepoint/kvm/kvm_entry")
int tp_kvm_entry(void *ctx)
{
	on_entry();
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_mmio")
int tp_kvm_mmio(struct trace_event_raw_kvm_mmio *ctx)
{
	count_trap(CLASS_MMIO, (ctx->gpa & ~0xfffULL) | (ctx->type & MMIO_TYPE_MASK));
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_userspace_exit")
int tp_kvm_userspace_exit(struct trace_event_raw_kvm_userspace_exit *ctx)
{
	on_userspace_exit(ctx->reason, ctx->errno);
	return TP_PASS;
}

/* Syscall tracepoints have no BTF record type; this layout is ABI. */
struct sys_enter_ioctl_record {
	__u64 common;
	int nr;
	__u64 fd;
	__u64 cmd;
	__u64 arg;
};

SEC("tracepoint/syscalls/sys_enter_ioctl")
int tp_sys_enter_ioctl(struct sys_enter_ioctl_record *ctx)
{
	if ((__u32)ctx->cmd == KVM_RUN_IOCTL)
		on_kvm_run();
	return TP_PASS;
}

/* A context switch, for the vCPU time accounting: prev_state is
 * TASK_REPORT_MAX when prev was preempted, else the reported state as one
 * bit (0 running; EXIT_DEAD 0x10 or EXIT_ZOMBIE 0x20 at a task's last). */
#define SWITCH_PREEMPTED 0x100	/* TASK_REPORT_MAX */
#define SWITCH_EXITED 0x30

SEC("tracepoint/sched/sched_switch")
int tp_sched_switch(struct trace_event_raw_sched_switch *ctx)
{
	long state = ctx->prev_state;

	/* prev is the current task: its tgid from the helper */
	on_switch(NULL, ctx->prev_pid, bpf_get_current_pid_tgid() >> 32,
		  !state || (state & SWITCH_PREEMPTED), state & SWITCH_EXITED && !(state & SWITCH_PREEMPTED),
		  ctx->next_pid);
	return TP_PASS;
}

/* ---- BTF tracepoints: typed arguments, no record is built ---- */

#define TASK_DEAD 0x80	/* __state at a task's last switch */

/* (preempt, prev, next) in every kernel; 5.18 added prev_state after them */
SEC("tp_btf/sched_switch")
int BPF_PROG(btf_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	long state = task_state(prev);

	on_switch(prev, prev->pid, prev->tgid, preempt || !state, state & TASK_DEAD, next->pid);
	return 0;
}

SEC("tp_btf/kvm_entry")
int BPF_PROG(btf_kvm_entry)
{
	on_entry();
	return 0;
}

SEC("tp_btf/kvm_mmio")
int BPF_PROG(btf_kvm_mmio, int type, int len, u64 gpa)
{
	count_trap(CLASS_MMIO, (gpa & ~0xfffULL) | (type & MMIO_TYPE_MASK));
	return 0;
}

SEC("tp_btf/kvm_userspace_exit")
int BPF_PROG(btf_kvm_userspace_exit, __u32 reason, int err)
{
	on_userspace_exit(reason, err);
	return 0;
}

/* ---- run by the loader (BPF_PROG_TEST_RUN) on each CPU ---- */

/* After the loader deleted ended guests' keys: empties this CPU's hot slots
 * whose key has no trap_keys entry any more (the protocol: see
 * count_in_pair() in aggregate.bpf.h). */
SEC("raw_tp")
int flush_hot(void *ctx)
{
	for (int i = 0; i < HOT_SLOTS; i++) {
		__u32 idx = i;	/* i stays in a register: the verifier sees the bound */
		struct hot_slot *slot = bpf_map_lookup_elem(&hot_counts, &idx);

		if (slot && slot->count && !bpf_map_lookup_elem(&trap_keys, &slot->key))
			slot->count = 0;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
