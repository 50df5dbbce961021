/*
 * irqload: a tiny VMM (plain C, /dev/kvm) whose guests take interrupts, send IPIs and halt in exactly
 * scripted numbers: ground truth for kvmprof's irq, ipi and halt event classes (guestload's sibling).
 *
 * irqload [-g GUESTS] [-c VCPUS] [--protected] [--no-iret] [--irqchip] [--irq-line N] [--gsi G]
 *         [--msi N] [--vector V] [--interrupt N] [--hlt-wake N] [--wake-us D] [--wake-by line|msi]
 *         [--ipi N] [-name NAME | -name guest=NAME,...] [--wait-start FILE] [--hold FILE]
 * Forks GUESTS processes (default 1), each one VM with VCPUS threads named "CPU n/KVM" (default 1, up to
 * 64), real mode (default) or 32-bit flat protected mode (--protected, no paging).  N: 0..2^32-1.
 * --irqchip: KVM_CREATE_IRQCHIP (in-kernel 8259 pair, IOAPIC, LAPICs) before the vCPUs; vCPUs 1.. are
 *   then set KVM_MP_STATE_RUNNABLE (an AP would wait for INIT/SIPI).
 * vCPU 0 runs these phases in this order, the interrupts of each after all of the previous one's:
 *   --irq-line N (needs --irqchip): N edge pulses on GSI G (--gsi, default 4; real mode 0-15 but the
 *     cascade 2, protected 0-23), each KVM_IRQ_LINE level 1 then level 0 (2 ioctls).  Real mode: the
 *     guest programs the 8259 pair (ICW1-4, bases 0x20 and 0x28, only line G (and 2 for G >= 8)
 *     unmasked) and EOIs it (0x20 to port 0xa0 for G >= 8, then to 0x20).  Protected: the guest enables
 *     its LAPIC (SVR 0x1ff), masks LVT0 and the whole 8259 (OCW1 0xff), programs IOAPIC pin G (fixed,
 *     physical, edge, active high, APIC id 0) and EOIs the LAPIC.  The vector is 0x20 + G.
 *   --msi N (needs --irqchip --protected): KVM_SIGNAL_MSI, address 0xfee00000 | APIC id << 12, data V
 *     (--vector, 0x20-0xfe, default 0x40: fixed, edge, physical); the guest EOIs its LAPIC.
 *   --interrupt N (WITHOUT --irqchip: the userspace irqchip): each hlt exits (KVM_EXIT_HLT) and the VMM
 *     does KVM_INTERRUPT V when run->ready_for_interrupt_injection, else sets request_interrupt_window
 *     and injects at KVM_EXIT_IRQ_WINDOW_OPEN (measured: never needed); no EOI.
 *   --hlt-wake N (needs --irqchip): N more halts, each woken by one pulse on G (--wake-by line, the
 *     default, set up as for --irq-line) or one MSI (--wake-by msi, needs --protected), sent >= D us
 *     (--wake-us, default 1000, up to 10 s) after the VMM saw the halt begin.
 * then, with --ipi N (needs --irqchip --protected, -c >= 2): vCPU 0 sends N fixed IPIs to vCPU 1 (ICR high
 *   = 1 << 24: APIC id 1; ICR low = 0x4000 | V: fixed, physical, assert, edge, no shorthand), which
 *   enables its LAPIC and waits in sti; hlt.  Before each ICR write vCPU 0 does out 0xf6, al (the gate,
 *   a userspace exit): the VMM holds it there until vCPU 1 took the previous IPI and blocks in its next
 *   hlt.  The other vCPUs (vCPU 1 without --ipi, vCPUs 2..) only end.
 * Every vCPU ends with out 0xf4, al (the end signal).  Failures: other ports, MMIO exits, guest exceptions
 *   and vectors without a handler (stubs: out 0xf5, al with al = vector), KVM_EXIT_HLT with --irqchip,
 *   no progress for 10 s.
 * A phase's wait loop:  L: inc dword [halts]; sti; hlt; cmp dword [taken], T; jb L   (T: the total so far).
 *   The VMM sends each interrupt only once the vCPU's counters show it at the hlt of the next iteration
 *   with every earlier interrupt taken and its thread blocks: state S in /proc/self/task/TID/status and
 *   voluntary_ctxt_switches above its value at the previous send (S alone also shows inside
 *   kvm_vcpu_block() between set_current_state() and schedule(), where an interrupt ends the halt without
 *   a wait).  So every hlt blocks in KVM (or exits, without --irqchip) and ends by exactly one interrupt.
 * Handlers, one per vector used and vCPU: an interrupt counts only if it came with IF=1 right after a hlt
 *   (the saved EFLAGS.IF, and 0xf4 before the saved eip), as every interrupt the VMM sends does; it
 *   counts in its vector's counter and in the total, EOIs, and returns with IF=0 (the loop's sti enables
 *   interrupts again just before its hlt).  Any other delivery is counted in stray= and returned from
 *   untouched: see QEMU's duplicates below.
 * --no-iret (protected only): handlers return with pop eax; add esp, 4; popfd; jmp eax (eax is clobbered:
 *   the scripts do not use it) instead of iretd.  KVM's emulator has only real-mode IRET, so on a host
 *   that emulates every guest instruction (the PVM host) a protected-mode guest fails at its first iretd
 *   (KVM_EXIT_INTERNAL_ERROR; irqload names the cause).  Real mode's iret emulates fine.
 * -name, --wait-start FILE, --hold FILE and the "ready pid=PID" line are guestload's.  Bad usage: one line on stderr,
 * exit 2.  Exit 0 iff every vCPU reached its end and every count below is the scripted one; otherwise 1
 * and one stderr line per problem.
 *
 * Output, one line per guest (sums over its vCPUs):
 *   guest pid=P vcpus=C mode=real|prot32 irqchip=0|1 gsi=G vector=0xV wake_by=line|msi irq_lines= msis=
 *   ipi_sent= ipi_received= interrupts= halts= hlt_total= wait_us_sum= wait_us_max= taken= stray=
 *   ioctl_irq_line= ioctl_signal_msi= ioctl_interrupt= [kstat_*=] exit_io= exit_hlt= exit_irq_window=
 *   exit_intr= exit_other= kvm_run= elapsed_us= name=
 * irq_lines: --irq-line pulses sent, each taken by the guest before the next; msis: --msi MSIs sent;
 * interrupts: KVM_INTERRUPT injections; ipi_sent: ICR writes vCPU 0 counted; ipi_received: IPIs vCPU 1's
 * handler counted; halts: hlt instructions of the --hlt-wake loop; hlt_total: hlt instructions of every
 * wait loop of every vCPU (irq_lines + msis + halts + ipi_received with --irqchip, each a halt that blocked
 * in KVM; interrupts = exit_hlt without); wait_us_sum, wait_us_max: --hlt-wake, per halt the time from
 * the VMM first seeing the halt's counter to its waking ioctl (>= D); taken: interrupts the handlers
 * counted, all vectors and vCPUs (irq_lines + msis + interrupts + halts + ipi_received); stray: deliveries
 * the handlers refused (0 on a sound host); ioctl_*: the VMM's KVM_IRQ_LINE (2 per pulse), KVM_SIGNAL_MSI
 * and KVM_INTERRUPT calls; exit_*: KVM_RUN returns by exit reason (exit_io = vCPUs + ipi_sent: end
 * signals and gates; exit_intr: -EINTR), kvm_run: KVM_RUN ioctls.  kstat_*: KVM's per-vCPU statistics
 * (KVM_GET_STATS_FD, 5.14 on; before it the VM's debugfs files; each printed only when available): exits,
 * irq_injections, irq_window_exits, request_irq_exits, halt_exits, halt_wakeup, halt_successful_poll,
 * halt_attempted_poll, halt_poll_invalid, halt_wait_ns, irq_exits, signal_exits, io_exits.  Measured:
 * halt_exits == hlt_total; irq_injections == the kvm_inj_virq events (SVM; the PVM host counts its N
 * injections without the event); halt_wakeup >= the blocked halts, not exact (it counts every successful
 * kvm_vcpu_wake_up(): a pulse's two KVM_IRQ_LINE calls can both find the vCPU on its wait queue, seen
 * once in 200 pulses on the PVM host).
 *
 * Guest memory: one memslot, GPA 0..64 KiB.  IVT at 0 (real mode, every vCPU), GDT 0x500, 256 stubs of 8
 * bytes at 0x800, IDTs (256 gates) 0x1000 (vCPU 0), 0x1800 (vCPU 1), 0x2000 (the others: stubs only),
 * handlers 0x2800, per-vCPU counters 0x3000 + 0x40 * i (+0 taken, +4 ipi_sent, +8 + 4 * phase halts, +0x1c
 * stray, +0x20 per vector), scripts 0x4000 (vCPU 0), 0x5000 (vCPU 1), 0x6000 (the others), stacks below
 * 0xF000 - 0x100 * i.  LAPIC 0xfee00000, IOAPIC 0xfec00000: KVM's, no memslot.  Each script first reads
 * its IDT (IVT) and GDT page and pushes on its stack, so that lazily mapped pages (NPT, shadow paging)
 * fault there and not during a delivery.
 *
 * WHERE IT RUNS (each mode and option, with -g 1-2 and -c 1-3, phases combined, G below and above 16):
 *   the PVM host (Linux 6.18.44 PVM KVM, kvm_pvm; every guest instruction emulated): every mode, protected
 *     mode with --no-iret only; checked with perf stat -a on 40 random runs, every event below exact.
 *   the bed (tests/vm/run.sh, QEMU 7.2 TCG -cpu qemu64,+svm,+npt, nested SVM, no AVIC): Debian's 5.10.0-46,
 *     6.1.0-57 (also without npt) and 6.12.117 kvm-amd: every mode, with and without --no-iret; checked
 *     in tracefs on 28 runs per kernel (14 configurations twice), every event below exact.
 *   QEMU's duplicates (the bed only): for an EVENTINJ interrupt TCG's helper_vmrun delivers the vector and
 *     also leaves cs->exception_index set to it; if QEMU's CPU loop exits before L2's next vmexit it
 *     delivers the vector once more, as an exception (exit_int_info type 3) that KVM never sees, mostly
 *     inside the handler (IF=0).  The handlers count those as stray (up to a third of the interrupts
 *     of a run); the kvm:* events are untouched.
 *
 * EVENTS of one run, per guest (-g multiplies), all kernels above; L, M, W, I, U: the N of --irq-line,
 * --msi, --hlt-wake, --ipi, --interrupt; Wl = W with --wake-by line, else 0; Wm = W - Wl; P = L + Wl pulses.
 *   kvm_set_irq          2P      (gsi G, level 1 then 0: one per KVM_IRQ_LINE)
 *   kvm_pic_set_irq      2P if G < 16, else 0  (KVM's default routing: GSI 0-15 to the 8259 and the IOAPIC,
 *                                16-23 to the IOAPIC only; also where the guest masked the 8259)
 *   kvm_ioapic_set_irq   2P      (also in real mode, where pin G stays masked)
 *   kvm_msi_set_irq      M + Wm
 *   kvm_apic_ipi         I       (one per ICR low write)
 *   kvm_apic_accept_irq  M + Wm + I, + P in protected mode (the 8259's ExtINT bypasses the LAPIC's accept)
 *   kvm_vcpu_wakeup      L + M + W + I with --irqchip, every one "wait" (waited=1); 0 without
 *   kvm_inj_virq         PVM host: 0 in every mode (PVM's injection has no such tracepoint).
 *     6.1, 6.12, by the reinjected field:  reinjected=0    reinjected=1
 *       protected, --irqchip               P + M + Wm + I  k
 *       real mode, the 8259                P               P + k   (each fires twice before its one entry:
 *                                                          "IRQ v", the entry is cancelled, "IRQ v [reinjected]")
 *       --interrupt                        0               U + k   (KVM_INTERRUPT queues it as injected)
 *     5.10 (no reinjected field): P + M + Wm + I + k, 2P + k, U + k respectively.
 *     k: injections again after an exit interrupted a delivery or an entry was cancelled: not
 *     deterministic, 0 in most bed runs, up to 16 in a run of 2 guests (0 on the PVM host: no event).
 *   Constant terms: none.  Start-up (KVM_CREATE_IRQCHIP, KVM_SET_MP_STATE, the guest's PIC, IOAPIC and LAPIC
 *   programming), the IPI gates and the end signal (KVM_EXIT_IO) fire none of these events.
 * --hlt-wake timing: kvm_vcpu_wakeup's time was >= D us for every halt measured, here and in the bed; its
 * sum over the halts exceeds wait_us_sum by the VMM's detection delay plus the wake-up latency: about
 * 70 us per halt on the PVM host, 0.25-1 ms in the bed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <pthread.h>
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Guest-physical layout: one memslot, 64 KiB of RAM at GPA 0. */
#define RAM_SIZE   0x10000u
#define GDT_ADDR   0x0500u   /* null, flat code 0x08, flat data 0x10 */
#define STUB_ADDR  0x0800u   /* 256 stubs of 8 bytes: mov al, v; out 0xf5, al; hlt; jmp $-1 */
#define IDT_ADDR   0x1000u   /* protected mode: 256 gates per table; vCPU 0's, vCPU 1's, the rest's */
#define HND_ADDR   0x2800u   /* the counting handlers */
#define DATA_ADDR  0x3000u   /* per vCPU i: 0x40 bytes at DATA_ADDR + 0x40 * i (struct below) */
#define CODE_ADDR  0x4000u   /* vCPU 0's script; vCPU 1's at +0x1000, the others' at +0x2000 */
#define STACK_TOP  0xF000u   /* vCPU i: sp = STACK_TOP - i * 0x100 */
#define LAPIC      0xfee00000u
#define IOAPIC     0xfec00000u
#define PORT_EXIT  0xf4      /* out 0xf4, al: the script's end */
#define PORT_STUB  0xf5      /* out 0xf5, al (al = vector): an exception or an interrupt nobody expects */
#define PORT_GATE  0xf6      /* --ipi: vCPU 0 asks the VMM before each IPI */
#define MAX_VCPUS  64
#define STALL_NS   (10 * 1000000000ull)  /* no progress for 10 s: the run fails */

/* per-vCPU counters in guest memory (DATA_ADDR + 0x40 * i), written by the guest only */
enum { D_TAKEN = 0, D_IPI_SENT = 4, D_HALTS = 8 /* + 4 * phase */, D_STRAY = 0x1c, D_VEC = 0x20 /* + 4 * slot */ };
/* the wait loops, in script order: the first four on vCPU 0, the last on vCPU 1 */
enum { PH_LINE, PH_MSI, PH_INTR, PH_WAKE, PH_IPI, NPH };
static const char *ph_opt[NPH] = { "--irq-line", "--msi", "--interrupt", "--hlt-wake", "--ipi" };

static uint64_t opt_n[NPH], opt_guests = 1, opt_vcpus = 1, opt_gsi = 4, opt_vector = 0x40, opt_wake_us = 1000;
static int opt_protected, opt_irqchip, opt_wake_msi, opt_no_iret;
static const char *opt_name, *opt_wait_start, *opt_hold;

static uint8_t *mem;
static uint32_t pc;
static int line_vec;   /* the vector GSI G arrives at: 0x20 + G (PIC bases 0x20/0x28, IOAPIC entry) */

static void emit(int n, ...)
{
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		mem[pc++] = (uint8_t)va_arg(ap, int);
	va_end(ap);
}
static void emit16(uint32_t v) { mem[pc++] = v & 0xff; mem[pc++] = (v >> 8) & 0xff; }
static void emit32(uint32_t v) { for (int i = 0; i < 4; i++) mem[pc++] = (uint8_t)(v >> (8 * i)); }
/* absolute memory operand: disp32 in protected mode, 0x66-prefixed 32-bit op with disp16 in real mode */
static void op_mem(int opcode, int modrm_reg, uint32_t addr)
{
	if (!opt_protected) { emit(3, 0x66, opcode, modrm_reg << 3 | 6); emit16(addr); }
	else { emit(2, opcode, modrm_reg << 3 | 5); emit32(addr); }
}
static void inc_mem(uint32_t a) { op_mem(0xff, 0, a); }                      /* inc dword [a] */
static void cmp_mem(uint32_t a, uint32_t v) { op_mem(0x81, 7, a); emit32(v); } /* cmp dword [a], imm32 */
static void mov_mem(uint32_t a, uint32_t v) { emit(2, 0xc7, 0x05); emit32(a); emit32(v); } /* protected only */
static void load_eax(uint32_t a)                                              /* mov eax, [a] */
{
	if (!opt_protected) { emit(2, 0x66, 0xa1); emit16(a); }
	else { emit(1, 0xa1); emit32(a); }
}
static void out_al(int port, int val) { emit(4, 0xb0, val, 0xe6, port); }   /* mov al, val; out port, al */
static uint32_t data_of(int vcpu) { return DATA_ADDR + 0x40u * (unsigned)vcpu; }
static uint32_t idt_of(int vcpu) { return IDT_ADDR + 0x800u * (unsigned)(vcpu < 2 ? vcpu : 2); }
static uint32_t code_of(int vcpu) { return CODE_ADDR + 0x1000u * (unsigned)(vcpu < 2 ? vcpu : 2); }

/* vectors with a counting handler, per vCPU: slot 0 the line's vector, slot 1 --vector (one slot if equal) */
static int slot_vec[2][2], nslots[2];
static int slot_of(int vcpu, int vec)
{
	for (int k = 0; k < nslots[vcpu]; k++)
		if (slot_vec[vcpu][k] == vec) return k;
	slot_vec[vcpu][nslots[vcpu]] = vec;
	return nslots[vcpu]++;
}

enum { EOI_NONE, EOI_PIC, EOI_LAPIC };
static void emit_ret(void)
{
	if (opt_protected && opt_no_iret) emit(7, 0x58, 0x83, 0xc4, 0x04, 0x9d, 0xff, 0xe0); /* pop eax; add esp, 4; popfd; jmp eax */
	else emit(1, 0xcf);                                                             /* iret(d) */
}
/* A counting handler.  An interrupt counts only if it came as KVM delivers one here: with IF=1
 * and returning just after a hlt (the VMM interrupts only halted vCPUs); anything else (a
 * nested host's duplicate delivery) goes to the stray counter and returns untouched.  A counted
 * one increments its vector's counter and the total, EOIs, and returns with IF=0 (the wait
 * loop's sti enables interrupts again right before its hlt). */
static void emit_handler(int vcpu, int vec, int eoi)
{
	int k = slot_of(vcpu, vec);
	uint32_t h = pc, d = data_of(vcpu), jz, jne;
	if (opt_protected) {
		emit(5, 0xf6, 0x44, 0x24, 0x09, 0x02);                   /* test byte [esp+9], 2: saved IF */
		jz = pc; emit(2, 0x74, 0);                               /* jz stray */
		emit(5, 0x50, 0x8b, 0x44, 0x24, 0x04);                   /* push eax; mov eax, [esp+4]: saved eip */
		emit(5, 0x80, 0x78, 0xff, 0xf4, 0x58);                   /* cmp byte [eax-1], 0xf4 (hlt); pop eax */
		jne = pc; emit(2, 0x75, 0);                              /* jne stray */
		inc_mem(d + D_VEC + 4 * k);
		inc_mem(d + D_TAKEN);
		if (eoi == EOI_LAPIC) mov_mem(LAPIC + 0xb0, 0);          /* LAPIC EOI register */
		emit(5, 0x80, 0x64, 0x24, 0x09, 0xfd);                   /* and byte [esp+9], ~2: return with IF=0 */
	} else {
		emit(6, 0x67, 0xf6, 0x44, 0x24, 0x05, 0x02);             /* test byte [esp+5], 2: saved IF */
		jz = pc; emit(2, 0x74, 0);
		emit(6, 0x53, 0x67, 0x8b, 0x5c, 0x24, 0x02);             /* push bx; mov bx, [esp+2]: saved ip (CS 0) */
		emit(5, 0x80, 0x7f, 0xff, 0xf4, 0x5b);                   /* cmp byte [bx-1], 0xf4 (hlt); pop bx */
		jne = pc; emit(2, 0x75, 0);
		inc_mem(d + D_VEC + 4 * k);
		inc_mem(d + D_TAKEN);
		if (eoi == EOI_PIC) {                                    /* non-specific EOI */
			emit(1, 0x50);                                   /* push ax */
			if (vec >= 0x28) out_al(0xa0, 0x20);
			out_al(0x20, 0x20);
			emit(1, 0x58);                                   /* pop ax */
		}
		emit(6, 0x67, 0x80, 0x64, 0x24, 0x05, 0xfd);             /* and byte [esp+5], ~2: return with IF=0 */
	}
	emit_ret();
	mem[jz + 1] = (uint8_t)(pc - (jz + 2));
	mem[jne + 1] = (uint8_t)(pc - (jne + 2));
	inc_mem(d + D_STRAY);                                            /* stray: */
	emit_ret();
	if (opt_protected) {
		uint64_t gate = (h & 0xffffull) | 0x08ull << 16 | 0x8e00ull << 32 | (uint64_t)(h >> 16) << 48;
		memcpy(mem + idt_of(vcpu) + 8 * vec, &gate, 8);
	} else {
		mem[4 * vec] = h & 0xff; mem[4 * vec + 1] = h >> 8; mem[4 * vec + 2] = 0; mem[4 * vec + 3] = 0;
	}
}

/* Touch what delivering an interrupt reads and writes (IDT or IVT, GDT, stack) so that a
 * host that maps guest pages lazily takes those faults here, not during a delivery. */
static void emit_pretouch(int vcpu)
{
	load_eax(opt_protected ? idt_of(vcpu) : 0);
	if (opt_protected) load_eax(GDT_ADDR + 8);
	emit(2, 0x50, 0x58);                                             /* push (e)ax; pop (e)ax */
}

/* The wait loop of one phase: L: inc [halts]; sti; hlt; cmp [taken], target; jb L */
static void emit_wait(int vcpu, int ph, uint32_t target)
{
	uint32_t d = data_of(vcpu), l = pc;
	inc_mem(d + D_HALTS + 4 * ph);
	emit(2, 0xfb, 0xf4);                                             /* sti; hlt */
	cmp_mem(d + D_TAKEN, target);
	emit(2, 0x72, (uint8_t)(l - (pc + 2)));                          /* jb L */
}

static void build_guest(void)
{
	for (int v = 0; v < 256; v++) {
		uint32_t h = STUB_ADDR + 8 * v;
		memcpy(mem + h, (uint8_t[]){ 0xb0, (uint8_t)v, 0xe6, PORT_STUB, 0xf4, 0xeb, 0xfd }, 7);
		mem[4 * v] = h & 0xff; mem[4 * v + 1] = h >> 8; mem[4 * v + 2] = 0; mem[4 * v + 3] = 0;
		uint64_t gate = (h & 0xffffull) | 0x08ull << 16 | 0x8e00ull << 32;
		for (int t = 0; t < 3; t++)
			memcpy(mem + IDT_ADDR + 0x800 * t + 8 * v, &gate, 8);
	}
	uint64_t gdt[3] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull };
	memcpy(mem + GDT_ADDR, gdt, sizeof gdt);

	int line = opt_n[PH_LINE] || (opt_n[PH_WAKE] && !opt_wake_msi);
	int vec_v = opt_n[PH_MSI] || opt_n[PH_INTR] || (opt_n[PH_WAKE] && opt_wake_msi);
	int eoi = !opt_irqchip ? EOI_NONE : opt_protected ? EOI_LAPIC : EOI_PIC;
	line_vec = 0x20 + (int)opt_gsi;
	pc = HND_ADDR;
	if (line) emit_handler(0, line_vec, eoi);
	if (vec_v && !(line && (int)opt_vector == line_vec)) emit_handler(0, (int)opt_vector, eoi);
	if (opt_n[PH_IPI]) emit_handler(1, (int)opt_vector, EOI_LAPIC);

	/* vCPU 0 */
	pc = code_of(0);
	emit_pretouch(0);
	if (opt_irqchip && opt_protected) {
		mov_mem(LAPIC + 0xf0, 0x1ff);          /* SVR: APIC software-enabled, spurious vector 0xff */
		mov_mem(LAPIC + 0x350, 0x10000);       /* LVT0 masked: the PIC's ExtINT never reaches us */
		out_al(0x21, 0xff);                    /* and the PIC itself masked (OCW1, both chips) */
		out_al(0xa1, 0xff);
		if (line) {                            /* IOAPIC pin G: vector, fixed, physical, edge, high, unmasked, APIC 0 */
			mov_mem(IOAPIC, 0x10 + 2 * (uint32_t)opt_gsi);
			mov_mem(IOAPIC + 0x10, (uint32_t)line_vec);
			mov_mem(IOAPIC, 0x11 + 2 * (uint32_t)opt_gsi);
			mov_mem(IOAPIC + 0x10, 0);
		}
	} else if (opt_irqchip && line) {              /* the 8259 pair: ICW1-4, then only line G unmasked */
		int g = (int)opt_gsi;
		out_al(0x20, 0x11); out_al(0x21, 0x20); out_al(0x21, 0x04); out_al(0x21, 0x01);
		out_al(0xa0, 0x11); out_al(0xa1, 0x28); out_al(0xa1, 0x02); out_al(0xa1, 0x01);
		out_al(0x21, g < 8 ? (uint8_t)~(1 << g) : (uint8_t)~(1 << 2));
		out_al(0xa1, g < 8 ? 0xff : (uint8_t)~(1 << (g - 8)));
	}
	uint32_t target = 0;
	for (int ph = PH_LINE; ph <= PH_WAKE; ph++)
		if (opt_n[ph]) {
			target += (uint32_t)opt_n[ph];
			emit_wait(0, ph, target);
		}
	if (opt_n[PH_IPI]) {
		uint32_t l;
		if (!opt_protected) emit(1, 0x66);
		emit(1, 0xbf); emit32((uint32_t)opt_n[PH_IPI]);   /* mov edi, N */
		l = pc;
		emit(2, 0xe6, PORT_GATE);                         /* out 0xf6, al: the VMM waits for vCPU 1 */
		mov_mem(LAPIC + 0x310, 1u << 24);                 /* ICR high: destination APIC id 1 */
		mov_mem(LAPIC + 0x300, 0x4000 | (uint32_t)opt_vector); /* ICR low: fixed, physical, assert, edge: sent */
		inc_mem(data_of(0) + D_IPI_SENT);
		emit(2, 0x4f, 0x75);                              /* dec edi; jnz L */
		emit(1, (uint8_t)(l - (pc + 1)));
	}
	emit(5, 0xe6, PORT_EXIT, 0xf4, 0xeb, 0xfd);               /* out 0xf4, al; hlt; jmp $-1 */

	/* vCPU 1: the IPIs' receiver */
	pc = code_of(1);
	if (opt_n[PH_IPI]) {
		emit_pretouch(1);
		mov_mem(LAPIC + 0xf0, 0x1ff);
		emit_wait(1, PH_IPI, (uint32_t)opt_n[PH_IPI]);
	}
	emit(5, 0xe6, PORT_EXIT, 0xf4, 0xeb, 0xfd);
	/* the other vCPUs end at once */
	pc = code_of(2);
	emit(5, 0xe6, PORT_EXIT, 0xf4, 0xeb, 0xfd);
}

static uint32_t rd(int vcpu, uint32_t off)
{
	return __atomic_load_n((uint32_t *)(mem + data_of(vcpu) + off), __ATOMIC_ACQUIRE);
}

/* ---- per-vCPU state ---- */
struct vcpu {
	int id, fd, tid, statusfd;
	atomic_int running;        /* nvcsw_base set, KVM_RUN entered */
	uint64_t nvcsw_base;       /* voluntary context switches when the last interrupt was sent */
	pthread_t th;
	struct kvm_run *run;
	int done, err;
	char errmsg[256];
	uint64_t exit_io, exit_hlt, exit_window, exit_intr, exit_other, nrun, gates, injected, ioctl_intr;
};
static struct vcpu vcpus[MAX_VCPUS];
static atomic_int stop;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static int nfinished, vmfd;
static pthread_barrier_t named, started;
static uint64_t sent[NPH], ioctl_line, ioctl_msi, wait_ns_sum, wait_ns_max;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "irqload: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void vfail(struct vcpu *v, const char *fmt, ...)
{
	va_list ap;
	if (v->err) return;
	va_start(ap, fmt);
	vsnprintf(v->errmsg, sizeof v->errmsg, fmt, ap);
	va_end(ap);
	v->err = 1;
	atomic_store(&stop, 1);
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}
static void sleep_until(uint64_t ns)
{
	struct timespec t = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

/* The vCPU thread's state and voluntary context switches, from /proc/self/task/TID/status. */
static char thread_status(struct vcpu *v, uint64_t *nvcsw)
{
	char buf[4096], *p;
	ssize_t n = pread(v->statusfd, buf, sizeof buf - 1, 0);
	char st = '?';
	*nvcsw = 0;
	if (n <= 0) return st;
	buf[n] = 0;
	if ((p = strstr(buf, "\nState:\t"))) st = p[8];
	if ((p = strstr(buf, "\nvoluntary_ctxt_switches:\t"))) *nvcsw = strtoull(p + 26, NULL, 10);
	return st;
}

/* Wait until vCPU v executes the hlt of iteration `halt` of phase ph, having taken `taken`
 * interrupts, and blocks in it: its thread sleeps (S) and has been switched out voluntarily
 * since the previous interrupt was sent (or since its first KVM_RUN).  State S alone also shows
 * in kvm_vcpu_block() between set_current_state() and schedule(), where an interrupt would end
 * the halt without a wait.  --hlt-wake: at least delay_ns after the iteration was first seen
 * (*t_seen).  -1 when the run stops or stalls. */
static int wait_halted(struct vcpu *v, int ph, uint32_t halt, uint32_t taken, uint64_t delay_ns,
		       uint64_t *t_seen, const char *what)
{
	uint64_t t0 = now_ns(), seen = 0, nvcsw = 0;
	char st = '?';
	for (;;) {
		if (atomic_load(&stop)) return -1;
		uint32_t h = rd(v->id, D_HALTS + 4 * ph), t = rd(v->id, D_TAKEN);
		uint64_t t1 = now_ns();
		if (h == halt && t == taken && atomic_load(&v->running)) {
			if (!seen) {
				seen = t1;
				if (delay_ns) { sleep_until(seen + delay_ns); continue; }
			}
			st = thread_status(v, &nvcsw);
			if (st == 'S' && nvcsw > v->nvcsw_base) {
				v->nvcsw_base = nvcsw;
				*t_seen = seen;
				return 0;
			}
		} else if (h > halt || t > taken) {
			vfail(v, "vcpu %d: %s: halt %u, interrupts taken %u where %u, %u were due", v->id, what, h, t,
			      halt, taken);
			return -1;
		}
		if (t1 - t0 > STALL_NS) {
			vfail(v, "vcpu %d: %s: stalled 10 s at halt %u/%u, interrupts taken %u/%u, thread state %c, "
			      "voluntary switches %llu/%llu", v->id, what, h, halt, t, taken, st,
			      (unsigned long long)nvcsw, (unsigned long long)v->nvcsw_base);
			return -1;
		}
		sleep_until(t1 + 10000);
	}
}

static void inject_line(struct vcpu *v)
{
	for (int level = 1; level >= 0; level--) {
		struct kvm_irq_level il = { .irq = (uint32_t)opt_gsi, .level = (uint32_t)level };
		if (ioctl(vmfd, KVM_IRQ_LINE, &il) < 0)
			vfail(v, "KVM_IRQ_LINE gsi %u level %d: %s", (unsigned)opt_gsi, level, strerror(errno));
		ioctl_line++;
	}
}

static void inject_msi(struct vcpu *v)
{
	struct kvm_msi m = { .address_lo = LAPIC | (uint32_t)v->id << 12, .data = (uint32_t)opt_vector };
	int r = ioctl(vmfd, KVM_SIGNAL_MSI, &m);
	ioctl_msi++;
	if (r <= 0)
		vfail(v, "KVM_SIGNAL_MSI vector 0x%x to APIC %d: %s", (unsigned)opt_vector, v->id,
		      r < 0 ? strerror(errno) : "not delivered (0)");
}

/* The VMM's side of vCPU 0's in-kernel phases: each interrupt once the previous one was
 * taken and the vCPU sleeps in its next hlt (--hlt-wake: and D us have passed since). */
static void *injector(void *arg)
{
	struct vcpu *v = &vcpus[0];
	uint32_t base = 0;
	(void)arg;
	prctl(PR_SET_TIMERSLACK, 1);
	for (int ph = PH_LINE; ph <= PH_WAKE; ph++) {
		if (ph == PH_INTR) continue;
		for (uint32_t i = 0; i < opt_n[ph] && !atomic_load(&stop); i++) {
			uint64_t seen;
			char what[64];
			snprintf(what, sizeof what, "%s interrupt %u", ph_opt[ph], i + 1);
			if (wait_halted(v, ph, i + 1, base + i, ph == PH_WAKE ? opt_wake_us * 1000 : 0, &seen, what) < 0)
				return NULL;
			uint64_t t = now_ns();
			if (ph == PH_LINE || (ph == PH_WAKE && !opt_wake_msi)) inject_line(v);
			else inject_msi(v);
			sent[ph]++;
			if (ph == PH_WAKE) {
				wait_ns_sum += t - seen;
				if (t - seen > wait_ns_max) wait_ns_max = t - seen;
			}
		}
		base += (uint32_t)opt_n[ph];
	}
	return NULL;
}

static void inject_intr(struct vcpu *v)
{
	struct kvm_interrupt irq = { .irq = (uint32_t)opt_vector };
	v->ioctl_intr++;
	if (ioctl(v->fd, KVM_INTERRUPT, &irq) < 0)
		vfail(v, "vcpu %d: KVM_INTERRUPT: %s", v->id, strerror(errno));
	v->injected++;
	v->run->request_interrupt_window = 0;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct kvm_run *run = v->run;
	char name[16], path[64];

	snprintf(name, sizeof name, "CPU %d/KVM", v->id);
	prctl(PR_SET_NAME, name);
	prctl(PR_SET_TIMERSLACK, 1);
	v->tid = (int)syscall(SYS_gettid);
	snprintf(path, sizeof path, "/proc/self/task/%d/status", v->tid);
	v->statusfd = open(path, O_RDONLY | O_CLOEXEC);
	if (v->statusfd < 0) vfail(v, "vcpu %d: %s: %s", v->id, path, strerror(errno));
	pthread_barrier_wait(&named);
	pthread_barrier_wait(&started);
	struct rusage ru;
	getrusage(RUSAGE_THREAD, &ru);
	v->nvcsw_base = (uint64_t)ru.ru_nvcsw;
	atomic_store(&v->running, 1);
	while (!atomic_load(&stop)) {
		int r = ioctl(v->fd, KVM_RUN, 0);
		v->nrun++;
		if (r < 0) {
			if (errno == EINTR) { v->exit_intr++; continue; }
			vfail(v, "vcpu %d: KVM_RUN: %s", v->id, strerror(errno));
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;
			int port = run->io.port, out = run->io.direction == KVM_EXIT_IO_OUT;
			v->exit_io++;
			if (out && port == PORT_EXIT && run->io.size == 1) {
				v->done = 1;
			} else if (out && port == PORT_STUB && run->io.size == 1) {
				vfail(v, "vcpu %d: guest vector 0x%x taken by no handler (exception or unexpected interrupt)",
				      v->id, data[0]);
			} else if (out && port == PORT_GATE && v->id == 0 && opt_n[PH_IPI] && v->gates < opt_n[PH_IPI]) {
				uint64_t seen;
				char what[64];
				snprintf(what, sizeof what, "--ipi %llu", (unsigned long long)v->gates + 1);
				wait_halted(&vcpus[1], PH_IPI, (uint32_t)v->gates + 1, (uint32_t)v->gates, 0, &seen, what);
				v->gates++;
			} else {
				vfail(v, "vcpu %d: unexpected pio %s port 0x%x size %d", v->id, out ? "out" : "in", port,
				      run->io.size);
			}
			break;
		}
		case KVM_EXIT_HLT:
			/* --interrupt: the userspace irqchip's interrupt, where KVM can take it */
			v->exit_hlt++;
			if (opt_irqchip || v->id || v->injected >= opt_n[PH_INTR])
				vfail(v, "vcpu %d: unexpected KVM_EXIT_HLT (%llu interrupts injected)", v->id,
				      (unsigned long long)v->injected);
			else if (run->ready_for_interrupt_injection)
				inject_intr(v);
			else
				run->request_interrupt_window = 1;
			break;
		case KVM_EXIT_IRQ_WINDOW_OPEN:
			v->exit_window++;
			if (opt_irqchip || v->id || v->injected >= opt_n[PH_INTR] || !run->ready_for_interrupt_injection)
				vfail(v, "vcpu %d: unexpected KVM_EXIT_IRQ_WINDOW_OPEN", v->id);
			else
				inject_intr(v);
			break;
		case KVM_EXIT_MMIO:
			v->exit_other++;
			vfail(v, "vcpu %d: unexpected mmio %s gpa 0x%llx len %u", v->id, run->mmio.is_write ? "write" : "read",
			      (unsigned long long)run->mmio.phys_addr, run->mmio.len);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			v->exit_other++;
			vfail(v, "vcpu %d: KVM_EXIT_FAIL_ENTRY hardware_entry_failure_reason 0x%llx", v->id,
			      (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			v->exit_other++;
			{
				struct kvm_regs r = { 0 };
				struct kvm_sregs sr = { 0 };
				ioctl(v->fd, KVM_GET_REGS, &r);
				ioctl(v->fd, KVM_GET_SREGS, &sr);
				uint64_t at = sr.cs.base + r.rip;
				if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION && opt_protected && at < RAM_SIZE &&
				    mem[at] == 0xcf)
					vfail(v, "vcpu %d: KVM could not emulate the handler's iretd at 0x%llx (KVM's emulator has "
					      "only real-mode IRET; a host that emulates every instruction needs --no-iret)",
					      v->id, (unsigned long long)at);
				else
					vfail(v, "vcpu %d: KVM_EXIT_INTERNAL_ERROR suberror %u at 0x%llx", v->id,
					      run->internal.suberror, (unsigned long long)at);
			}
			break;
		case KVM_EXIT_SHUTDOWN:
			v->exit_other++;
			vfail(v, "vcpu %d: KVM_EXIT_SHUTDOWN (triple fault)", v->id);
			break;
		default:
			v->exit_other++;
			vfail(v, "vcpu %d: unexpected exit reason %u", v->id, run->exit_reason);
		}
		if (v->done || v->err)
			break;
	}
	pthread_mutex_lock(&lock);
	nfinished++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void on_kick(int sig) { (void)sig; }

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
		s.idt.base = idt_of(v->id); s.idt.limit = 256 * 8 - 1;
	} else {
		s.idt.base = 0; s.idt.limit = 0x3ff;
	}
	s.cs = code;
	s.ds = s.fs = s.gs = s.ss = s.es = data;
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0) die("KVM_SET_SREGS: %s", strerror(errno));
	memset(&r, 0, sizeof r);
	r.rip = code_of(v->id);
	r.rflags = 2;
	r.rsp = STACK_TOP - 0x100u * (unsigned)v->id;
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0) die("KVM_SET_REGS: %s", strerror(errno));
	if (opt_irqchip && v->id) {
		/* with the in-kernel LAPIC an AP waits for INIT/SIPI: start it as the BSP is */
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
		if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0) die("KVM_SET_MP_STATE vcpu %d: %s", v->id, strerror(errno));
	}
}

/* KVM's own per-vCPU counters (binary stats fd, 5.14 on; before it the VM's debugfs files). */
static const char *kstat_name[] = { "exits", "irq_injections", "irq_window_exits", "request_irq_exits",
				    "halt_exits", "halt_wakeup", "halt_successful_poll", "halt_attempted_poll",
				    "halt_poll_invalid", "halt_wait_ns", "irq_exits", "signal_exits", "io_exits" };
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

static void read_kstats_debugfs(int vm, uint64_t *acc)
{
	for (int k = 0; k < NKSTAT; k++) {
		char path[128];
		unsigned long long val;
		FILE *f;
		snprintf(path, sizeof path, "/sys/kernel/debug/kvm/%d-%d/%s", (int)getpid(), vm, kstat_name[k]);
		if (!(f = fopen(path, "r")))
			continue;
		if (fscanf(f, "%llu", &val) == 1) { acc[k] += val; kstat_found[k] = 1; }
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

static int problems;
static void problem(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "irqload: guest pid=%d: ", (int)getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	problems++;
}
static void expect(const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		problem("%s %llu, scripted %llu", what, (unsigned long long)got, (unsigned long long)want);
}

static int run_guest(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) die("/dev/kvm: %s", strerror(errno));
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) die("KVM_CREATE_VM: %s", strerror(errno));
	vmfd = vm;
	ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);  /* old VMX without unrestricted guest; harmless */
	if (opt_irqchip && ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) die("KVM_CREATE_IRQCHIP: %s", strerror(errno));
	if ((opt_n[PH_MSI] || (opt_n[PH_WAKE] && opt_wake_msi)) && ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_SIGNAL_MSI) <= 0)
		die("KVM_CAP_SIGNAL_MSI: not supported");
	mem = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
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
	pthread_barrier_wait(&named);
	printf("ready pid=%d\n", (int)getpid());
	fflush(stdout);
	if (opt_wait_start) {
		struct stat st;
		while (stat(opt_wait_start, &st) < 0)
			usleep(10000);
	}
	uint64_t t0 = now_ns();
	pthread_t inj;
	int have_inj = opt_n[PH_LINE] || opt_n[PH_MSI] || opt_n[PH_WAKE];
	if (have_inj && pthread_create(&inj, NULL, injector, NULL)) die("pthread_create failed");
	pthread_barrier_wait(&started);
	int kicked = 0;
	pthread_mutex_lock(&lock);
	while (nfinished < (int)opt_vcpus) {
		if (!kicked && atomic_load(&stop)) {
			/* a failure: kick the others out of KVM_RUN */
			kicked = 1;
			for (unsigned i = 0; i < opt_vcpus; i++) {
				vcpus[i].run->immediate_exit = 1;
				__atomic_thread_fence(__ATOMIC_SEQ_CST);
				pthread_kill(vcpus[i].th, SIGUSR1);
			}
		} else {
			struct timespec dl;
			clock_gettime(CLOCK_MONOTONIC, &dl);
			dl.tv_nsec += 100000000;
			if (dl.tv_nsec >= 1000000000) { dl.tv_sec++; dl.tv_nsec -= 1000000000; }
			pthread_cond_timedwait(&cond, &lock, &dl);
		}
	}
	pthread_mutex_unlock(&lock);
	for (unsigned i = 0; i < opt_vcpus; i++)
		pthread_join(vcpus[i].th, NULL);
	atomic_store(&stop, 1);
	if (have_inj) pthread_join(inj, NULL);
	uint64_t t1 = now_ns();

	/* what the guests counted, against the script */
	uint64_t kstat[NKSTAT] = { 0 }, taken = 0, stray = 0, hlt_total = 0, io = 0, hlt = 0, win = 0, intr = 0, other = 0, nrun = 0;
	uint64_t injected = 0, ioctl_intr = 0;
	int failed = 0;
	for (unsigned i = 0; i < opt_vcpus; i++)
		failed |= vcpus[i].err;
	for (unsigned i = 0; i < opt_vcpus; i++) {
		struct vcpu *v = &vcpus[i];
		read_kstats(v->fd, kstat);
		if (v->err) problem("%s", v->errmsg);
		else if (!v->done && !failed) problem("vcpu %u: did not reach the end of its script", i);
		taken += rd((int)i, D_TAKEN);
		stray += rd((int)i, D_STRAY);
		for (int ph = 0; ph < NPH; ph++) hlt_total += rd((int)i, D_HALTS + 4 * ph);
		io += v->exit_io; hlt += v->exit_hlt; win += v->exit_window; intr += v->exit_intr;
		other += v->exit_other; nrun += v->nrun; injected += v->injected; ioctl_intr += v->ioctl_intr;
	}
	int any = 0;
	for (int k = 0; k < NKSTAT; k++) any |= kstat_found[k];
	if (!any) read_kstats_debugfs(vm, kstat);
	sent[PH_INTR] = injected;
	uint64_t n0 = opt_n[PH_LINE] + opt_n[PH_MSI] + opt_n[PH_INTR] + opt_n[PH_WAKE];
	uint64_t ipi_sent = rd(0, D_IPI_SENT), ipi_recv = opt_vcpus > 1 ? rd(1, D_TAKEN) : 0;
	if (!problems) {
		static const char *ph_what[NPH] = { "--irq-line pulses sent", "--msi messages sent",
						    "--interrupt injections", "--hlt-wake wakeups sent", "" };
		for (int ph = 0; ph < PH_IPI; ph++) {
			char what[96];
			expect(ph_what[ph], sent[ph], opt_n[ph]);
			snprintf(what, sizeof what, "vcpu 0: hlt instructions of the %s loop", ph_opt[ph]);
			expect(what, rd(0, D_HALTS + 4 * ph), opt_n[ph]);
		}
		expect("vcpu 0: interrupts taken", rd(0, D_TAKEN), n0);
		for (int k = 0; k < nslots[0]; k++) {
			int vec = slot_vec[0][k];
			uint64_t want = 0;
			int line_here = vec == line_vec && (opt_n[PH_LINE] || (opt_n[PH_WAKE] && !opt_wake_msi));
			if (line_here) want += opt_n[PH_LINE] + (opt_wake_msi ? 0 : opt_n[PH_WAKE]);
			if (vec == (int)opt_vector) want += opt_n[PH_MSI] + opt_n[PH_INTR] + (opt_wake_msi ? opt_n[PH_WAKE] : 0);
			char what[64];
			snprintf(what, sizeof what, "vcpu 0: interrupts taken at vector 0x%x", vec);
			expect(what, rd(0, D_VEC + 4 * k), want);
		}
		expect("vcpu 0: IPIs sent (ICR writes)", ipi_sent, opt_n[PH_IPI]);
		expect("vcpu 0: --ipi gates passed", vcpus[0].gates, opt_n[PH_IPI]);
		if (opt_vcpus > 1) {
			expect("vcpu 1: IPIs taken", ipi_recv, opt_n[PH_IPI]);
			expect("vcpu 1: hlt instructions of the --ipi loop", rd(1, D_HALTS + 4 * PH_IPI), opt_n[PH_IPI]);
			if (opt_n[PH_IPI]) expect("vcpu 1: IPIs taken at --vector", rd(1, D_VEC), opt_n[PH_IPI]);
		}
		for (unsigned i = 2; i < opt_vcpus; i++)
			expect("an idle vcpu's interrupts taken", rd((int)i, D_TAKEN), 0);
		expect("KVM_EXIT_HLT exits", hlt, opt_n[PH_INTR]);
	}

	char name[1024];
	fmt_name(name, sizeof name, opt_name);
	printf("guest pid=%d vcpus=%llu mode=%s irqchip=%d gsi=%llu vector=0x%llx wake_by=%s"
	       " irq_lines=%llu msis=%llu ipi_sent=%llu ipi_received=%llu interrupts=%llu halts=%llu hlt_total=%llu"
	       " wait_us_sum=%llu wait_us_max=%llu taken=%llu stray=%llu ioctl_irq_line=%llu ioctl_signal_msi=%llu ioctl_interrupt=%llu",
	       (int)getpid(), (unsigned long long)opt_vcpus, opt_protected ? "prot32" : "real", opt_irqchip,
	       (unsigned long long)opt_gsi, (unsigned long long)opt_vector, opt_wake_msi ? "msi" : "line",
	       (unsigned long long)sent[PH_LINE], (unsigned long long)sent[PH_MSI], (unsigned long long)ipi_sent,
	       (unsigned long long)ipi_recv, (unsigned long long)sent[PH_INTR], (unsigned long long)rd(0, D_HALTS + 4 * PH_WAKE),
	       (unsigned long long)hlt_total, (unsigned long long)(wait_ns_sum / 1000), (unsigned long long)(wait_ns_max / 1000),
	       (unsigned long long)taken, (unsigned long long)stray, (unsigned long long)ioctl_line, (unsigned long long)ioctl_msi,
	       (unsigned long long)ioctl_intr);
	for (int k = 0; k < NKSTAT; k++)
		if (kstat_found[k])
			printf(" kstat_%s=%llu", kstat_name[k], (unsigned long long)kstat[k]);
	printf(" exit_io=%llu exit_hlt=%llu exit_irq_window=%llu exit_intr=%llu exit_other=%llu kvm_run=%llu"
	       " elapsed_us=%llu name=%s\n",
	       (unsigned long long)io, (unsigned long long)hlt, (unsigned long long)win, (unsigned long long)intr,
	       (unsigned long long)other, (unsigned long long)nrun, (unsigned long long)((t1 - t0) / 1000), name);
	fflush(stdout);
	if (opt_hold) {	/* the VM and its vCPU fds stay, quiet, until FILE exists */
		struct stat st;
		while (stat(opt_hold, &st) < 0)
			usleep(10000);
	}
	return problems ? 1 : 0;
}

static void usage_err(const char *fmt, const char *arg)
{
	fprintf(stderr, "irqload: ");
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
	enum { O_LINE = 256, O_MSI, O_INTR, O_WAKE, O_IPI, O_GSI, O_VEC, O_WAKE_US, O_WAKE_BY, O_PROT, O_IRQCHIP,
	       O_NAME, O_WAIT, O_NO_IRET, O_HOLD };
	static const struct option lo[] = {
		{ "guests", 1, 0, 'g' }, { "vcpus", 1, 0, 'c' },
		{ "irq-line", 1, 0, O_LINE }, { "msi", 1, 0, O_MSI }, { "interrupt", 1, 0, O_INTR },
		{ "hlt-wake", 1, 0, O_WAKE }, { "ipi", 1, 0, O_IPI }, { "gsi", 1, 0, O_GSI }, { "vector", 1, 0, O_VEC },
		{ "wake-us", 1, 0, O_WAKE_US }, { "wake-by", 1, 0, O_WAKE_BY }, { "protected", 0, 0, O_PROT },
		{ "irqchip", 0, 0, O_IRQCHIP }, { "name", 1, 0, O_NAME }, { "wait-start", 1, 0, O_WAIT }, { "hold", 1, 0, O_HOLD },
		{ "no-iret", 0, 0, O_NO_IRET }, { 0, 0, 0, 0 } };
	/* QEMU-style "-name X": rewrite in a copy of argv, /proc/PID/cmdline keeps the original. */
	char **av = calloc((size_t)argc + 1, sizeof *av);
	if (!av) return 1;
	for (int i = 0; i < argc; i++)
		av[i] = strcmp(argv[i], "-name") ? argv[i] : "--name";
	opterr = 0;
	int c, li;
	while ((li = -1, c = getopt_long(argc, av, ":g:c:", lo, &li)) != -1) {
		char o[64];
		if (li >= 0) snprintf(o, sizeof o, "%s%s", strcmp(lo[li].name, "name") ? "--" : "-", lo[li].name);
		else if (optopt > 0 && optopt < 256) snprintf(o, sizeof o, "-%c", optopt);
		else snprintf(o, sizeof o, "%.60s", argv[optind - 1]);
		switch (c) {
		case 'g': opt_guests = num(optarg, "-g", 1024); if (!opt_guests) usage_err("bad value for %s", "-g"); break;
		case 'c': opt_vcpus = num(optarg, "-c", MAX_VCPUS); if (!opt_vcpus) usage_err("bad value for %s", "-c"); break;
		case O_LINE: opt_n[PH_LINE] = num(optarg, o, 0xffffffffu); break;
		case O_MSI: opt_n[PH_MSI] = num(optarg, o, 0xffffffffu); break;
		case O_INTR: opt_n[PH_INTR] = num(optarg, o, 0xffffffffu); break;
		case O_WAKE: opt_n[PH_WAKE] = num(optarg, o, 0xffffffffu); break;
		case O_IPI: opt_n[PH_IPI] = num(optarg, o, 0xffffffffu); break;
		case O_GSI: opt_gsi = num(optarg, o, 23); break;
		case O_VEC: opt_vector = num(optarg, o, 0xfe); if (opt_vector < 0x20) usage_err("bad value for %s", o); break;
		case O_WAKE_US: opt_wake_us = num(optarg, o, 10000000); break;
		case O_WAKE_BY:
			if (!strcmp(optarg, "msi")) opt_wake_msi = 1;
			else if (!strcmp(optarg, "line")) opt_wake_msi = 0;
			else usage_err("bad value for %s (line or msi)", o);
			break;
		case O_PROT: opt_protected = 1; break;
		case O_IRQCHIP: opt_irqchip = 1; break;
		case O_NO_IRET: opt_no_iret = 1; break;
		case O_NAME: opt_name = optarg; break;
		case O_WAIT: opt_wait_start = optarg; break;
		case O_HOLD: opt_hold = optarg; break;
		case ':': usage_err("option %s needs a value", o); break;
		default: usage_err("unknown option %s", o);
		}
	}
	if (optind < argc) usage_err("unexpected argument %s", argv[optind]);
	for (int ph = 0; ph < NPH; ph++)
		if (opt_n[ph] && ph != PH_INTR && !opt_irqchip) usage_err("%s needs --irqchip", ph_opt[ph]);
	if (opt_n[PH_INTR] && opt_irqchip) usage_err("%s is the userspace irqchip's: not with --irqchip", "--interrupt");
	if ((opt_n[PH_MSI] || opt_n[PH_IPI]) && !opt_protected)
		usage_err("%s needs --protected (the LAPIC at 0xfee00000)", opt_n[PH_MSI] ? "--msi" : "--ipi");
	if (opt_n[PH_WAKE] && opt_wake_msi && !opt_protected) usage_err("%s needs --protected", "--wake-by msi");
	if (opt_no_iret && !opt_protected) usage_err("%s is for --protected (real mode's iret is emulated)", "--no-iret");
	if (opt_n[PH_IPI] && opt_vcpus < 2) usage_err("%s needs -c 2 or more", "--ipi");
	if (!opt_protected && (opt_gsi > 15 || opt_gsi == 2))
		usage_err("%s: real mode uses the 8259 pair, lines 0-15 but the cascade (2)", "--gsi");

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
		if (waitpid(pids[i], &st, 0) < 0) { fprintf(stderr, "irqload: waitpid: %s\n", strerror(errno)); rc = 1; continue; }
		if (WIFSIGNALED(st)) { fprintf(stderr, "irqload: guest pid=%d killed by signal %d\n", (int)pids[i], WTERMSIG(st)); rc = 1; }
		else if (WEXITSTATUS(st)) rc = 1;
	}
	return rc;
}
