/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel differences, after libbpf-tools' core_fixes.bpf.h: the x86 vendor
 * structures kvmprof reads, as ___kvmprof flavours, and the accessors that
 * read them.  A flavour declares only the fields read here; libbpf matches
 * it by name (without the ___kvmprof suffix) to the running kernel's type,
 * in vmlinux BTF or in the BTF of the module that has it, and relocates
 * each field by name.  bpf_core_type_exists()/bpf_core_field_exists() are
 * false where the kernel has no such type or field: the accessors then
 * report the value unknown, and the loader (loader/collect/probes.c) does
 * not choose a variant whose types are missing.  Each flavour says which
 * kernel change made it necessary. */
#ifndef CORE_FIXES_BPF_H
#define CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>
#include "kvmprof.h"

#if defined(__TARGET_ARCH_x86)

/* SVM: the tp_btf kvm_exit gets (vcpu, isa), no exit reason (the tracepoint
 * fetches it through kvm_x86_ops.get_exit_info), and the exit handlers'
 * fentry/kprobe only the vcpu: the reason and EXITINFO1 are read from the
 * VMCB.  It and vcpu_svm are kvm_amd's types (arch/x86/include/asm/svm.h,
 * arch/x86/kvm/svm/svm.h), in no vmlinux BTF (so not in vmlinux.h) when
 * KVM is a module: CO-RE finds them in kvm_amd's module BTF, which kernels
 * have since Linux 5.11 ("bpf: Load and verify kernel module BTFs"). */
struct vmcb_control_area___kvmprof {
	u64 exit_code;
	u64 exit_info_1;
} __attribute__((preserve_access_index));

/* SVM: the guest's CS base (the emulated instruction's linear address) in
 * the VMCB's save area; the same module BTF as above (Linux 5.11). */
struct vmcb_seg___kvmprof {
	u64 base;
} __attribute__((preserve_access_index));

/* the VMCB's save area, with the guest's segments (Linux 5.11, as above) */
struct vmcb_save_area___kvmprof {
	struct vmcb_seg___kvmprof cs;
} __attribute__((preserve_access_index));

/* the VMCB: control area, then save area (Linux 5.11, as above) */
struct vmcb___kvmprof {
	struct vmcb_control_area___kvmprof control;
	struct vmcb_save_area___kvmprof save;
} __attribute__((preserve_access_index));

/* kvm_amd's vCPU, which starts with struct kvm_vcpu: module BTF as above
 * (Linux 5.11). */
struct vcpu_svm___kvmprof {
	struct vmcb___kvmprof *vmcb;
} __attribute__((preserve_access_index));

/* VMX: vcpu_vmx.exit_reason is a union since Linux 5.12 ("KVM: VMX: Convert
 * vcpu_vmx.exit_reason to a union", for the bus lock exit bit); a plain u32
 * before, where .full does not relocate. */
union vmx_exit_reason___kvmprof {
	u32 full;
} __attribute__((preserve_access_index));

/* VMX: the VMCS segment fields are cached since Linux 3.0 ("KVM: VMX: Cache
 * vmcs segment fields"), each valid only while regs_avail has
 * VCPU_EXREG_SEGMENTS and its bit in segment_cache.bitmask is set. */
struct kvm_save_segment___kvmprof {
	unsigned long base;
} __attribute__((preserve_access_index));

/* kvm_intel's vCPU (arch/x86/kvm/vmx/vmx.h), in kvm_intel's module BTF when
 * KVM is a module (Linux 5.11).  exit_qualification: since Linux 5.8 ("KVM:
 * VMX: Cache vmcs.EXIT_QUALIFICATION using arch avail_reg flags") it is
 * read from the VMCS only on demand, and holds this exit's only while
 * regs_avail has VCPU_EXREG_EXIT_INFO_1. */
struct vcpu_vmx___kvmprof {
	union vmx_exit_reason___kvmprof exit_reason;
	unsigned long exit_qualification;
	struct {
		u32 bitmask;	/* 4 bits per segment, one per field */
		struct kvm_save_segment___kvmprof seg[8];
	} segment_cache;
} __attribute__((preserve_access_index));

/* PVM ("KVM: x86/PVM: Introduce a new hypervisor", Lai Jiangshan et al.,
 * an RFC series of 2024, not in mainline; this project's host runs it)
 * keeps the guest's segments in its vCPU, with neither VMCS nor VMCB. */
struct vcpu_pvm___kvmprof {
	struct kvm_segment seg[8];
} __attribute__((preserve_access_index));

/* The VCPU_EXREG_* bits of what VMX has read from the VMCS since the exit,
 * which the two VMX caches above need (Linux 3.0, 5.8): flavoured so that a
 * kernel without the field fails bpf_core_field_exists(), not the load. */
struct kvm_vcpu_arch___kvmprof {
	u32 regs_avail;
} __attribute__((preserve_access_index));

/* The exit reason where the vendor code keeps it, as the kvm_exit
 * tracepoint reads it. */
static __always_inline __u32 vcpu_exit_reason(struct kvm_vcpu *vcpu, __u32 isa)
{
	if (isa == ISA_SVM && bpf_core_type_exists(struct vcpu_svm___kvmprof))
		return BPF_CORE_READ((struct vcpu_svm___kvmprof *)vcpu, vmcb, control.exit_code);
	if (isa == ISA_VMX && bpf_core_type_exists(struct vcpu_vmx___kvmprof))
		return BPF_CORE_READ((struct vcpu_vmx___kvmprof *)vcpu, exit_reason.full);
	return 0xffffffff;	/* the loader only picks this with the type present */
}

/* info1 where the vcpu has it.  SVM: EXITINFO1 is in the VMCB.  VMX: the
 * exit qualification is read from the VMCS lazily (vmx_get_exit_qual());
 * vmx->exit_qualification holds it only when regs_avail has
 * VCPU_EXREG_EXIT_INFO_1, e.g. when the kvm_exit tracepoint's own record was
 * built first.  BPF cannot VMREAD: otherwise unknown. */
static __always_inline bool vcpu_exit_info1(struct kvm_vcpu *vcpu, __u32 isa, __u64 *info1)
{
	if (isa == ISA_SVM && bpf_core_type_exists(struct vcpu_svm___kvmprof)) {
		*info1 = BPF_CORE_READ((struct vcpu_svm___kvmprof *)vcpu, vmcb, control.exit_info_1);
		return true;
	}
	if (isa == ISA_VMX && bpf_core_type_exists(struct vcpu_vmx___kvmprof) &&
	    bpf_core_field_exists(struct vcpu_vmx___kvmprof, exit_qualification) &&
	    bpf_core_field_exists(struct kvm_vcpu_arch___kvmprof, regs_avail) &&
	    bpf_core_enum_value_exists(enum kvm_reg, VCPU_EXREG_EXIT_INFO_1)) {
		struct kvm_vcpu_arch___kvmprof *arch = (void *)&vcpu->arch;
		__u32 avail = BPF_CORE_READ(arch, regs_avail);

		if (!(avail & (1U << bpf_core_enum_value(enum kvm_reg, VCPU_EXREG_EXIT_INFO_1))))
			return false;
		*info1 = BPF_CORE_READ((struct vcpu_vmx___kvmprof *)vcpu, exit_qualification);
		return true;
	}
	return false;
}

/* CS base where the vendor code keeps it, as its get_segment_base() reads
 * it for the tracepoint's csbase; RIP_UNKNOWN if not known here.  VMX has it
 * cached when the emulator's fetch linearized through CS (the usual case). */
static __always_inline __u64 vcpu_cs_base(struct kvm_vcpu *vcpu)
{
	if (bpf_core_type_exists(struct vcpu_svm___kvmprof))
		return BPF_CORE_READ((struct vcpu_svm___kvmprof *)vcpu, vmcb, save.cs.base);
	if (bpf_core_type_exists(struct vcpu_vmx___kvmprof)) {
		struct vcpu_vmx___kvmprof *vmx = (void *)vcpu;
		struct kvm_vcpu_arch___kvmprof *arch = (void *)&vcpu->arch;

		if (!bpf_core_field_exists(struct kvm_vcpu_arch___kvmprof, regs_avail) ||
		    !bpf_core_enum_value_exists(enum kvm_reg, VCPU_EXREG_SEGMENTS) ||
		    !(BPF_CORE_READ(arch, regs_avail) & 1U << bpf_core_enum_value(enum kvm_reg, VCPU_EXREG_SEGMENTS)) ||
		    !(BPF_CORE_READ(vmx, segment_cache.bitmask) & 1u << (VCPU_SREG_CS * 4 + 1)))
			return RIP_UNKNOWN;	/* SEG_FIELD_BASE of CS not cached */
		return BPF_CORE_READ(vmx, segment_cache.seg[VCPU_SREG_CS].base);
	}
	if (bpf_core_type_exists(struct vcpu_pvm___kvmprof))
		return BPF_CORE_READ((struct vcpu_pvm___kvmprof *)vcpu, seg[VCPU_SREG_CS].base);
	return RIP_UNKNOWN;
}

/* The guest's RIP in vcpu->arch.regs, as kvm_rip_read() has it: SVM copies
 * it from the VMCB at every exit; VMX reads the VMCS on demand, so it is
 * this exit's only while regs_avail has VCPU_REGS_RIP.  RIP_UNKNOWN else. */
static __always_inline __u64 vcpu_rip(struct kvm_vcpu *vcpu)
{
	if (bpf_core_field_exists(struct kvm_vcpu_arch___kvmprof, regs_avail)) {
		struct kvm_vcpu_arch___kvmprof *arch = (void *)&vcpu->arch;

		if (!(BPF_CORE_READ(arch, regs_avail) & 1U << bpf_core_enum_value(enum kvm_reg, VCPU_REGS_RIP)))
			return RIP_UNKNOWN;
	}
	return BPF_CORE_READ(vcpu, arch.regs[VCPU_REGS_RIP]);
}

/* kvm_inj_virq's record before "KVM: x86: Trace re-injected interrupts
 * and exceptions" and the soft flag (Linux 5.12-6.0): the vector alone,
 * named irq (Debian 11's 5.10 has this one). */
struct trace_event_raw_kvm_inj_virq___v510 {
	unsigned int irq;
} __attribute__((preserve_access_index));
#endif /* __TARGET_ARCH_x86 */

/* The task's state: task_struct.state became __state in Linux 5.14
 * ("sched: Change task_struct::state"); 5.10's is the old name. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

/* t is a BTF pointer (a tp_btf argument): loaded directly, without the
 * probe-read helper's call on every context switch */
static __always_inline long task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return t->__state;
	return ((struct task_struct___pre514 *)t)->state;
}

#endif /* CORE_FIXES_BPF_H */
