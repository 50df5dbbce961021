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

/* Two more floors on the events whose programs time something (a trip to
 * the VMM, an exit, a thread's time): clock_EVENT reads the clock once, as
 * any program that times must; state_EVENT also keeps the time per thread
 * in a hash, as the simplest per-thread timer does (bpftrace's
 * @start[tid] = nsecs).  What a timing program costs above these is its
 * own work. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u64);
} thread_times SEC(".maps");

static __always_inline void clock_only(void)
{
	__u64 now = bpf_ktime_get_ns();

	asm volatile("" : : "r"(now));
}

static __always_inline void thread_state(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns(), *at = bpf_map_lookup_elem(&thread_times, &tid);

	if (at)
		*at = now;
	else
		bpf_map_update_elem(&thread_times, &tid, &now, BPF_ANY);
}

#define TIMED(event)				\
	SEC("tp_btf/" #event)			\
	int BPF_PROG(clock_##event)		\
	{					\
		clock_only();			\
		return 0;			\
	}					\
	SEC("tp_btf/" #event)			\
	int BPF_PROG(state_##event)		\
	{					\
		thread_state();			\
		return 0;			\
	}

TIMED(kvm_userspace_exit)
TIMED(kvm_exit)
TIMED(kvm_entry)
TIMED(sched_switch)

SEC("tracepoint/syscalls/sys_enter_ioctl")
int clock_sys_enter_ioctl(void *ctx)
{
	clock_only();
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_ioctl")
int state_sys_enter_ioctl(void *ctx)
{
	thread_state();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
