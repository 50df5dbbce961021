/* SPDX-License-Identifier: GPL-2.0 */
/* kvmprof's aggregation, which every program feeds: trap keys, the per-CPU
 * hot slots in front of the count table, new keys' records, latency intervals
 * (exit -> entry, VMM trip -> next KVM_RUN), drops. */
#ifndef AGGREGATE_BPF_H
#define AGGREGATE_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <asm-generic/errno.h>
#include "kvmprof.h"
#include "bits.bpf.h"
#include "maps.bpf.h"
#include "state.bpf.h"

/* A tracepoint program's 0 would hide the event from every perf user of
 * the tracepoint (perf stat, kvm_stat): pass it on. */
#define TP_PASS 1

static __always_inline void count_drops(__u32 reason, __u64 events)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &reason);

	if (n)
		*n += events;
}

static __always_inline void count_drop(__u32 reason)
{
	count_drops(reason, 1);
}

/* The vCPU number in the current thread's name, as vcpu_from_comm() in
 * loader/collect/procfs.c reads it: QEMU "CPU 3/KVM", cloud-hypervisor
 * "vcpu3", crosvm "crosvm_vcpu3", Firecracker "fc_vcpu 3"; -1 none. */
static __always_inline __s32 comm_vcpu(void)
{
	char c[16] = {};
	__u32 n = 0;
	int i, start;
	bool qemu = false;

	bpf_get_current_comm(c, sizeof(c));
	if (c[0] == 'C' && c[1] == 'P' && c[2] == 'U' && c[3] == ' ')
		start = 4, qemu = true;
	else if (c[0] == 'v' && c[1] == 'c' && c[2] == 'p' && c[3] == 'u')
		start = 4;
	else if (c[0] == 'c' && c[1] == 'r' && c[6] == '_' && c[7] == 'v' && c[8] == 'c' && c[9] == 'p' &&
		 c[10] == 'u' && c[2] == 'o' && c[3] == 's' && c[4] == 'v' && c[5] == 'm')
		start = 11;
	else if (c[0] == 'f' && c[1] == 'c' && c[2] == '_' && c[3] == 'v' && c[4] == 'c' && c[5] == 'p' &&
		 c[6] == 'u' && c[7] == ' ')
		start = 8;
	else
		return -1;
	for (i = start; i < 15 && c[i] >= '0' && c[i] <= '9'; i++)
		n = n * 10 + (c[i] - '0');
	if (i == start || n > 0x7fffffff)
		return -1;
	if (qemu)
		return i < 12 && c[i] == '/' && c[i + 1] == 'K' && c[i + 2] == 'V' && c[i + 3] == 'M' ? n : -1;
	return i < 16 && !c[i] ? n : -1;
}

/* ---- the thread table (kvmprof.h) ----
 *
 * A record's slot: the first of tid's probes (thread_probe()) holding it.
 * A lookup stops at a slot never taken (tid 0) and steps over tombstones.
 * Only the thread itself makes its record (thread_insert(), after a lookup
 * found none), so no two CPUs make one tid's at once: it claims the first
 * free slot (never taken or a tombstone, claim count 0) with an atomic add
 * that must read 1, as the count table's slots, writes the record with tid
 * THREAD_TOMBSTONE and then its tid.  A record started afresh (a reused
 * id, an ended thread's) is written the same way in its own slot.  The
 * loader reads the records in place (tid before and after the copy: a
 * record whose tid changed in between is not taken) and deletes one (its
 * thread ended and was read) with its tid THREAD_TOMBSTONE, the rest 0,
 * then its claim count 0. */

/* Claims slot idx of a table whose claim counts are in claims: an atomic
 * add that must read 1 (5.10 has no compare-and-swap); false when the slot
 * is being taken, or another CPU took it at once (both may read 2: the slot
 * stays unused, never shared). */
static __always_inline bool claim_slot(void *claims, __u32 idx)
{
	__u64 *claim = bpf_map_lookup_elem(claims, &idx);

	if (!claim || *claim)
		return false;
	__sync_fetch_and_add(claim, 1);
	return *claim == 1;
}

/* Thread tid's record; NULL none. */
static __noinline struct vcpu_thread *thread_record(__u32 tid)
{
	for (__u32 i = 0; i < THREAD_PROBES; i++) {
		__u32 idx = thread_probe(tid, i);
		struct vcpu_thread *v = bpf_map_lookup_elem(&vcpu_threads, &idx);

		if (!v || !v->tid)
			return NULL;
		if (v->tid == tid)
			return v;
	}
	return NULL;
}

/* thread_record() for the hot paths: the first probe here, where most
 * records are, the rest in its call (inlined, it took 20 ns more a VMM
 * trip; everywhere, the verifier's memory at load). */
static __always_inline struct vcpu_thread *thread_of(__u32 tid)
{
	__u32 idx = thread_home(tid);
	struct vcpu_thread *v = bpf_map_lookup_elem(&vcpu_threads, &idx);

	if (v && v->tid == tid)
		return v;
	return v && v->tid ? thread_record(tid) : NULL;
}

/* Writes init as v's record for tid (v its slot, held): tid last, and
 * never 0 in between (a lookup of another thread would stop there). */
static __always_inline void thread_write(struct vcpu_thread *v, __u32 tid, const struct vcpu_thread *init)
{
	v->tid = THREAD_TOMBSTONE;
	barrier();
	__builtin_memcpy(&v->exit, &init->exit, sizeof(*v) - offsetof(struct vcpu_thread, exit));
	barrier();
	v->tid = tid;
}

/* A slot of the thread table for tid's new record init; NULL when its
 * probes found none free. */
static __noinline struct vcpu_thread *thread_insert(__u32 tid, const struct vcpu_thread *init)
{
	for (__u32 i = 0; i < THREAD_PROBES; i++) {
		__u32 idx = thread_probe(tid, i);
		struct vcpu_thread *v = bpf_map_lookup_elem(&vcpu_threads, &idx);

		if (!v)
			return NULL;
		if ((v->tid && v->tid != THREAD_TOMBSTONE) || !claim_slot(&thread_claims, idx))
			continue;	/* another thread's, or being taken */
		thread_write(v, tid, init);
		return v;
	}
	return NULL;
}

/* --tid and --vcpu, after -p: is the current thread one of those chosen? */
static __always_inline bool thread_chosen(__u32 tid)
{
	struct vcpu_thread *v;

	if (filter_tids && !bpf_map_lookup_elem(&tid_filter, &tid))
		return false;
	if (!filter_by_vcpu)
		return true;
	/* the number a thread's record keeps, else its name now */
	v = thread_record(tid);
	return (v ? v->vcpu : comm_vcpu()) == filter_vcpu;
}

#define TREE_DEPTH 16	/* ancestors looked at: VMMs started through a few scripts */

/* kvmprof -- COMMAND: is the current process below tree_root?  Walked once
 * per process (tree_verdicts); kvmprof is the command's subreaper, so a
 * guest whose starter exited is still below it. */
static __always_inline bool in_tree(__u32 tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	struct tree_verdict verdict = { .start_ns = BPF_CORE_READ(leader, start_time) };
	struct tree_verdict *known = bpf_map_lookup_elem(&tree_verdicts, &tgid);

	if (known && known->start_ns == verdict.start_ns)
		return known->in_tree;
	for (int i = 0; i < TREE_DEPTH; i++) {
		__u32 id = BPF_CORE_READ(leader, tgid);

		if (id == tree_root) {
			verdict.in_tree = 1;
			break;
		}
		if (id <= 1)
			break;
		leader = BPF_CORE_READ(leader, real_parent);
	}
	bpf_map_update_elem(&tree_verdicts, &tgid, &verdict, BPF_ANY);
	return verdict.in_tree;
}

/* -p and -- COMMAND: is guest tgid one of those counted? */
static __always_inline bool guest_chosen(__u32 tgid)
{
	if (filter_pids && !bpf_map_lookup_elem(&pid_filter, &tgid))
		return false;
	return !tree_root || in_tree(tgid);
}

/* The current thread's trap key, or false when its guest is filtered out. */
static __always_inline bool current_key(struct trap_key *key, __u32 class, __u64 code)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;

	if (!guest_chosen(tgid))
		return false;
	if ((filter_tids || filter_by_vcpu) && !thread_chosen((__u32)pid_tgid))
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
	__u64 start, len;

	if (!nt)
		return;	/* the loader then reads the names from /proc at its next read */
	nt->tgid = key->tgid;
	nt->tid = key->tid;
	bpf_get_current_comm(nt->comm, sizeof(nt->comm));
	task = (struct task_struct *)bpf_get_current_task();
	BPF_CORE_READ_STR_INTO(&nt->leader_comm, task, group_leader, comm);
	start = BPF_CORE_READ(task, mm, arg_start);
	len = BPF_CORE_READ(task, mm, arg_end) - start;
	nt->cmdline_cut = len > SEEN_CMDLINE;
	if (len > SEEN_CMDLINE)
		len = SEEN_CMDLINE;
	/* no sleeping here: a paged-out command line is not read (len 0) */
	if (bpf_probe_read_user(nt->cmdline, len, (const void *)start))
		len = 0;
	nt->cmdline_len = len;
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

/* A trap of these classes happens in its vCPU thread, inside KVM_RUN.  Not
 * cpuid: 5.10's vCPU reset fires kvm_cpuid (leaf 1) in the thread that
 * creates the vCPU, the VMM's main thread. */
#define VCPU_CONTEXT_CLASSES (1U << CLASS_EXIT | 1U << CLASS_HYPERCALL | 1U << CLASS_EMULATE |	\
			      1U << CLASS_PIO | 1U << CLASS_MMIO | 1U << CLASS_MSR |			\
			      1U << CLASS_WFX | 1U << CLASS_SYSREG | 1U << CLASS_FAULT |		\
			      1U << CLASS_PAGEFAULT)

/* The thread's bit in vcpu_tids, so the context switch program knows it.
 * An atomic add of the unset bit, not an atomic or: 5.10 has no BPF_OR
 * atomics ("BPF_STX uses reserved fields").  Only the thread itself sets
 * its bit, so no two adds of one bit race. */
static __always_inline void mark_vcpu_tid(__u32 tid)
{
	__u32 idx = tid >> 6;
	__u64 *w = bpf_map_lookup_elem(&vcpu_tids, &idx), bit = 1ULL << (tid & 63);

	if (w && !(*w & bit))
		__sync_fetch_and_add(w, bit);
}

/* A new key's thread, seen trapping inside KVM_RUN: if the time accounting
 * has no record of it (it entered KVM_RUN before kvmprof attached and an
 * emulation-bound guest may never leave), one starts now, in KVM_RUN. */
static __always_inline void adopt_vcpu_thread(const struct trap_key *key)
{
	struct vcpu_thread init = {};
	__u32 tid = key->tid;
	__u64 now;

	if (!(VCPU_CONTEXT_CLASSES & 1U << key->class) || thread_record(tid))
		return;
	now = bpf_ktime_get_ns();
	init.first_ns = init.since_ns = now;
	init.state = TIME_EXIT;
	init.tgid = key->tgid;
	init.vcpu = comm_vcpu();
	init.in_vcpu_tids = 1;
	if (thread_insert(tid, &init))
		mark_vcpu_tid(tid);
}

/* Makes sure key has an entry in trap_keys; false when the map is full
 * or its guest holds all the entries one guest may. */
static __always_inline bool ensure_key(const struct trap_key *key)
{
	static const __u8 zero;
	long err;

	if (bpf_map_lookup_elem(&trap_keys, key))
		return true;
	if (!guest_has_room(key->tgid)) {
		count_drop(DROP_GUEST_FULL);
		return false;
	}
	err = bpf_map_update_elem(&trap_keys, key, &zero, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		count_drop(DROP_COUNTS_FULL);
		return false;
	}
	if (!err) {
		guest_key_made(key->tgid);
		announce_thread(key);
		adopt_vcpu_thread(key);
	}
	return true;
}

/* ---- the count table and the hot slots (hot_counts) in front of it ----
 *
 * The protocol between the programs and the loader's reader
 * (loader/collect/map_reader.c), in one place:
 *
 * Keys.  trap_keys holds every key counted: a key gets its entry when it
 * first takes a hot slot (a new one's record goes to new_threads; with
 * trap_keys full the event is dropped as DROP_COUNTS_FULL, with its guest
 * holding --max-guest-keys entries as DROP_GUEST_FULL), and loses it when
 * the loader reclaims its guest or thread.
 *
 * Table.  The count table (kvmprof.h) holds each key's events that left
 * the hot slots, a count per CPU.  Probes as table_home() says, up to
 * TABLE_PROBES: the first slot with the key, or else the first free one
 * (tgid 0 or a tombstone, claim count 0) this CPU claims: an atomic add to
 * its claim count that reads 1 after it (two CPUs at once may both read 2:
 * the slot stays unused, never shared), then the key with its tgid last,
 * so a reader that sees the tgid sees the key.  A slot keeps its key until
 * the loader tombstones it.  One key in two slots (two CPUs taking it at
 * once) is read as the sum of both.  Only programs on a CPU add to its
 * counts, with plain adds.  No slot in its probes: its events are dropped
 * as DROP_COUNTS_FULL (the table is at most half full for --max-keys keys:
 * rare).
 *
 * Slots.  Each CPU has HOT_SLOTS slots (struct hot_slot, kvmprof.h).  A
 * slot holds one key and its count: the key's events on this CPU that are
 * not in the table yet; count 0 is an empty slot.  Only programs running
 * on that CPU write its slots (flush_hot too: the loader runs it there),
 * with plain stores: no atomics, no hash.
 *
 * Which slots: a pair, hot_slot_index() and its neighbour (index ^ 1);
 * hot_slot_index() (kvmprof.h) is the one place that computes it; the
 * tests compute it too, to drive keys that meet.  count_key() hashes
 * the key; the emulate fast path (btf_kvm_emulate_insn_direct) hashes the
 * instruction's first 8 bytes and insn_meta, before it decodes anything.
 * So one key may be in several slots of a CPU (two byte sequences, one
 * opcode): readers add up every slot.  Two slots a pair: two keys whose
 * hashes meet (a vCPU's pio and its trip to the VMM, say, one after the
 * other every time) both stay.
 *
 * Hit: a slot of the pair has the event's key, count++.  The emulate fast
 * path compares insn_head, insn_meta, tid and tgid instead of the key;
 * insn_meta is INSN_META_NONE, which no event's meta equals, in the slots
 * other events take and where the code needs bytes past the first 8 or
 * the emulation failed, so those only match by key.
 *
 * Miss: take_slot(), of the first slot if it is empty, else the second: a
 * key in the first stays until flush_hot empties it.  The key gets its
 * trap_keys entry first (the event dropped and the slot kept when it
 * cannot), so every key in a slot has an entry until the loader deletes
 * it.  The old key's count then moves to the count table, or is dropped
 * when the loader deleted its entry (its guest ended and the slot was read
 * already).  Then count = 0, the new key and insn fields, count = 1, with
 * compiler barriers between: a reader copying the slot from another CPU
 * never sees the new key with the old key's count.
 *
 * Reader.  Each read takes the count table first (from its mapping), then
 * every CPU's slots (add_hot_slots; slots of guests whose entries were
 * deleted were counted before and are skipped): a key's count is its table
 * slots plus its hot slots.  An event that moves from a hot slot to
 * the table in between is missed by this read and found by the next, never
 * counted twice.  The last read of a guest whose entries are deleted next
 * (read_dying) takes the hot slots, its table slots, the hot slots again,
 * and repeats (up to 5 times) until none of its hot slots changed in
 * between: then nothing moved and the count is exact.  Then the loader
 * deletes its trap_keys entries, runs flush_hot on every CPU, which
 * empties each hot slot whose key has no entry any more, and tombstones
 * its table slots (tgid, counts 0, then the claim count 0): a new process
 * reusing the pid and thread ids counts from slots of its own, not on top
 * of the old one. */

static __always_inline bool same_key(const struct trap_key *a, const struct trap_key *b)
{
	return a->code == b->code && a->tid == b->tid && a->class == b->class && a->tgid == b->tgid &&
	       a->detail == b->detail && a->detail_flags == b->detail_flags;
}

/* Adds n events of key to this CPU's counts in the count table (the
 * protocol above); false when its probes found no slot.  A function of its
 * own: the probe loop once, not inlined in every program that counts. */
static __noinline bool table_add(const struct trap_key *key, __u64 n)
{
	__u32 home = table_home(key, count_table_bits);
	__u32 base = bpf_get_smp_processor_id() << count_table_bits;

	for (__u32 i = 0; i < TABLE_PROBES; i++) {
		__u32 idx = table_probe(home, i, count_table_bits), at = base + idx;
		struct trap_key *k = bpf_map_lookup_elem(&count_keys, &idx);
		__u64 *count;

		if (!k)
			return false;
		if (!same_key(k, key)) {
			if ((k->tgid && k->tgid != TABLE_TOMBSTONE) || !claim_slot(&count_claims, idx))
				continue;	/* another key's, or being taken */
			k->tid = key->tid;
			k->class = key->class;
			k->detail_flags = key->detail_flags;
			k->detail = key->detail;
			k->code = key->code;
			barrier();
			k->tgid = key->tgid;
		}
		count = bpf_map_lookup_elem(&count_table, &at);
		if (!count)
			return false;
		*count += n;
		return true;
	}
	return false;
}

/* The miss above: slot to key with one event; insn_head and insn_meta as
 * the emulate fast path matches them, else 0 and INSN_META_NONE. */
static __always_inline bool take_slot(struct hot_slot *slot, const struct trap_key *key,
				      __u64 insn_head, __u32 insn_meta)
{
	if (!ensure_key(key))
		return false;
	if (slot->count && bpf_map_lookup_elem(&trap_keys, &slot->key) && !table_add(&slot->key, slot->count))
		count_drops(DROP_COUNTS_FULL, slot->count);
	slot->count = 0;
	barrier();
	slot->key = *key;
	slot->insn_head = insn_head;
	slot->insn_meta = insn_meta;
	barrier();
	slot->count = 1;
	return true;
}

/* Counts an event of key in the pair of slots at idx: in the one holding
 * the key, else in one taken (insn_head and insn_meta as take_slot() has
 * them); false when it was dropped. */
static __always_inline bool count_in_pair(__u32 idx, const struct trap_key *key, __u64 insn_head,
					  __u32 insn_meta)
{
	struct hot_slot *first = bpf_map_lookup_elem(&hot_counts, &idx), *second;

	if (!first)
		return false;
	if (first->count && same_key(&first->key, key)) {
		first->count++;	/* the hot path: per-CPU, no atomic, no hash */
		return true;
	}
	idx ^= 1;
	second = bpf_map_lookup_elem(&hot_counts, &idx);
	if (!second)
		return false;
	if (second->count && same_key(&second->key, key)) {
		second->count++;
		return true;
	}
	return take_slot(first->count ? second : first, key, insn_head, insn_meta);
}

/* Counts an event of key; false when it was dropped. */
static __always_inline bool count_key(const struct trap_key *key)
{
	return count_in_pair(hot_slot_of_key(key), key, 0, INSN_META_NONE);
}

static __always_inline void count_trap(__u32 class, __u64 code)
{
	struct trap_key key;

	if (current_key(&key, class, code))
		count_key(&key);
}

/* Adds ns's squared distance from the key's first sample to the squares:
 * fine below 2^LAT_SQ_FINE ns, coarse above.  The key holds its thread, so
 * only one CPU at a time adds to it (record_latency). */
static __always_inline void add_square(struct trap_latency *l, __u64 ns)
{
	__u64 ref = l->ref_ns, d;

	if (!ref)
		l->ref_ns = ref = ns + 1;
	d = ns + 1 >= ref ? ns + 1 - ref : ref - ns - 1;
	if (d < 1ULL << LAT_SQ_FINE) {
		l->sum_sq_fine += d * d;
	} else {
		/* rounded, not cut: a cut would bias every square down by
		 * about d * 2^LAT_SQ_COARSE_SHIFT */
		__u64 c = (d + (1ULL << (LAT_SQ_COARSE_SHIFT - 1))) >> LAT_SQ_COARSE_SHIFT;

		l->sum_sq_coarse += c * c;
	}
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
	/* plain adds, no atomics: the key holds the thread, whose events
	 * never run on two CPUs at once */
	l->vcpu = vcpu;
	l->count++;
	l->sum_ns += ns;
	add_square(l, ns);
	l->slots[slot]++;
	if (!ns)
		ns = 1;	/* min_ns 0 means no sample yet */
	if (ns > l->max_ns)
		l->max_ns = ns;
	if (!l->min_ns || ns < l->min_ns)
		l->min_ns = ns;
}

/* The thread's time since its state began goes to that state. */
static __always_inline void time_to(struct vcpu_thread *v, __u32 state, __u64 now)
{
	__u32 was = v->state, idx = was;

	barrier_var(idx);	/* else clang drops the mask the verifier needs */
	if (was < NR_TIME_STATES && now > v->since_ns)
		v->time_ns[idx & 7] += now - v->since_ns;
	v->state = state;
	v->since_ns = now;
}

/* Back on its CPU at `at`: the state it left when it switched out. */
static __always_inline void resume(struct vcpu_thread *v, __u64 at)
{
	time_to(v, v->resume < NR_TIME_STATES ? v->resume : TIME_EXIT, at);
}

/* The current thread's CPU time as the scheduler sums it (up to date at a
 * switch out; at most a tick behind elsewhere). */
static __always_inline __u64 current_cpu_ns(void)
{
	struct task_struct *task = (void *)bpf_get_current_task();

	return BPF_CORE_READ(task, se.sum_exec_runtime);
}

/* A thread on its CPU (switching out, or in an event of its own) while its
 * record has it off the CPU: its switch in was never seen (on a 6.18 host
 * some switches fire no sched_switch: a CPU's last switch seen is to one
 * task, the next one from another).  The CPU time it had since its last
 * switch out, by the scheduler's own sum, went to the state it resumed;
 * the rest of the gap stays off the CPU. */
static __always_inline void resume_unseen(struct vcpu_thread *v, __u64 cpu_ns, __u64 now)
{
	__u64 ran = cpu_ns > v->cpu_ns ? cpu_ns - v->cpu_ns : 0;

	resume(v, now > v->since_ns + ran ? now - ran : v->since_ns);
}

static __always_inline bool off_cpu(const struct vcpu_thread *v)
{
	return v->state == TIME_PREEMPTED || v->state == TIME_HALTED;
}

/* The current thread's record, made if need be in state before: the state
 * it was in before the event that first saw it.  NULL when the map
 * refuses one.  A record of another process's thread (a dead one whose id
 * was reused) or of one that ended is started afresh. */
static __always_inline struct vcpu_thread *vcpu_thread_of(__u32 tid, __u32 tgid, __u64 now,
							  __u32 before)
{
	struct vcpu_thread *v = thread_of(tid);

	if (v && v->tgid == tgid && !v->end_ns) {
		if (off_cpu(v))
			resume_unseen(v, current_cpu_ns(), now);
		return v;
	}
	struct vcpu_thread init = { .first_ns = now, .since_ns = now, .state = before, .tgid = tgid,
				    .vcpu = comm_vcpu() };

	if (v) {
		thread_write(v, tid, &init);
		return v;
	}
	v = thread_insert(tid, &init);
	if (!v)
		count_drop(DROP_STARTS_FULL);
	return v;
}

static __always_inline void open_interval(struct trap_start *s, const struct trap_key *key, __u32 vcpu,
					  __u64 rip, __u64 now)
{
	s->ts_ns = now;
	s->code = key->code;
	s->rip = rip;
	s->vcpu = vcpu;
	s->detail = key->detail;
	s->detail_flags = key->detail_flags;
}

/* --slow: the record of one slow trap; lost ones are counted. */
static __always_inline void log_slow(const struct trap_key *key, const struct trap_start *s, __u64 ns,
				     __u64 now)
{
	struct slow_trap *t = bpf_ringbuf_reserve(&slow_traps, sizeof(*t), 0);

	if (!t) {
		count_drop(DROP_SLOW_LOG);
		return;
	}
	t->end_ns = now;
	t->duration_ns = ns;
	t->code = s->code;
	t->rip = s->rip;
	t->tgid = key->tgid;
	t->tid = key->tid;
	t->vcpu = s->vcpu;
	t->detail = s->detail;
	t->class = key->class;
	t->detail_flags = s->detail_flags;
	t->pad = 0;
	bpf_ringbuf_submit(t, 0);
}

/* Closes the thread's open interval s, if any, into class's latency. */
static __always_inline void close_interval(struct trap_start *s, const struct trap_key *cur, __u32 class,
					   __u64 now)
{
	struct trap_key key = *cur;
	__u64 ns;

	if (!s->ts_ns)
		return;
	ns = now > s->ts_ns ? now - s->ts_ns : 0;
	key.class = class;
	key.code = s->code;
	key.detail = s->detail;
	key.detail_flags = s->detail_flags;
	record_latency(&key, s->vcpu, ns);
	if (slow_ns && ns > slow_ns)
		log_slow(&key, s, ns, now);
	s->ts_ns = 0;
}

/* The reason as exit codes keep it: VMX's basic reason plus FAILED_VMENTRY,
 * other flag bits masked. */
static __always_inline __u32 exit_code_reason(__u32 isa, __u32 reason)
{
	return isa == ISA_VMX ? reason & 0x8000ffff : reason;
}

/* --rip: the exit's guest address, counted per key. */
static __always_inline void count_rip(const struct trap_key *k, __u64 rip)
{
	static const __u64 zero;
	struct rip_key rk = { .tgid = k->tgid, .class = k->class, .detail_flags = k->detail_flags,
			      .detail = k->detail, .code = k->code, .rip = rip };
	__u64 *n = lookup_or_try_init(&rip_counts, &rk, &zero);

	if (!n) {
		count_drop(DROP_RIPS_FULL);
		return;
	}
	(*n)++;
}

/* reason as exit_code_reason() made it; detail and flags as DETAIL_* says,
 * 0 for exits without detail; rip the guest's, RIP_UNKNOWN. */
/* A trap that begins a halt, now: for on_halt_end. */
static __always_inline void mark_halt_trap(struct vcpu_thread *v, __u64 now)
{
	v->halt_trap_ns = now;
	v->halt_trap_exit_ns = v->time_ns[TIME_EXIT] +
			       (v->state == TIME_EXIT && now > v->since_ns ? now - v->since_ns : 0);
}

/* An emulated hlt (x86 without exits, as in real mode here): the emulator
 * runs it next, and the halt begins. */
static __always_inline void on_hlt_emulated(void)
{
	struct vcpu_thread *v = thread_of((__u32)bpf_get_current_pid_tgid());

	if (v && !v->end_ns)
		mark_halt_trap(v, bpf_ktime_get_ns());
}

/* halt: the exit begins a halt (hlt, WFx), as the caller's ISA knows it */
static __always_inline void on_exit(__u32 isa, __u32 reason, __u32 vcpu, __u32 detail, __u16 flags,
				    __u64 rip, bool halt)
{
	struct trap_key key;
	__u64 code = (__u64)isa << EXIT_ISA_SHIFT | reason, now;
	struct vcpu_thread *v;

	if (!current_key(&key, CLASS_EXIT, code))
		return;
	key.detail = detail;
	key.detail_flags = flags;
	now = bpf_ktime_get_ns();
	v = vcpu_thread_of(key.tid, key.tgid, now, TIME_GUEST);
	if (v) {
		time_to(v, TIME_EXIT, now);
		if (halt)
			mark_halt_trap(v, now);
	}
	if (count_key(&key) && v)	/* a dropped exit gets no latency entry either */
		open_interval(&v->exit, &key, vcpu, rip, now);
	if (count_rips && rip != RIP_UNKNOWN)
		count_rip(&key, rip);
}

static __always_inline void on_entry(void)
{
	struct trap_key key;
	struct vcpu_thread *v;
	__u64 now;

	if (!current_key(&key, CLASS_EXIT, 0))
		return;
	now = bpf_ktime_get_ns();
	v = vcpu_thread_of(key.tid, key.tgid, now, TIME_EXIT);
	if (!v)
		return;
	close_interval(&v->exit, &key, CLASS_EXIT, now);
	time_to(v, TIME_GUEST, now);
	v->halt_trap_ns = 0;	/* back in the guest: its hlt did not halt */
	if (!v->entries)
		v->entries = 1;
}

static __always_inline void on_userspace_exit(__u32 reason, int err)
{
	struct trap_key key;
	__u64 code = err < 0 ? USERSPACE_ERRNO | (__u32)-err : reason, now;
	struct vcpu_thread *v;

	if (!current_key(&key, CLASS_USERSPACE, code))
		return;
	now = bpf_ktime_get_ns();
	v = vcpu_thread_of(key.tid, key.tgid, now, TIME_EXIT);
	if (v) {
		time_to(v, TIME_VMM, now);
		v->halt_trap_ns = 0;
	}
	if (count_key(&key) && v)
		open_interval(&v->vmm, &key, VCPU_UNKNOWN, RIP_UNKNOWN, now);
}

static __always_inline void on_kvm_run(void)
{
	struct trap_key key;
	struct vcpu_thread *v;
	__u64 now;

	if (!current_key(&key, CLASS_USERSPACE, 0))
		return;
	now = bpf_ktime_get_ns();
	v = vcpu_thread_of(key.tid, key.tgid, now, TIME_OUTSIDE);
	if (!v)
		return;
	close_interval(&v->vmm, &key, CLASS_USERSPACE, now);
	time_to(v, TIME_EXIT, now);
	if (!v->in_vcpu_tids) {
		mark_vcpu_tid(key.tid);
		v->in_vcpu_tids = 1;
	}
}

static __always_inline void move_exit_to_halted(struct vcpu_thread *v, __u64 ns)
{
	if (ns <= v->time_ns[TIME_EXIT]) {
		v->time_ns[TIME_EXIT] -= ns;
		v->time_ns[TIME_HALTED] += ns;
	}
}

/* kvm_vcpu_wakeup: the halt that ends now began ns ago.  The thread's time
 * on the CPU in it (halt polling, the way back after a block, the wakeups
 * that found no interrupt) went to exit: it moves to halted.  From the
 * trap that began the halt where one was seen; else from its first block
 * (a block between two halts, woken by the VMM, takes that mark). */
static __always_inline void on_halt_end(__u64 ns, bool waited)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vcpu_thread *v = thread_of(tid);
	__u64 now, start, from;

	if (!v || v->end_ns)
		return;
	now = bpf_ktime_get_ns();
	if (off_cpu(v))
		resume_unseen(v, current_cpu_ns(), now);
	if (v->state != TIME_EXIT)
		return;
	start = now > ns ? now - ns : 0;
	from = v->since_ns > start ? v->since_ns : start;
	time_to(v, TIME_HALTED, from);	/* since_ns..from stays exit */
	time_to(v, TIME_EXIT, now);	/* from..now is halted */
	if (v->halt_trap_ns && v->halt_trap_ns <= start) {
		/* the exit time since the trap, less the way from it to the halt */
		__u64 at_start = v->halt_trap_exit_ns + (start - v->halt_trap_ns);

		if (v->time_ns[TIME_EXIT] > at_start)
			move_exit_to_halted(v, v->time_ns[TIME_EXIT] - at_start);
	} else if (waited && v->first_block_ns > start) {
		/* its time on the CPU before it blocked, and between two blocks */
		/* since its first block, only the halt: the exit time since start */
		__u64 at_start = v->first_exit_ns + (start > v->first_from_ns ? start - v->first_from_ns : 0);

		if (v->time_ns[TIME_EXIT] >= at_start)
			move_exit_to_halted(v, v->time_ns[TIME_EXIT] - at_start);
	} else if (waited && v->blocked_ns > start) {
		/* the first block was not this halt's: the polling before the last */
		move_exit_to_halted(v, v->blocked_ns - (v->blocked_from_ns > start ? v->blocked_from_ns : start));
	}
	v->first_block_ns = v->blocked_ns = v->halt_trap_ns = 0;
}

/* Could tid be a vCPU thread?  The one test every context switch makes. */
static __always_inline bool maybe_vcpu(__u32 tid)
{
	__u32 idx = tid >> 6;
	__u64 *w;

	if (idx >= VCPU_TID_WORDS)
		return true;	/* past the bitmap: the hash decides */
	w = bpf_map_lookup_elem(&vcpu_tids, &idx);
	return w && (*w >> (tid & 63) & 1);
}

/* A context switch: a vCPU thread leaving the CPU in KVM_RUN is halted (it
 * blocks) or preempted (still runnable); one coming back resumes; one that
 * ended stops counting, and its time since its last trip to the VMM began
 * is outside (it left KVM_RUN for good).  prev is the current task at every
 * context switch; prev_task is its BTF pointer where the program has one
 * (its CPU time then a plain load), else NULL. */
static __always_inline void on_switch(const struct task_struct *prev_task, __u32 prev, __u32 prev_tgid,
				      bool runnable, bool dead, __u32 next)
{
	struct vcpu_thread *v;
	__u64 now = 0;

	if (maybe_vcpu(prev) && (v = thread_of(prev)) && !v->end_ns &&
	    v->tgid == prev_tgid) {
		__u64 cpu_ns = prev_task ? prev_task->se.sum_exec_runtime : current_cpu_ns();

		now = bpf_ktime_get_ns();
		if (off_cpu(v))
			resume_unseen(v, cpu_ns, now);
		v->cpu_ns = cpu_ns;
		if (dead) {
			if (v->state == TIME_VMM) {
				v->state = TIME_OUTSIDE;
				v->vmm.ts_ns = 0;	/* never closed: no latency */
			}
			time_to(v, TIME_OUTSIDE, now);
			v->end_ns = now;
		} else if (v->state == TIME_EXIT || v->state == TIME_GUEST) {
			v->resume = v->state;
			if (!runnable) {
				if (!v->first_block_ns && v->state == TIME_EXIT) {
					v->first_block_ns = now;
					v->first_from_ns = v->since_ns;
					v->first_exit_ns = v->time_ns[TIME_EXIT];
				}
				v->blocked_from_ns = v->since_ns;
				v->blocked_ns = now;
			}
			time_to(v, runnable ? TIME_PREEMPTED : TIME_HALTED, now);
		}
	}
	if (maybe_vcpu(next) && (v = thread_of(next)) && !v->end_ns &&
	    (v->state == TIME_HALTED || v->state == TIME_PREEMPTED))
		resume(v, now ? now : bpf_ktime_get_ns());
}

#endif /* AGGREGATE_BPF_H */
