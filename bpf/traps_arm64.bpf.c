// SPDX-License-Identifier: GPL-2.0
/* kvmprof's arm64 programs: exits by exception class, HVCs by immediate and
 * function id, WFI/WFE, system-register traps and stage-2 faults, in each
 * attach variant.  Linked with kvmprof.bpf.c, which defines the maps and
 * switches this unit uses.  Field layouts: arch/arm64/include/asm/esr.h. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "aggregate.bpf.h"

#define ESR_EC_SHIFT 26
#define ESR_IMM16_MASK 0xffffULL	/* HVC/SMC immediate */
#define ARM_EXIT_WITH_SERROR_BIT 31
#define ESR_EC_WFX 0x01	/* ESR_ELx_EC_WFx: a trapped WFI (a halt) or WFE */

/* The exit code as the kvm_exit tracepoint records it: the exception type
 * without the SError flag, and the EC only for traps. */
static __always_inline void arm64_exit(int ret, __u32 ec, __u32 vcpu, __u64 pc)
{
	__u32 type = (__u32)ret & ~(1U << ARM_EXIT_WITH_SERROR_BIT);

	if (type != ARM_EXCEPTION_TRAP)
		ec = 0;
	on_exit(ISA_ARM64, (type & 0xffffff) << EXIT_ARM64_TYPE_SHIFT | (ec & EXIT_ARM64_EC_MASK),
		vcpu, 0, 0, pc, ec == ESR_EC_WFX);
}

static __always_inline void arm64_hvc(__u64 r0, __u64 imm)
{
	count_trap(CLASS_HYPERCALL, (imm & ESR_IMM16_MASK) << HVC_IMM_SHIFT | (r0 & HVC_FUNC_MASK));
}

/* ISS of a trapped mrs/msr (EC 0x18): Op0 [21:20], Op2 [19:17], Op1 [16:14],
 * CRn [13:10], Rt [9:5], CRm [4:1], direction [0] (1 = read). */
static __always_inline void arm64_sys_reg(__u64 esr)
{
	__u64 op0 = (esr >> 20) & 3, op2 = (esr >> 17) & 7, op1 = (esr >> 14) & 7;
	__u64 crn = (esr >> 10) & 0xf, crm = (esr >> 1) & 0xf;

	count_trap(CLASS_SYSREG, op0 << 19 | op1 << 16 | crn << 12 | crm << 8 | op2 << 5 |
				 (esr & 1 ? 0 : SYSREG_WRITE));
}

static __always_inline void arm64_guest_fault(__u64 esr)
{
	count_trap(CLASS_FAULT, ((esr >> ESR_EC_SHIFT) & 0x3f) << FAULT_EC_SHIFT | (esr & 0xff));
}

/* ---- classic tracepoints ---- */

SEC("tracepoint/kvm/kvm_exit")
int tp_kvm_exit(struct trace_event_raw_kvm_exit *ctx)
{
	arm64_exit(ctx->ret, ctx->esr_ec, VCPU_UNKNOWN, ctx->vcpu_pc);
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_hvc_arm64")
int tp_kvm_hvc_arm64(struct trace_event_raw_kvm_hvc_arm64 *ctx)
{
	arm64_hvc(ctx->r0, ctx->imm);
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_wfx_arm64")
int tp_kvm_wfx_arm64(struct trace_event_raw_kvm_wfx_arm64 *ctx)
{
	count_trap(CLASS_WFX, ctx->is_wfe ? 1 : 0);
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_handle_sys_reg")
int tp_kvm_handle_sys_reg(struct trace_event_raw_kvm_handle_sys_reg *ctx)
{
	arm64_sys_reg(ctx->hsr);
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_guest_fault")
int tp_kvm_guest_fault(struct trace_event_raw_kvm_guest_fault *ctx)
{
	arm64_guest_fault(ctx->hsr);
	return TP_PASS;
}

/* ---- BTF tracepoints: the arguments are the recorded values ---- */

SEC("tp_btf/kvm_exit")
int BPF_PROG(btf_kvm_exit, int ret, unsigned int esr_ec, unsigned long vcpu_pc)
{
	arm64_exit(ret, esr_ec, VCPU_UNKNOWN, vcpu_pc);
	return 0;
}

SEC("tp_btf/kvm_hvc_arm64")
int BPF_PROG(btf_kvm_hvc_arm64, unsigned long vcpu_pc, unsigned long r0, unsigned long imm)
{
	arm64_hvc(r0, imm);
	return 0;
}

SEC("tp_btf/kvm_wfx_arm64")
int BPF_PROG(btf_kvm_wfx_arm64, unsigned long vcpu_pc, bool is_wfe)
{
	count_trap(CLASS_WFX, is_wfe ? 1 : 0);
	return 0;
}

SEC("tp_btf/kvm_handle_sys_reg")
int BPF_PROG(btf_kvm_handle_sys_reg, unsigned long hsr)
{
	arm64_sys_reg(hsr);
	return 0;
}

SEC("tp_btf/kvm_guest_fault")
int BPF_PROG(btf_kvm_guest_fault, unsigned long vcpu_pc, unsigned long hsr, unsigned long hxfar,
	     unsigned long long ipa)
{
	arm64_guest_fault(hsr);
	return 0;
}

/* ---- function probes (the loader sets the function): handle_exit() runs
 * once per exit, after kvm_exit;
 * handle_hvc() (static, reached through arm_exit_handlers[ESR_ELx_EC_HVC64])
 * once per HVC, where kvm_hvc_arm64 fires.  The ESR is the vCPU's fault
 * record, x0 its saved register. ---- */

static __always_inline __u64 vcpu_esr(struct kvm_vcpu *vcpu)
{
	return BPF_CORE_READ(vcpu, arch.fault.esr_el2);
}

static __always_inline void handled_exit(struct kvm_vcpu *vcpu, int exception_index)
{
	arm64_exit(exception_index, vcpu_esr(vcpu) >> ESR_EC_SHIFT, BPF_CORE_READ(vcpu, vcpu_id),
		   BPF_CORE_READ(vcpu, arch.ctxt.regs.pc));
}

static __always_inline void handled_hvc(struct kvm_vcpu *vcpu)
{
	arm64_hvc(BPF_CORE_READ(vcpu, arch.ctxt.regs.regs[0]), vcpu_esr(vcpu));
}

SEC("fentry")
int BPF_PROG(fentry_exit, struct kvm_vcpu *vcpu, int exception_index)
{
	handled_exit(vcpu, exception_index);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_exit, struct kvm_vcpu *vcpu, int exception_index)
{
	handled_exit(vcpu, exception_index);
	return 0;
}

SEC("fentry")
int BPF_PROG(fentry_hvc, struct kvm_vcpu *vcpu)
{
	handled_hvc(vcpu);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_hvc, struct kvm_vcpu *vcpu)
{
	handled_hvc(vcpu);
	return 0;
}
