// SPDX-License-Identifier: GPL-2.0
/* Human names for trap codes, from the kernel's uapi headers. */
#include <stdio.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#define NAMES_X86 1	/* VMX/SVM names exist only in x86's uapi headers */
#include <asm/svm.h>
#include <asm/vmx.h>
#include <stdint.h>	/* xen/xen.h needs the fixed-width types first */
/* the current hypercall numbers, not the pre-3.2 compat aliases */
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#include <xen/xen.h>	/* Debian libxen-dev: __HYPERVISOR_* */
#else
#define VMX_EXIT_REASONS_FAILED_VMENTRY 0x80000000	/* asm/vmx.h */
#endif
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <linux/psci.h>
#include "kvmprof.h"
#include "model/counters.h"
#include "model/devices.h"
#include "model/names.h"
#include "util/common.h"
#include "util/disasm.h"

#ifdef NAMES_X86	/* the BPF side decodes these reasons from asm/vmx.h, asm/svm.h too */
_Static_assert(EXIT_REASON_IO_INSTRUCTION == 30 && EXIT_REASON_MSR_READ == 31 &&
	       EXIT_REASON_MSR_WRITE == 32 && EXIT_REASON_CR_ACCESS == 28, "VMX reasons");
_Static_assert(SVM_EXIT_IOIO == 0x7b && SVM_EXIT_MSR == 0x7c, "SVM exit codes");
#endif

struct code_name {
	__u64 code;
	const char *name;
};

#ifdef NAMES_X86
static const struct code_name vmx_names[] = { VMX_EXIT_REASONS };
static const struct code_name svm_names[] = { SVM_EXIT_REASONS };
#endif

/* linux/kvm.h and linux/kvm_para.h define the numbers but no name tables:
 * the names are spelled from the macros, so a number cannot drift. */
#define KVM_EXIT(x) { KVM_EXIT_##x, "KVM_EXIT_" #x }
static const struct code_name kvm_exit_names[] = {
	KVM_EXIT(UNKNOWN), KVM_EXIT(EXCEPTION), KVM_EXIT(IO), KVM_EXIT(HYPERCALL),
	KVM_EXIT(DEBUG), KVM_EXIT(HLT), KVM_EXIT(MMIO), KVM_EXIT(IRQ_WINDOW_OPEN),
	KVM_EXIT(SHUTDOWN), KVM_EXIT(FAIL_ENTRY), KVM_EXIT(INTR), KVM_EXIT(SET_TPR),
	KVM_EXIT(TPR_ACCESS), KVM_EXIT(S390_SIEIC), KVM_EXIT(S390_RESET), KVM_EXIT(DCR),
	KVM_EXIT(NMI), KVM_EXIT(INTERNAL_ERROR), KVM_EXIT(OSI), KVM_EXIT(PAPR_HCALL),
	KVM_EXIT(S390_UCONTROL), KVM_EXIT(WATCHDOG), KVM_EXIT(S390_TSCH), KVM_EXIT(EPR),
	KVM_EXIT(SYSTEM_EVENT), KVM_EXIT(S390_STSI), KVM_EXIT(IOAPIC_EOI), KVM_EXIT(HYPERV),
	KVM_EXIT(ARM_NISV), KVM_EXIT(X86_RDMSR), KVM_EXIT(X86_WRMSR), KVM_EXIT(DIRTY_RING_FULL),
	KVM_EXIT(AP_RESET_HOLD), KVM_EXIT(X86_BUS_LOCK), KVM_EXIT(XEN), KVM_EXIT(RISCV_SBI),
	KVM_EXIT(RISCV_CSR), KVM_EXIT(NOTIFY),
};

#define KVM_HC(x) { KVM_HC_##x, "KVM_HC_" #x }
static const struct code_name hypercall_names[] = {
	KVM_HC(VAPIC_POLL_IRQ), KVM_HC(MMU_OP), KVM_HC(FEATURES), KVM_HC(PPC_MAP_MAGIC_PAGE),
	KVM_HC(KICK_CPU), KVM_HC(MIPS_GET_CLOCK_FREQ), KVM_HC(MIPS_EXIT_VM),
	KVM_HC(MIPS_CONSOLE_OUTPUT), KVM_HC(CLOCK_PAIRING), KVM_HC(SEND_IPI),
	KVM_HC(SCHED_YIELD), KVM_HC(MAP_GPA_RANGE),
};

#ifdef NAMES_X86
/* Hyper-V call codes: no uapi or library header has them; these are Linux's
 * HVCALL_* of include/asm-generic/hyperv-tlfs.h (6.6), which follow
 * Microsoft's Hypervisor TLFS. */
static const struct code_name hv_call_names[] = {
	{ 0x0002, "HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE" }, { 0x0003, "HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST" },
	{ 0x0008, "HVCALL_NOTIFY_LONG_SPIN_WAIT" }, { 0x000b, "HVCALL_SEND_IPI" },
	{ 0x000f, "HVCALL_ENABLE_VP_VTL" }, { 0x0013, "HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX" },
	{ 0x0014, "HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX" }, { 0x0015, "HVCALL_SEND_IPI_EX" },
	{ 0x0046, "HVCALL_GET_PARTITION_ID" }, { 0x0048, "HVCALL_DEPOSIT_MEMORY" },
	{ 0x004e, "HVCALL_CREATE_VP" }, { 0x0050, "HVCALL_GET_VP_REGISTERS" },
	{ 0x0051, "HVCALL_SET_VP_REGISTERS" }, { 0x005c, "HVCALL_POST_MESSAGE" },
	{ 0x005d, "HVCALL_SIGNAL_EVENT" }, { 0x0069, "HVCALL_POST_DEBUG_DATA" },
	{ 0x006a, "HVCALL_RETRIEVE_DEBUG_DATA" }, { 0x006b, "HVCALL_RESET_DEBUG_SESSION" },
	{ 0x0076, "HVCALL_ADD_LOGICAL_PROCESSOR" }, { 0x007c, "HVCALL_MAP_DEVICE_INTERRUPT" },
	{ 0x007d, "HVCALL_UNMAP_DEVICE_INTERRUPT" }, { 0x007e, "HVCALL_RETARGET_INTERRUPT" },
	{ 0x0099, "HVCALL_START_VP" }, { 0x009a, "HVCALL_GET_VP_ID_FROM_APIC_ID" },
	{ 0x00af, "HVCALL_FLUSH_GUEST_PHYSICAL_ADDRESS_SPACE" },
	{ 0x00b0, "HVCALL_FLUSH_GUEST_PHYSICAL_ADDRESS_LIST" },
	{ 0x00db, "HVCALL_MODIFY_SPARSE_GPA_PAGE_HOST_VISIBILITY" },
};

#define XEN_HC(x) { __HYPERVISOR_##x, "__HYPERVISOR_" #x }
static const struct code_name xen_hc_names[] = {
	XEN_HC(set_trap_table), XEN_HC(mmu_update), XEN_HC(set_gdt), XEN_HC(stack_switch),
	XEN_HC(set_callbacks), XEN_HC(fpu_taskswitch), XEN_HC(sched_op_compat), XEN_HC(platform_op),
	XEN_HC(set_debugreg), XEN_HC(get_debugreg), XEN_HC(update_descriptor), XEN_HC(memory_op),
	XEN_HC(multicall), XEN_HC(update_va_mapping), XEN_HC(set_timer_op),
	XEN_HC(event_channel_op_compat), XEN_HC(xen_version), XEN_HC(console_io),
	XEN_HC(physdev_op_compat), XEN_HC(grant_table_op), XEN_HC(vm_assist),
	XEN_HC(update_va_mapping_otherdomain), XEN_HC(iret), XEN_HC(vcpu_op), XEN_HC(set_segment_base),
	XEN_HC(mmuext_op), XEN_HC(xsm_op), XEN_HC(nmi_op), XEN_HC(sched_op), XEN_HC(callback_op),
	XEN_HC(xenoprof_op), XEN_HC(event_channel_op), XEN_HC(physdev_op), XEN_HC(hvm_op),
	XEN_HC(sysctl), XEN_HC(domctl), XEN_HC(kexec_op), XEN_HC(tmem_op), XEN_HC(argo_op),
	XEN_HC(xenpmu_op), XEN_HC(dm_op), XEN_HC(hypfs_op),
};
_Static_assert(__HYPERVISOR_sched_op == 29, "xen/xen.h: current numbers, not compat aliases");
#endif

/* ESR_ELx exception classes: the kernel's ESR_ELx_EC_* in
 * arch/arm64/include/asm/esr.h (kernel-internal, not uapi; Linux 6.1). */
static const struct code_name esr_ec_names[] = {
	{ 0x00, "UNKNOWN" }, { 0x01, "WFx" }, { 0x03, "CP15_32" }, { 0x04, "CP15_64" },
	{ 0x05, "CP14_MR" }, { 0x06, "CP14_LS" }, { 0x07, "FP_ASIMD" }, { 0x08, "CP10_ID" },
	{ 0x09, "PAC" }, { 0x0c, "CP14_64" }, { 0x0d, "BTI" }, { 0x0e, "ILL" },
	{ 0x11, "SVC32" }, { 0x12, "HVC32" }, { 0x13, "SMC32" }, { 0x15, "SVC64" },
	{ 0x16, "HVC64" }, { 0x17, "SMC64" }, { 0x18, "SYS64" }, { 0x19, "SVE" },
	{ 0x1a, "ERET" }, { 0x1c, "FPAC" }, { 0x1d, "SME" }, { 0x1f, "IMP_DEF" },
	{ 0x20, "IABT_LOW" }, { 0x21, "IABT_CUR" }, { 0x22, "PC_ALIGN" }, { 0x24, "DABT_LOW" },
	{ 0x25, "DABT_CUR" }, { 0x26, "SP_ALIGN" }, { 0x28, "FP_EXC32" }, { 0x2c, "FP_EXC64" },
	{ 0x2f, "SERROR" }, { 0x30, "BREAKPT_LOW" }, { 0x31, "BREAKPT_CUR" },
	{ 0x32, "SOFTSTP_LOW" }, { 0x33, "SOFTSTP_CUR" }, { 0x34, "WATCHPT_LOW" },
	{ 0x35, "WATCHPT_CUR" }, { 0x38, "BKPT32" }, { 0x3a, "VECTOR32" }, { 0x3c, "BRK64" },
};

/* kvm_exit's exception types: ARM_EXCEPTION_* in arch/arm64/include/asm/kvm_asm.h,
 * named as the tracepoint names them (ILLEGAL is ARM_EXCEPTION_IL). */
static const struct code_name arm64_exception_names[] = {
	{ 0, "IRQ" }, { 1, "SERROR" }, { 2, "TRAP" }, { 3, "ILLEGAL" },
};

/* HVC function ids in w0: PSCI from uapi linux/psci.h, spelled from the
 * macros; SMCCC and KVM's own from include/linux/arm-smccc.h (not uapi). */
#define PSCI(m) { m, #m }
static const struct code_name hvc_function_names[] = {
	PSCI(PSCI_0_2_FN_PSCI_VERSION), PSCI(PSCI_0_2_FN_CPU_SUSPEND), PSCI(PSCI_0_2_FN_CPU_OFF),
	PSCI(PSCI_0_2_FN_CPU_ON), PSCI(PSCI_0_2_FN_AFFINITY_INFO), PSCI(PSCI_0_2_FN_MIGRATE),
	PSCI(PSCI_0_2_FN_MIGRATE_INFO_TYPE), PSCI(PSCI_0_2_FN_MIGRATE_INFO_UP_CPU),
	PSCI(PSCI_0_2_FN_SYSTEM_OFF), PSCI(PSCI_0_2_FN_SYSTEM_RESET),
	PSCI(PSCI_0_2_FN64_CPU_SUSPEND), PSCI(PSCI_0_2_FN64_CPU_ON),
	PSCI(PSCI_0_2_FN64_AFFINITY_INFO), PSCI(PSCI_0_2_FN64_MIGRATE),
	PSCI(PSCI_0_2_FN64_MIGRATE_INFO_UP_CPU),
#ifdef PSCI_1_0_FN_PSCI_FEATURES
	PSCI(PSCI_1_0_FN_PSCI_FEATURES), PSCI(PSCI_1_0_FN_CPU_FREEZE),
	PSCI(PSCI_1_0_FN_CPU_DEFAULT_SUSPEND), PSCI(PSCI_1_0_FN_NODE_HW_STATE),
	PSCI(PSCI_1_0_FN_SYSTEM_SUSPEND), PSCI(PSCI_1_0_FN_SET_SUSPEND_MODE),
	PSCI(PSCI_1_0_FN_STAT_RESIDENCY), PSCI(PSCI_1_0_FN_STAT_COUNT),
	PSCI(PSCI_1_0_FN64_CPU_DEFAULT_SUSPEND), PSCI(PSCI_1_0_FN64_NODE_HW_STATE),
	PSCI(PSCI_1_0_FN64_SYSTEM_SUSPEND), PSCI(PSCI_1_0_FN64_STAT_RESIDENCY),
	PSCI(PSCI_1_0_FN64_STAT_COUNT),
#endif
#ifdef PSCI_1_1_FN_SYSTEM_RESET2
	PSCI(PSCI_1_1_FN_SYSTEM_RESET2), PSCI(PSCI_1_1_FN_MEM_PROTECT),
	PSCI(PSCI_1_1_FN_MEM_PROTECT_CHECK_RANGE), PSCI(PSCI_1_1_FN64_SYSTEM_RESET2),
	PSCI(PSCI_1_1_FN64_MEM_PROTECT_CHECK_RANGE),
#endif
	{ 0x80000000, "ARM_SMCCC_VERSION" }, { 0x80000001, "ARM_SMCCC_ARCH_FEATURES" },
	{ 0x80000002, "ARM_SMCCC_ARCH_SOC_ID" }, { 0x80008000, "ARM_SMCCC_ARCH_WORKAROUND_1" },
	{ 0x80007fff, "ARM_SMCCC_ARCH_WORKAROUND_2" }, { 0x80003fff, "ARM_SMCCC_ARCH_WORKAROUND_3" },
	{ 0x84000050, "ARM_SMCCC_TRNG_VERSION" }, { 0x84000051, "ARM_SMCCC_TRNG_FEATURES" },
	{ 0x84000052, "ARM_SMCCC_TRNG_GET_UUID" }, { 0x84000053, "ARM_SMCCC_TRNG_RND32" },
	{ 0xc4000053, "ARM_SMCCC_TRNG_RND64" }, { 0xc5000020, "ARM_SMCCC_HV_PV_TIME_FEATURES" },
	{ 0xc5000021, "ARM_SMCCC_HV_PV_TIME_ST" }, { 0x8600ff01, "ARM_SMCCC_VENDOR_HYP_CALL_UID" },
	{ 0x86000000, "ARM_SMCCC_VENDOR_HYP_KVM_FEATURES" },
	{ 0x86000001, "ARM_SMCCC_VENDOR_HYP_KVM_PTP" },
};

/* System registers KVM traps, as sys_reg(op0, op1, CRn, CRm, op2) in
 * arch/arm64/include/asm/sysreg.h encodes them; others print as S<op0>_... */
#define SR(op0, op1, crn, crm, op2) ((op0) << 19 | (op1) << 16 | (crn) << 12 | (crm) << 8 | (op2) << 5)
static const struct code_name sysreg_names[] = {
	{ SR(3, 0, 0, 0, 0), "MIDR_EL1" }, { SR(3, 0, 0, 0, 5), "MPIDR_EL1" },
	{ SR(3, 0, 0, 0, 6), "REVIDR_EL1" }, { SR(3, 0, 0, 4, 0), "ID_AA64PFR0_EL1" },
	{ SR(3, 0, 0, 4, 1), "ID_AA64PFR1_EL1" }, { SR(3, 0, 0, 4, 4), "ID_AA64ZFR0_EL1" },
	{ SR(3, 0, 0, 4, 5), "ID_AA64SMFR0_EL1" }, { SR(3, 0, 0, 5, 0), "ID_AA64DFR0_EL1" },
	{ SR(3, 0, 0, 5, 1), "ID_AA64DFR1_EL1" }, { SR(3, 0, 0, 5, 4), "ID_AA64AFR0_EL1" },
	{ SR(3, 0, 0, 5, 5), "ID_AA64AFR1_EL1" }, { SR(3, 0, 0, 6, 0), "ID_AA64ISAR0_EL1" },
	{ SR(3, 0, 0, 6, 1), "ID_AA64ISAR1_EL1" }, { SR(3, 0, 0, 6, 2), "ID_AA64ISAR2_EL1" },
	{ SR(3, 0, 0, 7, 0), "ID_AA64MMFR0_EL1" }, { SR(3, 0, 0, 7, 1), "ID_AA64MMFR1_EL1" },
	{ SR(3, 0, 0, 7, 2), "ID_AA64MMFR2_EL1" }, { SR(3, 0, 1, 0, 0), "SCTLR_EL1" },
	{ SR(3, 0, 1, 0, 1), "ACTLR_EL1" }, { SR(3, 0, 2, 0, 0), "TTBR0_EL1" },
	{ SR(3, 0, 2, 0, 1), "TTBR1_EL1" }, { SR(3, 0, 2, 0, 2), "TCR_EL1" },
	{ SR(3, 0, 10, 2, 0), "MAIR_EL1" }, { SR(3, 0, 10, 4, 7), "LORID_EL1" },
	{ SR(3, 0, 12, 11, 5), "ICC_SGI1R_EL1" }, { SR(3, 0, 12, 12, 5), "ICC_SRE_EL1" },
	{ SR(3, 1, 0, 0, 0), "CCSIDR_EL1" }, { SR(3, 1, 0, 0, 1), "CLIDR_EL1" },
	{ SR(3, 2, 0, 0, 0), "CSSELR_EL1" }, { SR(3, 3, 0, 0, 1), "CTR_EL0" },
	{ SR(3, 3, 9, 12, 0), "PMCR_EL0" }, { SR(3, 3, 9, 13, 0), "PMCCNTR_EL0" },
	{ SR(3, 3, 9, 14, 0), "PMUSERENR_EL0" }, { SR(3, 3, 14, 2, 0), "CNTP_TVAL_EL0" },
	{ SR(3, 3, 14, 2, 1), "CNTP_CTL_EL0" }, { SR(3, 3, 14, 2, 2), "CNTP_CVAL_EL0" },
	{ SR(2, 0, 0, 2, 2), "MDSCR_EL1" }, { SR(2, 0, 1, 0, 4), "OSLAR_EL1" },
	{ SR(2, 0, 1, 1, 4), "OSLSR_EL1" }, { SR(2, 0, 1, 3, 4), "OSDLR_EL1" },
	{ SR(2, 3, 0, 1, 0), "MDCCSR_EL0" }, { SR(1, 0, 7, 6, 2), "DC_ISW" },
	{ SR(1, 0, 7, 10, 2), "DC_CSW" }, { SR(1, 0, 7, 14, 2), "DC_CISW" },
};

/* Fault status codes of stage-2 aborts (ESR ISS bits 0-5, ESR_ELx_FSC_*):
 * 0b0000LL address size, 0b0001LL translation, 0b0010LL access flag,
 * 0b0011LL permission, LL the table level. */
static const char *const fsc_kinds[4] = { "address-size", "translation", "access-flag", "permission" };

static const char *lookup(const struct code_name *t, size_t n, __u64 code)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return NULL;
}

const char *vmx_exit_name(__u32 reason)
{
#ifdef NAMES_X86
	return lookup(vmx_names, ARRAY_SIZE(vmx_names), reason);
#else
	return NULL;
#endif
}

const char *svm_exit_name(__u32 reason)
{
#ifdef NAMES_X86
	/* the table's SVM_EXIT_ERR is -1; exits carry the code's low 32 bits */
	for (size_t i = 0; i < ARRAY_SIZE(svm_names); i++)
		if ((__u32)svm_names[i].code == reason)
			return svm_names[i].name;
	return NULL;
#else
	return NULL;
#endif
}

const char *esr_ec_name(__u32 ec)
{
	return lookup(esr_ec_names, ARRAY_SIZE(esr_ec_names), ec);
}

const char *hvc_function_name(__u32 function_id)
{
	return lookup(hvc_function_names, ARRAY_SIZE(hvc_function_names), function_id);
}

const char *sysreg_name(__u32 encoding)
{
	return lookup(sysreg_names, ARRAY_SIZE(sysreg_names), encoding);
}

/* "hvc #0 PSCI_0_2_FN_PSCI_VERSION", "hvc #0x1234 0xc2000001" */
void hvc_code_name(__u64 code, char *buf, size_t size)
{
	unsigned long long imm = code >> HVC_IMM_SHIFT;
	__u32 fid = code & HVC_FUNC_MASK;
	const char *name = hvc_function_name(fid);

	if (name)
		snprintf(buf, size, "hvc #%#llx %s", imm, name);
	else
		snprintf(buf, size, "hvc #%#llx 0x%08x", imm, fid);
}

/* "TRAP HVC64", "IRQ", "TRAP EC 0x1e" */
static void arm64_exit_name(__u32 reason, char *buf, size_t size)
{
	__u32 type = reason >> EXIT_ARM64_TYPE_SHIFT, ec = reason & EXIT_ARM64_EC_MASK;
	const char *tname = lookup(arm64_exception_names, ARRAY_SIZE(arm64_exception_names), type);
	const char *ecname = esr_ec_name(ec);

	if (type == ARM_EXCEPTION_TRAP && ecname)
		snprintf(buf, size, "TRAP %s", ecname);
	else if (type == ARM_EXCEPTION_TRAP)
		snprintf(buf, size, "TRAP EC 0x%02x", ec);
	else if (tname)
		snprintf(buf, size, "%s", tname);
	else
		snprintf(buf, size, "type %u", type);
}

/* "read ID_AA64PFR0_EL1", "write S3_0_C15_C2_0" */
static void sysreg_code_name(__u64 code, char *buf, size_t size)
{
	__u32 enc = code & SYSREG_ENC_MASK;
	const char *name = sysreg_name(enc);
	const char *dir = code & SYSREG_WRITE ? "write" : "read";

	if (name)
		snprintf(buf, size, "%s %s", dir, name);
	else
		snprintf(buf, size, "%s S%u_%u_C%u_C%u_%u", dir, enc >> 19 & 3, enc >> 16 & 7,
			 enc >> 12 & 0xf, enc >> 8 & 0xf, enc >> 5 & 7);
}

/* "data write translation L3", "instr access-flag L2 s1ptw" */
static void fault_code_name(__u64 code, char *buf, size_t size)
{
	__u32 ec = code >> FAULT_EC_SHIFT, fsc = code & FAULT_FSC_MASK;
	const char *kind = ec == 0x20 ? "instr" : ec == 0x24 ? "data" : NULL;
	char what[32];

	if (fsc < 16)
		snprintf(what, sizeof(what), "%s L%u", fsc_kinds[fsc >> 2], fsc & 3);
	else
		snprintf(what, sizeof(what), "fsc 0x%02x", fsc);
	if (!kind)
		snprintf(buf, size, "EC 0x%02x %s%s", ec, what, code & FAULT_S1PTW ? " s1ptw" : "");
	else
		snprintf(buf, size, "%s%s %s%s", kind,
			 ec == 0x24 ? (code & FAULT_WNR ? " write" : " read") : "", what,
			 code & FAULT_S1PTW ? " s1ptw" : "");
}

const char *kvm_exit_reason_name(__u32 reason)
{
	return lookup(kvm_exit_names, ARRAY_SIZE(kvm_exit_names), reason);
}

const char *hypercall_name(__u64 nr)
{
	return lookup(hypercall_names, ARRAY_SIZE(hypercall_names), nr);
}

#ifdef NAMES_X86
const char *hv_call_name(__u64 code)
{
	return lookup(hv_call_names, ARRAY_SIZE(hv_call_names), code);
}

const char *xen_hypercall_name(__u64 nr)
{
	return lookup(xen_hc_names, ARRAY_SIZE(xen_hc_names), nr);
}

/* x86: the ABI in the code's top bits, then KVM_HC_*, HVCALL_* or
 * __HYPERVISOR_* names; unknown ones as numbers */
static void x86_hypercall_name(__u64 code, char *buf, size_t size)
{
	__u64 nr = code & HC_NR_MASK;
	const char *name, *unknown;

	switch (code >> HC_ABI_SHIFT) {
	case HC_ABI_KVM:
		name = hypercall_name(nr), unknown = "hypercall 0x%llx";
		break;
	case HC_ABI_HYPERV:
		name = hv_call_name(nr), unknown = "hv 0x%llx";
		break;
	case HC_ABI_XEN:
		name = xen_hypercall_name(nr), unknown = "xen %llu";
		break;
	default:
		snprintf(buf, size, "hypercall abi %llu 0x%llx", (unsigned long long)(code >> HC_ABI_SHIFT),
			 (unsigned long long)nr);
		return;
	}
	if (name)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, unknown, (unsigned long long)nr);
}
#endif

const char *emulate_mode_name(unsigned int mode)
{
	switch (mode) {
	case 0: return "real";
	case 3: return "vm86";
	case 1: return "prot16";
	case 5: return "prot32";
	case 9: return "prot64";
	}
	return "mode?";
}

/* The instruction capstone decodes from the opcode bytes (and ModRM, where
 * it picks the instruction), padded with zeros for operands: its mnemonic
 * is the opcode's; false if none. */
static bool emulate_decode(const __u8 *bytes, size_t len, unsigned int mode,
			   struct disasm_insn *insn)
{
	__u8 padded[24] = {};

	memcpy(padded, bytes, len);
	return disasm_x86(mode, padded, sizeof(padded), 0, insn);
}

/* "cpuid 0f a2 real", "inc ff c0 prot32 FAILED": mnemonic, opcode bytes
 * (with the ModRM byte for group opcodes), mode. */
static void emulate_code_name(__u64 code, char *buf, size_t size)
{
	__u64 op = code & EMUL_OPCODE_MASK, modrm = code >> EMUL_MODRM_SHIFT;
	unsigned int mode = (code >> EMUL_MODE_SHIFT) & 0x7f;
	__u8 bytes[4];
	char hex[16];
	size_t n = 0, h = 0;
	struct disasm_insn insn;
	bool decoded;

	/* the opcode's 1 to 3 bytes, most significant first */
	for (int shift = op > 0xffff ? 16 : op > 0xff ? 8 : 0; shift >= 0; shift -= 8)
		bytes[n++] = (op >> shift) & 0xff;
	if (modrm & EMUL_MODRM_VALID)
		bytes[n++] = modrm & 0xff;
	for (size_t i = 0; i < n; i++)
		h += snprintf(hex + h, sizeof(hex) - h, "%s%02x", i ? " " : "", bytes[i]);
	decoded = emulate_decode(bytes, n, mode, &insn);
	snprintf(buf, size, "%s %s %s%s", decoded ? insn.mnemonic : "?", hex, emulate_mode_name(mode),
		 code & EMUL_FAILED ? " FAILED" : "");
}

bool exit_is_halt(__u64 code)
{
	__u32 isa = code >> EXIT_ISA_SHIFT, reason = (__u32)code;

#ifdef NAMES_X86
	if (isa == ISA_SVM)
		return reason == SVM_EXIT_HLT;
	if (isa == ISA_VMX)
		return reason == EXIT_REASON_HLT;
#endif
	/* arm64: a trap (type 2) of EC WFx */
	return isa == ISA_ARM64 && reason == (ARM_EXCEPTION_TRAP << EXIT_ARM64_TYPE_SHIFT | 0x01);
}

static void exit_code_name(__u64 code, char *buf, size_t size)
{
	__u32 isa = code >> EXIT_ISA_SHIFT, reason = (__u32)code;
	const char *name;

	if (isa == ISA_VMX) {
		name = vmx_exit_name(reason & 0xffff);
		if (name)
			snprintf(buf, size, "VMX %s%s", name,
				 reason & VMX_EXIT_REASONS_FAILED_VMENTRY ? " FAILED_VMENTRY" : "");
		else
			snprintf(buf, size, "VMX reason %u%s", reason & 0xffff,
				 reason & VMX_EXIT_REASONS_FAILED_VMENTRY ? " FAILED_VMENTRY" : "");
	} else if (isa == ISA_SVM) {
		name = svm_exit_name(reason);
		if (name)
			snprintf(buf, size, "SVM %s", name);
		else
			snprintf(buf, size, "SVM code 0x%x", reason);
	} else if (isa == ISA_ARM64) {
		arm64_exit_name(reason, buf, size);
	} else {
		snprintf(buf, size, "isa %u reason 0x%x", isa, reason);
	}
}

void exit_detail_name(__u16 flags, __u32 detail, char *buf, size_t size)
{
	static const char *const cr_access[4] = { "mov to", "mov from", "clts", "lmsw" };
	bool write = flags & DETAIL_WRITE, unknown = flags & DETAIL_UNKNOWN;

	switch (flags & DETAIL_KIND_MASK) {
	case DETAIL_IO: {
		unsigned int size_b = (flags & DETAIL_SIZE_MASK) >> DETAIL_SIZE_SHIFT;
		const char *sfx = size_b == 1 ? "b" : size_b == 2 ? "w" : size_b == 4 ? "l" : "";

		if (unknown)	/* the direction comes with the port: neither is known */
			snprintf(buf, size, "port unknown");
		else	/* Linux's outb/inw/outsl and rep forms */
			snprintf(buf, size, "%s%s%s%s 0x%x", flags & DETAIL_REP ? "rep " : "",
				 write ? "out" : "in", flags & DETAIL_STRING ? "s" : "", sfx, detail & 0xffff);
		return;
	}
	case DETAIL_MSR:
		if (unknown)
			snprintf(buf, size, "%s (index unknown)", write ? "wrmsr" : "rdmsr");
		else
			snprintf(buf, size, "%s 0x%x", write ? "wrmsr" : "rdmsr", detail);
		return;
	case DETAIL_CR: {
		unsigned int type = (detail >> 4) & 3;

		if (unknown)
			snprintf(buf, size, "cr access unknown");
		else if (type < 2)
			snprintf(buf, size, "%s cr%u", cr_access[type], detail & 0xf);
		else
			snprintf(buf, size, "%s", cr_access[type]);
		return;
	}
	}
	if (flags)
		snprintf(buf, size, "detail 0x%x flags 0x%x", detail, flags);
	else if (size)
		buf[0] = '\0';
}

void trap_name(__u16 class, __u64 code, __u16 flags, __u32 detail, char *buf, size_t size)
{
	struct trap_key key = { .class = class, .detail_flags = flags, .detail = detail, .code = code };
	const char *device = trap_device(&key);
	size_t n;

	code_name(class, code, buf, size);
	n = strlen(buf);
	if (flags && n + 1 < size) {
		buf[n++] = ' ';
		exit_detail_name(flags, detail, buf + n, size - n);
		n += strlen(buf + n);
	}
	if (device && n < size)
		snprintf(buf + n, size - n, " (%s)", device);
}

void trap_name_fit(__u16 class, __u64 code, __u16 flags, __u32 detail, char *buf, size_t size,
		   size_t width)
{
	size_t n;

	trap_name(class, code, flags, detail, buf, size);
	if (strlen(buf) <= width)
		return;
	code_name(class, code, buf, size);
	n = strlen(buf);
	if (flags && n + 1 < size) {
		buf[n++] = ' ';
		exit_detail_name(flags, detail, buf + n, size - n);
	}
}

void code_name(unsigned int class, __u64 code, char *buf, size_t size)
{
	const char *name;

	switch (class) {
	case CLASS_EXIT:
		exit_code_name(code, buf, size);
		return;
	case CLASS_COUNTER:	/* KVM's own name for it */
		snprintf(buf, size, "%s", kvm_stat_name(code));
		return;
	case CLASS_HYPERCALL:
#if defined(__aarch64__)
		hvc_code_name(code, buf, size);
		return;
#elif defined(NAMES_X86)
		x86_hypercall_name(code, buf, size);
		return;
#endif
		name = hypercall_name(code);
		if (name)
			snprintf(buf, size, "%s", name);
		else
			snprintf(buf, size, "hypercall 0x%llx", (unsigned long long)code);
		return;
	case CLASS_EMULATE:
		emulate_code_name(code, buf, size);
		return;
	case CLASS_PIO:
		snprintf(buf, size, "%s 0x%llx", code & PIO_WRITE ? "out" : "in",
			 (unsigned long long)(code & 0xffff));
		return;
	case CLASS_MMIO: {
		static const char *const types[] = { "unsatisfied-read", "read", "write", "type3" };

		snprintf(buf, size, "%s 0x%llx", types[code & MMIO_TYPE_MASK],
			 (unsigned long long)(code & ~0xfffULL));
		return;
	}
	case CLASS_USERSPACE:
		if (code & USERSPACE_ERRNO) {	/* KVM_RUN failed: its errno by name */
			__u32 err = (__u32)code;
			const char *sym = err < 4096 ? strerrorname_np(err) : NULL;

			if (sym)
				snprintf(buf, size, "KVM_RUN -%s", sym);
			else
				snprintf(buf, size, "KVM_RUN -errno %u", err);
			return;
		}
		name = kvm_exit_reason_name(code);
		if (name)
			snprintf(buf, size, "%s", name);
		else
			snprintf(buf, size, "KVM_EXIT %llu", (unsigned long long)code);
		return;
	case CLASS_MSR:
		snprintf(buf, size, "%s 0x%llx%s", code & MSR_WRITE ? "wrmsr" : "rdmsr",
			 (unsigned long long)(code & 0xffffffff), code & MSR_EXCEPTION ? " #GP" : "");
		return;
	case CLASS_CPUID:
		snprintf(buf, size, "cpuid 0x%llx", (unsigned long long)code);
		return;
	case CLASS_WFX:
		snprintf(buf, size, "%s", code == 0 ? "wfi" : code == 1 ? "wfe" : "wfx?");
		return;
	case CLASS_SYSREG:
		sysreg_code_name(code, buf, size);
		return;
	case CLASS_FAULT:
		fault_code_name(code, buf, size);
		return;
	}
	if (!event_code_name(class, code, buf, size))
		snprintf(buf, size, "class %u code 0x%llx", class, (unsigned long long)code);
}

const char *drop_reason_name(unsigned int reason)
{
	static const char *const names[NR_DROPS] = {
		[DROP_COUNTS_FULL] = "counts_full", [DROP_LATENCY_FULL] = "latency_full",
		[DROP_STARTS_FULL] = "starts_full", [DROP_INSNS_FULL] = "insns_full",
		[DROP_FAILED_FULL] = "failed_full", [DROP_GUEST_FULL] = "guest_keys_full",
		[DROP_SLOW_LOG] = "slow_log_full", [DROP_RIPS_FULL] = "rips_full",
	};

	return reason < NR_DROPS && names[reason] ? names[reason] : "?";
}

void drop_reason_advice(unsigned int reason, long max_keys, long max_guest_keys, char *buf, size_t size)
{
	char larger[48];

	switch (reason) {
	case DROP_COUNTS_FULL:
	case DROP_LATENCY_FULL:
		/* 4x, within the option's range; at its end, no larger size */
		snprintf(larger, sizeof(larger), ": run with --max-keys %ld",
			 max_keys < MAX_KEYS_LIMIT / 4 ? max_keys * 4 : MAX_KEYS_LIMIT);
		snprintf(buf, size, "the %s map is full, all its --max-keys %ld (guest, thread, class, "
			 "code) keys taken%s", reason == DROP_COUNTS_FULL ? "count" : "latency", max_keys,
			 max_keys >= MAX_KEYS_LIMIT ? ", the most it can have: trace fewer guests (-p)" : larger);
		return;
	case DROP_GUEST_FULL:
		snprintf(buf, size, "a guest holds --max-guest-keys %ld keys, all one guest may: run with a "
			 "larger --max-guest-keys (at most --max-keys, %ld)", max_guest_keys, max_keys);
		return;
	case DROP_STARTS_FULL:
		snprintf(buf, size, "more vCPU threads at once than the time records hold (%d)", MAX_THREADS);
		return;
	case DROP_INSNS_FULL:
		snprintf(buf, size, "the --insns map is full (%d instructions and addresses)", MAX_INSN_KEYS);
		return;
	case DROP_FAILED_FULL:
		snprintf(buf, size, "the failed-emulation map is full (%d instructions)", MAX_FAILED_KEYS);
		return;
	case DROP_SLOW_LOG:
		snprintf(buf, size, "the --slow ring buffer was full: its reader fell behind");
		return;
	case DROP_RIPS_FULL:
		snprintf(buf, size, "the --rip map is full (%d guest addresses)", MAX_RIP_KEYS);
		return;
	}
	snprintf(buf, size, "drop reason %u", reason);
}
