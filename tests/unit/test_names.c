// SPDX-License-Identifier: GPL-2.0
/* Names of codes from the uapi tables, exit details and device ranges. */
#include <string.h>
#include <linux/kvm.h>
#include "unit.h"
#include "model/devices.h"
#include "model/names.h"

#if defined(__x86_64__) || defined(__i386__)
#include <asm/vmx.h>
#include <asm/svm.h>

/* Every entry of the kernel's own tables (uapi asm/vmx.h, asm/svm.h), built
 * here independently of names.c, must come out of code_name by its code. */
static void test_every_uapi_exit_name(void)
{
	static const struct { __u64 code; const char *name; } vmx[] = { VMX_EXIT_REASONS },
		svm[] = { SVM_EXIT_REASONS };
	char want[128];
	size_t bad = 0;

	for (size_t i = 0; i < sizeof(vmx) / sizeof(vmx[0]); i++) {
		snprintf(want, sizeof(want), "VMX %s", vmx[i].name);
		if (strcmp(name_of(CLASS_EXIT, (__u64)ISA_VMX << 32 | vmx[i].code), want) && ++bad < 4)
			fprintf(stderr, "  VMX %llu: %s\n", (unsigned long long)vmx[i].code,
				name_of(CLASS_EXIT, (__u64)ISA_VMX << 32 | vmx[i].code));
	}
	for (size_t i = 0; i < sizeof(svm) / sizeof(svm[0]); i++) {
		snprintf(want, sizeof(want), "SVM %s", svm[i].name);
		if (strcmp(name_of(CLASS_EXIT, (__u64)ISA_SVM << 32 | (__u32)svm[i].code), want) && ++bad < 4)
			fprintf(stderr, "  SVM 0x%llx: %s\n", (unsigned long long)svm[i].code,
				name_of(CLASS_EXIT, (__u64)ISA_SVM << 32 | (__u32)svm[i].code));
	}
	CHECK(bad == 0 && sizeof(vmx) / sizeof(vmx[0]) > 60 && sizeof(svm) / sizeof(svm[0]) > 100,
	      "every VMX_EXIT_REASONS and SVM_EXIT_REASONS entry named by its code");
}
#else
static void test_every_uapi_exit_name(void) {}
#endif

static void test_names(void)
{
	CHECK_STR(vmx_exit_name(10), "CPUID");
	CHECK_STR(vmx_exit_name(30), "IO_INSTRUCTION");
	CHECK_STR(svm_exit_name(0x7b), "io");
	CHECK_STR(svm_exit_name(0x78), "hlt");
	CHECK_STR(svm_exit_name(0x400), "npf");
	CHECK_STR(kvm_exit_reason_name(KVM_EXIT_MMIO), "KVM_EXIT_MMIO");
	CHECK_STR(hypercall_name(11), "KVM_HC_SCHED_YIELD");
	CHECK(hypercall_name(0x1234) == NULL, "unknown hypercall has no name");

	CHECK_STR(name_of(CLASS_EXIT, (__u64)ISA_SVM << 32 | 0x7b), "SVM io");
	CHECK_STR(name_of(CLASS_EXIT, (__u64)ISA_SVM << 32 | 0x4e), "SVM PF excp");
	CHECK_STR(name_of(CLASS_EXIT, (__u64)ISA_SVM << 32 | 0x81), "SVM hypercall");
	CHECK_STR(name_of(CLASS_EXIT, (__u64)ISA_VMX << 32 | 10), "VMX CPUID");
	CHECK_STR(name_of(CLASS_EXIT, (__u64)ISA_VMX << 32 | 0x80000021),
		  "VMX INVALID_STATE FAILED_VMENTRY");
	/* unknown codes come out as numbers, never dropped */
	CHECK_STR(name_of(CLASS_EXIT, (__u64)ISA_VMX << 32 | 999), "VMX reason 999");
	CHECK_STR(name_of(CLASS_EXIT, (__u64)ISA_SVM << 32 | 0x12345), "SVM code 0x12345");
	CHECK_STR(name_of(CLASS_HYPERCALL, 0x1234), "hypercall 0x1234");
	CHECK_STR(name_of(CLASS_HYPERCALL, 9), "KVM_HC_CLOCK_PAIRING");
#if defined(__x86_64__)
	/* the ABI in the code's top bits keeps KVM, Hyper-V and Xen calls apart */
	CHECK_STR(name_of(CLASS_HYPERCALL, HC_CODE(HC_ABI_KVM, 11)), "KVM_HC_SCHED_YIELD");
	CHECK_STR(name_of(CLASS_HYPERCALL, HC_CODE(HC_ABI_HYPERV, 8)), "HVCALL_NOTIFY_LONG_SPIN_WAIT");
	CHECK_STR(name_of(CLASS_HYPERCALL, HC_CODE(HC_ABI_HYPERV, 0x5c)), "HVCALL_POST_MESSAGE");
	CHECK_STR(name_of(CLASS_HYPERCALL, HC_CODE(HC_ABI_HYPERV, 0xb)), "HVCALL_SEND_IPI");
	CHECK_STR(name_of(CLASS_HYPERCALL, HC_CODE(HC_ABI_HYPERV, 0x1234)), "hv 0x1234");
	CHECK_STR(name_of(CLASS_HYPERCALL, HC_CODE(HC_ABI_XEN, 29)), "__HYPERVISOR_sched_op");
	CHECK_STR(name_of(CLASS_HYPERCALL, HC_CODE(HC_ABI_XEN, 17)), "__HYPERVISOR_xen_version");
	CHECK_STR(name_of(CLASS_HYPERCALL, HC_CODE(HC_ABI_XEN, 32)), "__HYPERVISOR_event_channel_op");
	CHECK_STR(name_of(CLASS_HYPERCALL, HC_CODE(HC_ABI_XEN, 11)), "xen 11");	/* a gap */
	CHECK_STR(name_of(CLASS_HYPERCALL, HC_CODE(HC_ABI_XEN, 99)), "xen 99");
	CHECK_STR(name_of(CLASS_HYPERCALL, HC_CODE(HC_ABI_XEN, 0x1234)), "xen 4660");
	CHECK_STR(name_of(CLASS_HYPERCALL, HC_CODE(3ULL, 5)), "hypercall abi 3 0x5");
	CHECK(HC_CODE(HC_ABI_KVM, 8) != HC_CODE(HC_ABI_HYPERV, 8) &&
	      HC_CODE(HC_ABI_HYPERV, 8) != HC_CODE(HC_ABI_XEN, 8), "same number, three ABIs, three codes");
	CHECK(HC_CODE(HC_ABI_KVM, ~0ULL) >> HC_ABI_SHIFT == HC_ABI_KVM, "a wide nr cannot reach the ABI bits");
	CHECK(hv_call_name(0x1234) == NULL && xen_hypercall_name(99) == NULL, "unknown: no name");
#endif
	CHECK_STR(name_of(CLASS_EMULATE, 0x0fa2), "cpuid 0f a2 real");
	CHECK_STR(name_of(CLASS_EMULATE, 0x0f38f0 | 9ULL << EMUL_MODE_SHIFT), "movbe 0f 38 f0 prot64");
	CHECK_STR(name_of(CLASS_EMULATE, 0x90 | 5ULL << EMUL_MODE_SHIFT | EMUL_FAILED),
		  "nop 90 prot32 FAILED");
	CHECK_STR(name_of(CLASS_EMULATE, 0xe2), "loop e2 real");
	CHECK_STR(name_of(CLASS_EMULATE, 0x4f), "dec 4f real");
	CHECK_STR(name_of(CLASS_EMULATE, 0x8a), "mov 8a real");
	/* group opcodes: the ModRM byte picks the instruction */
	CHECK_STR(name_of(CLASS_EMULATE, 0xff | (EMUL_MODRM_VALID | 0xc0) << EMUL_MODRM_SHIFT),
		  "inc ff c0 real");
	CHECK_STR(name_of(CLASS_EMULATE, 0xff | (EMUL_MODRM_VALID | 0xe0) << EMUL_MODRM_SHIFT),
		  "jmp ff e0 real");
	CHECK_STR(name_of(CLASS_EMULATE, 0x0f01 | (EMUL_MODRM_VALID | 0xd9) << EMUL_MODRM_SHIFT |
				   5ULL << EMUL_MODE_SHIFT), "vmmcall 0f 01 d9 prot32");
	CHECK_STR(name_of(CLASS_PIO, PIO_WRITE | 0x3f8), "out 0x3f8");
	CHECK_STR(name_of(CLASS_PIO, 0x3f9), "in 0x3f9");
	CHECK_STR(name_of(CLASS_MMIO, 0xd0000 | 0), "unsatisfied-read 0xd0000");
	CHECK_STR(name_of(CLASS_MMIO, 0xfee00000 | 2), "write 0xfee00000");
	CHECK_STR(name_of(CLASS_USERSPACE, KVM_EXIT_IO), "KVM_EXIT_IO");
	CHECK_STR(name_of(CLASS_USERSPACE, 250), "KVM_EXIT 250");
	/* KVM_RUN's errno by its symbol: EINTR (a signal), EAGAIN (a vCPU waiting for its
	 * start-up IPI) are normal */
	CHECK_STR(name_of(CLASS_USERSPACE, USERSPACE_ERRNO | 4), "KVM_RUN -EINTR");
	CHECK_STR(name_of(CLASS_USERSPACE, USERSPACE_ERRNO | 11), "KVM_RUN -EAGAIN");
	CHECK_STR(name_of(CLASS_USERSPACE, USERSPACE_ERRNO | 4000), "KVM_RUN -errno 4000");
	CHECK_STR(name_of(CLASS_MSR, MSR_WRITE | 0x8b), "wrmsr 0x8b");
	CHECK_STR(name_of(CLASS_MSR, MSR_EXCEPTION | 0xc0000080), "rdmsr 0xc0000080 #GP");
	CHECK_STR(name_of(CLASS_CPUID, 0x80000001), "cpuid 0x80000001");
	for (int c = 0; c < NR_CLASSES; c++)
		CHECK(class_from_name(class_name(c)) == c, "class %d round trip", c);
	CHECK(class_from_name("nope") == -1, "unknown class");
}

/* arm64: the ESR class table (asm/esr.h), PSCI ids from uapi linux/psci.h,
 * SMCCC ids (linux/arm-smccc.h), system registers, fault status codes. */
static void test_arm64_names(void)
{
	char buf[128];

	CHECK_STR(esr_ec_name(0x16), "HVC64");
	CHECK_STR(esr_ec_name(0x01), "WFx");
	CHECK_STR(esr_ec_name(0x18), "SYS64");
	CHECK_STR(esr_ec_name(0x24), "DABT_LOW");
	CHECK_STR(esr_ec_name(0x20), "IABT_LOW");
	CHECK_STR(esr_ec_name(0x17), "SMC64");
	CHECK_STR(esr_ec_name(0x3c), "BRK64");
	CHECK(esr_ec_name(0x1e) == NULL, "unallocated EC 0x1e has no name");
	CHECK_STR(hvc_function_name(0x84000000), "PSCI_0_2_FN_PSCI_VERSION");
	CHECK_STR(hvc_function_name(0x84000008), "PSCI_0_2_FN_SYSTEM_OFF");
	CHECK_STR(hvc_function_name(0xc4000003), "PSCI_0_2_FN64_CPU_ON");
	CHECK_STR(hvc_function_name(0x8400000a), "PSCI_1_0_FN_PSCI_FEATURES");
	CHECK_STR(hvc_function_name(0x80000000), "ARM_SMCCC_VERSION");
	CHECK_STR(hvc_function_name(0x80000001), "ARM_SMCCC_ARCH_FEATURES");
	CHECK_STR(hvc_function_name(0x8600ff01), "ARM_SMCCC_VENDOR_HYP_CALL_UID");
	CHECK(hvc_function_name(0xc2000001) == NULL, "unknown function id has no name");
	hvc_code_name(0x84000000, buf, sizeof(buf));
	CHECK_STR(buf, "hvc #0 PSCI_0_2_FN_PSCI_VERSION");
	hvc_code_name(0x1234ULL << HVC_IMM_SHIFT | 0xc2000001, buf, sizeof(buf));
	CHECK_STR(buf, "hvc #0x1234 0xc2000001");
	CHECK_STR(sysreg_name(3 << 19 | 4 << 8), "ID_AA64PFR0_EL1");
	CHECK_STR(sysreg_name(3 << 19 | 7 << 8), "ID_AA64MMFR0_EL1");

	/* exits: exception type << 8 | EC, under ISA_ARM64 */
	CHECK_STR(name_of(CLASS_EXIT, (__u64)ISA_ARM64 << 32 | 2 << 8 | 0x16), "TRAP HVC64");
	CHECK_STR(name_of(CLASS_EXIT, (__u64)ISA_ARM64 << 32 | 2 << 8 | 0x24), "TRAP DABT_LOW");
	CHECK_STR(name_of(CLASS_EXIT, (__u64)ISA_ARM64 << 32 | 0), "IRQ");
	CHECK_STR(name_of(CLASS_EXIT, (__u64)ISA_ARM64 << 32 | 1 << 8), "SERROR");
	CHECK_STR(name_of(CLASS_EXIT, (__u64)ISA_ARM64 << 32 | 2 << 8 | 0x1e), "TRAP EC 0x1e");
	CHECK_STR(name_of(CLASS_EXIT, (__u64)ISA_ARM64 << 32 | 7 << 8), "type 7");
	CHECK_STR(name_of(CLASS_WFX, 0), "wfi");
	CHECK_STR(name_of(CLASS_WFX, 1), "wfe");
	CHECK_STR(name_of(CLASS_SYSREG, 3 << 19 | 4 << 8), "read ID_AA64PFR0_EL1");
	CHECK_STR(name_of(CLASS_SYSREG, SYSREG_WRITE | 2 << 19 | 1 << 12 | 4 << 5), "write OSLAR_EL1");
	CHECK_STR(name_of(CLASS_SYSREG, 3 << 19 | 15 << 12 | 2 << 8), "read S3_0_C15_C2_0");
	CHECK_STR(name_of(CLASS_FAULT, 0x24 << 8 | FAULT_WNR | 0x07), "data write translation L3");
	CHECK_STR(name_of(CLASS_FAULT, 0x24 << 8 | 0x0b), "data read access-flag L3");
	CHECK_STR(name_of(CLASS_FAULT, 0x20 << 8 | 0x0e), "instr permission L2");
	CHECK_STR(name_of(CLASS_FAULT, 0x24 << 8 | FAULT_S1PTW | 0x06), "data read translation L2 s1ptw");
	CHECK_STR(name_of(CLASS_FAULT, 0x24 << 8 | 0x10), "data read fsc 0x10");
	CHECK(class_traced_here(CLASS_EXIT) && class_traced_here(CLASS_MMIO), "exit, mmio everywhere");
	CHECK(class_traced_here(CLASS_PIO) != class_traced_here(CLASS_WFX), "pio or wfx, per arch");
}

static const char *detail_of(__u16 flags, __u32 detail)
{
	static char buf[128];

	exit_detail_name(flags, detail, buf, sizeof(buf));
	return buf;
}

static const char *trap_of(__u16 class, __u64 code, __u16 flags, __u32 detail)
{
	static char buf[128];

	trap_name(class, code, flags, detail, buf, sizeof(buf));
	return buf;
}

static void test_exit_detail_names(void)
{
	const __u16 b = 1 << DETAIL_SIZE_SHIFT, w = 2 << DETAIL_SIZE_SHIFT, l = 4 << DETAIL_SIZE_SHIFT;
	const __u64 svm_io = (__u64)ISA_SVM << 32 | 0x7b;

	CHECK_STR(detail_of(DETAIL_IO | DETAIL_WRITE | b, 0x3f8), "outb 0x3f8");
	CHECK_STR(detail_of(DETAIL_IO | b, 0x3f9), "inb 0x3f9");
	CHECK_STR(detail_of(DETAIL_IO | l, 0xcfc), "inl 0xcfc");
	CHECK_STR(detail_of(DETAIL_IO | DETAIL_WRITE | DETAIL_STRING | DETAIL_REP | w, 0x1f0), "rep outsw 0x1f0");
	CHECK_STR(detail_of(DETAIL_IO | DETAIL_STRING | b, 0x60), "insb 0x60");
	CHECK_STR(detail_of(DETAIL_IO | DETAIL_UNKNOWN, 0), "port unknown");
	CHECK_STR(detail_of(DETAIL_MSR, 0x10), "rdmsr 0x10");
	CHECK_STR(detail_of(DETAIL_MSR | DETAIL_WRITE, 0xc0000080), "wrmsr 0xc0000080");
	CHECK_STR(detail_of(DETAIL_MSR, 0), "rdmsr 0x0");
	CHECK_STR(detail_of(DETAIL_MSR | DETAIL_WRITE | DETAIL_UNKNOWN, 0), "wrmsr (index unknown)");
	CHECK_STR(detail_of(DETAIL_CR, 0x04), "mov to cr4");
	CHECK_STR(detail_of(DETAIL_CR, 0x13), "mov from cr3");
	CHECK_STR(detail_of(DETAIL_CR, 0x20), "clts");
	CHECK_STR(detail_of(DETAIL_CR, 0x30), "lmsw");
	CHECK_STR(detail_of(DETAIL_CR | DETAIL_UNKNOWN, 0), "cr access unknown");
	CHECK_STR(detail_of(0, 0), "");

	/* devices at the edges of their ranges */
	CHECK(pio_device(0x3f7) == NULL && pio_device(0x400) == NULL, "beside COM1: none");
	CHECK_STR(pio_device(0x3f8), "serial COM1");
	CHECK_STR(pio_device(0x3ff), "serial COM1");
	CHECK_STR(pio_device(0x2f8), "serial COM2");
	CHECK_STR(pio_device(0x3e8), "serial COM3");
	CHECK_STR(pio_device(0x2ef), "serial COM4");
	CHECK_STR(pio_device(0xcf8), "PCI config");
	CHECK_STR(pio_device(0xcff), "PCI config");
	CHECK_STR(pio_device(0x40), "PIT");
	CHECK_STR(pio_device(0x43), "PIT");
	CHECK(pio_device(0x44) == NULL, "0x44 is no PIT port");
	CHECK_STR(pio_device(0x20), "PIC master");
	CHECK_STR(pio_device(0xa1), "PIC slave");
	CHECK_STR(pio_device(0x70), "RTC/CMOS");
	CHECK_STR(pio_device(0x71), "RTC/CMOS");
	CHECK_STR(pio_device(0x60), "i8042");
	CHECK_STR(pio_device(0x64), "i8042");
	CHECK_STR(pio_device(0x3c0), "VGA");
	CHECK_STR(pio_device(0x3df), "VGA");
	CHECK_STR(pio_device(0x604), "ACPI PM (q35)");
	CHECK(pio_device(0xf4) == NULL, "guestload's end port 0xf4 has no device");
	CHECK_STR(mmio_device(0xfec00000), "IOAPIC");
	CHECK_STR(mmio_device(0xfee00000), "LAPIC");
	CHECK_STR(mmio_device(0xfed00000), "HPET");
	CHECK(mmio_device(0xfee01000) == NULL && mmio_device(0xd0000) == NULL, "no device");

	/* a whole line: code, detail, device */
	CHECK_STR(trap_of(CLASS_EXIT, svm_io, DETAIL_IO | DETAIL_WRITE | b, 0x3f8),
		  "SVM io outb 0x3f8 (serial COM1)");
	CHECK_STR(trap_of(CLASS_EXIT, svm_io, DETAIL_IO | DETAIL_UNKNOWN, 0), "SVM io port unknown");
	CHECK_STR(trap_of(CLASS_EXIT, (__u64)ISA_VMX << 32 | 31, DETAIL_MSR, 0x10), "VMX MSR_READ rdmsr 0x10");
	CHECK_STR(trap_of(CLASS_EXIT, (__u64)ISA_SVM << 32 | 0x78, 0, 0), "SVM hlt");
	CHECK_STR(trap_of(CLASS_PIO, PIO_WRITE | 0x3f8, 0, 0), "out 0x3f8 (serial COM1)");
	CHECK_STR(trap_of(CLASS_PIO, 0xf4, 0, 0), "in 0xf4");
	CHECK_STR(trap_of(CLASS_MMIO, 0xfee00000 | 2, 0, 0), "write 0xfee00000 (LAPIC)");
	{
		char buf[64];

		trap_name_fit(CLASS_EXIT, svm_io, DETAIL_IO | DETAIL_WRITE | b, 0x3f8, buf, sizeof(buf), 24);
		CHECK_STR(buf, "SVM io outb 0x3f8");	/* the device does not fit: dropped */
		trap_name_fit(CLASS_PIO, PIO_WRITE | 0x3f8, 0, 0, buf, sizeof(buf), 24);
		CHECK_STR(buf, "out 0x3f8 (serial COM1)");
	}
}

/* The advice a full map gives: four times the room, the limit at most, and
 * at the limit no larger size to run with. */
static void test_drop_advice(void)
{
	char buf[256];

	drop_reason_advice(DROP_COUNTS_FULL, 1024, 256, buf, sizeof(buf));
	CHECK_STR(buf, "the count map is full, all its --max-keys 1024 (guest, thread, class, code) keys "
		  "taken: run with --max-keys 4096");
	drop_reason_advice(DROP_LATENCY_FULL, MAX_KEYS_LIMIT / 2, 256, buf, sizeof(buf));
	CHECK_STR(buf, "the latency map is full, all its --max-keys 2097152 (guest, thread, class, code) "
		  "keys taken: run with --max-keys 4194304");
	drop_reason_advice(DROP_COUNTS_FULL, MAX_KEYS_LIMIT, 256, buf, sizeof(buf));
	CHECK_STR(buf, "the count map is full, all its --max-keys 4194304 (guest, thread, class, code) "
		  "keys taken, the most it can have: trace fewer guests (-p)");
	drop_reason_advice(DROP_GUEST_FULL, 16384, 4096, buf, sizeof(buf));
	CHECK_STR(buf, "a guest holds --max-guest-keys 4096 keys, all one guest may: run with a larger "
		  "--max-guest-keys (at most --max-keys, 16384)");
}

void unit_names(void)
{
	test_names();
	test_drop_advice();
	test_every_uapi_exit_name();
	test_exit_detail_names();
	test_arm64_names();
}
