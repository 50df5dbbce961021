// SPDX-License-Identifier: GPL-2.0
/* kvmprof's x86 programs: exits (VMX/SVM), hypercalls, the instruction
 * emulator, port I/O, MSR and CPUID, in each attach variant.  Linked with
 * kvmprof.bpf.c, which defines the maps and switches this unit uses. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "aggregate.bpf.h"
#include "emulate.bpf.h"
#include "exit_detail.bpf.h"
#include "core_fixes.bpf.h"

/* Mode flags as the kvm_emulate_insn tracepoint reports them, from the
 * emulator's X86EMUL_MODE_* (kei_decode_mode in arch/x86/kvm/trace.h). */
static __always_inline __u8 emulator_mode_flags(int mode)
{
	switch (mode) {
	case X86EMUL_MODE_VM86: return 3;
	case X86EMUL_MODE_PROT16: return 1;
	case X86EMUL_MODE_PROT32: return 5;
	case X86EMUL_MODE_PROT64: return 9;
	}
	return 0;
}

/* The record has info1 (EXITINFO1, or the exit qualification the
 * tracepoint read from the VMCS) but no guest register: MSR index unknown. */
SEC("tracepoint/kvm/kvm_exit")
int tp_kvm_exit(struct trace_event_raw_kvm_exit *ctx)
{
	__u32 isa = ctx->isa, reason = exit_code_reason(isa, ctx->exit_reason), detail = 0;
	__u16 flags = exit_detail_kind(isa, reason);

	if (flags)
		decode_exit_detail(isa, reason, &detail, &flags, ctx->info1, true, 0, false);
	on_exit(isa, reason, bpf_core_field_exists(ctx->vcpu_id) ? ctx->vcpu_id : VCPU_UNKNOWN,
		detail, flags, ctx->guest_rip, halt_exit(isa, reason));
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_hypercall")
int tp_kvm_hypercall(struct trace_event_raw_kvm_hypercall *ctx)
{
	count_trap(CLASS_HYPERCALL, HC_CODE(HC_ABI_KVM, ctx->nr));
	return TP_PASS;
}

/* KVM raises these instead of kvm_hypercall for a guest it treats as
 * Hyper-V or Xen.  Fields by CO-RE name: Linux 5.17 added var_cnt before
 * rep_cnt, and a cpl field came first in kvm_xen_hypercall later. */
SEC("tracepoint/kvm/kvm_hv_hypercall")
int tp_kvm_hv_hypercall(struct trace_event_raw_kvm_hv_hypercall *ctx)
{
	count_trap(CLASS_HYPERCALL, HC_CODE(HC_ABI_HYPERV, ctx->code));
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_xen_hypercall")
int tp_kvm_xen_hypercall(struct trace_event_raw_kvm_xen_hypercall *ctx)
{
	count_trap(CLASS_HYPERCALL, HC_CODE(HC_ABI_XEN, ctx->nr));
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_emulate_insn")
int tp_kvm_emulate_insn(struct trace_event_raw_kvm_emulate_insn *ctx)
{
	__u8 insn[INSN_MAX];

	/* ctx may only be read at constant offsets from its start: copy */
	bpf_probe_read_kernel(insn, sizeof(insn), ctx->insn);
	count_trap(CLASS_EMULATE, emulate_code(insn, ctx->len, ctx->flags, ctx->failed));
	if (insn[0] == HLT_OPCODE && !ctx->failed)
		on_hlt_emulated();
	if (emul_insns || ctx->failed)
		record_insn(insn, ctx->len, ctx->flags, ctx->failed, ctx->csbase + ctx->rip);
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_pio")
int tp_kvm_pio(struct trace_event_raw_kvm_pio *ctx)
{
	count_trap(CLASS_PIO, (ctx->rw ? PIO_WRITE : 0) | (ctx->port & 0xffff));
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_msr")
int tp_kvm_msr(struct trace_event_raw_kvm_msr *ctx)
{
	count_trap(CLASS_MSR, ctx->ecx | (ctx->write ? MSR_WRITE : 0) |
			      (ctx->exception ? MSR_EXCEPTION : 0));
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_cpuid")
int tp_kvm_cpuid(struct trace_event_raw_kvm_cpuid *ctx)
{
	count_trap(CLASS_CPUID, ctx->function);
	return TP_PASS;
}

/* An exit seen with its vcpu: the reason, and the detail where the reason
 * has one.  The guest's GPRs are in vcpu->arch.regs after every exit (not
 * for SEV-ES guests, whose state is encrypted). */
static __always_inline void vcpu_exit(struct kvm_vcpu *vcpu, __u32 isa, __u32 vcpu_id)
{
	__u32 reason = exit_code_reason(isa, vcpu_exit_reason(vcpu, isa)), detail = 0;
	__u16 flags = exit_detail_kind(isa, reason);
	__u64 info1 = 0, rcx = 0;
	bool info1_ok = false;

	if (flags) {
		info1_ok = vcpu_exit_info1(vcpu, isa, &info1);
		if (flags == DETAIL_MSR)
			rcx = BPF_CORE_READ(vcpu, arch.regs[VCPU_REGS_RCX]);
		decode_exit_detail(isa, reason, &detail, &flags, info1, info1_ok, rcx, flags == DETAIL_MSR);
	}
	on_exit(isa, reason, vcpu_id, detail, flags, vcpu_rip(vcpu), halt_exit(isa, reason));
}

/* Linear address of the instruction the emulator just decoded: the
 * tracepoint's csbase + (_eip - len). */
static __always_inline __u64 emulated_rip(struct kvm_vcpu *vcpu, __u64 eip, __u8 len)
{
	__u64 base = vcpu_cs_base(vcpu);

	return base == RIP_UNKNOWN ? RIP_UNKNOWN : base + eip - len;
}

/* Pointer arguments of a tracepoint in a module (KVM on x86) may be NULL to
 * the verifier since "bpf: Augment raw_tp arguments with PTR_MAYBE_NULL"
 * (Linux 6.14, in 6.12.y): every tp_btf program checks its vcpu first. */
SEC("tp_btf/kvm_exit")
int BPF_PROG(btf_kvm_exit, struct kvm_vcpu *vcpu, u32 isa)
{
	if (!vcpu)
		return 0;
	vcpu_exit(vcpu, isa, vcpu->vcpu_id);
	return 0;
}

SEC("tp_btf/kvm_hypercall")
int BPF_PROG(btf_kvm_hypercall, unsigned long nr)
{
	count_trap(CLASS_HYPERCALL, HC_CODE(HC_ABI_KVM, nr));
	return 0;
}

/* code comes first in every kernel's prototype */
SEC("tp_btf/kvm_hv_hypercall")
int BPF_PROG(btf_kvm_hv_hypercall, __u16 code)
{
	count_trap(CLASS_HYPERCALL, HC_CODE(HC_ABI_HYPERV, code));
	return 0;
}

/* (u8 cpl, nr, a0..a5) where the record has cpl, else (nr, a0..a5): the
 * record's fields follow the prototype's arguments */
SEC("tp_btf/kvm_xen_hypercall")
int btf_kvm_xen_hypercall(__u64 *ctx)
{
	__u64 first = ctx[0], second = ctx[1];

	/* both loads at constant offsets: the verifier refuses a computed ctx offset */
	barrier_var(first);
	barrier_var(second);
	count_trap(CLASS_HYPERCALL, HC_CODE(HC_ABI_XEN, bpf_core_field_exists(struct trace_event_raw_kvm_xen_hypercall, cpl) ?
						      second : first));
	return 0;
}

/* The emulator context is read with probe reads: in some kernels' BTF
 * (6.1's kvm module) struct x86_emulate_ctxt is only declared, and the
 * verifier cannot follow a direct pointer to it.  Every variant reads it
 * just after the decode, before the instruction ran: the mode is the one
 * it was decoded in (a mov to cr0 changes it), _eip is past its bytes. */
static __always_inline void count_emulated(struct kvm_vcpu *vcpu, bool failed)
{
	struct x86_emulate_ctxt *ctxt = BPF_CORE_READ(vcpu, arch.emulate_ctxt);
	__u8 insn[INSN_MAX] = {};
	__u8 *ptr = BPF_CORE_READ(ctxt, fetch.ptr);
	__u8 len = ptr - (__u8 *)&ctxt->fetch.data;	/* address only: CO-RE offset */
	__u8 mode = emulator_mode_flags(BPF_CORE_READ(ctxt, mode));

	bpf_probe_read_kernel(insn, sizeof(insn), &ctxt->fetch.data);
	count_trap(CLASS_EMULATE, emulate_code(insn, len, mode, failed));
	if (insn[0] == HLT_OPCODE && !failed)
		on_hlt_emulated();
	if (emul_insns || failed)
		record_insn(insn, len, mode, failed, emulated_rip(vcpu, BPF_CORE_READ(ctxt, _eip), len));
}

SEC("tp_btf/kvm_emulate_insn")
int BPF_PROG(btf_kvm_emulate_insn, struct kvm_vcpu *vcpu, __u8 failed)
{
	if (!vcpu)
		return 0;
	count_emulated(vcpu, failed);
	return 0;
}

/* The emulate fast path's hit: the slot has these bytes, in this thread. */
static __always_inline bool insn_in_slot(const struct hot_slot *slot, __u64 head, __u32 meta, __u32 tid,
					 __u32 tgid)
{
	return slot->count && slot->insn_head == head && slot->insn_meta == meta && slot->key.tid == tid &&
	       slot->key.tgid == tgid;
}

/* Where the kernel's BTF has the whole struct x86_emulate_ctxt (KVM built
 * in), plain loads: no helper calls.  The loader picks this variant then.
 * An emulation-bound guest runs the same few instructions over and over:
 * the pair of hot slots is found from the thread and the instruction's
 * first bytes (hot_slot_index(); the protocol: count_in_pair() in
 * aggregate.bpf.h), so a repeat skips both the decoder and the key's
 * hash. */
SEC("tp_btf/kvm_emulate_insn")
int BPF_PROG(btf_kvm_emulate_insn_direct, struct kvm_vcpu *vcpu, __u8 failed)
{
	struct x86_emulate_ctxt *ctxt;
	struct task_struct *task;
	struct hot_slot *slot;
	struct trap_key key;
	__u8 insn[INSN_MAX], len, mode;
	__u32 meta, tid, tgid, idx;
	__u64 head;
	int used;

	if (!vcpu)
		return 0;
	ctxt = vcpu->arch.emulate_ctxt;
	len = ctxt->fetch.ptr - ctxt->fetch.data;
	mode = ctxt->mode;	/* the raw X86EMUL_MODE_* (small): converted only when decoding */
	head = *(__u64 *)ctxt->fetch.data;
	meta = len | mode << 8 | (__u32)failed << 16;
	/* inlined by the JIT on recent kernels, unlike bpf_get_current_pid_tgid */
	task = bpf_get_current_task_btf();
	tid = task->pid;
	tgid = task->tgid;
	idx = hot_slot_index(head, tid, meta);
	slot = bpf_map_lookup_elem(&hot_counts, &idx);

#define BTF_INSN_BYTE(i) ctxt->fetch.data[i]
	if (emul_insns) {	/* --insns; without it the verifier drops this */
		COPY_INSN(insn, BTF_INSN_BYTE);
		record_insn(insn, len, emulator_mode_flags(mode), failed, emulated_rip(vcpu, ctxt->_eip, len));
	}
	if ((__u8)head == HLT_OPCODE && !failed)
		on_hlt_emulated();
	if (!slot)
		return 0;
	if (insn_in_slot(slot, head, meta, tid, tgid)) {
		slot->count++;
		return 0;
	}
	idx ^= 1;	/* the pair's second slot */
	slot = bpf_map_lookup_elem(&hot_counts, &idx);
	if (!slot)
		return 0;
	if (insn_in_slot(slot, head, meta, tid, tgid)) {
		slot->count++;
		return 0;
	}
	COPY_INSN(insn, BTF_INSN_BYTE);
	/* failures never take a matchable slot (below): each one comes here */
	if (!emul_insns && failed)
		record_insn(insn, len, emulator_mode_flags(mode), failed, emulated_rip(vcpu, ctxt->_eip, len));
	if (!current_key(&key, CLASS_EMULATE, emulate_code_used(insn, len, emulator_mode_flags(mode),
								 failed, &used)))
		return 0;
	/* by key now, idx back to the pair's first; bytes past the first 8
	 * mattered: a slot taken must not match by bytes */
	count_in_pair(idx ^ 1, &key, head, !failed && used <= 8 && len >= used ? meta : INSN_META_NONE);
	return 0;
}

SEC("tp_btf/kvm_pio")
int BPF_PROG(btf_kvm_pio, unsigned int rw, unsigned int port)
{
	count_trap(CLASS_PIO, (rw ? PIO_WRITE : 0) | (port & 0xffff));
	return 0;
}

SEC("tp_btf/kvm_msr")
int BPF_PROG(btf_kvm_msr, unsigned int write, u32 ecx, u64 data, bool exception)
{
	count_trap(CLASS_MSR, ecx | (write ? MSR_WRITE : 0) | (exception ? MSR_EXCEPTION : 0));
	return 0;
}

SEC("tp_btf/kvm_cpuid")
int BPF_PROG(btf_kvm_cpuid, unsigned int function)
{
	count_trap(CLASS_CPUID, function);
	return 0;
}

/* ---- function probes: SEC() names no function; the loader sets the one
 * the planner chose (loader/probes.c), as kernels name the handlers
 * differently. ---- */

/* The emulator's decoder, x86_decode_insn(ctxt, ...): KVM fires
 * kvm_emulate_insn right after its one call (x86_decode_emulated_instruction;
 * x86_emulate_instruction before 5.11), so these count what the tracepoint
 * counts but its failures (a second event, from a static function).  The
 * context is read again from its vcpu (ctxt->vcpu, Linux 5.7 on): the
 * verifier refuses the length's pointer subtraction on the typed argument. */
SEC("fexit")
int BPF_PROG(fexit_emulate, struct x86_emulate_ctxt *ctxt)
{
	count_emulated(BPF_CORE_READ(ctxt, vcpu), false);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_emulate, struct x86_emulate_ctxt *ctxt)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 v = (__u64)BPF_CORE_READ(ctxt, vcpu);

	bpf_map_update_elem(&emulate_vcpus, &tid, &v, BPF_ANY);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_emulate)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *v = bpf_map_lookup_elem(&emulate_vcpus, &tid);

	if (!v || !*v)
		return 0;
	count_emulated((struct kvm_vcpu *)*v, false);
	*v = 0;
	return 0;
}

/* The exit handlers (svm_handle_exit, vmx_handle_exit; 5.10's static
 * handle_exit in kvm_amd) run once per exit that reaches the handler:
 * exits the fastpath re-enters the guest on are not seen here. */
static __always_inline void handled_exit(struct kvm_vcpu *vcpu, __u32 isa)
{
	vcpu_exit(vcpu, isa, BPF_CORE_READ(vcpu, vcpu_id));
}

SEC("fentry")
int BPF_PROG(fentry_svm_exit, struct kvm_vcpu *vcpu)
{
	handled_exit(vcpu, ISA_SVM);
	return 0;
}

SEC("fentry")
int BPF_PROG(fentry_vmx_exit, struct kvm_vcpu *vcpu)
{
	handled_exit(vcpu, ISA_VMX);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_svm_exit, struct kvm_vcpu *vcpu)
{
	handled_exit(vcpu, ISA_SVM);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_vmx_exit, struct kvm_vcpu *vcpu)
{
	handled_exit(vcpu, ISA_VMX);
	return 0;
}
