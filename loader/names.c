// SPDX-License-Identifier: GPL-2.0
/* Human names for trap codes, from the kernel's uapi headers. */
#include <stdio.h>
#include <string.h>
#include <capstone/capstone.h>
#include <asm/svm.h>
#include <asm/vmx.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include "kvmprof.h"
#include "names.h"

struct code_name {
	__u64 code;
	const char *name;
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct code_name vmx_names[] = { VMX_EXIT_REASONS };
static const struct code_name svm_names[] = { SVM_EXIT_REASONS };

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

static const char *const class_names[NR_CLASSES] = {
	[CLASS_EXIT] = "exit", [CLASS_HYPERCALL] = "hypercall", [CLASS_EMULATE] = "emulate",
	[CLASS_PIO] = "pio", [CLASS_MMIO] = "mmio", [CLASS_USERSPACE] = "userspace",
	[CLASS_MSR] = "msr", [CLASS_CPUID] = "cpuid",
};

static const char *lookup(const struct code_name *t, size_t n, __u64 code)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return NULL;
}

const char *class_name(unsigned int class)
{
	return class < NR_CLASSES ? class_names[class] : NULL;
}

int class_from_name(const char *name)
{
	for (int i = 0; i < NR_CLASSES; i++)
		if (!strcmp(name, class_names[i]))
			return i;
	return -1;
}

const char *class_latency_label(unsigned int class)
{
	if (class == CLASS_EXIT)
		return "exit->entry";
	if (class == CLASS_USERSPACE)
		return "time in VMM";
	return NULL;
}

const char *vmx_exit_name(__u32 reason)
{
	return lookup(vmx_names, ARRAY_SIZE(vmx_names), reason);
}

const char *svm_exit_name(__u32 reason)
{
	return lookup(svm_names, ARRAY_SIZE(svm_names), reason);
}

const char *kvm_exit_reason_name(__u32 reason)
{
	return lookup(kvm_exit_names, ARRAY_SIZE(kvm_exit_names), reason);
}

const char *hypercall_name(__u64 nr)
{
	return lookup(hypercall_names, ARRAY_SIZE(hypercall_names), nr);
}

static const char *emulate_mode_name(unsigned int mode)
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

/* The mnemonic capstone decodes from the opcode bytes (and ModRM, where it
 * picks the instruction), padded with zeros for operands; NULL if none. */
static const char *emulate_mnemonic(const __u8 *bytes, size_t len, unsigned int mode)
{
	static csh handles[3];
	static bool opened[3];
	static char mnemonic[32];
	int h = mode == 9 ? 2 : mode == 5 ? 1 : 0;
	const cs_mode cs_modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
	__u8 padded[24] = {};
	cs_insn *insn;

	if (!opened[h]) {
		if (cs_open(CS_ARCH_X86, cs_modes[h], &handles[h]) != CS_ERR_OK)
			return NULL;
		opened[h] = true;
	}
	memcpy(padded, bytes, len);
	if (cs_disasm(handles[h], padded, sizeof(padded), 0, 1, &insn) != 1)
		return NULL;
	snprintf(mnemonic, sizeof(mnemonic), "%s", insn->mnemonic);
	cs_free(insn, 1);
	return mnemonic;
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
	const char *mnemonic;

	/* the opcode's 1 to 3 bytes, most significant first */
	for (int shift = op > 0xffff ? 16 : op > 0xff ? 8 : 0; shift >= 0; shift -= 8)
		bytes[n++] = (op >> shift) & 0xff;
	if (modrm & EMUL_MODRM_VALID)
		bytes[n++] = modrm & 0xff;
	for (size_t i = 0; i < n; i++)
		h += snprintf(hex + h, sizeof(hex) - h, "%s%02x", i ? " " : "", bytes[i]);
	mnemonic = emulate_mnemonic(bytes, n, mode);
	snprintf(buf, size, "%s %s %s%s", mnemonic ? mnemonic : "?", hex, emulate_mode_name(mode),
		 code & EMUL_FAILED ? " FAILED" : "");
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
	} else {
		snprintf(buf, size, "isa %u reason 0x%x", isa, reason);
	}
}

void code_name(unsigned int class, __u64 code, char *buf, size_t size)
{
	const char *name;

	switch (class) {
	case CLASS_EXIT:
		exit_code_name(code, buf, size);
		return;
	case CLASS_HYPERCALL:
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
		if (code & USERSPACE_ERRNO) {
			__u32 err = (__u32)code;

			snprintf(buf, size, "%s (errno %u)", err == 4 ? "restart" : "error", err);
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
	}
	snprintf(buf, size, "class %u code 0x%llx", class, (unsigned long long)code);
}
