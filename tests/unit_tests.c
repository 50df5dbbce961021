// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the loader's logic: names, histogram maths, CSV and JSON
 * quoting, command line, guest names, output files. */
#include <dirent.h>
#include <fcntl.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include "check.h"
#include "present/csv_out.h"
#include "present/json_out.h"
#include "offline/csv_read.h"
#include "model/devices.h"
#include "offline/html_report.h"
#include "model/guest_filter.h"
#include "collect/procfs.h"
#include "model/insns.h"
#include "model/names.h"
#include "model/classes.h"
#if defined(__aarch64__)
#define HOST_IS_ARM64 1
#else
#define HOST_IS_ARM64 0
#endif
#include "cli/options.h"
#include "util/outfile.h"
#include "collect/probes.h"
#include "collect/record_btf.h"
#include "present/text.h"
#include "present/lines.h"
#include "model/latency.h"
#include "model/summary.h"
#include "collect/map_reader.h"
#include "collect/procfs.h"
#include "offline/run_data.h"
#include "util/disasm.h"
#include "util/index.h"
#include "util/vec.h"

static const char *name_of(unsigned int class, __u64 code)
{
	static char buf[128];

	code_name(class, code, buf, sizeof(buf));
	return buf;
}

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
	CHECK_STR(name_of(CLASS_USERSPACE, USERSPACE_ERRNO | 4), "restart (errno 4)");
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

static void test_histogram_maths(void)
{
	__u64 lo, hi;
	char buf[32];
	struct trap_latency a = { .count = 3, .sum_ns = 300, .min_ns = 50, .max_ns = 200 };
	struct trap_latency b = { .count = 5, .sum_ns = 1000, .min_ns = 20, .max_ns = 400 };
	struct trap_latency d;

	slot_bounds(0, &lo, &hi);
	CHECK(lo == 0 && hi == 1, "slot 0 is [0,1]: %llu %llu", lo, hi);
	slot_bounds(10, &lo, &hi);
	CHECK(lo == 1024 && hi == 2047, "slot 10 is [1024,2047]: %llu %llu", lo, hi);
	slot_bounds(LAT_SLOTS - 1, &lo, &hi);
	CHECK(lo == 1ULL << 31 && hi == ~0ULL, "last slot is open-ended");
	CHECK_STR(format_ns(999, buf, sizeof(buf)), "999ns");
	CHECK_STR(format_ns(4100, buf, sizeof(buf)), "4.10us");
	CHECK_STR(format_ns(1250000, buf, sizeof(buf)), "1.25ms");
	CHECK_STR(format_ns(2000000000ULL, buf, sizeof(buf)), "2.00s");

	a.slots[5] = 3;
	b.slots[5] = 3;
	b.slots[8] = 2;
	latency_delta(&d, &b, &a);	/* map went from a to b */
	CHECK_U64(d.count, 2);
	CHECK_U64(d.sum_ns, 700);
	CHECK_U64(d.slots[5], 0);
	CHECK_U64(d.slots[8], 2);
	latency_add(&a, &d);
	CHECK_U64(a.count, 5);
	CHECK_U64(a.min_ns, 20);
	CHECK_U64(a.max_ns, 400);
	/* a smaller map value means the entry was deleted and made anew */
	latency_delta(&d, &(struct trap_latency){ .count = 2, .sum_ns = 10 }, &b);
	CHECK_U64(d.count, 2);
	CHECK_U64(d.sum_ns, 10);
}

static char *capture(void (*fn)(FILE *, void *), void *arg)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	fn(f, arg);
	fclose(f);
	return buf;
}

static void csv_of(FILE *f, void *arg)
{
	csv_field(f, arg);
}

static void test_csv_quoting(void)
{
	char *s;

	s = capture(csv_of, "plain");
	CHECK_STR(s, "plain");
	free(s);
	s = capture(csv_of, "a,b");
	CHECK_STR(s, "\"a,b\"");
	free(s);
	s = capture(csv_of, "say \"hi\"");
	CHECK_STR(s, "\"say \"\"hi\"\"\"");
	free(s);
	s = capture(csv_of, "two\nlines");
	CHECK_STR(s, "\"two\nlines\"");
	free(s);
}

static void html_of(FILE *f, void *arg)
{
	html_text(f, arg);
}

/* kvmprof report's reader: RFC 4180 records back, malformed ones refused
 * with the line they are on; its HTML escaping. */
static void test_csv_reader(void)
{
	static const struct { const char *in; int rc; int nr; const char *last; unsigned long line; }
	cases[] = {
		{ "a,b,c\r\n", 1, 3, "c", 1 },
		{ "a,\"b,\"\"q\"\"\r\nx\",\r\n", 1, 3, "", 1 },	/* quoted comma, quotes, CRLF */
		{ "last,line", 1, 2, "line", 1 },			/* no final line break */
		{ "lf,only\n", 1, 2, "only", 1 },
		{ "\"open,\r\nrest\r\n", -1, 0, NULL, 1 },		/* a quote never closed */
		{ "a\"b,c\r\n", -1, 0, NULL, 1 },			/* a quote inside a field */
		{ "\"a\"b,c\r\n", -1, 0, NULL, 1 },			/* text after the closing quote */
		{ "a\rb\r\n", -1, 0, NULL, 1 },			/* a lone CR */
		{ "", 0, 0, NULL, 1 },
	};
	struct csv_reader r;
	char *s;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fmemopen((void *)cases[i].in, strlen(cases[i].in), "r");
		int rc;

		if (!f) {	/* fmemopen refuses a zero size on old glibc */
			f = fopen("/dev/null", "r");
		}
		csv_init(&r, f);
		rc = csv_next(&r);
		CHECK(rc == cases[i].rc, "case %zu: rc %d, want %d (%s)", i, rc, cases[i].rc, r.err);
		CHECK(r.line == cases[i].line, "case %zu: line %lu", i, r.line);
		if (rc == 1) {
			CHECK(r.nr == cases[i].nr, "case %zu: %d fields", i, r.nr);
			CHECK_STR(csv_get(&r, r.nr - 1), cases[i].last);
		}
		csv_close(&r);
	}
	/* the line of an error after a record spanning two lines */
	{
		static const char two[] = "h1,h2\r\n\"a\r\nb\",c\r\nx,y\"z\r\n";
		FILE *f = fmemopen((void *)two, sizeof(two) - 1, "r");

		csv_init(&r, f);
		CHECK(csv_next(&r) == 1 && csv_next(&r) == 1, "two records");
		CHECK_STR(csv_get(&r, 0), "a\r\nb");
		CHECK(csv_next(&r) == -1 && r.line == 4, "the bad record is on line 4 (%lu)", r.line);
		csv_close(&r);
	}
	s = capture(html_of, "<script>alert(\"x\")</script>&'\x1b\xc3");
	CHECK_STR(s, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;\\x1b\\xc3");
	free(s);
}

static void test_guest_names(void)
{
	static const char qemu[] = "qemu-system-x86_64\0-m\0512\0-name\0guest=web,debug-threads=on\0";
	static const char qemu_plain[] = "qemu\0-name\0db01\0-m\0256\0";
	static const char qemu_process[] = "qemu\0-name\0vm1,process=qemu:vm1\0";
	static const char qemu_commas[] = "qemu\0-name\0guest=a,,b,debug-threads=on\0";
	static const char firecracker[] = "firecracker\0--api-sock\0/tmp/s\0--id\0fc-7\0";
	static const char none[] = "guestload\0-g\0002\0";
	static const char hostile[] = "qemu\0-name\0guest=x\x1b[2J\"q\",\n\\end\0";
	static const char crosvm[] = "/usr/bin/crosvm\0run\0--name\0android,1\0--cpus\0002\0vmlinux\0";
	static const char crosvm_eq[] = "crosvm\0run\0--name=cvd-2\0";
	static const char crosvm_none[] = "crosvm\0run\0--cpus\0004\0vmlinux\0";
	static const char ch_path[] = "cloud-hypervisor\0--api-socket\0path=/run/ch/web.sock\0";
	static const char ch_plain[] = "/opt/cloud-hypervisor\0--kernel\0k\0--api-socket=/tmp/db\x1b[1m.sock\0";
	static const char ch_fd[] = "cloud-hypervisor\0--api-socket\0fd=3\0";
	static const char cg_v2[] = "0::/machine.slice/machine-qemu\\x2d3\\x2dweb\\x2d01.scope/libvirt/emulator\n";
	static const char cg_v1[] = "12:pids:/\n4:memory:/machine.slice/machine-qemu\\x2d17\\x2ddb.scope\n";
	static const char cg_hostile[] = "0::/machine.slice/machine-qemu\\x2d1\\x2da\\x1b[2J\\x0a,\"b\\x5cx2.scope\n";
	static const char cg_ch[] = "0::/machine.slice/machine-ch\\x2d2\\x2dfast.scope\n";
	static const char cg_none[] = "0::/user.slice/user-0.slice/session-1.scope\n";
	static const char cg_noid[] = "0::/machine.slice/machine-qemu\\x2dweb.scope\n";
	static const char cg_empty[] = "0::/machine.slice/machine-qemu\\x2d3\\x2d.scope\n";
	char out[GUEST_NAME_MAX];

	CHECK(name_from_cmdline(qemu, sizeof(qemu), out, sizeof(out)), "qemu guest=");
	CHECK_STR(out, "web");
	CHECK(name_from_cmdline(qemu_plain, sizeof(qemu_plain), out, sizeof(out)), "qemu plain");
	CHECK_STR(out, "db01");
	CHECK(name_from_cmdline(qemu_process, sizeof(qemu_process), out, sizeof(out)), "qemu first elem");
	CHECK_STR(out, "vm1");
	CHECK(name_from_cmdline(qemu_commas, sizeof(qemu_commas), out, sizeof(out)), "qemu ,,");
	CHECK_STR(out, "a,b");
	CHECK(name_from_cmdline(firecracker, sizeof(firecracker), out, sizeof(out)), "firecracker");
	CHECK_STR(out, "fc-7");
	CHECK(!name_from_cmdline(none, sizeof(none), out, sizeof(out)), "no name");
	/* -name as the last argument, with no value, must not read past the end */
	CHECK(!name_from_cmdline("qemu\0-name\0", 11, out, sizeof(out)), "dangling -name");
	/* an empty name is no name: the cgroup or comm is used instead */
	CHECK(!name_from_cmdline("qemu\0-name\0guest=\0", 19, out, sizeof(out)), "empty -name guest=");
	CHECK(!name_from_cmdline("crosvm\0--name=\0", 16, out, sizeof(out)), "empty crosvm --name=");
	CHECK(!name_from_cgroup("0::/machine-lxc\\x2d1\\x2d\0x.scope\n", 34, out, sizeof(out)),
	      "cgroup name of a NUL byte");
	CHECK(name_from_cmdline(hostile, sizeof(hostile), out, sizeof(out)), "hostile");
	CHECK_STR(out, "x\\x1b[2J\"q\"");	/* stops at the unescaped comma */

	CHECK(name_from_cmdline(crosvm, sizeof(crosvm), out, sizeof(out)), "crosvm --name");
	CHECK_STR(out, "android,1");
	CHECK(name_from_cmdline(crosvm_eq, sizeof(crosvm_eq), out, sizeof(out)), "crosvm --name=");
	CHECK_STR(out, "cvd-2");
	CHECK(!name_from_cmdline(crosvm_none, sizeof(crosvm_none), out, sizeof(out)), "crosvm unnamed");
	CHECK(name_from_cmdline(ch_path, sizeof(ch_path), out, sizeof(out)), "ch path=");
	CHECK_STR(out, "web");
	CHECK(name_from_cmdline(ch_plain, sizeof(ch_plain), out, sizeof(out)), "ch plain path");
	CHECK_STR(out, "db\\x1b[1m");
	CHECK(!name_from_cmdline(ch_fd, sizeof(ch_fd), out, sizeof(out)), "ch fd= has no name");
	CHECK(!name_from_cmdline("", 0, out, sizeof(out)), "empty command line");

	CHECK(name_from_cgroup(cg_v2, strlen(cg_v2), out, sizeof(out)), "libvirt cgroup v2");
	CHECK_STR(out, "web-01");
	CHECK(name_from_cgroup(cg_v1, strlen(cg_v1), out, sizeof(out)), "libvirt cgroup v1");
	CHECK_STR(out, "db");
	CHECK(name_from_cgroup(cg_hostile, strlen(cg_hostile), out, sizeof(out)), "hostile cgroup");
	CHECK_STR(out, "a\\x1b[2J\\x0a,\"b\\x5cx2");
	CHECK(name_from_cgroup(cg_ch, strlen(cg_ch), out, sizeof(out)), "libvirt ch driver");
	CHECK_STR(out, "fast");
	CHECK(!name_from_cgroup(cg_none, strlen(cg_none), out, sizeof(out)), "no machine scope");
	CHECK(!name_from_cgroup(cg_noid, strlen(cg_noid), out, sizeof(out)), "scope without id");
	CHECK(!name_from_cgroup(cg_empty, strlen(cg_empty), out, sizeof(out)), "scope without name");

	CHECK(vcpu_from_comm("CPU 3/KVM") == 3, "qemu vcpu thread");
	CHECK(vcpu_from_comm("vcpu12") == 12, "cloud-hypervisor vcpu thread");
	CHECK(vcpu_from_comm("crosvm_vcpu1") == 1, "crosvm vcpu thread");
	CHECK(vcpu_from_comm("fc_vcpu 0\n") == 0, "firecracker vcpu thread");
	CHECK(vcpu_from_comm("vcpu") == -1 && vcpu_from_comm("vcpu1x") == -1 &&
	      vcpu_from_comm("worker") == -1 && vcpu_from_comm("CPU 1/TCG") == -1, "not vcpu threads");

	escape_name("a\x1b]0;t\x07\n\\\xc3\xa9", 11, out, sizeof(out));
	CHECK_STR(out, "a\\x1b]0;t\\x07\\x0a\\x5c\\xc3\\xa9");
	escape_name("abcdef", 6, out, 4);	/* truncates, never overflows */
	CHECK_STR(out, "abc");
	escape_name("ab\x01", 3, out, 5);	/* an escape that does not fit is dropped whole */
	CHECK_STR(out, "ab");
}

static void summary_of(FILE *f, void *arg)
{
	report_summary(f, arg, 1.0, 5);
}

/* -g: the reports see only the chosen guests, their threads and rows. */
static void test_guest_filter(void)
{
	static const char *const web[] = { "web*" }, *const two[] = { "db", "w?b-1" };
	static const char *const none[] = { "nothing*" };
	/* pids that cannot exist, so names come from the comms given */
	const __u32 pid_web = 0x7ffffff0, pid_db = 0x7ffffff1;
	struct trap_key key = { .class = CLASS_PIO, .code = 0x3f8 };
	struct trap_table s, chosen;
	char *text;

	CHECK(guest_name_matches("web-1", NULL, 0), "no globs: every guest");
	CHECK(guest_name_matches("web-1", web, 1), "web* matches web-1");
	CHECK(!guest_name_matches("db", web, 1), "web* does not match db");
	CHECK(guest_name_matches("web-1", two, 2) && guest_name_matches("db", two, 2), "either glob");
	CHECK(!guest_name_matches("db2", two, 2), "globs match whole names");

	CHECK(table_init(&s, &procfs_source) == 0, "table_init");
	table_note_thread(&s, pid_web, pid_web + 1, "CPU 0/KVM", "web-1");
	table_note_thread(&s, pid_db, pid_db + 1, "CPU 0/KVM", "db");
	for (int i = 0; i < 3; i++) {
		key.tgid = i == 2 ? pid_db : pid_web;
		key.tid = key.tgid + 1;
		key.code = 0x3f8 + i;
		table_row(&s, &key, true)->count = 10 + i;
	}
	CHECK_STR(s.guests[0].name, "web-1");
	CHECK(table_select(&chosen, &s, web, 1) == 0, "select web*");
	CHECK(chosen.nr_guests == 1 && chosen.guests[0].pid == pid_web, "one guest chosen");
	CHECK(chosen.nr_threads == 1 && chosen.nr_rows == 2, "its thread and rows: %zu %zu",
	      chosen.nr_threads, chosen.nr_rows);
	text = capture(summary_of, &chosen);
	CHECK(strstr(text, "\"web-1\"") && !strstr(text, "\"db\"") && strstr(text, "21 traps"),
	      "the summary holds web-1 only: %s", text);
	free(text);
	table_free(&chosen);
	CHECK(table_select(&chosen, &s, none, 1) == 0 && chosen.nr_guests == 0 &&
	      chosen.nr_rows == 0, "a glob matching nothing leaves nothing");
	text = capture(summary_of, &chosen);
	CHECK(strstr(text, "No KVM traps seen."), "empty summary");
	free(text);
	table_free(&chosen);
	CHECK(s.nr_guests == 2 && s.nr_rows == 3, "the source is untouched");
	table_free(&s);
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

static void json_of(FILE *f, void *arg)
{
	json_write_summary(f, arg, 1.0);
}

static void csv_histograms_of(FILE *f, void *arg)
{
	csv_write_histograms(f, arg);
}

/* The summary, CSV and JSON: details under their reason, device subtotals. */
static void test_detail_reports(void)
{
	const __u32 pid = 0x7ffffff2;
	const __u16 b = 1 << DETAIL_SIZE_SHIFT;
	const __u64 svm_io = (__u64)ISA_SVM << 32 | 0x7b, svm_msr = (__u64)ISA_SVM << 32 | 0x7c;
	struct { __u16 class, flags; __u32 detail; __u64 code, count; } rows[] = {
		{ CLASS_EXIT, DETAIL_IO | DETAIL_WRITE | b, 0x3f8, svm_io, 40 },
		{ CLASS_EXIT, DETAIL_IO | b, 0x3f9, svm_io, 19 },
		{ CLASS_EXIT, DETAIL_IO | DETAIL_WRITE | b, 0xf4, svm_io, 1 },
		{ CLASS_EXIT, DETAIL_MSR, 0x10, svm_msr, 4 },
		{ CLASS_EXIT, DETAIL_MSR | DETAIL_WRITE | DETAIL_UNKNOWN, 0, svm_msr, 2 },
		{ CLASS_EXIT, 0, 0, (__u64)ISA_SVM << 32 | 0x78, 3 },
		{ CLASS_PIO, 0, 0, PIO_WRITE | 0x3f8, 40 },
		{ CLASS_PIO, 0, 0, 0x3f9, 19 },
		{ CLASS_PIO, 0, 0, PIO_WRITE | 0xf4, 1 },
		{ CLASS_MMIO, 0, 0, 0xfee00000 | 2, 5 },
	};
	struct trap_table s;
	char *text;

	CHECK(table_init(&s, &procfs_source) == 0, "table_init");
	table_note_thread(&s, pid, pid + 1, "CPU 0/KVM", "vm");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct trap_key key = { .tgid = pid, .tid = pid + 1, .class = rows[i].class,
					.detail_flags = rows[i].flags, .detail = rows[i].detail,
					.code = rows[i].code };

		table_row(&s, &key, true)->count = rows[i].count;
	}
	text = capture(summary_of, &s);
	/* the reason's total, then its details by count, then the devices (the name
	 * column is 40 wide with its indent) */
#define LINE(name, n) "\n" name " " n " "
	CHECK(strstr(text, LINE("    SVM io                              ", "          60")) &&
	      strstr(text, LINE("      outb 0x3f8 (serial COM1)          ", "          40")) &&
	      strstr(text, LINE("      inb 0x3f9 (serial COM1)           ", "          19")) &&
	      strstr(text, LINE("      outb 0xf4                         ", "           1")) &&
	      strstr(text, LINE("    SVM msr                             ", "           6")) &&
	      strstr(text, LINE("      rdmsr 0x10                        ", "           4")) &&
	      strstr(text, LINE("      wrmsr (index unknown)             ", "           2")) &&
	      strstr(text, LINE("    SVM hlt                             ", "           3")) &&
	      strstr(text, LINE("    out 0x3f8 (serial COM1)             ", "          40")) &&
	      strstr(text, LINE("    write 0xfee00000 (LAPIC)            ", "           5")),
	      "summary lines: %s", text);
	/* per-device subtotals in the exit and the pio class, after the codes */
	{
		const char *exit_dev = strstr(text, LINE("    device serial COM1                  ", "          59"));
		const char *pio_dev = exit_dev ? strstr(exit_dev + 1, LINE("    device serial COM1                  ", "          59")) : NULL;

		CHECK(exit_dev && pio_dev && exit_dev > strstr(text, "SVM hlt") &&
		      pio_dev > strstr(text, "in 0x3f9 (serial COM1)"), "device subtotals: %s", text);
		CHECK(strstr(text, LINE("    device LAPIC                        ", "           5")), "LAPIC subtotal");
	}
	/* io before msr before hlt: codes by their details' total */
	CHECK(strstr(text, "SVM io") < strstr(text, "SVM msr") && strstr(text, "SVM msr") < strstr(text, "SVM hlt"),
	      "codes sorted by total");
	free(text);

	text = capture(csv_histograms_of, &s);
	CHECK(strstr(text, ",bucket_count,detail,detail_name,device\r\n") != NULL, "CSV header");
	CHECK(strstr(text, ",exit,0x20000007b,SVM io,40,0,0,,,,,,0x109000003f8,outb 0x3f8,serial COM1\r\n") &&
	      strstr(text, ",exit,0x20000007c,SVM msr,2,0,0,,,,,,0xe00000000,wrmsr (index unknown),\r\n") &&
	      strstr(text, ",exit,0x200000078,SVM hlt,3,0,0,,,,,,,,\r\n") &&
	      strstr(text, ",pio,0x103f8,out 0x3f8,40,0,0,,,,,,,,serial COM1\r\n"), "CSV rows: %s", text);
	free(text);

	/* kvmprof report reads a key's rows once: an exit's details are keys of their own */
	{
		char path[] = "/tmp/kvmprof-unit-XXXXXX";
		int fd = mkstemp(path);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
		struct run_data d = {};

		CHECK(f != NULL, "temporary CSV");
		if (f) {
			csv_write_histograms(f, &s);
			fclose(f);
			CHECK(run_load_histograms(&d, path) == 0 && d.nr_guests == 1, "report reads the CSV");
			if (d.nr_guests == 1) {
				CHECK_U64(d.guests[0].class_total[CLASS_EXIT], 69);
				CHECK_U64(d.guests[0].total, 134);
			}
			run_free(&d);
			unlink(path);
		}
	}

	text = capture(json_of, &s);
	CHECK(strstr(text, "{\"code\":8589934715,\"name\":\"SVM io\",\"count\":60,\"details\":["
			   "{\"detail\":1138166334456,\"name\":\"outb 0x3f8\",\"device\":\"serial COM1\",\"count\":40},") &&
	      strstr(text, "\"devices\":[{\"name\":\"serial COM1\",\"count\":59}]") &&
	      strstr(text, "{\"code\":66552,\"name\":\"out 0x3f8\",\"count\":40,\"device\":\"serial COM1\"}") &&
	      strstr(text, "{\"code\":8589934712,\"name\":\"SVM hlt\",\"count\":3}"), "JSON: %s", text);
	free(text);
	table_free(&s);
}

static int parse(const char *line, struct options *o)
{
	char copy[512], *argv[32];
	int argc = 0;

	snprintf(copy, sizeof(copy), "kvmprof %s", line);
	for (char *tok = strtok(copy, " "); tok && argc < 31; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return parse_options(argc, argv, o);
}

static void test_options(void)
{
	static const char *const bad[] = {
		"-i 0", "-i -1", "-i abc", "-i 1e99", "-d 1e99", "-d 0", "-p 0", "-p notapid",
		"-p -5", "--attach nope", "--bogus", "-i", "extra", "-n 0",
		"--csv a.csv --csv-series a.csv", "--list-probes --csv x.csv", "--json a --csv a",
		"--csv-insns a --csv a", "--csv-insns a --json a", "--list-probes --csv-insns x",
		"--csv-insns",
	};
	struct options o;
	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	CHECK(parse("", &o) == 0, "no options");
	CHECK(o.interval_s == 1.0 && o.duration_s == 0 && o.attach == ATTACH_AUTO && o.top == 5,
	      "defaults");
	CHECK(parse("-p 12 -p 34 -i 0.5 -d 10 --csv h.csv --csv-series s.csv -j j.json "
		    "--attach tracepoint -q -v -n 3", &o) == 0, "all options");
	CHECK(o.nr_pids == 2 && o.pids[0] == 12 && o.pids[1] == 34, "pids");
	CHECK(o.interval_s == 0.5 && o.duration_s == 10, "times");
	CHECK_STR(o.csv_path, "h.csv");
	CHECK_STR(o.csv_series_path, "s.csv");
	CHECK_STR(o.json_path, "j.json");
	CHECK(o.attach == ATTACH_TRACEPOINT && o.quiet && o.verbose && o.top == 3, "flags");
	CHECK(!o.batch && o.nr_guest_globs == 0, "no -b, no -g by default");
	CHECK(!o.insns && !o.csv_insns_path, "no --insns by default");
	CHECK(parse("--insns --csv-insns i.csv", &o) == 0 && o.insns, "--insns");
	CHECK_STR(o.csv_insns_path, "i.csv");
	CHECK(parse("-g web -g db* --guest=x?y -b", &o) == 0, "-g and -b");
	CHECK(o.nr_guest_globs == 3 && o.batch, "three globs and batch");
	CHECK_STR(o.guest_globs[1], "db*");
	CHECK_STR(o.guest_globs[2], "x?y");
	CHECK(parse("--batch", &o) == 0 && o.batch, "--batch");
	CHECK(parse("--attach btf", &o) == 0 && o.attach == ATTACH_BTF, "btf");
	CHECK(parse("--attach=kprobe", &o) == 0 && o.attach == ATTACH_KPROBE, "kprobe");
	CHECK(parse("-a fentry", &o) == 0 && o.attach == ATTACH_FENTRY, "fentry");
	dup2(null, 2);	/* the one-line errors are the point, not the output here */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i], &o);

		dup2(saved, 2);
		CHECK(rc == EXIT_USAGE, "'%s' gives %d, want %d", bad[i], rc, EXIT_USAGE);
		dup2(null, 2);
	}
	dup2(saved, 2);
	close(null);
	close(saved);
}

/* A guest first met in the maps after its process was gone is "pidN" until
 * its ring buffer record brings the comm BPF saw. */
static void test_late_guest_name(void)
{
	struct trap_key key = { .tgid = 4194303, .tid = 4194303, .class = CLASS_PIO, .code = 1 };
	struct trap_table s;

	if (table_init(&s, &procfs_source)) {
		CHECK(0, "table_init");
		return;
	}
	CHECK(table_row(&s, &key, true) != NULL, "row for a gone guest");
	CHECK_STR(table_guest(&s, key.tgid)->name, "pid4194303");
	table_note_thread(&s, key.tgid, key.tid, "CPU 0/KVM", "qemu-web");
	CHECK_STR(table_guest(&s, key.tgid)->name, "qemu-web");
	table_note_thread(&s, key.tgid, key.tid, "CPU 0/KVM", "other");	/* named: kept */
	CHECK_STR(table_guest(&s, key.tgid)->name, "qemu-web");
	table_free(&s);
}

/* Tens of thousands of guests and threads, as on a churning host: each
 * found again by its pid and tid (the indexes grow), none made twice, and
 * in linear time: a quadratic search took minutes here. */
static void test_many_guests(void)
{
	struct timespec t0, t1;
	struct trap_table s;
	size_t nr;
	int wrong = 0;

	if (table_init(&s, &procfs_source)) {
		CHECK(0, "table_init");
		return;
	}
	for (__u32 i = 0; i < 5000; i++) {
		struct trap_key key = { .tgid = 4000000 + i / 2, .tid = 4100000 + i, .class = CLASS_PIO };

		wrong += !table_row(&s, &key, true);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (__u32 i = 0; i < 200000; i++)	/* guests and threads without rows */
		table_note_thread(&s, 4200000 + i / 2, 4300000 + i, "CPU 0/KVM", "vm");
	for (__u32 i = 0; i < 200000; i++)
		wrong += table_guest(&s, 4200000 + i / 2)->pid != 4200000 + i / 2;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec < 10, "200000 threads took %ld s", (long)(t1.tv_sec - t0.tv_sec));
	for (__u32 i = 0; i < 5000; i++) {
		struct trap_key key = { .tgid = 4000000 + i / 2, .tid = 4100000 + i, .class = CLASS_PIO };

		wrong += table_guest(&s, key.tgid)->pid != key.tgid || !table_row(&s, &key, false);
	}
	CHECK(!wrong, "%d guests or rows not found again", wrong);
	CHECK_U64(s.nr_guests, 2500 + 100000);
	CHECK_U64(s.nr_threads, 5000 + 200000);
	CHECK_U64(s.nr_rows, 5000);
	/* a guest's codes come from its own chain of rows */
	nr = 0;
	for (size_t r = table_rows_first(&s, table_find_guest(&s, 4000007)); r < s.nr_rows;
	     r = table_rows_next(&s, r))
		nr += s.rows[r].key.tgid == 4000007 ? 1 : 100;
	CHECK_U64(nr, 2);
	CHECK_U64(table_rows_first(&s, table_find_guest(&s, 4000007)), 14);
	{
		struct summary sum;
		size_t gi = table_find_guest(&s, 4000007) - s.guests;

		CHECK(!summary_build(&sum, &s, NULL) && !summary_detail(&sum, &s, NULL, gi), "summary");
		CHECK_U64(sum.guests[gi].nr_codes, 1);
		summary_free(&sum);
	}
	table_free(&s);
}

static void csv_hist_of(FILE *f, void *arg)
{
	csv_write_histograms(f, arg);
}

/* /proc/PID/stat's start time, after a comm holding spaces and parentheses */
static void test_start_time(void)
{
	static const char stat[] = "4242 (a) (b c) S 1 2 3 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 "
				   "1322618 3133440 363\n";

	CHECK_U64(start_time_from_stat(stat, sizeof(stat) - 1), 1322618);
	CHECK_U64(start_time_from_stat("4242 (x", 7), 0);
	CHECK_U64(start_time_from_stat("4242 (x) S 1 2", 14), 0);
	CHECK(process_start_time(getpid()) > 0 &&
	      process_start_time(getpid()) == process_start_time(getpid()), "our own start time");
	CHECK_U64(process_start_time(0x7ffffff3), 0);
}

/* A pid that comes back as another process after its guest's entries were
 * reclaimed: a new guest with its own rows, threads, name and totals, and
 * the old one keeps its own, in the summary, the CSV, the JSON and -g. */
static void test_pid_reuse(void)
{
	static const char *const second[] = { "second" };
	const __u32 pid = 0x7ffffff2;	/* cannot exist: map_reclaim finds it gone */
	struct trap_key key = { .tgid = pid, .tid = pid, .class = CLASS_PIO, .code = 0x3f8 };
	struct trap_table s, chosen;
	struct map_reader no_maps;	/* every fd -1 */
	const struct guest *g;
	struct trap_row *row;
	char *text, want[160];

	if (table_init(&s, &procfs_source) || map_reader_init(&no_maps, 1)) {
		CHECK(0, "table_init");
		return;
	}
	table_note_thread(&s, pid, pid, "CPU 0/KVM", "first");
	table_row(&s, &key, true)->count = 9;
	map_reclaim(&no_maps, &s, NULL);	/* found gone: ended */
	CHECK(s.guests[0].ended && !s.guests[0].retired, "ended, not yet retired");
	map_reclaim(&no_maps, &s, NULL);	/* its entries deleted: retired */
	CHECK(s.guests[0].ended && s.guests[0].retired, "then retired");
	/* the same pid and thread id again, another process (met in the maps
	 * first, then its ring buffer record names it) */
	row = table_row(&s, &key, true);
	CHECK(row && row->count == 0, "the same key starts a new row");
	if (!row)
		return;
	row->count = 4;
	table_note_thread(&s, pid, pid, "CPU 1/KVM", "second");
	g = table_find_guest(&s, pid);
	CHECK(s.nr_guests == 2 && g == &s.guests[1] && !g->ended, "a second, live guest");
	CHECK_STR(g->name, "second");
	CHECK_STR(s.guests[0].name, "first");
	CHECK(s.nr_threads == 2 && row->vcpu == -1 && s.rows[0].vcpu == 0, "threads apart");
	CHECK(s.rows[0].count == 9 && s.nr_rows == 2, "the old row keeps 9");
	text = capture(summary_of, &s);
	snprintf(want, sizeof(want), "Guest %u \"first\" (ended): 1 vCPU thread, 9 traps", pid);
	CHECK(strstr(text, want), "summary: %s in %s", want, text);
	snprintf(want, sizeof(want), "Guest %u \"second\": 1 vCPU thread, 4 traps", pid);
	CHECK(strstr(text, want), "summary: %s", want);
	free(text);
	text = capture(json_of, &s);
	CHECK(strstr(text, "\"name\":\"first\",\"ended\":true,\"vcpu_threads\":1,\"total\":9,") &&
	      strstr(text, "\"name\":\"second\",\"ended\":false,\"vcpu_threads\":1,\"total\":4,"),
	      "JSON: two guests apart: %s", text);
	free(text);
	text = capture(csv_hist_of, &s);
	snprintf(want, sizeof(want), "%u,first,0,%u,pio,0x3f8,in 0x3f8,9,", pid, pid);
	CHECK(strstr(text, want), "CSV: %s in %s", want, text);
	snprintf(want, sizeof(want), "%u,second,,%u,pio,0x3f8,in 0x3f8,4,", pid, pid);
	CHECK(strstr(text, want), "CSV: %s", want);
	free(text);
	CHECK(table_select(&chosen, &s, second, 1) == 0 && chosen.nr_guests == 1 &&
	      chosen.nr_rows == 1 && chosen.nr_threads == 1 && chosen.rows[0].count == 4,
	      "-g second: the new guest alone");
	text = capture(summary_of, &chosen);
	CHECK(strstr(text, "\"second\": 1 vCPU thread, 4 traps") && !strstr(text, "first"),
	      "-g summary: %s", text);
	free(text);
	table_free(&chosen);
	table_free(&s);
	map_reader_free(&no_maps);
}

static bool file_is(const char *path, const char *want)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");
	bool same = f && fgets(buf, sizeof(buf), f) && !strcmp(buf, want);

	if (f)
		fclose(f);
	return same;
}

static int write_whole(const struct outpath *to, const char *text)
{
	struct outfile o;

	if (outfile_open(&o, to))
		return -1;
	fputs(text, o.f);
	return outfile_commit(&o);
}

/* Files written whole or not at all, and only where they were named. */
static void test_outfile(void)
{
	char dir[] = "/tmp/kvmprof-unit-XXXXXX", path[512], other[512], buf[700], stale[600];
	struct outpath p, q;
	struct outfile o;
	struct stat st;
	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/out.csv", dir);
	CHECK(outpath_init(&p, path, "--csv") == 0 && write_whole(&p, "good\n") == 0, "a new file");
	/* an aborted write leaves the good file and no temporary behind */
	CHECK(outfile_open(&o, &p) == 0, "open");
	fputs("half a fi", o.f);
	outfile_abort(&o);
	CHECK(file_is(path, "good\n"), "good file kept");
	CHECK(write_whole(&p, "new\n") == 0 && file_is(path, "new\n"), "replaced whole");

	/* the folder is the one of the start: swapped for a symlink mid-run,
	 * the file still goes into the folder that was opened */
	snprintf(other, sizeof(other), "%s-other", dir);
	CHECK(mkdir(other, 0700) == 0, "mkdir");
	snprintf(buf, sizeof(buf), "%s-moved", dir);
	CHECK(rename(dir, buf) == 0 && symlink(other, dir) == 0, "folder swapped for a symlink");
	CHECK(write_whole(&p, "after\n") == 0, "written after the swap");
	snprintf(buf, sizeof(buf), "%s-moved/out.csv", dir);
	CHECK(file_is(buf, "after\n"), "into the folder opened at the start");
	snprintf(buf, sizeof(buf), "%s/out.csv", other);
	CHECK(access(buf, F_OK) != 0, "nothing in the symlink's target");
	outpath_free(&p);
	unlink(dir);
	snprintf(buf, sizeof(buf), "%s-moved", dir);
	rename(buf, dir);

	/* a symlink at the name is replaced, its target untouched */
	snprintf(buf, sizeof(buf), "%s/target", other);
	{
		FILE *f = fopen(buf, "w");

		fputs("secret\n", f);
		fclose(f);
	}
	snprintf(other + strlen(other), sizeof(other) - strlen(other), "/link.csv");
	CHECK(symlink(buf, other) == 0, "symlink");
	CHECK(outpath_init(&q, other, "--csv") == 0 && write_whole(&q, "csv\n") == 0, "through a link name");
	CHECK(file_is(buf, "secret\n") && !lstat(other, &st) && S_ISREG(st.st_mode), "link replaced, target kept");
	outpath_free(&q);

	/* the same file named two ways, existing or new */
	snprintf(path, sizeof(path), "%s/out.csv", dir);
	snprintf(buf, sizeof(buf), "%s/./out.csv", dir);
	CHECK(!outpath_init(&p, path, "--csv") && !outpath_init(&q, buf, "--json") && outpath_same(&p, &q),
	      "out.csv and ./out.csv are the same file");
	outpath_free(&q);
	snprintf(buf, sizeof(buf), "%s//new.json", dir);
	snprintf(other, sizeof(other), "%s/new.json", dir);
	CHECK(!outpath_init(&q, buf, "--json") && !outpath_same(&p, &q), "other names differ");
	outpath_free(&p);
	CHECK(!outpath_init(&p, other, "--csv") && outpath_same(&p, &q), "a new file named twice");
	outpath_free(&p);
	outpath_free(&q);

	/* devices and FIFOs are written through, never replaced */
	CHECK(!outpath_init(&p, "/dev/null", "--csv") && write_whole(&p, "x\n") == 0 &&
	      !stat("/dev/null", &st) && S_ISCHR(st.st_mode), "/dev/null stays a device");
	outpath_free(&p);
	dup2(null, 2);
	CHECK(!outpath_init(&p, "/dev/full", "--json") && write_whole(&p, "x\n") == -1, "/dev/full fails");
	outpath_free(&p);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	CHECK(mkfifo(path, 0600) == 0, "mkfifo");
	CHECK(outpath_init(&p, path, "--csv") == -1, "a FIFO nobody reads is refused");
	outpath_free(&p);
	{
		int rd = open(path, O_RDONLY | O_NONBLOCK);
		char got[8] = "";

		CHECK(!outpath_init(&p, path, "--csv") && write_whole(&p, "fifo\n") == 0 &&
		      read(rd, got, sizeof(got) - 1) == 5 && !strcmp(got, "fifo\n"), "a FIFO written through");
		CHECK(!lstat(path, &st) && S_ISFIFO(st.st_mode), "the FIFO stays");
		outpath_free(&p);
		close(rd);
	}

	/* refused at the start: folders, missing folders, empty and too long
	 * names, folders nothing can be made in */
	CHECK(outpath_init(&p, dir, "--csv") == -1, "a folder is refused");
	outpath_free(&p);
	CHECK(outpath_init(&p, "/nonexistent-dir/x.csv", "--csv") == -1, "missing folder refused");
	outpath_free(&p);
	CHECK(outpath_init(&p, "", "--csv") == -1, "empty name refused");
	outpath_free(&p);
	snprintf(path, sizeof(path), "%s/%0250d", dir, 0);
	CHECK(outpath_init(&p, path, "--csv") == -1, "a 250-byte name is refused before tracing");
	outpath_free(&p);
	CHECK(outpath_init(&p, "/sys/kernel/kvmprof.csv", "--csv") == -1, "/sys refused at the start");
	outpath_free(&p);
	snprintf(path, sizeof(path), "%s/block", dir);
	CHECK(mknod(path, S_IFBLK | 0600, makedev(7, 0)) == 0 && outpath_init(&p, path, "--csv") == -1,
	      "a block device is refused");
	outpath_free(&p);
	dup2(saved, 2);

	/* a temporary file a killed kvmprof left goes at the next start */
	snprintf(path, sizeof(path), "%s/out.csv", dir);
	snprintf(stale, sizeof(stale), "%s/out.csv.tmp.Ab3dE9", dir);
	close(open(stale, O_CREAT | O_WRONLY, 0600));
	CHECK(!outpath_init(&p, path, "--csv") && access(stale, F_OK) != 0, "stale temporary removed");
	outpath_free(&p);

	snprintf(buf, sizeof(buf), "rm -rf %s %s-other", dir, dir);
	CHECK(system(buf) == 0, "cleanup");
	close(null);
	close(saved);
}

static struct insn_key insn_of(__u32 tgid, unsigned int mode, __u64 rip, const __u8 *bytes, int len)
{
	struct insn_key k = { .tgid = tgid, .len = len, .mode = mode, .rip = rip };

	memcpy(k.bytes, bytes, len);
	return k;
}

/* --insns: a known instruction stream (guestload's real-mode script, then
 * protected and 64-bit code) split as the emulator reports it, each read
 * in full by capstone in the event's mode; bad or cut bytes undecodable. */
static void test_insn_text(void)
{
	static const struct { unsigned int mode; __u64 rip; int len; const char *text; } want[] = {
		{ 0, 0x1000, 6, "mov ebp, 2" }, { 0, 0x1006, 3, "mov dx, 0x3f8" },
		{ 0, 0x1009, 1, "out dx, al" }, { 0, 0x100a, 2, "dec edi" },
		{ 0, 0x100c, 2, "jne 0x1006" }, { 0, 0x100e, 4, "mov byte ptr es:[0], al" },
		{ 0, 0x1012, 3, "loop 0x1012" }, { 0, 0x1015, 1, "aaa" }, { 0, 0x1016, 2, "out 0xf4, al" },
		{ 5, 0x2000, 5, "mov byte ptr [0xd0000], al" }, { 5, 0x2005, 2, "cpuid" },
		{ 5, 0x2007, 3, "vmmcall" }, { 9, 0x3000, 3, "mov rax, rcx" },
		{ 9, 0x3003, 5, "movbe eax, dword ptr [rax + 1]" },
	};
	static const __u8 stream[] = {
		0x66, 0xbd, 0x02, 0x00, 0x00, 0x00, 0xba, 0xf8, 0x03, 0xee, 0x66, 0x4f, 0x75, 0xf8,
		0x26, 0xa2, 0x00, 0x00, 0x67, 0xe2, 0xfd, 0x37, 0xe6, 0xf4,
		0xa2, 0x00, 0x00, 0x0d, 0x00, 0x0f, 0xa2, 0x0f, 0x01, 0xd9,
		0x48, 0x89, 0xc8, 0x0f, 0x38, 0xf0, 0x40, 0x01,
	};
	static const __u8 cut[] = { 0x0f }, extra[] = { 0xee, 0x90 }, bad[] = { 0x0f, 0x0b };
	struct insn_key k;
	size_t off = 0;
	char buf[96];

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); off += want[i].len, i++) {
		k = insn_of(1, want[i].mode, want[i].rip, stream + off, want[i].len);
		insn_text(&k, want[i].rip, buf, sizeof(buf));
		CHECK_STR(buf, want[i].text);
	}
	CHECK_U64(off, sizeof(stream));
	k = insn_of(1, 0, 0, cut, 1);		/* a decode that failed half-way */
	insn_text(&k, 0, buf, sizeof(buf));
	CHECK_STR(buf, "undecodable");
	k = insn_of(1, 0, 0, extra, 2);		/* capstone would stop short of len */
	insn_text(&k, 0, buf, sizeof(buf));
	CHECK_STR(buf, "undecodable");
	k = insn_of(1, 0, 0, bad, 2);		/* ud2 decodes: it is an instruction */
	insn_text(&k, 0, buf, sizeof(buf));
	CHECK_STR(buf, "ud2");
	k = insn_of(1, 0, 0, stream + 14, 4);
	insn_hex(&k, buf, sizeof(buf));
	CHECK_STR(buf, "26 a2 00 00");
}

static void insns_csv_of(FILE *f, void *arg)
{
	csv_write_insns(f, arg);
}

/* Per guest and instruction: counts over addresses, adjacent addresses as
 * one range, the busiest first; failures apart with their last address. */
static void test_insn_sums(void)
{
	static const __u8 nop[] = { 0x90 }, out[] = { 0xee }, aaa[] = { 0x37 };
	struct insn_row rows[] = {
		{ .key = insn_of(7, 0, 0x1000, nop, 1), .count = 1 },
		{ .key = insn_of(7, 0, 0x1002, nop, 1), .count = 2 },
		{ .key = insn_of(7, 0, 0x1001, nop, 1), .count = 3 },
		{ .key = insn_of(7, 0, 0x1010, nop, 1), .count = 4 },
		{ .key = insn_of(7, 0, 0x2000, out, 1), .count = 50 },
		{ .key = insn_of(7, 5, 0x2000, out, 1), .count = 5 },	/* another mode */
		{ .key = insn_of(8, 0, 0x1000, nop, 1), .count = 99 },	/* another guest */
		{ .key = insn_of(7, 0, 0, aaa, 1), .count = 6, .last_rip = 0x1015, .failed = true },
		{ .key = insn_of(7, 0, RIP_UNKNOWN, aaa, 1), .count = 2 },
	};
	struct insn_table t = { .rows = rows, .nr = sizeof(rows) / sizeof(rows[0]) };
	struct guest guests[] = { { .pid = 7, .name = "seven" } };
	struct trap_table s = { .guests = guests, .nr_guests = 1, .insns = &t };
	struct insn_sum *sums;
	size_t nr;
	char buf[128], *csv;

	sums = insn_sums(&t, 7, false, &nr);
	CHECK_U64(nr, 4);
	CHECK(sums && !strcmp(sums[0].text, "out dx, al") && sums[0].count == 50 && sums[0].key.mode == 0,
	      "the busiest first: %s", sums ? sums[0].text : "");
	CHECK(sums && sums[1].count == 10 && !strcmp(sums[1].text, "nop"), "nop over 4 addresses");
	insn_ranges_text(&sums[1], 0, buf, sizeof(buf));
	CHECK_STR(buf, "0x1000-0x1002 0x1010");
	insn_ranges_text(&sums[1], 1, buf, sizeof(buf));
	CHECK_STR(buf, "0x1000-0x1002 +1 more");
	CHECK(sums[2].count == 5 && sums[2].key.mode == 5, "the same bytes in another mode apart");
	insn_ranges_text(&sums[3], 0, buf, sizeof(buf));
	CHECK_STR(buf, "?");
	insn_sums_free(sums, nr);
	sums = insn_sums(&t, 7, true, &nr);
	CHECK(nr == 1 && sums[0].count == 6 && sums[0].last_rip == 0x1015 && !strcmp(sums[0].text, "aaa"),
	      "one failure, its count and last address");
	insn_sums_free(sums, nr);
	csv = capture(insns_csv_of, &s);
	CHECK_STR(csv, "pid,guest,kind,mode,len,bytes,text,count,rip_first,rip_last,rip_ranges\r\n"
		  "7,seven,insn,real,1,ee,\"out dx, al\",50,0x2000,0x2000,0x2000\r\n"
		  "7,seven,insn,real,1,90,nop,10,0x1000,0x1010,0x1000-0x1002 0x1010\r\n"
		  "7,seven,insn,prot32,1,ee,\"out dx, al\",5,0x2000,0x2000,0x2000\r\n"
		  "7,seven,insn,real,1,37,aaa,2,,,?\r\n"
		  "7,seven,failed,real,1,37,aaa,6,0x1015,0x1015,\r\n");
	free(csv);
}


/* ---- attach plans against the BPF objects, record types from tracefs ---- */

struct program_walk {
	struct bpf_object *obj;
	int pairs, missing;
	char seen[64][64];
	int nr_seen;
};

static void check_program(void *ctx, const char *event, const char *method, const char *program)
{
	struct program_walk *w = ctx;

	w->pairs++;
	if (!bpf_object__find_program_by_name(w->obj, program)) {
		w->missing++;
		fprintf(stderr, "  %s as %s: no program %s\n", event, method, program);
	}
	if (w->nr_seen < 64)
		snprintf(w->seen[w->nr_seen++], 64, "%s", program);
}

/* Every (event, attach method, function) pair either architecture's plan
 * table can choose names a program of that architecture's BPF object, and
 * every program of the object is one of them (or the loader's own). */
/* The shared index: keys stay the caller's, under half full as it grows. */
struct index_test { __u64 keys[5000]; };

static size_t bad_hash(__u64 key)
{
	return key % 7;	/* long collision chains on purpose */
}

static size_t index_test_hash(const void *t, size_t e)
{
	return bad_hash(((const struct index_test *)t)->keys[e]);
}

static size_t index_test_find(const struct index *ix, const struct index_test *t, __u64 key)
{
	size_t pos;

	for (size_t e = index_first(ix, bad_hash(key), &pos); e != INDEX_NONE; e = index_next(ix, &pos))
		if (t->keys[e] == key)
			return e;
	return INDEX_NONE;
}

static void test_index(void)
{
	static struct index_test t;
	struct index ix = {}, none = {};
	size_t wrong = 0, n = 0, pos;

	CHECK(index_first(&none, 12345, &pos) == INDEX_NONE, "no slots: nothing");
	for (size_t e = 0; e < 300; e++) {	/* from no slots */
		t.keys[e] = 1000 + e * 3;
		wrong += index_add(&ix, bad_hash(t.keys[e]), e, index_test_hash, &t) != 0;
		wrong += ix.nr * 2 > ix.size;
	}
	CHECK(!wrong && ix.nr == 300 && ix.size == 1024, "300 added: size %zu", ix.size);
	for (size_t e = 0; e < 300; e++)
		wrong += index_test_find(&ix, &t, 1000 + e * 3) != e;
	wrong += index_test_find(&ix, &t, 1001) != INDEX_NONE;
	CHECK(!wrong, "%zu found wrong", wrong);
	CHECK(index_reserve(&ix, 1500, index_test_hash, &t) == 0 && ix.size == 4096 && ix.nr == 300,
	      "reserve: size %zu", ix.size);
	for (size_t e = 0; e < 300; e++)
		wrong += index_test_find(&ix, &t, 1000 + e * 3) != e;
	CHECK(!wrong, "%zu lost by the reserve", wrong);
	/* every other key dropped, the rest moved down: refilled at the same size */
	for (size_t e = 0; e < 300; e += 2)
		t.keys[n++] = t.keys[e];
	CHECK(index_refill(&ix, n, index_test_hash, &t) == 0 && ix.nr == 150 && ix.size == 4096,
	      "refill");
	for (size_t e = 0; e < 300; e++)
		wrong += index_test_find(&ix, &t, 1000 + e * 3) != (e % 2 ? INDEX_NONE : e / 2);
	CHECK(!wrong, "%zu wrong after the refill", wrong);
	index_free(&ix);
	CHECK(index_init(&ix, 16) == 0 && ix.size == 16 && !ix.nr, "init");
	for (size_t e = 0; e < 5000; e++) {
		t.keys[e] = e << 40;
		wrong += index_add(&ix, bad_hash(t.keys[e]), e, index_test_hash, &t) != 0;
	}
	CHECK(!wrong && ix.size == 16384, "5000 added: size %zu", ix.size);
	index_free(&ix);
	CHECK(!ix.slots && !ix.size && !ix.nr, "freed");
	/* the hashes */
	CHECK_U64(hash_bytes("a", 1, 0), 0xaf63dc4c8601ec8cULL);	/* FNV-1a's own test vector */
	CHECK(hash_bytes("a", 1, 1) != hash_bytes("a", 1, 0), "seeded");
	CHECK(hash_pid_tid(1, 2) != hash_pid_tid(2, 1) && hash_pid_tid(1, 0) != hash_pid_tid(2, 0) &&
	      (hash_pid_tid(1, 0) & 63) != (hash_pid_tid(1, 1) & 63), "pid, tid mixed into low bits");
}

static void test_vec_grow(void)
{
	struct { int a; char b[12]; } *v = NULL;
	size_t cap = 0;

	CHECK(VEC_GROW(v, cap, 0) == 0 && !v && !cap, "nothing needed");
	CHECK(VEC_GROW(v, cap, 1) == 0 && v && cap == VEC_MIN_CAP, "first: cap %zu", cap);
	v[0].a = 7;
	CHECK(VEC_GROW(v, cap, VEC_MIN_CAP) == 0 && cap == VEC_MIN_CAP, "fits");
	CHECK(VEC_GROW(v, cap, VEC_MIN_CAP + 1) == 0 && cap == 2 * VEC_MIN_CAP, "doubles");
	CHECK(VEC_GROW(v, cap, 1000) == 0 && cap == 1024 && v[0].a == 7, "to need: cap %zu", cap);
	CHECK(VEC_GROW(v, cap, SIZE_MAX / 4) == -ENOMEM && cap == 1024 && v[0].a == 7,
	      "too large: unchanged");
	free(v);
}

/* One capstone handle per mode, for both its users. */
static void test_disasm(void)
{
	static const __u8 cpuid[] = { 0x0f, 0xa2 }, call[] = { 0xe8, 0x00, 0x00, 0x00, 0x00 },
		mov16[] = { 0x89, 0xc8 }, padded[24] = { 0xff, 0xc0 };
	struct disasm_insn insn;

	CHECK(disasm_x86(9, cpuid, sizeof(cpuid), 0, &insn) && !strcmp(insn.mnemonic, "cpuid") &&
	      !insn.op_str[0] && insn.size == 2, "cpuid");
	CHECK(disasm_x86(9, call, sizeof(call), 0x1000, &insn) && !strcmp(insn.op_str, "0x1005") &&
	      insn.size == 5, "a call shows its target: %s", insn.op_str);
	CHECK(disasm_x86(5, call, sizeof(call), 0x1000, &insn) && insn.size == 5, "prot32");
	CHECK(disasm_x86(0, mov16, sizeof(mov16), 0, &insn) && !strcmp(insn.op_str, "ax, cx"),
	      "real mode is 16-bit: %s", insn.op_str);
	CHECK(disasm_x86(3, mov16, sizeof(mov16), 0, &insn) && !strcmp(insn.op_str, "ax, cx"),
	      "vm86 too");
	CHECK(disasm_x86(9, mov16, sizeof(mov16), 0, &insn) && !strcmp(insn.op_str, "eax, ecx"),
	      "prot64");
	CHECK(disasm_x86(5, padded, sizeof(padded), 0, &insn) && !strcmp(insn.mnemonic, "inc") &&
	      insn.size == 2, "the first of many bytes");
	CHECK(!disasm_x86(9, cpuid, 1, 0, &insn), "half an instruction");
	CHECK(!disasm_x86(9, cpuid, 0, 0, &insn), "no bytes");
	CHECK_STR(name_of(CLASS_EMULATE, 0x0fa2 | 9ULL << EMUL_MODE_SHIFT), "cpuid 0f a2 prot64");
}

static void test_plan_programs(void)
{
	static const char *const objects[NR_PROBE_ARCHES] = {
		[PROBE_ARCH_X86] = ".output/kvmprof-x86.bpf.o",
		[PROBE_ARCH_ARM64] = ".output/kvmprof-arm64.bpf.o",
	};

	for (int arch = 0; arch < NR_PROBE_ARCHES; arch++) {
		struct program_walk w = { .obj = bpf_object__open_file(objects[arch], NULL) };
		struct bpf_program *prog;
		int unplanned = 0;

		CHECK(w.obj, "cannot open %s", objects[arch]);
		if (!w.obj)
			continue;
		probe_each_program(arch, check_program, &w);
		CHECK(w.pairs >= (arch == PROBE_ARCH_X86 ? 30 : 20) && w.missing == 0,
		      "%s: %d of %d planned programs missing", objects[arch], w.missing, w.pairs);
		bpf_object__for_each_program(prog, w.obj) {
			const char *name = bpf_program__name(prog);
			bool planned = !strcmp(name, "flush_hot");

			for (int i = 0; i < w.nr_seen && !planned; i++)
				planned = !strcmp(w.seen[i], name);
			if (!planned && ++unplanned)
				fprintf(stderr, "  %s: program %s is in no plan\n", objects[arch], name);
		}
		CHECK(unplanned == 0, "%s: %d programs no plan can choose", objects[arch], unplanned);
		bpf_object__close(w.obj);
	}
}

/* Every class has what every view reads, and the live view's sort keys are
 * distinct, one per class traced here. */
static void test_class_table(void)
{
	char seen[NR_CLASSES + 1] = "";
	int traced = 0;

	for (int c = 0; c < NR_CLASSES; c++) {
		const struct class_desc *d = &class_table[c];

		CHECK(d->name && d->column && d->color && (d->x86 || d->arm64), "class %d complete", c);
		CHECK(!!class_sort_key(c) == class_traced_here(c), "class %d: a key iff traced here", c);
		if (!class_sort_key(c))
			continue;
		CHECK(!strchr(seen, class_sort_key(c)), "class %d: key %c taken", c, class_sort_key(c));
		CHECK(class_of_sort_key(class_sort_key(c)) == c, "class %d: key round trip", c);
		seen[traced++] = class_sort_key(c);
	}
	CHECK(traced == (HOST_IS_ARM64 ? 7 : 8), "%d classes traced here", traced);
	CHECK(class_of_sort_key('0') == -1 && class_of_sort_key('q') == -1, "no class for other keys");
}

static void test_record_fields(void)
{
	static const char format[] =
		"name: kvm_emulate_insn\nID: 85\nformat:\n"
		"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
		"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
		"\tfield:__u64 rip;\toffset:8;\tsize:8;\tsigned:0;\n"
		"\tfield:__u8 insn[15];\toffset:21;\tsize:15;\tsigned:0;\n"
		"\tfield:int errno;\toffset:40;\tsize:4;\tsigned:1;\n"
		"\tfield:__data_loc char[] name;\toffset:44;\tsize:4;\tsigned:1;\n\n"
		"print fmt: \"%llx\", REC->rip\n";
	struct record_field f[MAX_RECORD_FIELDS];
	int n = record_fields_parse(format, f, MAX_RECORD_FIELDS);

	CHECK(n == 3, "got %d fields", n);
	if (n == 3) {
		CHECK_STR(f[0].name, "rip");
		CHECK(f[0].offset == 8 && f[0].size == 8 && !f[0].count && !f[0].is_signed, "rip");
		CHECK_STR(f[1].name, "insn");
		CHECK(f[1].offset == 21 && f[1].size == 15 && f[1].count == 15, "insn[15]");
		CHECK(f[2].offset == 40 && f[2].is_signed, "errno");
	}
	CHECK(record_fields_parse("\tfield:int x;\toffset:zz;\n", f, MAX_RECORD_FIELDS) == -1,
	      "a malformed field line is refused");
	CHECK(record_fields_parse("\tfield:u32 a[3];\toffset:8;\tsize:10;\tsigned:0;\n", f,
				  MAX_RECORD_FIELDS) == -1, "an array whose size is not a multiple");
}

/* The record types built from this kernel's tracefs format files put every
 * field where the kernel's own BTF (trace_event_raw_NAME) has it. */
static void test_record_btf_matches_kernel(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf(), *kvm = NULL, *built;
	const char *dir = "/sys/kernel/tracing/events/kvm";
	DIR *d = opendir(dir);
	struct dirent *e;
	int compared = 0, wrong = 0;

	CHECK(vmlinux && d, "kernel BTF and %s", dir);
	if (!vmlinux || !d)
		goto out;
	if (!access("/sys/kernel/btf/kvm", R_OK))
		kvm = btf__load_module_btf("kvm", vmlinux);
	built = btf__new_empty();	/* alone: a name search must find the built type */
	while ((e = readdir(d))) {
		struct record_field f[MAX_RECORD_FIELDS];
		char path[512], name[300], *text = NULL;
		size_t len = 0;
		FILE *fp;
		int n, want, got;

		snprintf(path, sizeof(path), "%s/%s/format", dir, e->d_name);
		snprintf(name, sizeof(name), "trace_event_raw_%s", e->d_name);
		want = btf__find_by_name_kind(vmlinux, name, BTF_KIND_STRUCT);
		if (want <= 0 && kvm)
			want = btf__find_by_name_kind(kvm, name, BTF_KIND_STRUCT);
		if (want <= 0 || !(fp = fopen(path, "r")))
			continue;
		n = getdelim(&text, &len, '\0', fp) > 0 ? record_fields_parse(text, f, MAX_RECORD_FIELDS) : -1;
		fclose(fp);
		free(text);
		if (n < 0 || record_btf_add(built, e->d_name, f, n)) {
			wrong++;
			fprintf(stderr, "  %s: cannot build its record type\n", e->d_name);
			continue;
		}
		got = btf__find_by_name_kind(built, name, BTF_KIND_STRUCT);
		for (int i = 0; i < n; i++) {
			const struct btf *kb = want < (int)btf__type_cnt(vmlinux) ? vmlinux : kvm;
			const struct btf_type *kt = btf__type_by_id(kb, want), *bt = btf__type_by_id(built, got);
			const struct btf_member *km = btf_members(kt), *bm = btf_members(bt);
			bool found = false;

			for (int j = 0; j < btf_vlen(kt); j++) {
				if (strcmp(btf__name_by_offset(kb, km[j].name_off), f[i].name))
					continue;
				found = km[j].offset == bm[i].offset;
			}
			if (!found && ++wrong)
				fprintf(stderr, "  %s.%s: offset differs from the kernel's BTF\n", e->d_name,
					f[i].name);
		}
		compared++;
	}
	CHECK(compared >= 10 && !wrong, "%d records compared, %d fields wrong", compared, wrong);
	btf__free(built);
	btf__free(kvm);
out:
	if (d)
		closedir(d);
	btf__free(vmlinux);
}

int main(void)
{
	test_plan_programs();
	test_class_table();
	test_record_fields();
	test_record_btf_matches_kernel();
	test_names();
	test_every_uapi_exit_name();
	test_exit_detail_names();
	test_detail_reports();
	test_arm64_names();
	test_histogram_maths();
	test_csv_quoting();
	test_csv_reader();
	test_guest_names();
	test_guest_filter();
	test_options();
	test_late_guest_name();
	test_many_guests();
	test_start_time();
	test_pid_reuse();
	test_outfile();
	test_insn_text();
	test_insn_sums();
	test_index();
	test_vec_grow();
	test_disasm();
	return check_report("unit");
}
