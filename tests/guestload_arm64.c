/*
 * guestload_arm64: a tiny arm64 VMM (plain C, /dev/kvm) whose guests' trap counts are exact
 * ground truth for kvmprof's arm64 tests; the arm64 sibling of tests/guestload.c.
 *
 * guestload_arm64 [-c VCPUS] [--hvc N[:IMM[:FID]]]... [--wfi N] [--mmio-read N] [--mmio-write N]
 *                 [--sysreg-read N] [--sysreg-write N] [--timeout S] [-name NAME] [--wait-start FILE]
 * One VM with VCPUS vCPUs (default 1) on threads named "CPU n/KVM"; every vCPU runs the same
 * AArch64 program at EL1 with the MMU off, then writes the exit page and stops.
 *   --hvc N:IMM:FID  N times: x0 = FID (default 0x84000000, PSCI_VERSION); hvc #IMM (default 0).
 *                    Repeatable (up to 8 blocks, in order).  KVM answers every HVC itself.
 *   --wfi N          N times: wfi.  A WFI traps only when nothing is pending for the vCPU, and
 *                    KVM then blocks it until something is; nothing visible to the guest may
 *                    wake it, or the next WFI would not trap.  So a per-thread timer signals
 *                    the vCPU thread every millisecond: KVM_RUN returns -EINTR (exit_intr), the
 *                    WFI completes, and each WFI still traps exactly once.
 *   --mmio-read N / --mmio-write N   ldr/str w1 at MMIO_ADDR (no memslot): KVM_EXIT_MMIO each.
 *   --sysreg-read N  mrs x1, ID_AA64PFR0_EL1 (trapped by HCR_EL2.TID3, emulated by KVM).
 *   --sysreg-write N msr OSLAR_EL1, xzr (trapped by MDCR_EL2.TDOSA, emulated by KVM).
 *   --timeout S      a vCPU not done after S seconds (default 120) fails, with its pc.
 * -name is accepted (single dash, as QEMU) for /proc/PID/cmdline and echoed, escaped, as name=.
 * --wait-start FILE: VM and named vCPU threads exist, "ready pid=PID" is printed, and the first
 *   KVM_RUN waits until FILE exists ("ready pid=" is printed with or without the option).
 * Bad usage: one line on stderr, exit 2.  Exit 0 iff every vCPU ended its program; otherwise 1
 * and one stderr line per failing vCPU (unexpected exit, guest exception with its ESR, ...).
 *
 * Output, one line (sums over the vCPUs):
 *   guest pid=P vcpus=C complete=0|1 hvc=N wfi=N mmio_read=N mmio_write=N sysreg_read=N
 *   sysreg_write=N hvc_blocks=IMM:FID:N,... [kstat_*=] exit_mmio=N exit_intr=N exit_other=N
 *   kvm_run=N elapsed_us=N name=NAME
 * hvc..sysreg_write: ops executed (the program runs to its end or the vCPU fails, so these are
 * the option values times the vCPUs; mmio also checked against what the VMM saw).  exit_mmio
 * counts the end-of-program writes too (one per vCPU).  kstat_*: KVM's own per-vCPU statistics
 * (KVM_GET_STATS_FD, 5.14 on; before it the VM's debugfs files; each printed only when available).
 *
 * Guest memory: one memslot of 64 KiB at IPA 0: exception vectors at 0x800 (every vector:
 * mrs x3, esr_el1; str w3, [EXC_ADDR]; b .), the program at 0x1000.  Unbacked: MMIO_ADDR,
 * EXIT_ADDR, EXC_ADDR, a page each.  Per op block: movz/movk x19, N; cbz x19, end;
 * L: BODY; subs x19, x19, #1; b.ne L; end:
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
#include <stddef.h>
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

#define RAM_SIZE   0x10000u
#define VEC_ADDR   0x0800u
#define CODE_ADDR  0x1000u
#define MMIO_ADDR  0x10000000u
#define EXIT_ADDR  0x10001000u
#define EXC_ADDR   0x10002000u
#define MAX_VCPUS  16
#define MAX_HVC    8

enum { OP_HVC, OP_WFI, OP_MMIO_R, OP_MMIO_W, OP_SYS_R, OP_SYS_W, NOPS };
static const char *op_name[NOPS] = { "hvc", "wfi", "mmio_read", "mmio_write", "sysreg_read",
				     "sysreg_write" };

struct hvc_block { uint64_t n; uint32_t imm, fid; };
static struct hvc_block hvcs[MAX_HVC];
static int nhvc;
static uint64_t opt_n[NOPS], opt_vcpus = 1, opt_timeout = 120;
static const char *opt_name, *opt_wait_start, *opt_hold;

/* ---- the program, hand-assembled (encodings: Arm ARM, section C6) ---- */
static uint32_t *code;	/* guest RAM as words */
static unsigned pcw;	/* next word */

static void emit(uint32_t w) { code[pcw++] = w; }
static void mov64(int rd, uint64_t v)	/* movz rd, #v[15:0]; movk for the other non-zero halves */
{
	emit(0xd2800000u | (uint32_t)(v & 0xffff) << 5 | rd);
	for (int hw = 1; hw < 4; hw++)
		if ((v >> 16 * hw) & 0xffff)
			emit(0xf2800000u | hw << 21 | (uint32_t)((v >> 16 * hw) & 0xffff) << 5 | rd);
}
static uint32_t branch19(uint32_t op, unsigned from, unsigned to)	/* b.cond / cbz */
{
	return op | ((uint32_t)(to - from) & 0x7ffff) << 5;
}
#define WFI          0xd503207fu
#define HVC(imm)     (0xd4000002u | (uint32_t)(imm) << 5)
#define LDR_W1_X20   0xb9400281u	/* ldr w1, [x20] */
#define STR_W1_X20   0xb9000281u	/* str w1, [x20] */
#define STR_W1_X21   0xb90002a1u	/* str w1, [x21] */
#define MRS_X1_PFR0  0xd5380401u	/* mrs x1, ID_AA64PFR0_EL1 (3,0,0,4,0) */
#define MSR_OSLAR    0xd510109fu	/* msr OSLAR_EL1 (2,0,1,0,4), xzr */
#define MRS_X3_ESR   0xd5385203u	/* mrs x3, ESR_EL1 (3,0,5,2,0) */
#define STR_W3_X2    0xb9000043u	/* str w3, [x2] */
#define SUBS_X19     0xf1000673u	/* subs x19, x19, #1 */
#define BNE          0x54000001u
#define CBZ_X19      0xb4000013u
#define B_SELF       0x14000000u

/* One counted loop around body (n words). */
static void emit_loop(uint64_t n, const uint32_t *body, int len)
{
	unsigned cbz, top;

	mov64(19, n);
	cbz = pcw++;
	top = pcw;
	for (int i = 0; i < len; i++)
		emit(body[i]);
	emit(SUBS_X19);
	emit(branch19(BNE, pcw, top));
	code[cbz] = branch19(CBZ_X19, cbz, pcw);
}

static void build_guest(void)
{
	for (int v = 0; v < 16; v++) {	/* report any exception: its ESR to the VMM */
		pcw = (VEC_ADDR + 0x80 * v) / 4;
		emit(MRS_X3_ESR);
		mov64(2, EXC_ADDR);
		emit(STR_W3_X2);
		emit(B_SELF);
	}
	pcw = CODE_ADDR / 4;
	mov64(20, MMIO_ADDR);
	mov64(21, EXIT_ADDR);
	for (int i = 0; i < nhvc; i++) {
		uint32_t body[4];
		int len = 0;

		body[len++] = 0xd2800000u | (hvcs[i].fid & 0xffff) << 5;	/* movz x0, fid lo */
		body[len++] = 0xf2a00000u | (hvcs[i].fid >> 16) << 5;		/* movk x0, fid hi, lsl 16 */
		body[len++] = HVC(hvcs[i].imm);
		emit_loop(hvcs[i].n, body, len);
	}
	static const uint32_t wfi[] = { WFI }, ldr[] = { LDR_W1_X20 }, str[] = { STR_W1_X20 },
			      mrs[] = { MRS_X1_PFR0 }, msr[] = { MSR_OSLAR };
	if (opt_n[OP_WFI]) emit_loop(opt_n[OP_WFI], wfi, 1);
	if (opt_n[OP_MMIO_R]) emit_loop(opt_n[OP_MMIO_R], ldr, 1);
	if (opt_n[OP_MMIO_W]) emit_loop(opt_n[OP_MMIO_W], str, 1);
	if (opt_n[OP_SYS_R]) emit_loop(opt_n[OP_SYS_R], mrs, 1);
	if (opt_n[OP_SYS_W]) emit_loop(opt_n[OP_SYS_W], msr, 1);
	emit(STR_W1_X21);	/* the end */
	emit(B_SELF);
	if (pcw * 4 > RAM_SIZE) {
		fprintf(stderr, "guestload_arm64: program too long\n");
		exit(2);
	}
}

/* ---- vCPUs ---- */
struct vcpu {
	int id, fd;
	pthread_t th;
	struct kvm_run *run;
	int done, err;
	char errmsg[200];
	uint64_t seen_r, seen_w, exit_mmio, exit_intr, exit_other, nrun;
};
static struct vcpu vcpus[MAX_VCPUS];
static atomic_int stop;
static pthread_barrier_t named, started;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "guestload_arm64: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void vfail(struct vcpu *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->errmsg, sizeof(v->errmsg), fmt, ap);
	va_end(ap);
	v->err = 1;
}

static uint64_t core_reg_id(size_t off)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | off / sizeof(__u32);
}

static uint64_t get_pc(struct vcpu *v)
{
	uint64_t pc = ~0ull;
	struct kvm_one_reg r = { core_reg_id(offsetof(struct kvm_regs, regs.pc)), (uintptr_t)&pc };

	ioctl(v->fd, KVM_GET_ONE_REG, &r);
	return pc;
}

/* Wakes a vCPU blocked in a trapped WFI: SIGUSR1 to this thread every ms. */
static timer_t start_kicks(void)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR1 };
	struct itimerspec its = { { 0, 1000000 }, { 0, 1000000 } };
	timer_t t;

	sev._sigev_un._tid = gettid();	/* sigev_notify_thread_id, which glibc 2.36 lacks */
	if (timer_create(CLOCK_MONOTONIC, &sev, &t) || timer_settime(t, 0, &its, NULL))
		die("timer_create: %s", strerror(errno));
	return t;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct kvm_run *run = v->run;
	char name[16];
	timer_t kicks = 0;

	snprintf(name, sizeof(name), "CPU %d/KVM", v->id);
	prctl(PR_SET_NAME, name);
	pthread_barrier_wait(&named);
	pthread_barrier_wait(&started);
	if (opt_n[OP_WFI])
		kicks = start_kicks();
	while (!v->done && !v->err) {
		int r = ioctl(v->fd, KVM_RUN, 0);

		v->nrun++;
		if (r < 0) {
			if (errno != EINTR) {
				vfail(v, "vcpu %d: KVM_RUN: %s", v->id, strerror(errno));
			} else {
				v->exit_intr++;	/* a kick */
				if (atomic_load(&stop))
					vfail(v, "vcpu %d: not done after %llus, pc 0x%llx", v->id,
					      (unsigned long long)opt_timeout,
					      (unsigned long long)get_pc(v));
			}
			continue;
		}
		if (run->exit_reason != KVM_EXIT_MMIO) {
			v->exit_other++;
			vfail(v, "vcpu %d: unexpected exit reason %u at pc 0x%llx", v->id,
			      run->exit_reason, (unsigned long long)get_pc(v));
			continue;
		}
		v->exit_mmio++;
		if (run->mmio.phys_addr == EXIT_ADDR && run->mmio.is_write) {
			v->done = 1;
		} else if (run->mmio.phys_addr == EXC_ADDR) {
			uint32_t esr;

			memcpy(&esr, run->mmio.data, 4);
			vfail(v, "vcpu %d: guest exception, esr 0x%08x (EC 0x%02x)", v->id, esr, esr >> 26);
		} else if (run->mmio.phys_addr == MMIO_ADDR && run->mmio.len == 4) {
			if (run->mmio.is_write) {
				v->seen_w++;
			} else {
				v->seen_r++;
				memset(run->mmio.data, 0, sizeof(run->mmio.data));
			}
		} else {
			vfail(v, "vcpu %d: unexpected mmio 0x%llx len %u", v->id,
			      (unsigned long long)run->mmio.phys_addr, run->mmio.len);
		}
	}
	if (kicks)
		timer_delete(kicks);
	if (v->done && (v->seen_r != opt_n[OP_MMIO_R] || v->seen_w != opt_n[OP_MMIO_W]))
		vfail(v, "vcpu %d: mmio seen by the VMM %llu/%llu != executed %llu/%llu", v->id,
		      (unsigned long long)v->seen_r, (unsigned long long)v->seen_w,
		      (unsigned long long)opt_n[OP_MMIO_R], (unsigned long long)opt_n[OP_MMIO_W]);
	return NULL;
}

static void on_kick(int sig) { (void)sig; }

static void setup_vcpu(int vm, struct vcpu *v, size_t run_size)
{
	struct kvm_vcpu_init init;
	uint64_t pc = CODE_ADDR, vbar = VEC_ADDR;
	struct kvm_one_reg r_pc = { core_reg_id(offsetof(struct kvm_regs, regs.pc)), (uintptr_t)&pc };
	struct kvm_one_reg r_vbar = { ARM64_SYS_REG(3, 0, 12, 0, 0), (uintptr_t)&vbar };	/* VBAR_EL1 */

	v->fd = ioctl(vm, KVM_CREATE_VCPU, v->id);
	if (v->fd < 0) die("KVM_CREATE_VCPU %d: %s", v->id, strerror(errno));
	v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) die("mmap kvm_run: %s", strerror(errno));
	if (ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) < 0)
		die("KVM_ARM_PREFERRED_TARGET: %s", strerror(errno));
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (ioctl(v->fd, KVM_ARM_VCPU_INIT, &init) < 0) die("KVM_ARM_VCPU_INIT: %s", strerror(errno));
	/* reset state: EL1h, DAIF masked, MMU off */
	if (ioctl(v->fd, KVM_SET_ONE_REG, &r_pc) < 0 || ioctl(v->fd, KVM_SET_ONE_REG, &r_vbar) < 0)
		die("KVM_SET_ONE_REG: %s", strerror(errno));
}

/* KVM's own per-vCPU counters, through the binary stats fd (5.14 on). */
static const char *kstat_name[] = { "exits", "hvc_exit_stat", "wfi_exit_stat", "wfe_exit_stat",
				    "mmio_exit_user", "mmio_exit_kernel", "signal_exits" };
#define NKSTAT (int)(sizeof(kstat_name) / sizeof(kstat_name[0]))
static int kstat_found[NKSTAT];

static void read_kstats(int fd, uint64_t *acc)
{
	struct kvm_stats_header h;
	int sfd = ioctl(fd, KVM_GET_STATS_FD, NULL);

	if (sfd < 0)
		return;
	if (pread(sfd, &h, sizeof(h), 0) == sizeof(h)) {
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

static int run_guest(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	struct timespec t0, t1, dl;

	if (kvm < 0) die("/dev/kvm: %s", strerror(errno));
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) die("KVM_CREATE_VM: %s", strerror(errno));
	code = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED) die("mmap: %s", strerror(errno));
	build_guest();
	struct kvm_userspace_memory_region reg = { .slot = 0, .guest_phys_addr = 0,
						   .memory_size = RAM_SIZE,
						   .userspace_addr = (uintptr_t)code };
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &reg) < 0)
		die("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0) die("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	for (unsigned i = 0; i < opt_vcpus; i++) {
		vcpus[i].id = (int)i;
		setup_vcpu(vm, &vcpus[i], (size_t)run_size);
	}
	struct sigaction sa = { .sa_handler = on_kick };
	sigaction(SIGUSR1, &sa, NULL);
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
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_REALTIME, &dl);	/* pthread_timedjoin_np's clock */
	dl.tv_sec += (time_t)opt_timeout;
	pthread_barrier_wait(&started);
	for (unsigned i = 0; i < opt_vcpus; i++) {
		if (pthread_timedjoin_np(vcpus[i].th, NULL, &dl) == ETIMEDOUT) {
			/* kick every vCPU out of KVM_RUN; each reports where it stood */
			atomic_store(&stop, 1);
			for (unsigned k = 0; k < opt_vcpus; k++) {
				vcpus[k].run->immediate_exit = 1;
				__atomic_thread_fence(__ATOMIC_SEQ_CST);
				pthread_kill(vcpus[k].th, SIGUSR1);
			}
			pthread_join(vcpus[i].th, NULL);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	uint64_t kstat[NKSTAT] = { 0 }, exit_mmio = 0, exit_intr = 0, exit_other = 0, nrun = 0;
	int complete = 1, err = 0;
	char name[1024];

	for (unsigned i = 0; i < opt_vcpus; i++) {
		struct vcpu *v = &vcpus[i];

		read_kstats(v->fd, kstat);
		if (v->err) {
			fprintf(stderr, "guestload_arm64: guest pid=%d: %s\n", (int)getpid(), v->errmsg);
			err = 1;
		}
		complete &= v->done;
		exit_mmio += v->exit_mmio; exit_intr += v->exit_intr; exit_other += v->exit_other;
		nrun += v->nrun;
	}
	int any = 0;
	for (int k = 0; k < NKSTAT; k++)
		any |= kstat_found[k];
	if (!any)
		read_kstats_debugfs(vm, kstat);
	fmt_name(name, sizeof(name), opt_name);
	printf("guest pid=%d vcpus=%llu complete=%d", (int)getpid(), (unsigned long long)opt_vcpus,
	       complete && !err);
	for (int op = 0; op < NOPS; op++) {
		uint64_t n = opt_n[op];

		if (op == OP_HVC)
			for (int i = 0; i < nhvc; i++)
				n += hvcs[i].n;
		printf(" %s=%llu", op_name[op], (unsigned long long)(complete && !err ? n * opt_vcpus : 0));
	}
	printf(" hvc_blocks=");
	for (int i = 0; i < nhvc; i++)
		printf("%s%#x:%#x:%llu", i ? "," : "", hvcs[i].imm, hvcs[i].fid,
		       (unsigned long long)(hvcs[i].n * opt_vcpus));
	for (int k = 0; k < NKSTAT; k++)
		if (kstat_found[k])
			printf(" kstat_%s=%llu", kstat_name[k], (unsigned long long)kstat[k]);
	printf(" exit_mmio=%llu exit_intr=%llu exit_other=%llu kvm_run=%llu elapsed_us=%lld name=%s\n",
	       (unsigned long long)exit_mmio, (unsigned long long)exit_intr,
	       (unsigned long long)exit_other, (unsigned long long)nrun,
	       (long long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000), name);
	fflush(stdout);
	if (opt_hold) {	/* the VM and its vCPU fds stay, quiet, until FILE exists */
		struct stat st;
		while (stat(opt_hold, &st) < 0)
			usleep(10000);
	}
	return err || !complete ? 1 : 0;
}

static void usage_err(const char *fmt, const char *arg)
{
	fprintf(stderr, "guestload_arm64: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t num(const char *s, const char *opt, uint64_t max, char **end)
{
	char *e;

	errno = 0;
	if (!*s || *s == '-' || *s == '+') usage_err("bad value for %s", opt);
	unsigned long long v = strtoull(s, &e, 0);
	if (errno || v > max || (end ? (*e && *e != ':') : *e != 0)) usage_err("bad value for %s", opt);
	if (end) *end = e;
	return v;
}

int main(int argc, char **argv)
{
	enum { O_HVC = 256, O_WFI, O_MMIO_R, O_MMIO_W, O_SYS_R, O_SYS_W, O_TIMEOUT, O_NAME, O_WAIT, O_HOLD };
	static const struct option lo[] = {
		{ "vcpus", 1, 0, 'c' }, { "hvc", 1, 0, O_HVC }, { "wfi", 1, 0, O_WFI },
		{ "mmio-read", 1, 0, O_MMIO_R }, { "mmio-write", 1, 0, O_MMIO_W },
		{ "sysreg-read", 1, 0, O_SYS_R }, { "sysreg-write", 1, 0, O_SYS_W },
		{ "timeout", 1, 0, O_TIMEOUT }, { "name", 1, 0, O_NAME }, { "wait-start", 1, 0, O_WAIT }, { "hold", 1, 0, O_HOLD },
		{ 0, 0, 0, 0 } };
	/* QEMU-style "-name X": rewritten in a copy of argv, /proc/PID/cmdline keeps the original */
	char **av = calloc((size_t)argc + 1, sizeof(*av));
	int c;

	if (!av) return 1;
	for (int i = 0; i < argc; i++)
		av[i] = strcmp(argv[i], "-name") ? argv[i] : "--name";
	opterr = 0;
	while ((c = getopt_long(argc, av, ":c:", lo, NULL)) != -1) {
		char *e;

		switch (c) {
		case 'c':
			opt_vcpus = num(optarg, "-c", MAX_VCPUS, NULL);
			if (!opt_vcpus) usage_err("bad value for %s", "-c");
			break;
		case O_HVC:
			if (nhvc == MAX_HVC) usage_err("at most 8 %s blocks", "--hvc");
			hvcs[nhvc] = (struct hvc_block){ num(optarg, "--hvc", 0xffffffffu, &e), 0, 0x84000000 };
			if (*e) hvcs[nhvc].imm = (uint32_t)num(e + 1, "--hvc", 0xffff, &e);
			if (*e) hvcs[nhvc].fid = (uint32_t)num(e + 1, "--hvc", 0xffffffffu, NULL);
			nhvc++;
			break;
		case O_WFI: case O_MMIO_R: case O_MMIO_W: case O_SYS_R: case O_SYS_W:
			opt_n[c - O_HVC] = num(optarg, lo[c - O_HVC + 1].name, 0xffffffffu, NULL);
			break;
		case O_TIMEOUT: opt_timeout = num(optarg, "--timeout", 86400, NULL); break;
		case O_NAME: opt_name = optarg; break;
		case O_WAIT: opt_wait_start = optarg; break;
		case O_HOLD: opt_hold = optarg; break;
		case ':': usage_err("option %s needs a value", argv[optind - 1]); break;
		default: usage_err("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc) usage_err("unexpected argument %s", argv[optind]);
	return run_guest();
}
