/* SPDX-License-Identifier: GPL-2.0 */
/* Map keys and values shared by the BPF programs and the loader. */
#ifndef KVMPROF_H
#define KVMPROF_H

#ifndef __VMLINUX_H__	/* the loader's side; BPF gets the types from vmlinux.h */
#include <linux/types.h>
#endif

/* log2 nanosecond buckets: slot i holds [2^i, 2^(i+1)) ns, slot 0 also 0 ns;
 * the last slot takes everything from 2^(LAT_SLOTS-1) ns (~2.1 s) up. */
#define LAT_SLOTS 32

#define MAX_TRAP_KEYS 16384   /* (guest, thread, class, code) triples: --max-keys' default */
#define MAX_KEYS_LIMIT (1 << 22) /* the largest --max-keys and --max-guest-keys */
#define MAX_GUESTS 8192       /* guests whose keys count against their share */
#define MAX_THREADS 8192      /* vCPU threads with an exit or VMM trip in flight */
#define MAX_PID_FILTER 64
#define MAX_RIP_KEYS 16384    /* --rip: (guest, exit reason and detail, guest address) */
#define MAX_INSN_KEYS 8192    /* --insns: (guest, instruction, address) */
#define MAX_FAILED_KEYS 256   /* failed emulations: (guest, instruction) */

/* Trap classes; every view reads them from the class table, loader/model/classes.c. */
enum trap_class {
	CLASS_EXIT = 0,		/* kvm_exit: code = isa << 32 | reason; IO, MSR, CR: a detail */
	CLASS_HYPERCALL,	/* x86: code = HC_ABI_* << HC_ABI_SHIFT | nr (kvm_hypercall,
				 * kvm_hv_hypercall, kvm_xen_hypercall); arm64
				 * kvm_hvc_arm64: see HVC_* */
	CLASS_EMULATE,		/* kvm_emulate_insn: see EMUL_* below */
	CLASS_PIO,		/* kvm_pio: code = rw << 16 | port */
	CLASS_MMIO,		/* kvm_mmio: code = gpa page | type */
	CLASS_USERSPACE,	/* kvm_userspace_exit: code = KVM_EXIT_*, or USERSPACE_ERRNO | -errno */
	CLASS_MSR,		/* kvm_msr: code = write << 32 | exception << 33 | index */
	CLASS_CPUID,		/* kvm_cpuid: code = function */
	/* arm64 only */
	CLASS_WFX,		/* kvm_wfx_arm64: code = 0 wfi, 1 wfe */
	CLASS_SYSREG,		/* kvm_handle_sys_reg: see SYSREG_* below */
	CLASS_FAULT,		/* kvm_guest_fault (stage-2 abort): see FAULT_* below */
	/* beyond traps, chosen with -e: see CODE_KIND_SHIFT below */
	CLASS_IRQ,		/* interrupts: sources (lines, MSIs, IOAPIC, PIC; arm64 vgic,
				 * timer) and injections into the guest (vectors, exceptions) */
	CLASS_IPI,		/* x86 LAPIC: IPIs sent (ICR writes), interrupts accepted */
	CLASS_PAGEFAULT,	/* x86 kvm_page_fault: code = page | PF_* access bits */
	CLASS_HALT,		/* halt polling: wakeups (with the time waited), poll changes */
	CLASS_NESTED,		/* x86 nested guests: L2 exits, exits injected into L1, L2 entries */
	CLASS_COUNTER,		/* --counters: KVM's own statistics, code = enum kvm_stat */
	NR_CLASSES,
};

/* CLASS_EXIT code: the isa (1 VMX, 2 SVM) sits above the 32-bit reason.
 * VMX reasons keep the FAILED_VMENTRY bit, other flag bits are masked. */
#define EXIT_ISA_SHIFT 32
#define ISA_VMX 1
#define ISA_SVM 2
/* arm64: reason = exception type << 8 | ESR_ELx EC, the EC only for traps
 * (type ARM_EXCEPTION_TRAP), as the kvm_exit tracepoint reports them. */
#define ISA_ARM64 3
#define EXIT_ARM64_TYPE_SHIFT 8
#define EXIT_ARM64_EC_MASK 0x3fULL
#define ARM_EXCEPTION_TRAP 2	/* arch/arm64/include/asm/kvm_asm.h */

/* CLASS_EMULATE code: opcode bytes after prefixes (0x90, 0x0fa2, 0x0f38xx),
 * the tracepoint's mode flags and the failed bit. */
#define EMUL_OPCODE_MASK 0xffffffULL
#define EMUL_MODE_SHIFT 24	/* 0 real, 3 vm86, 1 prot16, 5 prot32, 9 prot64 */
#define EMUL_FAILED (1ULL << 31)
/* For group opcodes (0x80, 0xff, 0x0f 0x01 ...) the ModRM byte, which picks
 * the instruction, with a valid bit: code bits 32-40. */
#define EMUL_MODRM_SHIFT 32
#define EMUL_MODRM_VALID 0x100ULL

/* x86 CLASS_HYPERCALL code: which hypercall ABI the guest used above the
 * call number, so a KVM, a Hyper-V and a Xen call with the same number never
 * share a key.  nr: KVM_HC_* (RAX), the Hyper-V call code (input bits 0-15),
 * the Xen __HYPERVISOR_* number (RAX); kept to its low 56 bits. */
#define HC_ABI_SHIFT 56
#define HC_NR_MASK ((1ULL << HC_ABI_SHIFT) - 1)
#define HC_ABI_KVM 0ULL		/* KVM's own, linux/kvm_para.h */
#define HC_ABI_HYPERV 1ULL	/* Hyper-V enlightened guest (HV_X64_MSR_GUEST_OS_ID set) */
#define HC_ABI_XEN 2ULL		/* Xen HVM guest, KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL */
#define HC_CODE(abi, nr) ((abi) << HC_ABI_SHIFT | ((__u64)(nr) & HC_NR_MASK))

#define PIO_WRITE (1ULL << 16)
#define MMIO_TYPE_MASK 0x3ULL	/* 0 unsatisfied-read, 1 read, 2 write */
#define MSR_WRITE (1ULL << 32)
#define MSR_EXCEPTION (1ULL << 33)
#define USERSPACE_ERRNO (1ULL << 32)

/* arm64 CLASS_HYPERCALL code: the HVC immediate above the SMCCC function id
 * (w0: PSCI, SMCCC, vendor calls), e.g. 0x84000000 for hvc #0, PSCI_VERSION. */
#define HVC_IMM_SHIFT 32
#define HVC_FUNC_MASK 0xffffffffULL
/* CLASS_SYSREG code: the register as the kernel's sys_reg(op0, op1, CRn,
 * CRm, op2) encodes it (shifts 19, 16, 12, 8, 5), decoded from the trap's
 * ESR ISS; SYSREG_WRITE for msr (and sys instructions), clear for mrs. */
#define SYSREG_WRITE (1ULL << 32)
#define SYSREG_ENC_MASK 0x1fffe0ULL
/* CLASS_IRQ, CLASS_IPI, CLASS_HALT and CLASS_NESTED codes: which event in
 * the top byte, that event's fields below it. */
#define CODE_KIND_SHIFT 56
#define CODE_KIND(code) ((__u32)((code) >> CODE_KIND_SHIFT))
#define CODE_OF_KIND(kind) ((__u64)(kind) << CODE_KIND_SHIFT)
enum irq_kind {
	IRQ_INJ_VIRQ = 1,	/* kvm_inj_virq: vector (Linux 5.10: its irq), IRQ_SOFT, IRQ_REINJECTED */
	IRQ_INJ_EXCEPTION,	/* kvm_inj_exception: vector, IRQ_HAS_ERROR, IRQ_REINJECTED */
	IRQ_SET_IRQ,		/* kvm_set_irq (KVM_IRQ_LINE, irqfd): gsi, IRQ_LEVEL */
	IRQ_MSI,		/* kvm_msi_set_irq: vector, delivery mode << 8, destination << 16 */
	IRQ_IOAPIC,		/* kvm_ioapic_set_irq: pin, vector << 8, IRQ_COALESCED */
	IRQ_PIC,		/* kvm_pic_set_irq: chip << 8 | pin, IRQ_COALESCED */
	IRQ_VGIC,		/* arm64 vgic_update_irq_pending: irq, IRQ_LEVEL */
	IRQ_TIMER,		/* arm64 kvm_timer_update_irq: irq, IRQ_LEVEL */
	IRQ_LINE,		/* arm64 kvm_irq_line: irq, type << 16, IRQ_LEVEL */
};
#define IRQ_SOFT (1ULL << 32)
#define IRQ_REINJECTED (1ULL << 33)
#define IRQ_HAS_ERROR (1ULL << 34)
#define IRQ_LEVEL (1ULL << 35)
#define IRQ_COALESCED (1ULL << 36)
enum ipi_kind {
	IPI_SEND = 1,		/* kvm_apic_ipi: vector, delivery mode << 8, shorthand << 12, dest << 16 */
	IPI_ACCEPT,		/* kvm_apic_accept_irq: vector, delivery mode << 8, IPI_LEVEL_TRIGGER,
				 * APIC id << 16 */
};
#define IPI_LEVEL_TRIGGER (1ULL << 11)
/* CLASS_PAGEFAULT code: the guest-physical page, and the error code's
 * present, write, user, reserved-bit and fetch bits (x86 PFERR_*). */
#define PF_PRESENT 0x1ULL
#define PF_WRITE 0x2ULL
#define PF_USER 0x4ULL
#define PF_RSVD 0x8ULL
#define PF_FETCH 0x10ULL
#define PF_PAGE_MASK (~0xfffULL)
enum halt_kind {
	HALT_WAKEUP = 1,	/* kvm_vcpu_wakeup: HALT_POLLED, HALT_BLOCKED or HALT_INVALID;
				 * its latency is the time waited */
	HALT_POLL_NS,		/* kvm_halt_poll_ns: the new value, HALT_GROW */
};
#define HALT_POLLED 0		/* a poll found the wakeup: the vCPU never blocked */
#define HALT_BLOCKED 1		/* it blocked */
#define HALT_INVALID 2		/* the poll was not valid */
#define HALT_GROW (1ULL << 32)
enum nested_kind {
	NESTED_L2_EXIT = 1,	/* kvm_nested_vmexit: isa << 32 | the L2 exit's reason */
	NESTED_INJECT,		/* kvm_nested_vmexit_inject: isa << 32 | the exit L1 is given */
	NESTED_ENTER,		/* kvm_nested_vmenter (kvm_nested_vmrun before 6.1): isa << 32 */
};

/* CLASS_FAULT code: ESR EC (0x20 IABT_LOW, 0x24 DABT_LOW) << 8 | ISS bits
 * 0-7: fault status code (FSC, bits 0-5), WnR (bit 6), S1PTW (bit 7). */
#define FAULT_EC_SHIFT 8
#define FAULT_FSC_MASK 0x3fULL
#define FAULT_WNR (1ULL << 6)
#define FAULT_S1PTW (1ULL << 7)

/* CLASS_EXIT detail: what an IO, MSR or CR access exit was about, for the
 * reasons where it tells the story (VMX IO_INSTRUCTION, MSR_READ/WRITE,
 * CR_ACCESS; SVM io, msr; SVM names the CR in its exit code already).  Every
 * other key has detail_flags 0 and detail 0, and code keeps its meaning. */
#define DETAIL_KIND_MASK 0x3
#define DETAIL_IO 1		/* detail = port */
#define DETAIL_MSR 2		/* detail = MSR index (the guest's ECX) */
#define DETAIL_CR 3		/* detail = CR number | access type << 4 (VMX exit
				 * qualification bits 0-5: 0 mov to CR, 1 mov from CR,
				 * 2 clts, 3 lmsw) */
#define DETAIL_UNKNOWN (1 << 2)	/* this attach variant cannot know it: detail 0 */
#define DETAIL_WRITE (1 << 3)	/* out, wrmsr */
#define DETAIL_STRING (1 << 4)	/* ins, outs */
#define DETAIL_REP (1 << 5)	/* with a rep prefix */
#define DETAIL_SIZE_SHIFT 8	/* IO: the access size in bytes, 1, 2 or 4 */
#define DETAIL_SIZE_MASK (7 << DETAIL_SIZE_SHIFT)

/* An emulated instruction as the emulator fetched it (bytes past len are
 * zero), in the mode the event reports (EMUL_MODE_SHIFT's values), at the
 * guest linear address rip: CS base + rip, as kvm_emulate_insn's csbase and
 * rip; RIP_UNKNOWN where the attach method cannot tell.  Key of insn_counts
 * (--insns) and, with rip 0, of failed_insns. */
#define INSN_BYTES 16	/* 15 at most, rounded up */
#define RIP_UNKNOWN (~0ULL)
struct insn_key {
	__u32 tgid;
	__u8 len;
	__u8 mode;
	__u8 pad[2];
	__u64 rip;
	__u8 bytes[INSN_BYTES];
};

/* Per-CPU count of one insn_key. */
struct insn_count {
	__u64 count;
};

/* A failed emulation (the event's failed flag), shared by all CPUs. */
struct failed_insn {
	__u64 count;
	__u64 last_rip;	/* linear, or RIP_UNKNOWN */
};

struct trap_key {
	__u32 tgid;	/* the guest: its VMM process */
	__u32 tid;	/* the vCPU thread; the loader maps it to a vCPU number */
	__u16 class;	/* enum trap_class */
	__u16 detail_flags;	/* DETAIL_*: what detail holds; 0 for none */
	__u32 detail;	/* see DETAIL_*; 0 for none */
	__u64 code;
};
#define VCPU_UNKNOWN 0xffffffffu

/* A per-CPU cache of recent keys in front of the count table (hot_counts): a
 * hit costs an array access instead of a table probe.  The protocol between
 * the BPF programs and the loader's reader is written once, beside
 * count_in_pair() in bpf/aggregate.bpf.h. */
#define HOT_SLOTS 64	/* hot_slot_index() makes 6 bits */

struct hot_slot {
	struct trap_key key;
	__u64 count;	/* events of key not yet in the count table; 0: empty */
	/* The emulate fast path's match: an emulated instruction's first 8
	 * bytes and len | mode << 8 | failed << 16, or INSN_META_NONE. */
	__u64 insn_head;
	__u32 insn_meta;
	__u32 pad;
};
#define INSN_META_NONE 0xffffffffu

/* The first slot of an event of thread tid: what is its main value (a
 * key's code, an instruction's first 8 bytes), more the rest that tells it
 * apart (the key's class and detail, the instruction's insn_meta).  A
 * product alone (Fibonacci hashing) keeps the sum's structure: one
 * thread's keys differ in code and class only, so two codes whose
 * difference has a small product met in every thread (pio 0x3f8 and the
 * trip to the VMM that follows it, 9 threads in 10).  The shift and the
 * second product (splitmix64's) mix the tid in. */
static inline __u32 hot_slot_index(__u64 what, __u32 tid, __u64 more)
{
	__u64 h = (what ^ (__u64)tid << 24 ^ more) * 0x9E3779B97F4A7C15ULL;

	h ^= h >> 32;
	return (h * 0xBF58476D1CE4E5B9ULL) >> (64 - 6);
}

/* count_key()'s: the key's code, class and detail */
static inline __u32 hot_slot_of_key(const struct trap_key *key)
{
	return hot_slot_index(key->code, key->tid,
			      (__u64)key->class << 56 ^ ((__u64)key->detail << 16 | key->detail_flags));
}

/* The keys counted: trap_keys, a hash of every key (it is there or not),
 * and the count table, an open-addressed table of the keys in three arrays
 * the loader maps (BPF_F_MMAPABLE) and reads in place, with no bpf(2) call
 * per key (a host of 1000 guests has 68000): count_keys, each slot's key
 * (tgid 0: never taken; TABLE_TOMBSTONE: a reclaimed key's); count_claims,
 * each slot's claim count (0: free); count_table, each CPU's count of each
 * slot's key, CPU c's at c << bits.  The protocol: beside table_add() in
 * bpf/aggregate.bpf.h. */
#define TABLE_TOMBSTONE 0xffffffffu	/* no process's: pids stay below 2^22 */
#define TABLE_PROBES 24	/* at most half full: a key past them about 1 in 2^24 */

/* The count table's bits for max_keys keys: at most half full. */
static inline __u32 count_table_bits_for(__u64 max_keys)
{
	__u32 bits = 4;

	while ((1ULL << bits) < 2 * max_keys)
		bits++;
	return bits;
}

/* Where key's probes start in a table of 2^bits slots; probe i is at home
 * + i(i+1)/2 (table_probe()), which visits every slot of a power-of-two
 * table. */
static inline __u32 table_home(const struct trap_key *key, __u32 bits)
{
	__u64 h = key->code * 0x9E3779B97F4A7C15ULL ^ ((__u64)key->tid << 32 | key->tgid) ^
		  ((__u64)key->class << 48 | (__u64)key->detail_flags << 32 | key->detail) * 0xC2B2AE3D27D4EB4FULL;

	h ^= h >> 29;
	return (h * 0xBF58476D1CE4E5B9ULL) >> (64 - bits);
}

/* Probe i from home (table_home()) in a table of 2^bits slots: BPF's
 * table_add() and the loader's reader walk the same slots.  It takes the
 * home, not the key, so that a probe loop hashes once. */
static inline __u32 table_probe(__u32 home, __u32 i, __u32 bits)
{
	return (home + i * (i + 1) / 2) & ((1U << bits) - 1);
}

/* Latency of one trap key (exit -> entry, or time in the VMM), shared by
 * all CPUs and updated with atomics: only exits and VMM trips have one. */
struct trap_latency {
	__u32 vcpu;	/* vcpu_id from kvm_exit, VCPU_UNKNOWN for VMM trips */
	__u32 pad;
	__u64 count;
	__u64 sum_ns;
	__u64 min_ns;	/* 0 until the first sample; samples count as >= 1 ns */
	__u64 max_ns;
	/* The samples' squared distances from a reference, for the deviation:
	 * ref_ns - 1 is the key's first sample (0: none yet), so a tight
	 * distribution's squares stay small and exact; distances below
	 * 2^LAT_SQ_FINE ns in ns^2, the longer ones in (ns >> LAT_SQ_COARSE_SHIFT)^2.
	 * Both wrap; the loader takes each read's difference, which stays
	 * below 2^64 for anything one key's thread can spend between two reads. */
	__u64 ref_ns;
	__u64 sum_sq_fine;
	__u64 sum_sq_coarse;
	__u64 slots[LAT_SLOTS];
};
#define LAT_SQ_FINE 20		/* about 1 ms */
#define LAT_SQ_COARSE_SHIFT 10	/* about 1 us */

/* The start of an exit or a trip to the VMM, until it is closed. */
struct trap_start {
	__u64 ts_ns;	/* 0: none open */
	__u64 code;
	__u64 rip;	/* the guest's, where the exit event has it; RIP_UNKNOWN else */
	__u32 vcpu;
	__u32 detail;
	__u16 detail_flags;
	__u16 pad;
	__u32 pad2;
};

/* A vCPU thread's wall time, in states that sum to it. */
enum time_state {
	TIME_OUTSIDE,	/* neither in KVM_RUN nor in a trip to the VMM: before the first, after the last */
	TIME_GUEST,	/* running guest code: kvm_entry -> kvm_exit */
	TIME_EXIT,	/* in KVM_RUN, out of the guest, on a CPU: handling exits (all of
			 * KVM_RUN where kvm_exit and kvm_entry do not fire) */
	TIME_VMM,	/* in the VMM: kvm_userspace_exit -> the next KVM_RUN */
	TIME_HALTED,	/* in KVM_RUN, blocked: halted, waiting for an interrupt */
	TIME_PREEMPTED,	/* in KVM_RUN, runnable but off the CPU: host steal */
	NR_TIME_STATES,
};

/* Per vCPU thread (the thread table, by thread id): its open exit and VMM
 * trip, and where its time went.  tgid tells a dead thread's record from
 * that of a new thread reusing the id in another process. */
struct vcpu_thread {
	__u32 tid;	/* its key in the thread table: 0 never taken, THREAD_TOMBSTONE none */
	__u32 pad;
	struct trap_start exit, vmm;
	__u64 first_ns;		/* its first event: before it the loader counts TIME_OUTSIDE */
	__u64 since_ns;		/* when state began */
	__u64 end_ns;		/* when the thread ended (a dead task's last switch); 0 live */
	__u32 state;		/* enum time_state */
	__u32 resume;		/* the state TIME_HALTED or TIME_PREEMPTED returns to */
	__u32 tgid;
	__s32 vcpu;		/* from the thread's name (as the loader reads it); -1 unknown */
	__u32 entries;		/* kvm_entry seen (counted up to 1): guest time is told from exit time */
	__u32 in_vcpu_tids;	/* its bit is set: KVM_RUN need not touch the bitmap's page again */
	/* Its blocks in KVM_RUN since the last halt's end, for kvm_vcpu_wakeup
	 * to move the halt's time on the CPU (the polling, the way between two
	 * blocks) from exit to halted: the first block, in state exit, and the
	 * exit time summed when its segment began; the last block, for a
	 * first one from before the halt (a block outside one) */
	__u64 first_block_ns;	/* 0: none */
	__u64 first_from_ns;	/* when the exit segment that ended there began */
	__u64 first_exit_ns;	/* time_ns[TIME_EXIT] then */
	__u64 blocked_ns;	/* the last block */
	__u64 blocked_from_ns;	/* when the on-CPU segment that ended there began */
	/* The trap that began its halt (a hlt exit or emulated hlt, a WFx
	 * exit), seen since its last entry, VMM trip or halt end: when, and its
	 * exit time summed then.  kvm_vcpu_wakeup moves its exit time since the
	 * halt's start to halted whatever its switch outs were (a block woken
	 * before it switched out looks runnable) */
	__u64 halt_trap_ns;	/* 0: none */
	__u64 halt_trap_exit_ns;
	__u64 cpu_ns;		/* its CPU time (the scheduler's sum) at its last switch out */
	/* closed segments; the open one is now - since_ns.  Room for 8, so the
	 * programs index it by state & 7, which the verifier can bound */
	__u64 time_ns[8];
};

/* The thread table: the vCPU threads' records open-addressed by thread id
 * in an array the loader maps (vcpu_threads), with a claim count a slot
 * (thread_claims, as the count table's), at most half full.  A lookup is
 * a multiply and an array load where a hash took 50 ns on this host (most
 * of a VMM trip's program); the protocol is beside thread_record() in
 * bpf/aggregate.bpf.h. */
#define THREAD_BITS 14
#define THREAD_SLOTS (1U << THREAD_BITS)	/* 2 * MAX_THREADS */
#define THREAD_PROBES 16
#define THREAD_TOMBSTONE 0xffffffffu

static inline __u32 thread_home(__u32 tid)
{
	return (__u32)(((__u64)tid * 0x9E3779B97F4A7C15ULL) >> (64 - THREAD_BITS));
}

static inline __u32 thread_probe(__u32 tid, __u32 i)
{
	return (thread_home(tid) + i * (i + 1) / 2) & (THREAD_SLOTS - 1);
}

/* vcpu_tids: a bit per thread id that ran KVM_RUN, the one test the context
 * switch program makes for every other task on the host. */
#define VCPU_TID_WORDS 65536	/* thread ids below 2^22; above it the hash decides */

/* KVM's own per-vCPU statistics (struct kvm_vcpu_stat) as the counters
 * iterator (bpf/kvm_stats.bpf.c) reads them; CLASS_COUNTER codes.  Which
 * exist depends on the kernel and architecture: present says. */
enum kvm_stat {
	KSTAT_EXITS, KSTAT_IO_EXITS, KSTAT_MMIO_EXITS, KSTAT_HALT_EXITS, KSTAT_IRQ_EXITS,
	KSTAT_SIGNAL_EXITS, KSTAT_INSN_EMULATION, KSTAT_INSN_EMULATION_FAIL, KSTAT_HYPERCALLS,
	KSTAT_IRQ_INJECTIONS, KSTAT_NMI_INJECTIONS, KSTAT_PF_TAKEN, KSTAT_PF_FIXED, KSTAT_PF_EMULATE,
	KSTAT_HVC_EXIT, KSTAT_WFE_EXIT, KSTAT_WFI_EXIT, KSTAT_MMIO_EXIT_USER, KSTAT_MMIO_EXIT_KERNEL,
	KSTAT_HALT_SUCCESSFUL_POLL, KSTAT_HALT_ATTEMPTED_POLL, KSTAT_HALT_POLL_INVALID, KSTAT_HALT_WAKEUP,
	KSTAT_HALT_POLL_SUCCESS_NS, KSTAT_HALT_POLL_FAIL_NS, KSTAT_HALT_WAIT_NS,
	NR_KVM_STATS,
};
/* the halt-poll log2 histograms (Linux 5.15+): bucket i counts values of
 * fls64() i, [2^(i-1), 2^i) ns */
enum kvm_stat_hist { KHIST_POLL_SUCCESS, KHIST_POLL_FAIL, KHIST_WAIT, NR_KVM_HISTS };
#define KVM_HIST_BUCKETS 32

/* One vCPU's statistics, written by the iterator to its seq file. */
struct vcpu_stats {
	__u32 tgid;		/* the process holding the vCPU's file */
	__u32 tid;		/* the thread that last ran it (vcpu->pid); 0 none yet */
	__u32 vcpu_id;
	__u32 hists;		/* a bit per enum kvm_stat_hist present */
	__u64 present;		/* a bit per enum kvm_stat present */
	__u64 vm;		/* the struct kvm's address: tells VMs of one process apart */
	__u64 start_ns;		/* the process's start (its leader's start_boottime): a reused pid is another */
	__u64 value[NR_KVM_STATS];
	__u64 hist[NR_KVM_HISTS][KVM_HIST_BUCKETS];
};

/* kvmprof -- COMMAND: is process tgid (started at start_ns) below tree_root? */
struct tree_verdict {
	__u64 start_ns;		/* its group leader's start_time */
	__u32 in_tree;
	__u32 pad;
};

/* --rip: one guest address an exit of one reason and detail came from;
 * per-CPU count in rip_counts. */
struct rip_key {
	__u32 tgid;
	__u16 class;
	__u16 detail_flags;
	__u32 detail;
	__u32 pad;
	__u64 code;
	__u64 rip;	/* the guest's (x86 RIP, arm64 PC) */
};

/* --slow: one exit or VMM trip that took longer than slow_ns, through
 * the slow_traps ring buffer. */
struct slow_trap {
	__u64 end_ns;		/* CLOCK_MONOTONIC, when it ended */
	__u64 duration_ns;
	__u64 code;
	__u64 rip;		/* RIP_UNKNOWN where the event has none */
	__u32 tgid, tid;
	__u32 vcpu;		/* the exit event's; VCPU_UNKNOWN */
	__u32 detail;
	__u16 class;
	__u16 detail_flags;
	__u32 pad;
};

/* The start of a process's command line a new_thread record carries: where
 * QEMU (libvirt, Proxmox), crosvm and Firecracker put the guest's name. */
#define SEEN_CMDLINE 256

/* Sent once per new trap key, so the loader reads a new guest's name and
 * its threads' names from /proc while they still exist; the command line
 * names a guest that has exited before the loader's read. */
struct new_thread {
	__u32 tgid;
	__u32 tid;
	char comm[16];		/* the thread's: QEMU names vCPU threads "CPU 0/KVM" */
	char leader_comm[16];	/* the process's: a name when /proc is already gone */
	__u32 cmdline_len;	/* bytes in cmdline; 0: not readable (paged out) */
	__u32 cmdline_cut;	/* 1: the command line is longer: its last argument is cut */
	char cmdline[SEEN_CMDLINE];	/* NUL-separated arguments, as /proc/PID/cmdline */
};

enum drop_reason {
	DROP_COUNTS_FULL = 0,	/* trap_keys had no room for a new key, or the count table none */
	DROP_LATENCY_FULL,	/* trap_latency had no room */
	DROP_STARTS_FULL,	/* the thread table had no room: a thread's latency and time not kept */
	DROP_INSNS_FULL,	/* --insns: insn_counts had no room */
	DROP_FAILED_FULL,	/* failed_insns had no room */
	DROP_GUEST_FULL,	/* the guest had all the keys one guest may have (--max-guest-keys) */
	DROP_SLOW_LOG,		/* --slow: the ring buffer had no room for a slow trap's record */
	DROP_RIPS_FULL,		/* --rip: rip_counts had no room */
	NR_DROPS,
};

#endif /* KVMPROF_H */
