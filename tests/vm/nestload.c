/*
 * nestload: a tiny VMM (plain C, /dev/kvm) whose guest is itself a hypervisor: it runs a nested
 * guest (L2) under nested SVM a scripted number of times, so that the KVM under it fires its
 * nested events (kvm_nested_vmenter, kvm_nested_vmexit, kvm_nested_vmexit_inject) in exact
 * numbers: ground truth for kvmprof's nested class in the test bed (tests/vm/events.sh).
 *
 * nestload [--runs N] [-name NAME | -name guest=NAME,...] [--wait-start FILE]
 * One VM, one vCPU on a thread named "CPU 0/KVM".  The guest ("L1" to this KVM's nested code)
 * runs in 64-bit long mode (one 2 MiB page, identity: KVM refuses VMRUN without paging) with
 * EFER.SVME (set by the VMM, with the guest's CPUID saying SVM, as KVM wants); it loops N times
 * (--runs, default 10, 1..1000000):
 *   VMRUN (its VMCB at 0x3000): L2 executes cpuid, which the VMCB intercepts: #VMEXIT to the
 *     guest (exit code 0x72), which steps L2's rip over it (2 bytes);
 *   VMRUN: L2 executes vmmcall, intercepted (exit code 0x81), the guest steps over it (3 bytes);
 * and ends with out 0xf4, al.  L2 is 32-bit flat protected mode without paging, its code at
 * 0x6000: cpuid; vmmcall; jmp 0x6000.  (Why long mode: with the guest in 32-bit paging, Debian's
 * 6.1 and 6.12 fail the #VMEXIT back to it, "kvm_nested_vmenter_failed: !load_pdptrs(vcpu, cr3)"
 * and KVM_EXIT_SHUTDOWN: a non-PAE guest without nested paging, a PAE one with it; in long mode
 * KVM loads no PDPTEs.)  The VMCB intercepts VMRUN (the architecture wants it),
 * CPUID and VMMCALL, nothing else: every other exit of L2 (host interrupts, nested page faults)
 * is the host KVM's own and never reaches the guest.  Any other exit code reaching the guest:
 * it stores it and writes port 0xf5 (a failure).
 * So, per run of nestload, the KVM under it fires (any kernel with nested SVM, nested=1):
 *   kvm_nested_vmenter (5.10: kvm_nested_vmrun)  2N     (one per VMRUN the guest executes)
 *   kvm_nested_vmexit_inject                     2N     N with exit code cpuid, N vmmcall
 *   kvm_nested_vmexit                            >= 2N  N cpuid, N vmmcall, + L2's exits the host
 *                                                       handles itself (intr, npf, PF): not exact
 *   kvm_exit with reason vmrun                   2N     (the guest's VMRUNs; kvm_exit also fires for
 *                                                       every L2 exit, as kvm_nested_vmexit does)
 * Exit 3 with one line on stderr when the host offers no SVM to its guests (KVM_GET_SUPPORTED_CPUID
 * leaf 0x80000001 ECX bit 2: kvm_amd with nested=1 on an SVM CPU).  Bad usage: exit 2.
 * -name and --wait-start as tests/guestload's ("ready pid=PID" once the vCPU thread exists).
 *
 * Output: guest pid=P vcpus=1 runs=N l2_cpuid=C l2_vmmcall=V exit_io=E kvm_run=R elapsed_us=U name=
 * (l2_cpuid, l2_vmmcall: the intercepts the guest itself counted; exit 0 iff both are N).
 *
 * Guest memory, one memslot of 64 KiB at 0: GDT 0x500, the guest's code 0x1000, PML4 0x2000,
 * VMCB 0x3000, host save area (MSR VM_HSAVE_PA) 0x4000, counters 0x5000 (+0 cpuid, +4 vmmcall,
 * +8 a wrong exit code), L2's code 0x6000, L2's stack below 0x7000, PDPT 0x8000, page
 * directory 0x9000, the guest's stack below 0xb000.  VMCB offsets: AMD64 APM vol. 2, appendix B.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RAM_SIZE 0x10000u
#define GDT  0x0500u
#define CODE 0x1000u
#define PML4 0x2000u
#define PDPT 0x8000u
#define PD   0x9000u
#define VMCB 0x3000u
#define HSAVE 0x4000u
#define DATA 0x5000u
#define L2_CODE 0x6000u
#define L2_STACK 0x7000u
#define STACK 0xb000u
#define MSR_VM_HSAVE_PA 0xc0010117u
#define EFER_SVME (1u << 12)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_VMMCALL 0x81

static uint8_t *mem;
static uint32_t pc;
static unsigned long runs = 10;
static const char *name = "", *wait_start;
static int kvm, vmfd, vcpufd;
static struct kvm_run *run;
static uint64_t kvm_runs, exit_io;

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "nestload: ");
	fprintf(stderr, fmt, arg, strerror(errno));
	fputc('\n', stderr);
	exit(1);
}

static void emit(const uint8_t *b, size_t n) { memcpy(mem + pc, b, n); pc += (uint32_t)n; }
#define E(...) emit((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))
static void emit32(uint32_t v) { memcpy(mem + pc, &v, 4); pc += 4; }
static void put32(uint32_t at, uint32_t v) { memcpy(mem + at, &v, 4); }
static void put64(uint32_t at, uint64_t v) { memcpy(mem + at, &v, 8); }
/* a VMCB save-area segment: selector, attributes (access byte, then flags G D L AVL), limit, base */
static void seg(uint32_t at, uint16_t sel, uint16_t attr, uint32_t limit)
{
	memcpy(mem + at, &sel, 2);
	memcpy(mem + at + 2, &attr, 2);
	put32(at + 4, limit);
	put64(at + 8, 0);
}

static void build(void)
{
	/* null, 32-bit code 0x08 (L2), data 0x10, 64-bit code 0x18 (the guest) */
	uint64_t gdt[4] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull, 0x00af9a000000ffffull };
	memcpy(mem + GDT, gdt, sizeof gdt);
	put64(PML4, PDPT | 3);                             /* present, writable */
	put64(PDPT, PD | 3);
	put64(PD, 0x83);                                   /* 0-2 MiB: present, writable, 2 MiB page */

	/* the VMCB: control area */
	put32(VMCB + 0x0c, 1u << 18);                      /* intercept CPUID */
	put32(VMCB + 0x10, 1u << 0 | 1u << 1);             /* intercept VMRUN, VMMCALL */
	put32(VMCB + 0x58, 1);                             /* guest ASID */
	/* save area: L2 in 32-bit flat protected mode, no paging */
	seg(VMCB + 0x400, 0x10, 0x0c93, 0xffffffff);       /* es */
	seg(VMCB + 0x410, 0x08, 0x0c9b, 0xffffffff);       /* cs */
	seg(VMCB + 0x420, 0x10, 0x0c93, 0xffffffff);       /* ss */
	seg(VMCB + 0x430, 0x10, 0x0c93, 0xffffffff);       /* ds */
	seg(VMCB + 0x440, 0x10, 0x0c93, 0xffffffff);       /* fs */
	seg(VMCB + 0x450, 0x10, 0x0c93, 0xffffffff);       /* gs */
	seg(VMCB + 0x460, 0, 0, sizeof gdt - 1);           /* gdtr */
	put64(VMCB + 0x468, GDT);
	seg(VMCB + 0x470, 0, 0x0082, 0xffff);              /* ldtr */
	seg(VMCB + 0x480, 0, 0, 0);                        /* idtr */
	seg(VMCB + 0x490, 0, 0x008b, 0xffff);              /* tr: busy 32-bit TSS */
	mem[VMCB + 0x4cb] = 0;                             /* cpl */
	put64(VMCB + 0x4d0, EFER_SVME);                    /* efer: KVM wants SVME in L2's too */
	put64(VMCB + 0x548, 0);                            /* cr4 */
	put64(VMCB + 0x550, 0);                            /* cr3 */
	put64(VMCB + 0x558, 0x11);                         /* cr0: PE, ET */
	put64(VMCB + 0x560, 0x400);                        /* dr7 */
	put64(VMCB + 0x568, 0xffff0ff0);                   /* dr6 */
	put64(VMCB + 0x570, 2);                            /* rflags */
	put64(VMCB + 0x578, L2_CODE);                      /* rip */
	put64(VMCB + 0x5d8, L2_STACK);                     /* rsp */
	put64(VMCB + 0x668, 0x0007040600070406ull);        /* g_pat: the power-on default */

	/* L2: cpuid; vmmcall; jmp L2_CODE */
	pc = L2_CODE;
	E(0x0f, 0xa2, 0x0f, 0x01, 0xd9, 0xeb, 0xf9);

	/* the guest (64-bit code: absolute operands as [disp32] through a SIB byte, not rip-relative) */
	pc = CODE;
	E(0xbf); emit32((uint32_t)runs);                   /* mov edi, N */
	uint32_t loop = pc;
	E(0xb8); emit32(VMCB);                             /* mov eax, VMCB (rax: zero-extended) */
	E(0x0f, 0x01, 0xd8);                               /* vmrun */
	E(0x8b, 0x04, 0x25); emit32(VMCB + 0x70);          /* mov eax, [VMCB + EXITCODE] */
	E(0x3d); emit32(SVM_EXIT_CPUID);                   /* cmp eax, 0x72 */
	uint32_t jne1 = pc; E(0x75, 0);                    /* jne not_cpuid */
	E(0x83, 0x04, 0x25); emit32(VMCB + 0x578); E(2);   /* add dword [L2 rip], 2 */
	E(0xff, 0x04, 0x25); emit32(DATA);                 /* inc dword [cpuid count] */
	E(0xeb, (uint8_t)(loop - (pc + 2)));               /* jmp L */
	mem[jne1 + 1] = (uint8_t)(pc - (jne1 + 2));        /* not_cpuid: */
	E(0x3d); emit32(SVM_EXIT_VMMCALL);                 /* cmp eax, 0x81 */
	uint32_t jne2 = pc; E(0x75, 0);                    /* jne bad */
	E(0x83, 0x04, 0x25); emit32(VMCB + 0x578); E(3);   /* add dword [L2 rip], 3 */
	E(0xff, 0x04, 0x25); emit32(DATA + 4);             /* inc dword [vmmcall count] */
	E(0xff, 0xcf);                                     /* dec edi */
	E(0x75, (uint8_t)(loop - (pc + 2)));               /* jnz L */
	E(0xe6, 0xf4, 0xf4);                               /* out 0xf4, al; hlt */
	mem[jne2 + 1] = (uint8_t)(pc - (jne2 + 2));        /* bad: */
	E(0x89, 0x04, 0x25); emit32(DATA + 8);             /* mov [wrong exit code], eax */
	E(0xe6, 0xf5, 0xf4);                               /* out 0xf5, al; hlt */
}

static int has_svm(struct kvm_cpuid2 *c)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x80000001)
			return (c->entries[i].ecx >> 2) & 1;
	return 0;
}

static void setup_vcpu(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(struct kvm_cpuid_entry2));
	c->nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) < 0) die("KVM_GET_SUPPORTED_CPUID%s: %s", "");
	if (!has_svm(c)) {
		fprintf(stderr, "nestload: this KVM offers no SVM to its guests (kvm_amd nested=0, or not AMD)\n");
		exit(3);
	}
	if (ioctl(vcpufd, KVM_SET_CPUID2, c) < 0) die("KVM_SET_CPUID2%s: %s", "");
	free(c);

	struct kvm_sregs s;
	if (ioctl(vcpufd, KVM_GET_SREGS, &s) < 0) die("KVM_GET_SREGS%s: %s", "");
	struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 0x18, .type = 0xb, .present = 1,
				    .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment data = code;
	data.selector = 0x10;
	data.type = 3;
	data.db = 1;
	data.l = 0;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.gdt.base = GDT;
	s.gdt.limit = 31;
	s.cr0 = 0x80000011;                                /* PG, ET, PE */
	s.cr3 = PML4;
	s.cr4 = 0x20;                                      /* PAE */
	s.efer = EFER_SVME | EFER_LME | EFER_LMA;
	if (ioctl(vcpufd, KVM_SET_SREGS, &s) < 0) die("KVM_SET_SREGS (long mode, EFER.SVME)%s: %s", "");

	struct { struct kvm_msrs h; struct kvm_msr_entry e; } m = { .h.nmsrs = 1 };
	m.e.index = MSR_VM_HSAVE_PA;
	m.e.data = HSAVE;
	if (ioctl(vcpufd, KVM_SET_MSRS, &m) != 1) die("KVM_SET_MSRS (VM_HSAVE_PA)%s: %s", "");

	struct kvm_regs r = { .rip = CODE, .rsp = STACK, .rflags = 2 };
	if (ioctl(vcpufd, KVM_SET_REGS, &r) < 0) die("KVM_SET_REGS%s: %s", "");
}

static int result = -1;
static char failure[256];

static void *vcpu_thread(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "CPU 0/KVM");
	if (wait_start)
		while (access(wait_start, F_OK))
			usleep(10000);
	for (;;) {
		kvm_runs++;
		if (ioctl(vcpufd, KVM_RUN, 0) < 0) {
			if (errno == EINTR) continue;
			snprintf(failure, sizeof failure, "KVM_RUN: %s", strerror(errno));
			break;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT) {
			exit_io++;
			if (run->io.port == 0xf4) { result = 0; break; }
			if (run->io.port == 0xf5) {
				uint32_t code;
				memcpy(&code, mem + DATA + 8, 4);
				snprintf(failure, sizeof failure, "the guest got exit code 0x%x from L2", code);
				break;
			}
		}
		struct kvm_regs r;
		ioctl(vcpufd, KVM_GET_REGS, &r);
		snprintf(failure, sizeof failure, "unexpected exit %u (io port 0x%x) at rip 0x%llx", run->exit_reason,
			 run->exit_reason == KVM_EXIT_IO ? run->io.port : 0, (unsigned long long)r.rip);
		break;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "runs", 1, 0, 'r' }, { "wait-start", 1, 0, 'w' },
					      { "name", 1, 0, 'n' }, { 0, 0, 0, 0 } };
	int o;
	while ((o = getopt_long_only(argc, argv, "", opts, NULL)) != -1) {
		char *end;
		switch (o) {
		case 'r':
			runs = strtoul(optarg, &end, 10);
			if (*end || !runs || runs > 1000000) {
				fprintf(stderr, "nestload: --runs wants 1..1000000, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'w': wait_start = optarg; break;
		case 'n': name = optarg; break;
		default:
			fprintf(stderr, "usage: nestload [--runs N] [-name NAME] [--wait-start FILE]\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nestload: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if ((kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0) die("/dev/kvm%s: %s", "");
	if ((vmfd = ioctl(kvm, KVM_CREATE_VM, 0)) < 0) die("KVM_CREATE_VM%s: %s", "");
	mem = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) die("mmap%s: %s", "");
	struct kvm_userspace_memory_region region = { .slot = 0, .guest_phys_addr = 0, .memory_size = RAM_SIZE,
						      .userspace_addr = (uintptr_t)mem };
	if (ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION%s: %s", "");
	if ((vcpufd = ioctl(vmfd, KVM_CREATE_VCPU, 0)) < 0) die("KVM_CREATE_VCPU%s: %s", "");
	int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpufd, 0);
	if (run == MAP_FAILED) die("mmap kvm_run%s: %s", "");
	build();
	setup_vcpu();
	printf("ready pid=%d\n", getpid());
	fflush(stdout);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_t th;
	pthread_create(&th, NULL, vcpu_thread, NULL);
	pthread_join(th, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	uint32_t cpuid, vmmcall;
	memcpy(&cpuid, mem + DATA, 4);
	memcpy(&vmmcall, mem + DATA + 4, 4);
	printf("guest pid=%d vcpus=1 runs=%lu l2_cpuid=%u l2_vmmcall=%u exit_io=%llu kvm_run=%llu elapsed_us=%lld name=%s\n",
	       getpid(), runs, cpuid, vmmcall, (unsigned long long)exit_io, (unsigned long long)kvm_runs,
	       (long long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000), name);
	if (result || cpuid != runs || vmmcall != runs) {
		fprintf(stderr, "nestload: %s\n", *failure ? failure : "the guest's counts are not the runs asked for");
		return 1;
	}
	return 0;
}
