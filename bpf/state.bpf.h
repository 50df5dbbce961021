/* SPDX-License-Identifier: GPL-2.0 */
/* kvmprof's maps and load-time switches, written once.  The unit that
 * defines KVMPROF_DEFINE_STATE before it includes this (bpf/kvmprof.bpf.c)
 * defines them; every other unit declares them extern, and bpftool gen
 * object (libbpf's static linker) resolves those to that one definition,
 * refusing an extern map that does not match it.  The loader reaches them
 * as skel->maps.NAME and skel->rodata->NAME; their keys and values are in
 * kvmprof.h. */
#ifndef STATE_BPF_H
#define STATE_BPF_H

#include <bpf/bpf_helpers.h>
#include "kvmprof.h"

#ifdef KVMPROF_DEFINE_STATE
#define __kvmprof_state
#else
#define __kvmprof_state extern
#endif

/* Set by the loader before load (.rodata, false until then).  -p: count
 * only the guests in pid_filter. */
__kvmprof_state const volatile bool filter_pids;
/* --insns: every emulated instruction's bytes and address into insn_counts;
 * off, the verifier drops that code and the default path pays nothing */
__kvmprof_state const volatile bool emul_insns;
/* --max-guest-keys: the trap_keys entries one guest may hold at once, so
 * that one guest (a VMM running each KVM_RUN from a fresh thread, say)
 * cannot fill the map for all; 0: no bound */
__kvmprof_state const volatile __u32 guest_key_limit;
/* --tid: count only the threads in tid_filter.  --vcpu: only the vCPU
 * threads of number filter_vcpu (from the thread's name, as the loader
 * reads it) */
__kvmprof_state const volatile bool filter_tids;
__kvmprof_state const volatile bool filter_by_vcpu;
__kvmprof_state const volatile __s32 filter_vcpu;
/* kvmprof -- COMMAND: count only the processes below this one (kvmprof
 * itself, the command's subreaper); 0 off */
__kvmprof_state const volatile __u32 tree_root;
/* --slow: exits and VMM trips longer than this go to slow_traps; 0 off */
__kvmprof_state const volatile __u64 slow_ns;
/* --rip: each exit's guest address into rip_counts; off, the verifier
 * drops that code */
__kvmprof_state const volatile bool count_rips;
/* -e halt: kvm_vcpu_wakeup counts as well; it is attached for the time
 * accounting's halt polling without it */
__kvmprof_state const volatile bool count_halt;

/* Every key counted (kvmprof.h: the count table) */
__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_TRAP_KEYS);
	__type(key, struct trap_key);
	__type(value, __u8);
} trap_keys SEC(".maps");

/* The count table (kvmprof.h), 2^count_table_bits slots: the loader sizes
 * the arrays (count_table: possible CPUs << count_table_bits) and maps them */
__kvmprof_state const volatile __u32 count_table_bits;
__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct trap_key);
} count_keys SEC(".maps");

__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);	/* an array's values are 8 bytes apart in its mapping */
} count_claims SEC(".maps");

__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} count_table SEC(".maps");

/* The per-CPU cache in front of the count table: see count_in_pair() in
 * aggregate.bpf.h. */
__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HOT_SLOTS);
	__type(key, __u32);
	__type(value, struct hot_slot);
} hot_counts SEC(".maps");

__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_TRAP_KEYS);
	__type(key, struct trap_key);
	__type(value, struct trap_latency);
} trap_latency SEC(".maps");

/* The thread table (kvmprof.h): vCPU threads' open exits and VMM trips,
 * and time accounting */
__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, THREAD_SLOTS);
	__type(key, __u32);
	__type(value, struct vcpu_thread);
} vcpu_threads SEC(".maps");

__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, THREAD_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} thread_claims SEC(".maps");

__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VCPU_TID_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} vcpu_tids SEC(".maps");

/* Per guest (tgid): trap_keys entries made (the programs count them) and
 * deleted (the loader counts those, when it reclaims a dead thread's or an
 * ended guest's entries): their difference is what the guest holds.  LRU:
 * a guest pushed out only starts its count again. */
__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_GUESTS);
	__type(key, __u32);
	__type(value, __u64);
} guest_keys_made SEC(".maps");

__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_GUESTS);
	__type(key, __u32);
	__type(value, __u64);
} guest_keys_freed SEC(".maps");

__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NR_DROPS);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_PID_FILTER);
	__type(key, __u32);
	__type(value, __u8);
} pid_filter SEC(".maps");

__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_PID_FILTER);
	__type(key, __u32);
	__type(value, __u8);
} tid_filter SEC(".maps");

/* kvmprof -- COMMAND: each process's verdict, in the tree or not, found
 * once by walking its parents; a reused pid is told by its start time */
__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_GUESTS);
	__type(key, __u32);
	__type(value, struct tree_verdict);
} tree_verdicts SEC(".maps");

/* --slow: the slow traps, struct slow_trap each (56 bytes) */
__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} slow_traps SEC(".maps");

/* New keys' records (about 300 bytes each, with the command line): room
 * for a burst of thousands of short-lived guests between two reads, so
 * their names are not lost. */
__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} new_threads SEC(".maps");

/* --insns: per guest, instruction and address; per CPU, no atomics. */
__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_INSN_KEYS);
	__type(key, struct insn_key);
	__type(value, struct insn_count);
} insn_counts SEC(".maps");

/* --rip: per CPU, no atomics */
__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_RIP_KEYS);
	__type(key, struct rip_key);
	__type(value, __u64);
} rip_counts SEC(".maps");

/* Failed emulations, always: only events with the failed flag touch it. */
__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_FAILED_KEYS);
	__type(key, struct insn_key);
	__type(value, struct failed_insn);
} failed_insns SEC(".maps");

/* The vcpu the decoder's kprobe stashes for its kretprobe. */
__kvmprof_state struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_THREADS);
	__type(key, __u32);
	__type(value, __u64);
} emulate_vcpus SEC(".maps");

#endif /* STATE_BPF_H */
