// SPDX-License-Identifier: GPL-2.0
/* kvmprof: count KVM traps per guest, vCPU thread, class and code, with
 * log2 latency histograms for exits (exit -> entry) and trips to the VMM
 * (userspace exit -> next KVM_RUN).  Each event has several attach
 * variants; the loader enables one per event before load.  This file holds
 * the maps, the aggregation and the events every architecture has; the
 * architecture's own events are in traps_ARCH.bpf.h. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kvmprof.h"
#include "bits.bpf.h"
#include "maps.bpf.h"

#ifndef barrier
#define barrier() asm volatile("" ::: "memory")
#endif
#define KVM_RUN_IOCTL 0xae80	/* _IO(KVMIO, 0x80) */

const volatile bool filter_pids = false;
/* --insns: every emulated instruction's bytes and address into insn_counts;
 * off, the verifier drops that code and the default path pays nothing */
const volatile bool emul_insns = false;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_TRAP_KEYS);
	__type(key, struct trap_key);
	__type(value, struct trap_count);
} trap_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HOT_SLOTS);
	__type(key, __u32);
	__type(value, struct hot_slot);
} hot_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_TRAP_KEYS);
	__type(key, struct trap_key);
	__type(value, struct trap_latency);
} trap_latency SEC(".maps");

/* Open exits and open VMM trips, by thread.  LRU: a thread that dies with
 * one open just ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_THREADS);
	__type(key, __u32);
	__type(value, struct trap_start);
} exit_starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_THREADS);
	__type(key, __u32);
	__type(value, struct trap_start);
} vmm_starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NR_DROPS);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_PID_FILTER);
	__type(key, __u32);
	__type(value, __u8);
} pid_filter SEC(".maps");

/* New keys' records (40 bytes each): room for a burst of thousands of
 * short-lived guests between two reads, so their names are not lost. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} new_threads SEC(".maps");

/* --insns: per guest, instruction and address; per CPU, no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_INSN_KEYS);
	__type(key, struct insn_key);
	__type(value, struct insn_count);
} insn_counts SEC(".maps");

/* Failed emulations, always: only events with the failed flag touch it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_FAILED_KEYS);
	__type(key, struct insn_key);
	__type(value, struct failed_insn);
} failed_insns SEC(".maps");

/* Emulate-class state stashed by the kprobe between entry and return. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_THREADS);
	__type(key, __u32);
	__type(value, __u64);
} emulate_vcpus SEC(".maps");

static __always_inline void count_drop(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &reason);

	if (n)
		(*n)++;
}

/* The current thread's trap key, or false when its guest is filtered out. */
static __always_inline bool current_key(struct trap_key *key, __u32 class, __u64 code)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;

	if (filter_pids && !bpf_map_lookup_elem(&pid_filter, &tgid))
		return false;
	key->tgid = tgid;
	key->tid = (__u32)pid_tgid;
	key->class = class;
	key->detail_flags = 0;
	key->detail = 0;
	key->code = code;
	return true;
}

static __always_inline void announce_thread(const struct trap_key *key)
{
	struct new_thread *nt = bpf_ringbuf_reserve(&new_threads, sizeof(*nt), 0);
	struct task_struct *task;

	if (!nt)
		return;	/* the loader then reads the names from /proc at its next read */
	nt->tgid = key->tgid;
	nt->tid = key->tid;
	bpf_get_current_comm(nt->comm, sizeof(nt->comm));
	task = (struct task_struct *)bpf_get_current_task();
	BPF_CORE_READ_STR_INTO(&nt->leader_comm, task, group_leader, comm);
	bpf_ringbuf_submit(nt, 0);
}

/* Makes sure key has an entry in trap_counts; false when the map is full. */
static __always_inline bool ensure_key(const struct trap_key *key)
{
	static const struct trap_count zero;
	long err;

	if (bpf_map_lookup_elem(&trap_counts, key))
		return true;
	err = bpf_map_update_elem(&trap_counts, key, &zero, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		count_drop(DROP_COUNTS_FULL);
		return false;
	}
	if (!err)
		announce_thread(key);
	return true;
}

_Static_assert(HOT_SLOTS == 64, "hot_index makes 6 bits");

static __always_inline __u32 hot_index(const struct trap_key *key)
{
	__u64 h = key->code ^ (__u64)key->tid << 24 ^ (__u64)key->class << 56 ^
		  ((__u64)key->detail << 16 | key->detail_flags);

	return (h * 0x9E3779B97F4A7C15ULL) >> (64 - 6);	/* 6 bits: HOT_SLOTS */
}

static __always_inline bool same_key(const struct trap_key *a, const struct trap_key *b)
{
	return a->code == b->code && a->tid == b->tid && a->class == b->class && a->tgid == b->tgid &&
	       a->detail == b->detail && a->detail_flags == b->detail_flags;
}

/* Gives slot to key with one event, moving the old key's events to
 * trap_counts.  insn_head/insn_meta: see struct hot_slot. */
static __always_inline void take_slot(struct hot_slot *slot, const struct trap_key *key,
				      __u64 insn_head, __u32 insn_meta)
{
	struct trap_count *c;

	if (!ensure_key(key))
		return;
	/* the slot's events move to trap_counts; a key the loader deleted
	 * (its guest ended) was already counted from the slot: drop them */
	if (slot->count) {
		c = bpf_map_lookup_elem(&trap_counts, &slot->key);
		if (c)
			c->count += slot->count;
	}
	/* the loader copies slots from another CPU: never show it a new key
	 * with the old key's count */
	slot->count = 0;
	barrier();
	slot->key = *key;
	slot->insn_head = insn_head;
	slot->insn_meta = insn_meta;
	barrier();
	slot->count = 1;
}

static __always_inline void count_key(const struct trap_key *key)
{
	__u32 idx = hot_index(key);
	struct hot_slot *slot = bpf_map_lookup_elem(&hot_counts, &idx);

	if (!slot)
		return;
	if (slot->count && same_key(&slot->key, key)) {
		slot->count++;	/* the hot path: per-CPU, no atomic, no hash */
		return;
	}
	take_slot(slot, key, 0, INSN_META_NONE);
}

static __always_inline void count_trap(__u32 class, __u64 code)
{
	struct trap_key key;

	if (current_key(&key, class, code))
		count_key(&key);
}

static __always_inline void record_latency(const struct trap_key *key, __u32 vcpu, __u64 ns)
{
	static const struct trap_latency zero;
	struct trap_latency *l = lookup_or_try_init(&trap_latency, key, &zero);
	__u64 slot;

	if (!l) {
		count_drop(DROP_LATENCY_FULL);
		return;
	}
	slot = log2_u64(ns);
	if (slot >= LAT_SLOTS)
		slot = LAT_SLOTS - 1;
	l->vcpu = vcpu;
	__sync_fetch_and_add(&l->count, 1);
	__sync_fetch_and_add(&l->sum_ns, ns);
	__sync_fetch_and_add(&l->slots[slot], 1);
	if (!ns)
		ns = 1;	/* min_ns 0 means no sample yet */
	/* racing CPUs can lose a min or max update, never a count */
	if (ns > l->max_ns)
		l->max_ns = ns;
	if (!l->min_ns || ns < l->min_ns)
		l->min_ns = ns;
}

/* Open a latency interval for key's thread in starts. */
static __always_inline void open_interval(void *starts, const struct trap_key *key, __u32 vcpu)
{
	struct trap_start *s = bpf_map_lookup_elem(starts, &key->tid);

	if (s) {	/* reuse the thread's slot: no update on the hot path */
		s->ts_ns = bpf_ktime_get_ns();
		s->code = key->code;
		s->vcpu = vcpu;
		s->detail = key->detail;
		s->detail_flags = key->detail_flags;
		s->tgid = key->tgid;
		return;
	}
	struct trap_start init = { .ts_ns = bpf_ktime_get_ns(), .code = key->code, .vcpu = vcpu,
				   .detail = key->detail, .detail_flags = key->detail_flags,
				   .tgid = key->tgid };

	bpf_map_update_elem(starts, &key->tid, &init, BPF_ANY);
}

/* Close the current thread's open interval in starts, if any, into class. */
static __always_inline void close_interval(void *starts, __u32 class)
{
	struct trap_key key;
	struct trap_start *s;
	__u64 now;

	if (!current_key(&key, class, 0))
		return;
	s = bpf_map_lookup_elem(starts, &key.tid);
	/* a start of another process is a dead thread's whose id was reused */
	if (!s || !s->ts_ns || s->tgid != key.tgid)
		return;
	now = bpf_ktime_get_ns();
	key.code = s->code;
	key.detail = s->detail;
	key.detail_flags = s->detail_flags;
	record_latency(&key, s->vcpu, now > s->ts_ns ? now - s->ts_ns : 0);
	s->ts_ns = 0;
}

/* The reason as exit codes keep it: VMX's basic reason plus FAILED_VMENTRY,
 * other flag bits masked. */
static __always_inline __u32 exit_code_reason(__u32 isa, __u32 reason)
{
	return isa == ISA_VMX ? reason & 0x8000ffff : reason;
}

/* reason as exit_code_reason() made it; detail and flags as DETAIL_* says,
 * 0 for exits without detail. */
static __always_inline void on_exit(__u32 isa, __u32 reason, __u32 vcpu, __u32 detail, __u16 flags)
{
	struct trap_key key;
	__u64 code = (__u64)isa << EXIT_ISA_SHIFT | reason;

	if (!current_key(&key, CLASS_EXIT, code))
		return;
	key.detail = detail;
	key.detail_flags = flags;
	count_key(&key);
	open_interval(&exit_starts, &key, vcpu);
}

static __always_inline void on_entry(void)
{
	close_interval(&exit_starts, CLASS_EXIT);
}

static __always_inline void on_userspace_exit(__u32 reason, int err)
{
	struct trap_key key;
	__u64 code = err < 0 ? USERSPACE_ERRNO | (__u32)-err : reason;

	if (!current_key(&key, CLASS_USERSPACE, code))
		return;
	count_key(&key);
	open_interval(&vmm_starts, &key, VCPU_UNKNOWN);
}

static __always_inline void on_kvm_run(void)
{
	close_interval(&vmm_starts, CLASS_USERSPACE);
}

static __always_inline bool is_legacy_prefix(__u8 b)
{
	switch (b) {
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
		return true;
	}
	return false;
}

/* Opcodes whose instruction the ModRM reg field picks (Intel SDM Vol. 2,
 * table A-6): 0x80-0x83, 0x8f, 0xc0/0xc1, 0xc6/0xc7, 0xd0-0xd3, 0xf6/0xf7,
 * 0xfe/0xff; 0x0f 00/01/18/71/72/73/ae/b9/ba/c7. */
static __always_inline bool is_group_opcode(__u64 op)
{
	if (op <= 0xff)
		return (op >= 0x80 && op <= 0x83) || op == 0x8f || op == 0xc0 || op == 0xc1 ||
		       op == 0xc6 || op == 0xc7 || (op >= 0xd0 && op <= 0xd3) || op == 0xf6 ||
		       op == 0xf7 || op == 0xfe || op == 0xff;
	switch (op) {
	case 0x0f00: case 0x0f01: case 0x0f18: case 0x0f71: case 0x0f72: case 0x0f73:
	case 0x0fae: case 0x0fb9: case 0x0fba: case 0x0fc7:
		return true;
	}
	return false;
}

#define MODE_PROT64 9
#define INSN_MAX 15

/* Opcode bytes of an instruction: prefixes skipped, then one byte, or the
 * 0x0f escape and one more, or 0x0f 0x38/0x3a and one more. */
static __always_inline __u64 emulate_code_used(const __u8 *insn, __u8 len, __u8 mode, bool failed,
						int *used)
{
	__u64 op = 0;
	int i = 0, state = 0;	/* 0 in prefixes, 1 after 0x0f, 2 after 0x0f 0x38/3a */

	if (len > INSN_MAX)
		len = INSN_MAX;
	for (; i < INSN_MAX && i < len; i++) {
		__u8 b = insn[i];

		if (state == 0 && (is_legacy_prefix(b) || (mode == MODE_PROT64 && (b & 0xf0) == 0x40)))
			continue;
		op = op << 8 | b;
		if (state == 0 && b == 0x0f)
			state = 1;
		else if (state == 1 && (b == 0x38 || b == 0x3a))
			state = 2;
		else
			break;
	}
	/* group opcodes name their instruction in the ModRM byte's reg field */
	if (is_group_opcode(op) && i + 1 < len && i + 1 < INSN_MAX) {
		op |= (EMUL_MODRM_VALID | insn[i + 1]) << EMUL_MODRM_SHIFT;
		i++;
	}
	*used = i + 1;
	return op | (__u64)mode << EMUL_MODE_SHIFT | (failed ? EMUL_FAILED : 0);
}

static __always_inline __u64 emulate_code(const __u8 *insn, __u8 len, __u8 mode, bool failed)
{
	int used;

	return emulate_code_used(insn, len, mode, failed, &used);
}

/* The instruction in full: with --insns into insn_counts (events with the
 * failed flag clear: the emulator reports each instruction once so, and
 * once more if it fails), and failures into failed_insns. */
static __always_inline void record_insn(const __u8 *insn, __u8 len, __u8 mode, bool failed, __u64 rip)
{
	static const struct failed_insn no_fail;
	static const struct insn_count no_count;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct insn_key key = { .tgid = tgid, .mode = mode, .rip = failed ? 0 : rip };
	struct insn_count *c;
	struct failed_insn *f;

	if (filter_pids && !bpf_map_lookup_elem(&pid_filter, &tgid))
		return;
	key.len = len > INSN_MAX ? INSN_MAX : len;
	/* the fetch buffer holds the next instruction's bytes past len */
	_Pragma("unroll")
	for (int i = 0; i < INSN_MAX; i++)
		key.bytes[i] = i < key.len ? insn[i] : 0;
	if (failed) {
		f = lookup_or_try_init(&failed_insns, &key, &no_fail);
		if (!f) {
			count_drop(DROP_FAILED_FULL);
			return;
		}
		__sync_fetch_and_add(&f->count, 1);
		f->last_rip = rip;
		return;
	}
	c = lookup_or_try_init(&insn_counts, &key, &no_count);
	if (!c) {
		count_drop(DROP_INSNS_FULL);
		return;
	}
	c->count++;
}

/* Copy the instruction bytes to the stack: the loop above indexes them by a
 * variable, which tracepoint records and BTF pointers do not allow.
 * BYTE(i) reads byte i where the attach variant has it. */
#define COPY_INSN(dst, BYTE) do {					\
	_Pragma("unroll")						\
	for (int _i = 0; _i < INSN_MAX; _i++)				\
		(dst)[_i] = BYTE(_i);					\
} while (0)

/* ---- classic tracepoints: the record layout comes from CO-RE ---- */

/* A tracepoint program's 0 would hide the event from every perf user of
 * the tracepoint (perf stat, kvm_stat): pass it on. */
#define TP_PASS 1

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

/* ---- BTF tracepoints: typed arguments, no record is built ---- */

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

#if defined(__TARGET_ARCH_x86)
#include "traps_x86.bpf.h"
#elif defined(__TARGET_ARCH_arm64)
#include "traps_arm64.bpf.h"
#endif

/* ---- test driver: BPF_PROG_TEST_RUN feeds the aggregation above ---- */

SEC("raw_tp")
int drive(__u64 *args)
{
	__u64 a = args[1], b = args[2], c = args[3];

	switch (args[0]) {
	case DRIVE_EXIT: on_exit(a, exit_code_reason(a, b), c, 0, 0); break;
#if defined(__TARGET_ARCH_x86)
	case DRIVE_EXIT_INFO: {
		__u32 reason = exit_code_reason(a, b), detail = 0;
		__u16 flags = exit_detail_kind(a, reason);

		if (flags)
			decode_exit_detail(a, reason, &detail, &flags, args[4], args[6] & DRIVE_INFO1_OK,
					   args[5], args[6] & DRIVE_RCX_OK);
		on_exit(a, reason, c, detail, flags);
		break;
	}
#endif
	case DRIVE_ENTRY: on_entry(); break;
	case DRIVE_HYPERCALL: count_trap(CLASS_HYPERCALL, HC_CODE(b, a)); break;
	case DRIVE_USERSPACE_EXIT: on_userspace_exit(a, (int)b); break;
	case DRIVE_KVM_RUN: on_kvm_run(); break;
	case DRIVE_EMULATE: {
		__u8 insn[INSN_MAX];
#define DRIVE_INSN_BYTE(i) ((i) < 8 ? (__u8)(a >> (8 * (i))) : (__u8)(c >> (8 * ((i) - 8))))
		COPY_INSN(insn, DRIVE_INSN_BYTE);
		count_trap(CLASS_EMULATE, emulate_code(insn, b & 0xff, (b >> 8) & 0xff, (b >> 16) & 1));
		if (emul_insns || (b >> 16) & 1)
			record_insn(insn, b & 0xff, (b >> 8) & 0xff, (b >> 16) & 1, b >> 32);
		break;
	}
	}
	return 0;
}

/* ---- run by the loader (BPF_PROG_TEST_RUN) on each CPU ---- */

/* After the loader deleted ended guests' keys: a cache slot still holding
 * one was counted already; cleared, a process that reuses the pid and
 * thread ids makes its own entry instead of adding to the old count. */
SEC("raw_tp")
int flush_hot(void *ctx)
{
	for (int i = 0; i < HOT_SLOTS; i++) {
		__u32 idx = i;	/* i stays in a register: the verifier sees the bound */
		struct hot_slot *slot = bpf_map_lookup_elem(&hot_counts, &idx);

		if (slot && slot->count && !bpf_map_lookup_elem(&trap_counts, &slot->key))
			slot->count = 0;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
