/* SPDX-License-Identifier: GPL-2.0 */
/* kvmprof's aggregation, which every program feeds: trap keys, the per-CPU
 * hot slots in front of trap_counts, new keys' records, latency intervals
 * (exit -> entry, VMM trip -> next KVM_RUN), drops. */
#ifndef AGGREGATE_BPF_H
#define AGGREGATE_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "kvmprof.h"
#include "bits.bpf.h"
#include "maps.bpf.h"
#include "state.bpf.h"

/* A tracepoint program's 0 would hide the event from every perf user of
 * the tracepoint (perf stat, kvm_stat): pass it on. */
#define TP_PASS 1

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

/* Does guest tgid hold fewer entries than one guest may?  Only asked when
 * a key is new, never on the hot path. */
static __always_inline bool guest_has_room(__u32 tgid)
{
	__u64 *made, *freed;

	if (!guest_key_limit)
		return true;
	made = bpf_map_lookup_elem(&guest_keys_made, &tgid);
	if (!made)
		return true;
	freed = bpf_map_lookup_elem(&guest_keys_freed, &tgid);
	return *made - (freed ? *freed : 0) < guest_key_limit;
}

static __always_inline void guest_key_made(__u32 tgid)
{
	static const __u64 one = 1;
	__u64 *made;

	if (!guest_key_limit)
		return;
	made = bpf_map_lookup_elem(&guest_keys_made, &tgid);
	if (made)
		__sync_fetch_and_add(made, 1);
	else if (bpf_map_update_elem(&guest_keys_made, &tgid, &one, BPF_NOEXIST) &&
		 (made = bpf_map_lookup_elem(&guest_keys_made, &tgid)))
		__sync_fetch_and_add(made, 1);	/* another CPU made it first */
}

/* Makes sure key has an entry in trap_counts; false when the map is full
 * or its guest holds all the entries one guest may. */
static __always_inline bool ensure_key(const struct trap_key *key)
{
	static const struct trap_count zero;
	long err;

	if (bpf_map_lookup_elem(&trap_counts, key))
		return true;
	if (!guest_has_room(key->tgid)) {
		count_drop(DROP_GUEST_FULL);
		return false;
	}
	err = bpf_map_update_elem(&trap_counts, key, &zero, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		count_drop(DROP_COUNTS_FULL);
		return false;
	}
	if (!err) {
		guest_key_made(key->tgid);
		announce_thread(key);
	}
	return true;
}

/* ---- the hot slots (hot_counts), the per-CPU cache in front of trap_counts ----
 *
 * The protocol between the programs and the loader's reader
 * (loader/collect/map_reader.c), in one place:
 *
 * Slots.  Each CPU has HOT_SLOTS slots (struct hot_slot, kvmprof.h).  A
 * slot holds one key and its count: the key's events on this CPU that are
 * not in trap_counts yet; count 0 is an empty slot.  Only programs running
 * on that CPU write its slots (flush_hot too: the loader runs it there),
 * with plain stores: no atomics, no hash.
 *
 * Which slot: hot_slot_index(), the one place that computes it.
 * count_key() hashes the key; the emulate fast path
 * (btf_kvm_emulate_insn_direct) hashes the instruction's first 8 bytes and
 * insn_meta, before it decodes anything.  So one key may be in several
 * slots of a CPU (two byte sequences, one opcode): readers add up every
 * slot.
 *
 * Hit: the slot has the event's key, count++.  The emulate fast path
 * compares insn_head, insn_meta, tid and tgid instead of the key; insn_meta
 * is INSN_META_NONE, which no event's meta equals, in the slots other
 * events take and where the code needs bytes past the first 8 or the
 * emulation failed, so those only match by key.
 *
 * Miss: take_slot().  The key gets its trap_counts entry first (a new
 * one's record goes to new_threads; with trap_counts full the event is
 * dropped as DROP_COUNTS_FULL, with its guest holding --max-guest-keys
 * entries as DROP_GUEST_FULL, and the slot kept), so every key in a slot
 * has an entry until the loader deletes it.  The old key's count then moves
 * to its entry, or is dropped when the loader deleted that (its guest ended
 * and the slot was read already).  Then count = 0, the new key and insn
 * fields, count = 1, with compiler barriers between: a reader copying the
 * slot from another CPU never sees the new key with the old key's count.
 *
 * Reader.  Each read takes trap_counts first, then every CPU's slots
 * (add_hot_slots; slots of guests whose entries were deleted were counted
 * before and are skipped): a key's count is its entry plus its slots.  An
 * event that moves from a slot to the hash in between is missed by this
 * read and found by the next, never counted twice.  The last read of a
 * guest whose entries are deleted next (read_dying) takes the slots, its
 * entries, the slots again, and repeats (up to 5 times) until none of its
 * slots changed in between: then nothing moved and the count is exact.
 * After deleting ended guests' entries the loader runs flush_hot on every
 * CPU, which empties each slot whose key has no entry any more, so that a
 * new process reusing the pid and thread ids counts from its own entry,
 * not on top of the old one. */

_Static_assert(HOT_SLOTS == 64, "hot_slot_index makes 6 bits");

/* The slot of an event of thread tid: what is its main value (a key's
 * code, an instruction's first 8 bytes), more the rest that tells it apart
 * (the key's class and detail, the instruction's insn_meta).  Fibonacci
 * hashing: the product's top 6 bits. */
static __always_inline __u32 hot_slot_index(__u64 what, __u32 tid, __u64 more)
{
	return ((what ^ (__u64)tid << 24 ^ more) * 0x9E3779B97F4A7C15ULL) >> (64 - 6);
}

static __always_inline bool same_key(const struct trap_key *a, const struct trap_key *b)
{
	return a->code == b->code && a->tid == b->tid && a->class == b->class && a->tgid == b->tgid &&
	       a->detail == b->detail && a->detail_flags == b->detail_flags;
}

/* The miss above: slot to key with one event; insn_head and insn_meta as
 * the emulate fast path matches them, else 0 and INSN_META_NONE. */
static __always_inline bool take_slot(struct hot_slot *slot, const struct trap_key *key,
				      __u64 insn_head, __u32 insn_meta)
{
	struct trap_count *c;

	if (!ensure_key(key))
		return false;
	if (slot->count) {
		c = bpf_map_lookup_elem(&trap_counts, &slot->key);
		if (c)
			c->count += slot->count;
	}
	slot->count = 0;
	barrier();
	slot->key = *key;
	slot->insn_head = insn_head;
	slot->insn_meta = insn_meta;
	barrier();
	slot->count = 1;
	return true;
}

/* Counts an event of key; false when it was dropped. */
static __always_inline bool count_key(const struct trap_key *key)
{
	__u32 idx = hot_slot_index(key->code, key->tid, (__u64)key->class << 56 ^
				   ((__u64)key->detail << 16 | key->detail_flags));
	struct hot_slot *slot = bpf_map_lookup_elem(&hot_counts, &idx);

	if (!slot)
		return false;
	if (slot->count && same_key(&slot->key, key)) {
		slot->count++;	/* the hot path: per-CPU, no atomic, no hash */
		return true;
	}
	return take_slot(slot, key, 0, INSN_META_NONE);
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
	if (count_key(&key))	/* a dropped exit gets no latency entry either */
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
	if (count_key(&key))
		open_interval(&vmm_starts, &key, VCPU_UNKNOWN);
}

static __always_inline void on_kvm_run(void)
{
	close_interval(&vmm_starts, CLASS_USERSPACE);
}

#endif /* AGGREGATE_BPF_H */
