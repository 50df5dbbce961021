/*
 * guestload: a tiny VMM (plain C, /dev/kvm) whose guests' trap counts are exact ground truth
 * for kvmprof's tests.
 *
 * guestload [-g GUESTS] [-c VCPUS] [--pio N] [--pio-in N] [--mmio-read N] [--mmio-write N]
 *           [--cpuid N] [--hlt N] [--emulate N] [--msr-read N] [--msr-write N] [--hypercall N]
 *           [--hc-nr NR] [--emul-fail N] [--sleep-us D [--sleep-every K]] [--repeat R] [--duration S]
 *           [--protected] [--hyperv] [-name NAME | -name guest=NAME,...] [--wait-start FILE] [--cs-base]
 *           [--layout] [--pin CPU] [--per-vcpu] [--hold FILE]
 * Forks GUESTS processes (default 1), each one VM with VCPUS threads named "CPU n/KVM" (default 1).
 * Every vCPU runs the same script, real mode (default) or 32-bit flat protected mode (--protected,
 * no paging), R times (--repeat, default 1), then writes port 0xf4 and stops.  N, R: 0..2^32-1.
 * --sleep-us D: after every KVM_RUN return the vCPU thread sleeps >= D us before the next KVM_RUN.
 *   (Not after a return with -EINTR, which only the time limit causes.)
 * --sleep-every K (1..2^32-1, needs --sleep-us): sleep only after every K-th KVM_RUN return of each vCPU,
 *   counting that vCPU's returns (the ones above, -EINTR not counted) from 1: after returns K, 2K, ...
 *   So with R returns a vCPU sleeps floor(R / K) times; the last return (the end signal, or the
 *   time limit's) sleeps too when R is a multiple of K.  Default 1: every return.
 * --pin CPU: every vCPU thread pins itself to the host CPU numbered CPU (sched_setaffinity) before its
 *   first KVM_RUN (the VMM's main thread is not pinned); a CPU it may not use fails the vCPU (exit 1).
 * --per-vcpu: after its guest line, each guest prints one line per vCPU (see Output).
 * --duration S: stop every vCPU after S seconds (signal + immediate_exit, the process lives on);
 *   a vCPU stopped right after a PIO/MMIO exit gets one more KVM_RUN with immediate_exit=1 so KVM
 *   completes that instruction, then the counts are rebuilt exactly from eip/ebp/edi/ecx/esi.
 * --cs-base: real mode with CS = 0x100 (base 0x1000) and IP from 0: the same linear addresses, so a
 *   tracer that leaves out the CS base is caught.  --layout: after its guest line, each guest prints
 *   one line per script instruction: layout pid=P addr=0xLINEAR count=C bytes=HEX HEX ... where C is
 *   how often a complete run executes it over all vCPUs (#UD handler instructions not listed).
 * --thread-per-run: every KVM_RUN from a new thread (named as the vCPU's), joined before the next;
 *   not with --duration.
 * -name is accepted (single dash, as QEMU) for /proc/PID/cmdline and echoed, escaped, as name=.
 * --wait-start FILE: VM, vCPUs and vCPU threads are created, "ready pid=PID" is printed, and the
 *   first KVM_RUN waits until FILE exists ("ready pid=" is printed with or without the option).
 * --hold FILE: after its output the guest process keeps its VM and vCPU fds, running nothing, until
 *   FILE exists (so a reader of KVM's counters sees them, final and quiet, before the VM goes).
 * Bad usage: one line on stderr, exit 2.  Exit 0 iff every guest ended cleanly (script done or time
 * limit); otherwise 1 and one stderr line per failing vCPU (unexpected exit, guest exception, ...).
 *
 * Output, one line per guest (sums over its vCPUs):
 *   guest pid=P vcpus=C mode=real|prot32 complete=0|1 pio_out= pio_in= mmio_read= mmio_write= cpuid=
 *   hlt= emulate_loop= msr_read= msr_write= hypercall= emul_fail= hc_ud= [fail_rip=] [kstat_*=]
 *   exit_internal= insns= exit_io= exit_mmio= exit_hlt= exit_intr= exit_other= kvm_run= slept= slept_us=
 *   elapsed_us= cpu_us= name=
 * and with --per-vcpu, after it, one line per vCPU i (its own counts, the same meanings):
 *   vcpu pid=P vcpu=i tid=TID kvm_run= exit_io= exit_mmio= exit_hlt= exit_intr= slept= slept_us= cpu_us=
 *   sched_run_us= sched_wait_us= last_sleep_us=
 * sched_run_us, sched_wait_us: from the thread's /proc/thread-self/schedstat (CONFIG_SCHED_INFO; 0 without
 *   it), read just before its first KVM_RUN and just after its last return: its time on a CPU, and
 *   runnable but waiting on a runqueue (what a tracer of context switches calls preempted, plus the
 *   wait after each wake-up, e.g. from --sleep-us), over its KVM_RUN loop (with --thread-per-run the
 *   vCPU's own thread's, which only waits for the threads that run KVM_RUN).
 * pio_out..hypercall: ops the guest executed (pio/mmio/hlt are also checked against what the VMM saw).
 * hc_ud: hypercalls that raised #UD and were skipped by the guest's #UD handler (see below).
 * fail_rip: linear guest address (CS base + offset) of the --emul-fail instruction.  exit_internal: KVM_RUN
 * returns with KVM_EXIT_INTERNAL_ERROR / KVM_INTERNAL_ERROR_EMULATION (one per emul_fail).
 * cpu_us: CPU time of the vCPU threads (the VMM's and KVM's work, not time others ran).
 * slept: --sleep-us sleeps taken over all vCPUs (sum over vCPUs of floor(returns / K), see --sleep-every);
 *   slept_us: their measured length (CLOCK_MONOTONIC around each sleep, from just before it is asked for
 *   to the thread running again after it), summed; 0 0 without --sleep-us.  last_sleep_us: the vCPU's
 *   last sleep alone (0 if none).
 * insns: guest instructions executed.  exit_*: KVM_RUN returns by run->exit_reason (exit_intr:
 * -EINTR, from the time limit); kvm_run: KVM_RUN ioctls.  kstat_*: KVM's own per-vCPU statistics
 * (KVM_GET_STATS_FD, 5.14 on; before it the VM's debugfs files; each printed only when available;
 * debugfs is locked down on the PVM host).
 *
 * Guest memory: one memslot, GPA 0..64 KiB.  IVT at 0, GDT 0x500, IDT 0x600, exception stubs 0x800
 * (vector v: out 0xf5 <- v, the VMM reports "guest exception vector v"), script at 0x1000, stacks
 * below 0xF000.  MMIO page: GPA 0xD0000 (no memslot; real mode: ES base 0xD0000, offset 0).
 * Per vCPU the script is, for each op with N > 0 in the order of the options above:
 *   mov edi, N ; L: BODY ; dec edi ; jnz L            (--emulate: mov ecx, N ; L: loop L)
 *   BODY  pio_out: mov dx,0x3f8; out dx,al         pio_in: mov dx,0x3f9; in al,dx
 *         mmio_read: mov al,[0xD0000]              mmio_write: mov [0xD0000],al
 *         cpuid: xor eax,eax; cpuid                hlt: hlt
 *         msr_read: mov ecx,0x10 (IA32_TSC); rdmsr
 *         msr_write: mov ecx,0x8b (UCODE_REV, KVM ignores guest writes); xor eax,eax; xor edx,edx; wrmsr
 *         hypercall: mov eax,NR (--hc-nr, default 0x1234: unknown, returns -KVM_ENOSYS); xor ebx,ebx;
 *                    xor ecx,ecx; vmmcall (0f 01 d9) if the host CPU is AMD/Hygon, else vmcall (0f 01 c1)
 *         emul_fail: aaa (37), which KVM's emulator does not implement: where KVM emulates it (PVM host)
 *                    it fails, KVM_RUN returns KVM_EXIT_INTERNAL_ERROR, the VMM checks the bytes KVM
 *                    reports and steps eip over it
 * wrapped as: mov ebp, R ; top: <blocks> ; dec ebp ; jnz top   then   out 0xf4, al  (the end signal)
 * #UD handler (vector 6, only with --hypercall): inc esi; add (e)sp, frame; jmp <dec edi>.
 * --hyperv (needs --protected): the vCPUs are Hyper-V enlightened, so KVM takes --hypercall's calls as
 *   Hyper-V hypercalls (kvm_hv_hypercall, code = --hc-nr & 0xffff; no kvm_hypercall): KVM_SET_CPUID2
 *   gives leaves 0x40000000 ("Microsoft Hv", max 0x40000005) and 0x40000001 (eax "Hv#1", which is what
 *   KVM checks), and the VMM sets HV_X64_MSR_GUEST_OS_ID (0x40000000) with KVM_SET_MSRS; KVM wants CPL 0
 *   and protected mode.  The 32-bit call input is EDX:EAX, so BODY gets an xor edx,edx (hypercall
 *   c_op 7): the result KVM writes to EDX:EAX must not turn into rep bits.  The whole CPUID is
 *   replaced: cpuid leaf 0 returns zeros (still one exit each).
 *
 * Instructions per vCPU, complete run (c_op = instructions per op, loop overhead included):
 *   insns = (R > 0 ? 1 + R * (2 + sum over ops with N > 0 of (1 + N * c_op)) : 0) + 1 + 3 * hc_ud
 *   c_op: pio_out 4, pio_in 4, mmio_read 3, mmio_write 3, cpuid 4, hlt 3, emulate 1, msr_read 4,
 *         msr_write 6, hypercall 6 (+3 in the #UD handler when the hypercall raised #UD), emul_fail 3
 *   KVM_RUN returns = R * (pio_out + pio_in + mmio_read + mmio_write + hlt + emul_fail) + 1 (the port 0xf4 exit)
 *
 * MEASURED on the PVM host (Linux 6.18 "PVM" KVM, AMD; every guest instruction is emulated), with
 * perf stat -a, identical in real mode and --protected, per op (per single occurrence, incl. its
 * dec/jnz), N=10 vs N=20 differences, and checked on 80 random runs (1-2 guests x 1-3 vCPUs,
 * repeat, sleep-us, duration cuts) where every total matched exactly:
 *   op          emulate_insn  pio  mmio  cpuid  msr  inj_exception  userspace_exit=KVM_RUN  exit
 *   pio_out          4         1    0     0      0     0               1                  IO
 *   pio_in           4         1    0     0      0     0               1                  IO
 *   mmio_read        3         0    2     0      0     0               1                  MMIO
 *                                   (unsatisfied-read before the exit, read on the next KVM_RUN)
 *   mmio_write       3         0    1     0      0     0               1                  MMIO
 *   cpuid            4         0    0     1      0     0               0                  -
 *   hlt              3         0    0     0      0     0               1                  HLT
 *   emulate          1         0    0     0      0     0               0                  -
 *   msr_read         4         0    0     0      1     0               0                  -
 *   msr_write        6         0    0     0      1     0               0                  -
 *   hypercall(real)  9         0    0     0      0     1 (#UD)         0                  -
 *   emul_fail        4         0    0     0      0     0               1                  INTERNAL_ERROR
 *                    (aaa fires kvm_emulate_insn twice: failed=0 after decoding, failed=1 as it fails;
 *                    kstat insn_emulation counts it once, insn_emulation_fail once)
 *   block setup (mov edi/ecx,N) 1 emulate_insn per block per repetition; repetition loop 2;
 *   prologue 1; end signal: 1 emulate_insn, 1 kvm_pio, 1 KVM_RUN return (IO).
 *   So here: kvm_emulate_insn == insns + emul_fail (failed==1: emul_fail), kvm_pio == exit_io, kvm_mmio == 2*mmio_read + mmio_write,
 *   kvm_userspace_exit == kvm_run (one per KVM_RUN ioctl, also for -EINTR), kvm_cpuid == cpuid,
 *   kvm_msr == msr_read + msr_write (no #GP), kvm_inj_exception with reinjected==0 == hc_ud
 *   (an injection cancelled by a kick or preemption fires again with reinjected=1: filter it out),
 *   kvm_fpu == 2 * kvm_run (load as KVM_RUN begins, unload before each return), kvm_exit,
 *   kvm_entry, kvm_hypercall: 0.  kstat: insn_emulation == insns, mmio_exits == mmio ops,
 *   halt_exits == hlt, io_exits 0, hypercalls 0, exits >= kvm_run + hc_ud (not exact).
 *   Every userspace exit is followed by >= D us (--sleep-us D; every K-th with --sleep-every K) before
 *   the next kvm_fpu load.
 * Hypercalls on the PVM host: real mode raises #UD (the emulator's vmmcall is protected-mode only);
 *   the guest's #UD handler skips it (hc_ud counts them).  In --protected mode KVM's emulator
 *   "fixes" the hypercall and re-emulates it forever (one kvm_emulate_insn per attempt, never a
 *   kvm_hypercall): needs --duration, the vCPU ends stuck at the hypercall with complete=0 and
 *   kvm_emulate_insn far above insns.  Do not use --hypercall with --protected on this host.
 * MEASURED on stock Debian 6.1.0-56-amd64 kvm-amd under qemu 7.2 TCG -cpu qemu64,+svm (nested SVM,
 * no NPT, no NRIPS; guests run natively), real and --protected alike, via tracefs + KVM stats:
 *   kvm_exit reasons: io == exit_io (pio_out + pio_in + 1 end signal), hlt == hlt, cpuid == cpuid,
 *   msr == msr_read + msr_write, hypercall (vmmcall) == hypercall == kvm_hypercall (hc_ud 0),
 *   "PF excp" == mmio_read + mmio_write + >= 1 (first code fetch, shadow paging: not exact), plus
 *   "interrupt" exits from host timer ticks (not exact).  kvm_entry == kvm_exit.
 *   kvm_pio, kvm_mmio (2 per read, 1 per write), kvm_cpuid, kvm_msr, kvm_userspace_exit == kvm_run,
 *   kvm_fpu == 2 * kvm_run: as on the PVM host.  kvm_emulate_insn == cpuid + hlt + msr + hypercall +
 *   mmio ops (without NRIPS KVM decodes to skip them; pio and the loop run natively).
 *   kstat: io_exits == exit_io, mmio_exits, halt_exits, hypercalls exact; exits == kvm_exit count.
 * Both hosts: with --duration the same relations hold for the counts printed (checked).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Guest-physical layout (one memslot, 64 KiB of RAM at GPA 0; everything else unbacked). */
#define RAM_SIZE   0x10000u
#define GDT_ADDR   0x0500u   /* 3 descriptors: null, flat code 0x08, flat data 0x10 */
#define IDT_ADDR   0x0600u   /* 32 interrupt gates (protected mode) */
#define EXC_ADDR   0x0800u   /* 32 exception stubs, 8 bytes each; IVT (real mode) at 0 points here */
#define CODE_ADDR  0x1000u   /* the script */
#define STACK_TOP  0xF000u   /* vCPU i: sp = STACK_TOP - i * 0x100 */
#define MMIO_GPA   0xD0000u  /* unbacked page: real mode reaches it through ES (base 0xD0000) */
#define PORT_OUT   0x3f8     /* --pio: out dx, al */
#define PORT_IN    0x3f9     /* --pio-in: in al, dx */
#define PORT_EXIT  0xf4      /* end of script: out 0xf4, al */
#define PORT_EXC   0xf5      /* a guest exception: out 0xf5, al with al = vector */
#define MSR_READ   0x10      /* IA32_TSC */
#define MSR_WRITE  0x8b      /* IA32_BIOS_SIGN_ID / UCODE_REV: KVM ignores guest writes */
#define MAX_VCPUS  64
#define FAIL_INSN  0x37      /* --emul-fail: aaa, which KVM's emulator does not implement */

enum { OP_PIO, OP_PIO_IN, OP_MMIO_R, OP_MMIO_W, OP_CPUID, OP_HLT, OP_EMUL, OP_MSR_R, OP_MSR_W, OP_HC, OP_FAIL, NOPS };
static const char *op_name[NOPS] = { "pio_out", "pio_in", "mmio_read", "mmio_write", "cpuid", "hlt",
				     "emulate_loop", "msr_read", "msr_write", "hypercall", "emul_fail" };

static uint64_t opt_n[NOPS];
static int opt_thread_per_run;
static uint64_t opt_guests = 1, opt_vcpus = 1, opt_repeat = 1, opt_hc_nr = 0x1234, opt_sleep_us;
static double opt_duration;
static int opt_protected, opt_hyperv;
static const char *opt_name, *opt_wait_start, *opt_hold;
static int opt_cs_base, opt_layout, opt_per_vcpu;
static uint64_t opt_sleep_every = 1;   /* --sleep-every K */
static long opt_pin = -1;              /* --pin CPU */

/* ---- the script: emitted at run time, with a map that lets the VMM tell from
 * (eip, ebp, edi, ecx) exactly how far a vCPU got when the time limit stopped it. */
struct block {
	int op, blen, opidx;      /* loop body: blen instructions, the op is body[opidx] */
	uint64_t n;
	uint32_t setup, body[6], dec, jnz, end;   /* instruction addresses */
};
static struct block blocks[NOPS];
static int nblocks;
static uint32_t a_prologue, a_repdec, a_repjnz, a_exit, a_ud[3], a_hc = ~0u;
static uint64_t rep_len; /* instructions in one repetition, incl. dec ebp; jnz */
static uint8_t *mem;
static uint32_t pc;

static void emit(int n, ...)
{
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		mem[pc++] = (uint8_t)va_arg(ap, int);
	va_end(ap);
}
static void emit32(uint32_t v) { for (int i = 0; i < 4; i++) mem[pc++] = (uint8_t)(v >> (8 * i)); }
static void osz(void) { if (!opt_protected) emit(1, 0x66); }       /* 32-bit operand in real mode */
static void mov_r32(int reg, uint32_t v) { osz(); emit(1, 0xb8 + reg); emit32(v); } /* mov r32, imm32 */
static void xor_r32(int reg) { osz(); emit(2, 0x31, 0xc0 | reg << 3 | reg); }     /* xor r32, r32 */
enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

static int hc_amd; /* vmmcall (AMD) or vmcall (Intel), from the host's CPUID vendor */

/* Emit the body of one op's loop; returns the index of the trapping instruction. */
static int emit_body(int op, uint32_t *a, int *n)
{
	int k = 0, opidx = 0;
#define I (a[k++] = pc)
	switch (op) {
	case OP_PIO:   I; if (opt_protected) emit(1, 0x66); emit(3, 0xba, PORT_OUT & 0xff, PORT_OUT >> 8); /* mov dx, 0x3f8 */
		       opidx = k; I; emit(1, 0xee); break;                                          /* out dx, al */
	case OP_PIO_IN:I; if (opt_protected) emit(1, 0x66); emit(3, 0xba, PORT_IN & 0xff, PORT_IN >> 8);   /* mov dx, 0x3f9 */
		       opidx = k; I; emit(1, 0xec); break;                                          /* in al, dx */
	case OP_MMIO_R: opidx = k; I;
		if (opt_protected) { emit(1, 0xa0); emit32(MMIO_GPA); }  /* mov al, [0xD0000] */
		else emit(4, 0x26, 0xa0, 0, 0);                           /* mov al, es:[0] */
		break;
	case OP_MMIO_W: opidx = k; I;
		if (opt_protected) { emit(1, 0xa2); emit32(MMIO_GPA); }  /* mov [0xD0000], al */
		else emit(4, 0x26, 0xa2, 0, 0);                           /* mov es:[0], al */
		break;
	case OP_CPUID: I; xor_r32(EAX); opidx = k; I; emit(2, 0x0f, 0xa2); break;                  /* xor eax,eax; cpuid */
	case OP_HLT:   opidx = k; I; emit(1, 0xf4); break;                                          /* hlt */
	case OP_MSR_R: I; mov_r32(ECX, MSR_READ); opidx = k; I; emit(2, 0x0f, 0x32); break;         /* mov ecx,0x10; rdmsr */
	case OP_MSR_W: I; mov_r32(ECX, MSR_WRITE); I; xor_r32(EAX); I; xor_r32(EDX);              /* mov ecx,0x8b; eax=edx=0 */
		       opidx = k; I; emit(2, 0x0f, 0x30); break;                                    /* wrmsr */
	case OP_HC:    I; mov_r32(EAX, (uint32_t)opt_hc_nr); I; xor_r32(EBX); I; xor_r32(ECX);    /* eax=nr, a0=a1=0 */
		       if (opt_hyperv) { I; xor_r32(EDX); }                          /* Hyper-V: input EDX:EAX */
		       opidx = k; I; emit(3, 0x0f, 0x01, hc_amd ? 0xd9 : 0xc1); break;             /* vmmcall / vmcall */
	case OP_FAIL:  opidx = k; I; emit(1, FAIL_INSN); break;                                    /* aaa */
	}
#undef I
	*n = k;
	return opidx;
}

static void build_guest(void)
{
	/* Exception stubs: mov al, vector; out 0xf5, al; hlt; jmp $-1.  IVT / IDT point at them. */
	for (int v = 0; v < 32; v++) {
		uint32_t h = EXC_ADDR + 8 * v;
		memcpy(mem + h, (uint8_t[]){ 0xb0, (uint8_t)v, 0xe6, PORT_EXC, 0xf4, 0xeb, 0xfd }, 7);
		mem[4 * v] = h & 0xff; mem[4 * v + 1] = h >> 8; mem[4 * v + 2] = 0; mem[4 * v + 3] = 0;
		uint64_t gate = (h & 0xffffull) | 0x08ull << 16 | 0x8e00ull << 32 | (uint64_t)(h >> 16) << 48;
		memcpy(mem + IDT_ADDR + 8 * v, &gate, 8);
	}
	uint64_t gdt[3] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull };
	memcpy(mem + GDT_ADDR, gdt, sizeof gdt);

	pc = CODE_ADDR;
	rep_len = 2;
	a_prologue = pc;
	if (opt_repeat)
		mov_r32(EBP, (uint32_t)opt_repeat);            /* mov ebp, R */
	uint32_t top = pc;
	for (int op = 0; op < NOPS && opt_repeat; op++) {
		if (!opt_n[op])
			continue;
		struct block *b = &blocks[nblocks++];
		b->op = op;
		b->n = opt_n[op];
		b->setup = pc;
		if (op == OP_EMUL) {
			mov_r32(ECX, (uint32_t)b->n);          /* mov ecx, N */
			b->body[0] = b->dec = b->jnz = pc;     /* L: loop L (ecx--, jump while ecx != 0) */
			if (opt_protected) emit(2, 0xe2, 0xfe);
			else emit(3, 0x67, 0xe2, 0xfd);        /* a32 loop: counts ecx, not cx */
			b->blen = 1;
			rep_len += 1 + b->n;
		} else {
			mov_r32(EDI, (uint32_t)b->n);          /* mov edi, N */
			uint32_t l = pc;
			b->opidx = emit_body(op, b->body, &b->blen);
			b->dec = pc; osz(); emit(1, 0x48 + EDI);  /* dec edi */
			b->jnz = pc; emit(2, 0x75, (uint8_t)(l - (pc + 2)));  /* jnz L */
			rep_len += 1 + b->n * (b->blen + 2);
		}
		b->end = pc;
	}
	if (opt_repeat) {
		a_repdec = pc; osz(); emit(1, 0x48 + EBP);        /* dec ebp */
		a_repjnz = pc; emit(2, 0x0f, 0x85);                /* jnz top (near) */
		if (opt_protected) emit32(top - (pc + 4));
		else { uint16_t d = (uint16_t)(top - (pc + 2)); emit(2, d & 0xff, d >> 8); }
	}
	a_exit = pc; emit(2, 0xe6, PORT_EXIT);                     /* out 0xf4, al */
	emit(3, 0xf4, 0xeb, 0xfd);                                 /* hlt; jmp $-1 (never reached) */

	/* #UD handler, used when the hypercall instruction raises #UD (PVM real mode does):
	 * count it in esi, drop the exception frame, continue after the hypercall. */
	for (int i = 0; i < nblocks; i++) {
		struct block *b = &blocks[i];
		if (b->op != OP_HC)
			continue;
		a_hc = b->body[b->opidx];
		a_ud[0] = pc; osz(); emit(1, 0x40 + ESI);                 /* inc esi */
		a_ud[1] = pc; emit(3, 0x83, 0xc4, opt_protected ? 12 : 6); /* add (e)sp, frame size */
		a_ud[2] = pc; emit(1, 0xe9);                              /* jmp dec edi */
		if (opt_protected) emit32(b->dec - (pc + 4));
		else { uint16_t d = (uint16_t)(b->dec - (pc + 2)); emit(2, d & 0xff, d >> 8); }
		mem[4 * 6] = a_ud[0] & 0xff; mem[4 * 6 + 1] = a_ud[0] >> 8;
		uint64_t gate = (a_ud[0] & 0xffffull) | 0x08ull << 16 | 0x8e00ull << 32;
		memcpy(mem + IDT_ADDR + 8 * 6, &gate, 8);
	}
}

/* ---- per-vCPU state ---- */
struct vcpu {
	int id, fd;
	pthread_t th;
	struct kvm_run *run;
	int done, err;
	char errmsg[200];
	uint64_t seen[NOPS], exit_io, exit_mmio, exit_hlt, exit_intr, exit_other, exit_fail, nrun;
	uint64_t cnt[NOPS], insns, hc_ud;  /* reconstructed from the final registers */
	uint64_t cpu_ns;                   /* the thread's CPU time: immune to other load */
	uint64_t nret;                     /* KVM_RUN returns that reach the sleep (not -EINTR) */
	uint64_t slept, slept_ns;          /* --sleep-us: sleeps taken, their measured length */
	uint64_t last_sleep_ns;            /* the last one's */
	uint64_t run_ns, run_delay_ns;     /* /proc/thread-self/schedstat over the KVM_RUN loop */
	pid_t tid;
};
static struct vcpu vcpus[MAX_VCPUS];
static atomic_int stop;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static int nfinished;
static pthread_barrier_t named, started;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "guestload: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void vfail(struct vcpu *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->errmsg, sizeof v->errmsg, fmt, ap);
	va_end(ap);
	v->err = 1;
	atomic_store(&stop, 1);
}

/* The calling thread's time on a CPU and waiting on a runqueue, in ns (CONFIG_SCHED_INFO). */
static int schedstat(uint64_t *run, uint64_t *delay)
{
	unsigned long long r, d;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");
	int ok = f && fscanf(f, "%llu %llu", &r, &d) == 2;
	if (f) fclose(f);
	if (!ok) return -1;
	*run = r;
	*delay = d;
	return 0;
}

static uint64_t ts_ns(const struct timespec *t) { return t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec; }

/* --sleep-us, after the vCPU's return number v->nret (counted from 1), on
 * every --sleep-every K-th of them. */
static void sleep_after_exit(struct vcpu *v)
{
	struct timespec t0, t, t1;
	v->nret++;
	if (!opt_sleep_us || v->nret % opt_sleep_every)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	t = t0;
	t.tv_sec += opt_sleep_us / 1000000;
	t.tv_nsec += (opt_sleep_us % 1000000) * 1000;
	if (t.tv_nsec >= 1000000000) { t.tv_sec++; t.tv_nsec -= 1000000000; }
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	v->slept++;
	v->last_sleep_ns = ts_ns(&t1) - ts_ns(&t0);
	v->slept_ns += v->last_sleep_ns;
}

/* Where did the vCPU stop?  Fills v->cnt[] and v->insns from eip/ebp/edi/ecx
 * (the #UD handler's own instructions are added by the caller). */
static int reconstruct(struct vcpu *v, uint32_t eip, const struct kvm_regs *r)
{
	uint32_t ebp = (uint32_t)r->rbp, edi = (uint32_t)r->rdi, ecx = (uint32_t)r->rcx;
	uint64_t full, ins = 0;
	memset(v->cnt, 0, sizeof v->cnt);
	if (eip == a_prologue && opt_repeat) { v->insns = 0; return 0; }
	if (eip == a_exit) {
		for (int i = 0; i < nblocks; i++) v->cnt[blocks[i].op] = blocks[i].n * opt_repeat;
		v->insns = opt_repeat ? 1 + opt_repeat * rep_len : 0;
		return 0;
	}
	if (eip == a_repjnz || eip == a_repdec) {
		full = opt_repeat - ebp - (eip == a_repjnz);
		for (int i = 0; i < nblocks; i++) v->cnt[blocks[i].op] = blocks[i].n * (full + 1);
		v->insns = 1 + full * rep_len + rep_len - 2 + (eip == a_repjnz);
		return 0;
	}
	full = opt_repeat - ebp;
	ins = 1 + full * rep_len;
	for (int i = 0; i < nblocks; i++)
		v->cnt[blocks[i].op] = full * blocks[i].n;
	for (int i = 0; i < nblocks; i++) {
		struct block *b = &blocks[i];
		if (eip >= b->end) {
			v->cnt[b->op] += b->n;
			ins += b->op == OP_EMUL ? 1 + b->n : 1 + b->n * (b->blen + 2);
			continue;
		}
		if (eip < b->setup) break;
		if (eip == b->setup) { v->insns = ins; return 0; }
		if (b->op == OP_EMUL) {
			v->cnt[b->op] += b->n - ecx;
			v->insns = ins + 1 + b->n - ecx;
			return 0;
		}
		for (int k = 0; k <= b->blen + 1; k++) {
			uint32_t a = k < b->blen ? b->body[k] : k == b->blen ? b->dec : b->jnz;
			if (a != eip) continue;
			uint64_t it = b->n - edi - (k == b->blen + 1);
			v->cnt[b->op] += it + (k > b->opidx);
			v->insns = ins + 1 + it * (b->blen + 2) + k;
			return 0;
		}
		break;
	}
	return -1;
}

/* --thread-per-run: each KVM_RUN from a fresh thread of the same name, as a
 * hostile or careless VMM might (every one a new thread id to the tracer). */
struct run_call {
	int fd, r, err;
	const char *name;
};

static void *run_in_thread(void *arg)
{
	struct run_call *c = arg;

	prctl(PR_SET_NAME, c->name);
	c->r = ioctl(c->fd, KVM_RUN, 0);
	c->err = errno;
	return NULL;
}

static int kvm_run(struct vcpu *v, const char *name)
{
	struct run_call c = { .fd = v->fd, .name = name };
	pthread_t t;

	if (!opt_thread_per_run || pthread_create(&t, NULL, run_in_thread, &c))
		return ioctl(v->fd, KVM_RUN, 0);
	pthread_join(t, NULL);
	errno = c.err;
	return c.r;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct kvm_run *run = v->run;
	char name[16];
	int pending = 0;

	snprintf(name, sizeof name, "CPU %d/KVM", v->id);
	prctl(PR_SET_NAME, name);
	v->tid = (pid_t)syscall(SYS_gettid);
	if (opt_pin >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET((int)opt_pin, &set);
		if (sched_setaffinity(0, sizeof set, &set))
			vfail(v, "vcpu %d: sched_setaffinity to CPU %ld: %s", v->id, opt_pin, strerror(errno));
	}
	pthread_barrier_wait(&named);
	pthread_barrier_wait(&started);
	uint64_t run0 = 0, delay0 = 0;
	int have_ss = !schedstat(&run0, &delay0);
	while (!atomic_load(&stop)) {
		int r = kvm_run(v, name);
		v->nrun++;
		pending = 0;
		if (r < 0) {
			if (errno == EINTR) { v->exit_intr++; continue; }
			vfail(v, "vcpu %d: KVM_RUN: %s", v->id, strerror(errno));
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			v->exit_io++;
			uint8_t *data = (uint8_t *)run + run->io.data_offset;
			int port = run->io.port, out = run->io.direction == KVM_EXIT_IO_OUT;
			if (run->io.size != 1 || run->io.count != 1) {
				vfail(v, "vcpu %d: unexpected pio size %d count %u port 0x%x", v->id, run->io.size, run->io.count, port);
			} else if (out && port == PORT_EXIT) {
				v->done = 1;
			} else if (out && port == PORT_EXC) {
				vfail(v, "vcpu %d: guest exception vector %d", v->id, data[0]);
			} else if (out && port == PORT_OUT) {
				v->seen[OP_PIO]++;
			} else if (!out && port == PORT_IN) {
				v->seen[OP_PIO_IN]++;
				data[0] = 0;
			} else {
				vfail(v, "vcpu %d: unexpected pio %s port 0x%x", v->id, out ? "out" : "in", port);
			}
			pending = 1;
			break;
		}
		case KVM_EXIT_MMIO:
			v->exit_mmio++;
			if (run->mmio.phys_addr != MMIO_GPA || run->mmio.len != 1)
				vfail(v, "vcpu %d: unexpected mmio gpa 0x%llx len %u", v->id, (unsigned long long)run->mmio.phys_addr, run->mmio.len);
			else if (run->mmio.is_write)
				v->seen[OP_MMIO_W]++;
			else {
				v->seen[OP_MMIO_R]++;
				memset(run->mmio.data, 0, sizeof run->mmio.data);
			}
			pending = 1;
			break;
		case KVM_EXIT_HLT:
			v->exit_hlt++;
			v->seen[OP_HLT]++;
			break;
		case KVM_EXIT_FAIL_ENTRY:
			v->exit_other++;
			vfail(v, "vcpu %d: KVM_EXIT_FAIL_ENTRY hardware_entry_failure_reason 0x%llx", v->id,
			      (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			/* --emul-fail: KVM could not emulate aaa (its bytes come along
			 * where the kernel reports them) */
			if (opt_n[OP_FAIL] && run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
			    (!(run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) ||
			     (run->emulation_failure.insn_size >= 1 && run->emulation_failure.insn_bytes[0] == FAIL_INSN))) {
				struct kvm_regs r;
				struct kvm_vcpu_events ev;
				v->exit_fail++;
				v->seen[OP_FAIL]++;
				/* the VMM steps over it, as one that emulates aaa itself would: the
				 * #UD KVM may have queued is dropped (the PVM host queues none) */
				if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
					vfail(v, "vcpu %d: KVM_GET_REGS/VCPU_EVENTS: %s", v->id, strerror(errno));
				r.rip++;
				ev.exception.injected = ev.exception.pending = 0;
				ev.flags = 0;
				if (ioctl(v->fd, KVM_SET_REGS, &r) < 0 || ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
					vfail(v, "vcpu %d: KVM_SET_REGS/VCPU_EVENTS: %s", v->id, strerror(errno));
				break;
			}
			v->exit_other++;
			vfail(v, "vcpu %d: KVM_EXIT_INTERNAL_ERROR suberror %u", v->id, run->internal.suberror);
			break;
		case KVM_EXIT_SHUTDOWN:
			v->exit_other++;
			vfail(v, "vcpu %d: KVM_EXIT_SHUTDOWN (triple fault)", v->id);
			break;
		default:
			v->exit_other++;
			vfail(v, "vcpu %d: unexpected exit reason %u", v->id, run->exit_reason);
		}
		sleep_after_exit(v);
		if (v->done || v->err)
			break;
	}
	if (!v->done && !v->err && pending) {
		/* Cut by the time limit right after a PIO/MMIO exit: let KVM finish that
		 * instruction without running any further one, so registers are consistent. */
		run->immediate_exit = 1;
		int r = ioctl(v->fd, KVM_RUN, 0);
		v->nrun++;
		if (r < 0 && errno == EINTR) v->exit_intr++;
		else vfail(v, "vcpu %d: completing KVM_RUN returned %d exit %u", v->id, r, run->exit_reason);
	}
	struct timespec cpu;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	v->cpu_ns = cpu.tv_sec * 1000000000ull + cpu.tv_nsec;
	uint64_t run1, delay1;
	if (!schedstat(&run1, &delay1) && have_ss) {
		v->run_ns = run1 - run0;
		v->run_delay_ns = delay1 - delay0;
	}
	if (!v->err) {
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		struct kvm_vcpu_events ev = { 0 };
		if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 || ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0 ||
		    ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
			vfail(v, "vcpu %d: KVM_GET_REGS/SREGS/VCPU_EVENTS: %s", v->id, strerror(errno));
		/* the script's addresses are linear: CS base + eip (--cs-base) */
		uint32_t eip = (uint32_t)(sregs.cs.base + regs.rip), esi = (uint32_t)regs.rsi;
		v->hc_ud = esi;
		v->insns = 3ull * esi;    /* inc esi; add sp; jmp per #UD taken */
		if (eip == a_ud[1]) v->insns -= 2;
		if (eip == a_ud[2]) v->insns -= 1;
		if (eip == a_ud[0] || eip == a_ud[1] || eip == a_ud[2] ||
		    (eip == a_hc && (ev.exception.injected || ev.exception.pending) && ev.exception.nr == 6))
			for (int i = 0; i < nblocks; i++)
				if (blocks[i].op == OP_HC) eip = blocks[i].dec;  /* the hypercall did execute */
		if (v->err) {
		} else if (v->done) {
			for (int i = 0; i < nblocks; i++) v->cnt[blocks[i].op] = blocks[i].n * opt_repeat;
			v->insns += (opt_repeat ? 1 + opt_repeat * rep_len : 0) + 1;
		} else {
			uint64_t h = v->insns;
			if (reconstruct(v, eip, &regs) < 0)
				vfail(v, "vcpu %d: stopped at unexpected eip 0x%llx", v->id, (unsigned long long)regs.rip);
			v->insns += h;
		}
		for (int op = 0; op < NOPS && !v->err; op++)
			if ((op == OP_PIO || op == OP_PIO_IN || op == OP_MMIO_R || op == OP_MMIO_W || op == OP_HLT ||
			     op == OP_FAIL) &&
			    v->seen[op] != v->cnt[op])
				vfail(v, "vcpu %d: %s seen by the VMM %llu != executed %llu", v->id, op_name[op],
				      (unsigned long long)v->seen[op], (unsigned long long)v->cnt[op]);
	}
	pthread_mutex_lock(&lock);
	nfinished++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void on_kick(int sig) { (void)sig; }

/* --hyperv: what kvm_hv_hypercall_enabled() checks (Linux 6.1): the vCPU's CPUID has the Hyper-V
 * interface signature "Hv#1" in 0x40000001.eax, and the VM has a non-zero guest OS id. */
static void setup_hyperv(int fd)
{
	struct { struct kvm_cpuid2 c; struct kvm_cpuid_entry2 e[2]; } cpuid = { .c.nent = 2 };
	cpuid.e[0] = (struct kvm_cpuid_entry2){ .function = 0x40000000, .eax = 0x40000005,
		.ebx = 0x7263694d, .ecx = 0x666f736f, .edx = 0x76482074 };   /* "Microsoft Hv" */
	cpuid.e[1] = (struct kvm_cpuid_entry2){ .function = 0x40000001, .eax = 0x31237648 }; /* "Hv#1" */
	if (ioctl(fd, KVM_SET_CPUID2, &cpuid) < 0) die("KVM_SET_CPUID2 (Hyper-V leaves): %s", strerror(errno));
	struct { struct kvm_msrs m; struct kvm_msr_entry e; } msrs = { .m.nmsrs = 1,
		.e = { .index = 0x40000000, .data = 0x8100ull << 48 } };  /* HV_X64_MSR_GUEST_OS_ID: Linux */
	if (ioctl(fd, KVM_SET_MSRS, &msrs) != 1) die("KVM_SET_MSRS HV_X64_MSR_GUEST_OS_ID: %s", strerror(errno));
}

static void setup_vcpu(int vm, struct vcpu *v, size_t run_size)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	v->fd = ioctl(vm, KVM_CREATE_VCPU, v->id);
	if (v->fd < 0) die("KVM_CREATE_VCPU %d: %s", v->id, strerror(errno));
	v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) die("mmap kvm_run: %s", strerror(errno));
	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0) die("KVM_GET_SREGS: %s", strerror(errno));
	struct kvm_segment code = { .base = 0, .limit = 0xffff, .selector = 0, .type = 11, .present = 1, .s = 1 };
	struct kvm_segment data = { .base = 0, .limit = 0xffff, .selector = 0, .type = 3, .present = 1, .s = 1 };
	if (opt_protected) {
		code.limit = data.limit = 0xffffffff;
		code.db = data.db = code.g = data.g = 1;
		code.selector = 0x08;
		data.selector = 0x10;
		s.cr0 |= 1;   /* PE, no paging */
		s.gdt.base = GDT_ADDR; s.gdt.limit = 3 * 8 - 1;
		s.idt.base = IDT_ADDR; s.idt.limit = 32 * 8 - 1;
	} else {
		s.idt.base = 0; s.idt.limit = 0x3ff;
	}
	s.cs = code;
	s.ds = s.fs = s.gs = s.ss = s.es = data;
	if (!opt_protected) { s.es.selector = MMIO_GPA >> 4; s.es.base = MMIO_GPA; }
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0) die("KVM_SET_SREGS: %s", strerror(errno));
	memset(&r, 0, sizeof r);
	r.rip = CODE_ADDR;
	if (opt_cs_base && !opt_protected) {	/* CS:IP = 0x100:0, the same linear start */
		s.cs.selector = CODE_ADDR >> 4;
		s.cs.base = CODE_ADDR;
		if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0) die("KVM_SET_SREGS: %s", strerror(errno));
		r.rip = 0;
	}
	r.rflags = 2;
	r.rsp = STACK_TOP - 0x100 * v->id;
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0) die("KVM_SET_REGS: %s", strerror(errno));
	if (opt_hyperv) setup_hyperv(v->fd);
}

/* KVM's own per-vCPU counters (binary stats fd; debugfs may be locked down). */
static const char *kstat_name[] = { "exits", "io_exits", "mmio_exits", "halt_exits", "insn_emulation",
				    "insn_emulation_fail", "hypercalls", "signal_exits", "irq_exits" };
#define NKSTAT (int)(sizeof kstat_name / sizeof kstat_name[0])
static int kstat_found[NKSTAT];

static void read_kstats(int fd, uint64_t *acc)
{
	struct kvm_stats_header h;
	int sfd = ioctl(fd, KVM_GET_STATS_FD, NULL);
	if (sfd < 0)
		return;
	if (pread(sfd, &h, sizeof h, 0) == sizeof h) {
		size_t dsz = sizeof(struct kvm_stats_desc) + h.name_size, all = dsz * h.num_desc;
		char *d = malloc(all);
		if (d && pread(sfd, d, all, h.desc_offset) == (ssize_t)all)
			for (unsigned i = 0; i < h.num_desc; i++) {
				struct kvm_stats_desc *sd = (struct kvm_stats_desc *)(d + i * dsz);
				uint64_t val;
				for (int k = 0; k < NKSTAT; k++)
					if (!strcmp(sd->name, kstat_name[k]) &&
					    pread(sfd, &val, 8, h.data_offset + sd->offset) == 8) {
						acc[k] += val;
						kstat_found[k] = 1;
					}
			}
		free(d);
	}
	close(sfd);
}

/* Before 5.14 there is no stats fd: the same counters are the VM's debugfs
 * files, /sys/kernel/debug/kvm/PID-VMFD/NAME, each the sum over its vCPUs. */
static void read_kstats_debugfs(int vmfd, uint64_t *acc)
{
	for (int k = 0; k < NKSTAT; k++) {
		char path[128];
		unsigned long long val;
		FILE *f;

		snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/%s", (int)getpid(), vmfd, kstat_name[k]);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &val) == 1) {
			acc[k] += val;
			kstat_found[k] = 1;
		}
		fclose(f);
	}
}

static void fmt_name(char *out, size_t size, const char *s)
{
	size_t o = 0;
	for (; s && *s && o + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c > 0x20 && c < 0x7f && c != '\\') out[o++] = c;
		else o += snprintf(out + o, size - o, "\\x%02x", c);
	}
	out[o] = 0;
}

/* --layout: every script instruction with its linear address, bytes and how
 * often a complete run executes it over all vCPUs (the #UD handler not). */
struct place { uint32_t addr; uint64_t count; };
static int by_addr(const void *a, const void *b)
{
	const struct place *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}
static void print_layout(void)
{
	struct place p[8 * NOPS + 8];
	int n = 0;
	uint64_t R = opt_repeat;
	if (R) p[n++] = (struct place){ a_prologue, 1 };
	for (int i = 0; i < nblocks; i++) {
		struct block *b = &blocks[i];
		p[n++] = (struct place){ b->setup, R };
		for (int k = 0; k < b->blen; k++)
			p[n++] = (struct place){ b->body[k], R * b->n };
		if (b->op != OP_EMUL) {
			p[n++] = (struct place){ b->dec, R * b->n };
			p[n++] = (struct place){ b->jnz, R * b->n };
		}
	}
	if (R) {
		p[n++] = (struct place){ a_repdec, R };
		p[n++] = (struct place){ a_repjnz, R };
	}
	p[n++] = (struct place){ a_exit, 1 };
	qsort(p, n, sizeof(p[0]), by_addr);
	for (int i = 0; i < n; i++) {
		uint32_t len = p[i].addr == a_exit ? 2 : p[i + 1].addr - p[i].addr;
		printf("layout pid=%d addr=0x%x count=%llu bytes=", (int)getpid(), p[i].addr,
		       (unsigned long long)(p[i].count * opt_vcpus));
		for (uint32_t k = 0; k < len; k++)
			printf("%s%02x", k ? " " : "", mem[p[i].addr + k]);
		putchar('\n');
	}
}

static int run_guest(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) die("/dev/kvm: %s", strerror(errno));
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) die("KVM_CREATE_VM: %s", strerror(errno));
	ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);  /* needed by old VMX without unrestricted guest; harmless */
	mem = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) die("mmap: %s", strerror(errno));
	build_guest();
	struct kvm_userspace_memory_region reg = { .slot = 0, .guest_phys_addr = 0, .memory_size = RAM_SIZE,
						   .userspace_addr = (uintptr_t)mem };
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &reg) < 0) die("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0) die("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	for (unsigned i = 0; i < opt_vcpus; i++) {
		vcpus[i].id = (int)i;
		setup_vcpu(vm, &vcpus[i], (size_t)run_size);
	}
	struct sigaction sa = { .sa_handler = on_kick };
	sigaction(SIGUSR1, &sa, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &ca);
	pthread_barrier_init(&named, NULL, (unsigned)opt_vcpus + 1);
	pthread_barrier_init(&started, NULL, (unsigned)opt_vcpus + 1);
	for (unsigned i = 0; i < opt_vcpus; i++)
		if (pthread_create(&vcpus[i].th, NULL, vcpu_thread, &vcpus[i]))
			die("pthread_create failed");
	pthread_barrier_wait(&named);   /* VM, vCPUs and named vCPU threads all exist */
	printf("ready pid=%d\n", (int)getpid());
	fflush(stdout);
	if (opt_wait_start) {
		struct stat st;
		while (stat(opt_wait_start, &st) < 0)
			usleep(10000);
	}
	struct timespec t0, t1, dl;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_barrier_wait(&started);
	dl = t0;
	if (opt_duration > 0) {
		double s = opt_duration;
		dl.tv_sec += (time_t)s;
		dl.tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
		if (dl.tv_nsec >= 1000000000) { dl.tv_sec++; dl.tv_nsec -= 1000000000; }
	}
	int kicked = 0;
	pthread_mutex_lock(&lock);
	while (nfinished < (int)opt_vcpus) {
		if (!kicked && atomic_load(&stop)) {
			/* Time limit or a failed vCPU: kick the others out of KVM_RUN. */
			kicked = 1;
			for (unsigned i = 0; i < opt_vcpus; i++) {
				vcpus[i].run->immediate_exit = 1;
				__atomic_thread_fence(__ATOMIC_SEQ_CST);
				pthread_kill(vcpus[i].th, SIGUSR1);
			}
		} else if (!kicked && opt_duration > 0) {
			if (pthread_cond_timedwait(&cond, &lock, &dl) == ETIMEDOUT)
				atomic_store(&stop, 1);
		} else {
			pthread_cond_wait(&cond, &lock);
		}
	}
	pthread_mutex_unlock(&lock);
	for (unsigned i = 0; i < opt_vcpus; i++)
		pthread_join(vcpus[i].th, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	struct vcpu sum = { 0 };
	uint64_t kstat[NKSTAT] = { 0 };
	int complete = 1, err = 0;
	for (unsigned i = 0; i < opt_vcpus; i++) {
		struct vcpu *v = &vcpus[i];
		read_kstats(v->fd, kstat);
		if (v->err) { fprintf(stderr, "guestload: guest pid=%d: %s\n", (int)getpid(), v->errmsg); err = 1; }
		complete &= v->done;
		for (int op = 0; op < NOPS; op++) sum.cnt[op] += v->cnt[op];
		sum.insns += v->insns; sum.hc_ud += v->hc_ud; sum.exit_io += v->exit_io; sum.exit_mmio += v->exit_mmio;
		sum.exit_hlt += v->exit_hlt; sum.exit_intr += v->exit_intr; sum.exit_other += v->exit_other;
		sum.exit_fail += v->exit_fail;
		sum.nrun += v->nrun; sum.cpu_ns += v->cpu_ns;
		sum.slept += v->slept; sum.slept_ns += v->slept_ns;
	}
	int any = 0;
	for (int k = 0; k < NKSTAT; k++)
		any |= kstat_found[k];
	if (!any)
		read_kstats_debugfs(vm, kstat);
	char name[1024];
	fmt_name(name, sizeof name, opt_name);
	printf("guest pid=%d vcpus=%llu mode=%s complete=%d", (int)getpid(), (unsigned long long)opt_vcpus,
	       opt_protected ? "prot32" : "real", complete && !err);
	for (int op = 0; op < NOPS; op++)
		printf(" %s=%llu", op_name[op], (unsigned long long)sum.cnt[op]);
	printf(" hc_ud=%llu", (unsigned long long)sum.hc_ud);
	if (opt_n[OP_FAIL])	/* where the failing instruction sits: its linear address */
		for (int i = 0; i < nblocks; i++)
			if (blocks[i].op == OP_FAIL)
				printf(" fail_rip=0x%x", blocks[i].body[blocks[i].opidx]);
	for (int k = 0; k < NKSTAT; k++)
		if (kstat_found[k])
			printf(" kstat_%s=%llu", kstat_name[k], (unsigned long long)kstat[k]);
	printf(" exit_internal=%llu", (unsigned long long)sum.exit_fail);
	printf(" insns=%llu exit_io=%llu exit_mmio=%llu exit_hlt=%llu exit_intr=%llu exit_other=%llu kvm_run=%llu"
	       " slept=%llu slept_us=%llu elapsed_us=%lld cpu_us=%llu name=%s\n",
	       (unsigned long long)sum.insns, (unsigned long long)sum.exit_io, (unsigned long long)sum.exit_mmio,
	       (unsigned long long)sum.exit_hlt, (unsigned long long)sum.exit_intr, (unsigned long long)sum.exit_other,
	       (unsigned long long)sum.nrun, (unsigned long long)sum.slept, (unsigned long long)sum.slept_ns / 1000,
	       (long long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000),
	       (unsigned long long)sum.cpu_ns / 1000, name);
	for (unsigned i = 0; opt_per_vcpu && i < opt_vcpus; i++) {
		struct vcpu *v = &vcpus[i];
		printf("vcpu pid=%d vcpu=%u tid=%d kvm_run=%llu exit_io=%llu exit_mmio=%llu exit_hlt=%llu exit_intr=%llu"
		       " slept=%llu slept_us=%llu cpu_us=%llu sched_run_us=%llu sched_wait_us=%llu last_sleep_us=%llu\n",
		       (int)getpid(), i, (int)v->tid,
		       (unsigned long long)v->nrun, (unsigned long long)v->exit_io, (unsigned long long)v->exit_mmio,
		       (unsigned long long)v->exit_hlt, (unsigned long long)v->exit_intr, (unsigned long long)v->slept,
		       (unsigned long long)v->slept_ns / 1000, (unsigned long long)v->cpu_ns / 1000,
		       (unsigned long long)v->run_ns / 1000, (unsigned long long)v->run_delay_ns / 1000,
		       (unsigned long long)v->last_sleep_ns / 1000);
	}
	if (opt_layout)
		print_layout();
	fflush(stdout);
	if (opt_hold) {	/* the VM and its vCPU fds stay, quiet, until FILE exists */
		struct stat st;
		while (stat(opt_hold, &st) < 0)
			usleep(10000);
	}
	return err ? 1 : 0;
}

static void usage_err(const char *fmt, const char *arg)
{
	fprintf(stderr, "guestload: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t num(const char *s, const char *opt, uint64_t max)
{
	char *e;
	errno = 0;
	if (!*s || *s == '-' || *s == '+') usage_err("bad value for %s", opt);
	unsigned long long v = strtoull(s, &e, 0);
	if (errno || *e || v > max) usage_err("bad value for %s", opt);
	return v;
}

int main(int argc, char **argv)
{
	enum { O_PIO = 256, O_PIO_IN, O_MMIO_R, O_MMIO_W, O_CPUID, O_HLT, O_EMUL, O_MSR_R, O_MSR_W, O_HC,
	       O_FAIL, O_HCNR, O_SLEEP, O_REPEAT, O_DURATION, O_PROT, O_NAME, O_WAIT, O_CSBASE, O_LAYOUT, O_HYPERV, O_THREAD_RUN,
	       O_SLEEP_EVERY, O_PIN, O_PER_VCPU, O_HOLD };
	static const struct option lo[] = {
		{ "guests", 1, 0, 'g' }, { "vcpus", 1, 0, 'c' },
		{ "pio", 1, 0, O_PIO }, { "pio-in", 1, 0, O_PIO_IN }, { "mmio-read", 1, 0, O_MMIO_R },
		{ "mmio-write", 1, 0, O_MMIO_W }, { "cpuid", 1, 0, O_CPUID }, { "hlt", 1, 0, O_HLT },
		{ "emulate", 1, 0, O_EMUL }, { "msr-read", 1, 0, O_MSR_R }, { "msr-write", 1, 0, O_MSR_W },
		{ "hypercall", 1, 0, O_HC }, { "emul-fail", 1, 0, O_FAIL }, { "hc-nr", 1, 0, O_HCNR }, { "sleep-us", 1, 0, O_SLEEP },
		{ "repeat", 1, 0, O_REPEAT }, { "duration", 1, 0, O_DURATION }, { "protected", 0, 0, O_PROT }, { "hyperv", 0, 0, O_HYPERV },
		{ "name", 1, 0, O_NAME }, { "wait-start", 1, 0, O_WAIT },
		{ "cs-base", 0, 0, O_CSBASE }, { "layout", 0, 0, O_LAYOUT },
		{ "thread-per-run", 0, 0, O_THREAD_RUN }, { "sleep-every", 1, 0, O_SLEEP_EVERY },
		{ "pin", 1, 0, O_PIN }, { "per-vcpu", 0, 0, O_PER_VCPU }, { "hold", 1, 0, O_HOLD },
		{ 0, 0, 0, 0 } };
	/* QEMU-style "-name X": rewrite in a copy of argv, /proc/PID/cmdline keeps the original. */
	char **av = calloc((size_t)argc + 1, sizeof *av);
	if (!av) return 1;
	for (int i = 0; i < argc; i++)
		av[i] = strcmp(argv[i], "-name") ? argv[i] : "--name";
	opterr = 0;
	int c, li, sleep_every_given = 0;
	while ((li = -1, c = getopt_long(argc, av, ":g:c:", lo, &li)) != -1) {
		char o[64];
		if (li >= 0) snprintf(o, sizeof o, "%s%s", strcmp(lo[li].name, "name") ? "--" : "-", lo[li].name);
		else if (optopt > 0 && optopt < 256) snprintf(o, sizeof o, "-%c", optopt);
		else snprintf(o, sizeof o, "%.60s", argv[optind - 1]);
		if (c >= O_PIO && c <= O_FAIL) { opt_n[c - O_PIO] = num(optarg, o, 0xffffffffu); continue; }
		switch (c) {
		case 'g': opt_guests = num(optarg, "-g", 1024); if (!opt_guests) usage_err("bad value for %s", "-g"); break;
		case 'c': opt_vcpus = num(optarg, "-c", MAX_VCPUS); if (!opt_vcpus) usage_err("bad value for %s", "-c"); break;
		case O_HCNR: opt_hc_nr = num(optarg, "--hc-nr", 0xffffffffu); break;
		case O_SLEEP: opt_sleep_us = num(optarg, "--sleep-us", 60000000); break;
		case O_REPEAT: opt_repeat = num(optarg, "--repeat", 0xffffffffu); break;
		case O_DURATION: {
			char *e;
			opt_duration = strtod(optarg, &e);
			if (*e || !*optarg || !(opt_duration > 0 && opt_duration < 1e6)) usage_err("bad value for %s", "--duration");
			break;
		}
		case O_PROT: opt_protected = 1; break;
		case O_HYPERV: opt_hyperv = 1; break;
		case O_NAME: opt_name = optarg; break;
		case O_WAIT: opt_wait_start = optarg; break;
		case O_HOLD: opt_hold = optarg; break;
		case O_CSBASE: opt_cs_base = 1; break;
		case O_LAYOUT: opt_layout = 1; break;
		case O_THREAD_RUN: opt_thread_per_run = 1; break;
		case O_SLEEP_EVERY:
			opt_sleep_every = num(optarg, "--sleep-every", 0xffffffffu);
			if (!opt_sleep_every) usage_err("bad value for %s", "--sleep-every");
			sleep_every_given = 1;
			break;
		case O_PIN: opt_pin = (long)num(optarg, "--pin", CPU_SETSIZE - 1); break;
		case O_PER_VCPU: opt_per_vcpu = 1; break;
		case ':': usage_err("option %s needs a value", o); break;
		default: usage_err("unknown option %s", o);
		}
	}
	if (optind < argc) usage_err("unexpected argument %s", argv[optind]);
	if (opt_thread_per_run && opt_duration) usage_err("%s cannot take --duration (its signal goes to the vCPU thread)", "--thread-per-run");
	if (sleep_every_given && !opt_sleep_us) usage_err("%s needs --sleep-us", "--sleep-every");
	if (opt_hyperv && !opt_protected) usage_err("%s needs --protected (Hyper-V hypercalls #UD in real mode)", "--hyperv");

	unsigned int regs[4];
	__asm__ volatile("cpuid" : "=a"(regs[0]), "=b"(regs[1]), "=c"(regs[2]), "=d"(regs[3]) : "a"(0), "c"(0));
	hc_amd = regs[1] == 0x68747541; /* "Auth"enticAMD */
	if (!hc_amd) hc_amd = regs[1] == 0x6f677948; /* "Hygo"nGenuine */

	fflush(stdout);
	pid_t *pids = calloc(opt_guests, sizeof *pids);
	if (!pids) return 1;
	for (unsigned i = 0; i < opt_guests; i++) {
		pids[i] = fork();
		if (pids[i] < 0) die("fork: %s", strerror(errno));
		if (pids[i] == 0) _exit(run_guest());
	}
	int rc = 0;
	for (unsigned i = 0; i < opt_guests; i++) {
		int st;
		if (waitpid(pids[i], &st, 0) < 0) { fprintf(stderr, "guestload: waitpid: %s\n", strerror(errno)); rc = 1; continue; }
		if (WIFSIGNALED(st)) { fprintf(stderr, "guestload: guest pid=%d killed by signal %d\n", (int)pids[i], WTERMSIG(st)); rc = 1; }
		else if (WEXITSTATUS(st)) rc = 1;   /* the guest printed its reason */
	}
	return rc;
}
