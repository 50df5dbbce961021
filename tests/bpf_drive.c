// SPDX-License-Identifier: GPL-2.0
/* Drives kvmprof's BPF aggregation where no guest can here (exits,
 * hypercalls, exit latency, prefix decoding, full maps): the test driver's
 * own object (tests/bpf_drive.bpf.c linked with bpf/kvmprof.bpf.c: kvmprof's
 * maps, aggregation and flush_hot) is loaded with only its raw_tp "drive"
 * program and flush_hot; drive feeds the functions the tracepoint programs
 * call, through BPF_PROG_TEST_RUN.  Then the loader's map reading
 * (collect/map_reader.c) is checked against what was driven. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf_drive.skel.h"
#include "bpf_drive.h"
#include "check.h"
#include "present/csv_out.h"
#include "present/json_out.h"
#include "model/insns.h"
#include "present/text.h"
#include "model/latency.h"
#include "model/table.h"
#include "model/guest_syms.h"
#include "model/rips.h"
#include "model/vcpu_time.h"
#include "collect/map_reader.h"
#include "collect/procfs.h"

static int table_keys_fd, table_claims_fd, table_counts_fd;
static int prog_fd, keys_fd, hot_fd, latency_fd, drops_fd, insns_fd, failed_fd, threads_fd;
static struct map_reader reader;

/* The instruction maps alone into t (the trap maps go to a table thrown away). */
static int insns_read(struct insn_table *t)
{
	struct trap_table scratch;
	int err = table_init(&scratch, NULL) ?: map_read(&reader, &scratch, t, NULL);

	table_free(&scratch);
	return err;
}

static void drive_args(const __u64 *args)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = DRIVE_ARGS * sizeof(__u64));
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	if (err) {
		fprintf(stderr, "bpf_prog_test_run: %s\n", strerror(errno));
		exit(1);
	}
}

static void drive(__u64 event, __u64 a, __u64 b, __u64 c)
{
	__u64 args[DRIVE_ARGS] = { event, a, b, c };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	if (err) {
		fprintf(stderr, "bpf_prog_test_run: %s\n", strerror(errno));
		exit(1);
	}
}

static struct trap_key key_of(__u32 class, __u64 code)
{
	return (struct trap_key){ .tgid = getpid(), .tid = gettid(), .class = class, .code = code };
}

/* An exit as a variant that read info1 (if info1_ok) and RCX (if rcx_ok) sees it. */
static void drive_exit(__u32 isa, __u32 reason, __u64 info1, bool info1_ok, __u64 rcx, bool rcx_ok)
{
	__u64 args[DRIVE_ARGS] = { DRIVE_EXIT_INFO, isa, reason, 3, info1, rcx,
				   (info1_ok ? DRIVE_INFO1_OK : 0) | (rcx_ok ? DRIVE_RCX_OK : 0) };

	drive_args(args);
}

static __u64 key_count(const struct trap_key *k);

static bool in_a_table(const struct trap_key *key)
{
	size_t slots[TABLE_PROBES];

	return map_table_find(&reader, key, slots) > 0;
}

/* A key's events in the count table (moved there out of the hot slots). */
static __u64 entry_count(const struct trap_key *key)
{
	return map_table_count(&reader, key);
}

/* A key's count: its table slots plus what the per-CPU cache holds. */
static __u64 count_of(__u32 class, __u64 code)
{
	struct trap_key key = key_of(class, code);

	return key_count(&key);
}

static __u64 detail_count(__u64 code, __u16 flags, __u32 detail)
{
	struct trap_key key = key_of(CLASS_EXIT, code);

	key.detail_flags = flags;
	key.detail = detail;
	return key_count(&key);
}

static __u64 key_count(const struct trap_key *k)
{
	struct trap_key key = *k;
	int ncpus = libbpf_num_possible_cpus();
	struct hot_slot slots[ncpus];
	__u64 sum = entry_count(&key);
	__u8 there;

	if (bpf_map_lookup_elem(keys_fd, &key, &there))
		return 0;
	for (__u32 i = 0; i < HOT_SLOTS; i++) {
		if (bpf_map_lookup_elem(hot_fd, &i, slots))
			continue;
		for (int c = 0; c < ncpus; c++)
			if (slots[c].count && !memcmp(&slots[c].key, &key, sizeof(key)))
				sum += slots[c].count;
	}
	return sum;
}

static bool latency_of(__u32 class, __u64 code, struct trap_latency *lat)
{
	struct trap_key key = key_of(class, code);

	return bpf_map_lookup_elem(latency_fd, &key, lat) == 0;
}

static __u64 drops_of(__u32 reason)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 values[ncpus], sum = 0;

	if (bpf_map_lookup_elem(drops_fd, &reason, values))
		return 0;
	for (int i = 0; i < ncpus; i++)
		sum += values[i];
	return sum;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, us % 1000000 * 1000 };

	nanosleep(&ts, NULL);
}

static void test_exits(void)
{
	const __u64 io = (__u64)ISA_SVM << 32 | 0x7b, hlt = (__u64)ISA_SVM << 32 | 0x78;
	struct trap_latency lat;
	__u64 slots = 0;

	for (int i = 0; i < 7; i++) {
		drive(DRIVE_EXIT, ISA_SVM, 0x7b, 3);
		sleep_us(300);
		drive(DRIVE_ENTRY, 0, 0, 3);
	}
	drive(DRIVE_EXIT, ISA_SVM, 0x78, 3);
	drive(DRIVE_ENTRY, 0, 0, 3);
	drive(DRIVE_ENTRY, 0, 0, 3);	/* an entry with no open exit adds nothing */
	CHECK_U64(count_of(CLASS_EXIT, io), 7);
	CHECK_U64(count_of(CLASS_EXIT, hlt), 1);
	CHECK(latency_of(CLASS_EXIT, io, &lat), "io exit has a latency entry");
	CHECK_U64(lat.count, 7);
	CHECK_U64(lat.vcpu, 3);
	CHECK(lat.min_ns >= 300000, "every exit->entry spans the 300 us sleep: min %llu",
	      (unsigned long long)lat.min_ns);
	CHECK(lat.max_ns >= lat.min_ns && lat.sum_ns >= 7 * lat.min_ns, "max and sum consistent");
	for (int i = 0; i < LAT_SLOTS; i++) {
		slots += lat.slots[i];
		if (lat.slots[i])
			CHECK(i >= 18, "300 us is in slot 18 or above, got slot %d", i);
	}
	CHECK_U64(slots, 7);
	CHECK(latency_of(CLASS_EXIT, hlt, &lat) && lat.count == 1, "hlt exit latency");

	/* VMX: the basic reason and FAILED_VMENTRY stay, other flag bits go */
	drive(DRIVE_EXIT, ISA_VMX, 0x80000021, 3);
	drive(DRIVE_EXIT, ISA_VMX, 0x08000000 | 10, 3);
	drive(DRIVE_EXIT, ISA_VMX, 10, 3);
	CHECK_U64(count_of(CLASS_EXIT, (__u64)ISA_VMX << 32 | 0x80000021), 1);
	CHECK_U64(count_of(CLASS_EXIT, (__u64)ISA_VMX << 32 | 10), 2);
	/* SVM codes are whole 32-bit values: vmgexit codes have the high bit */
	drive(DRIVE_EXIT, ISA_SVM, 0x80000010, 3);
	CHECK_U64(count_of(CLASS_EXIT, (__u64)ISA_SVM << 32 | 0x80000010), 1);
	drive(DRIVE_ENTRY, 0, 0, 0);
}

/* Exit details decoded from SVM's EXITINFO1, VMX's exit qualification and
 * the guest's RCX, as each attach variant hands them over. */
static void test_exit_details(void)
{
	const __u64 svm_io = (__u64)ISA_SVM << 32 | 0x7b, svm_msr = (__u64)ISA_SVM << 32 | 0x7c;
	const __u64 vmx_io = (__u64)ISA_VMX << 32 | 30, vmx_cr = (__u64)ISA_VMX << 32 | 28;
	const __u64 vmx_rdmsr = (__u64)ISA_VMX << 32 | 31, vmx_wrmsr = (__u64)ISA_VMX << 32 | 32;
	const __u16 b = 1 << DETAIL_SIZE_SHIFT, w = 2 << DETAIL_SIZE_SHIFT, l = 4 << DETAIL_SIZE_SHIFT;
	struct trap_key key;
	struct trap_latency lat;

	/* SVM IOIO: port in 16-31, bit 0 in, 2 string, 3 rep, 4-6 size one-hot */
	for (int i = 0; i < 3; i++)
		drive_exit(ISA_SVM, 0x7b, 0x03f80010, true, 0, false);	/* outb 0x3f8 */
	drive_exit(ISA_SVM, 0x7b, 0x03f90011, true, 0, false);		/* inb 0x3f9 */
	drive_exit(ISA_SVM, 0x7b, 0x01f0002c, true, 0, false);		/* rep outsw 0x1f0 */
	drive_exit(ISA_SVM, 0x7b, 0x0cfc0041, true, 0, false);		/* inl 0xcfc */
	CHECK_U64(detail_count(svm_io, DETAIL_IO | DETAIL_WRITE | b, 0x3f8), 3);
	CHECK_U64(detail_count(svm_io, DETAIL_IO | b, 0x3f9), 1);
	CHECK_U64(detail_count(svm_io, DETAIL_IO | DETAIL_WRITE | DETAIL_STRING | DETAIL_REP | w, 0x1f0), 1);
	CHECK_U64(detail_count(svm_io, DETAIL_IO | l, 0xcfc), 1);
	CHECK_U64(count_of(CLASS_EXIT, svm_io), 7);	/* only test_exits' 7, driven without info */
	/* SVM MSR: EXITINFO1 1 is wrmsr; the index is RCX, where it can be read */
	drive_exit(ISA_SVM, 0x7c, 0, true, 0x10, true);
	drive_exit(ISA_SVM, 0x7c, 1, true, 0xc0000080, true);
	drive_exit(ISA_SVM, 0x7c, 1, true, 0, false);			/* the tracepoint's view */
	drive_exit(ISA_SVM, 0x7c, 0, true, 0, true);			/* index 0 is an index */
	CHECK_U64(detail_count(svm_msr, DETAIL_MSR, 0x10), 1);
	CHECK_U64(detail_count(svm_msr, DETAIL_MSR | DETAIL_WRITE, 0xc0000080), 1);
	CHECK_U64(detail_count(svm_msr, DETAIL_MSR | DETAIL_WRITE | DETAIL_UNKNOWN, 0), 1);
	CHECK_U64(detail_count(svm_msr, DETAIL_MSR, 0), 1);
	/* other SVM reasons have none, whatever EXITINFO1 holds */
	drive_exit(ISA_SVM, 0x78, 0x03f80010, true, 7, true);
	CHECK_U64(count_of(CLASS_EXIT, (__u64)ISA_SVM << 32 | 0x78), 2);	/* and test_exits' one */

	/* VMX IO qualification: 0-2 size - 1, 3 in, 4 string, 5 rep, 16-31 port */
	drive_exit(ISA_VMX, 30, 0x03f80000, true, 0, false);		/* outb 0x3f8 */
	drive_exit(ISA_VMX, 30, 0x0cfc000b, true, 0, false);		/* inl 0xcfc */
	drive_exit(ISA_VMX, 30, 0x00600039, true, 0, false);		/* rep insw 0x60 */
	drive_exit(ISA_VMX, 30, 0, false, 0, false);			/* qualification not cached */
	drive_exit(ISA_VMX, 0x8000001e, 0x03f80000, true, 0, false);	/* failed entry: no detail */
	CHECK_U64(detail_count(vmx_io, DETAIL_IO | DETAIL_WRITE | b, 0x3f8), 1);
	CHECK_U64(detail_count(vmx_io, DETAIL_IO | l, 0xcfc), 1);
	CHECK_U64(detail_count(vmx_io, DETAIL_IO | DETAIL_STRING | DETAIL_REP | w, 0x60), 1);
	CHECK_U64(detail_count(vmx_io, DETAIL_IO | DETAIL_UNKNOWN, 0), 1);
	CHECK_U64(count_of(CLASS_EXIT, (__u64)ISA_VMX << 32 | 0x8000001e), 1);
	/* VMX MSR: the direction is the reason */
	drive_exit(ISA_VMX, 31, 0, false, 0x1b, true);
	drive_exit(ISA_VMX, 32, 0, false, 0x6e0, true);
	drive_exit(ISA_VMX, 32, 0, false, 0, false);
	CHECK_U64(detail_count(vmx_rdmsr, DETAIL_MSR, 0x1b), 1);
	CHECK_U64(detail_count(vmx_wrmsr, DETAIL_MSR | DETAIL_WRITE, 0x6e0), 1);
	CHECK_U64(detail_count(vmx_wrmsr, DETAIL_MSR | DETAIL_WRITE | DETAIL_UNKNOWN, 0), 1);
	/* VMX CR access: 0-3 CR, 4-5 type; the GPR in 8-11 is not kept */
	drive_exit(ISA_VMX, 28, 0x0304, true, 0, false);		/* mov to cr4 from rbx */
	drive_exit(ISA_VMX, 28, 0x0013, true, 0, false);		/* mov from cr3 */
	drive_exit(ISA_VMX, 28, 0x0020, true, 0, false);		/* clts */
	drive_exit(ISA_VMX, 28, 0x0013, false, 0, false);
	CHECK_U64(detail_count(vmx_cr, DETAIL_CR, 0x04), 1);
	CHECK_U64(detail_count(vmx_cr, DETAIL_CR, 0x13), 1);
	CHECK_U64(detail_count(vmx_cr, DETAIL_CR, 0x20), 1);
	CHECK_U64(detail_count(vmx_cr, DETAIL_CR | DETAIL_UNKNOWN, 0), 1);

	/* the exit -> entry latency goes to the exit's detail */
	drive_exit(ISA_SVM, 0x7b, 0x00700010, true, 0, false);		/* outb 0x70 */
	drive(DRIVE_ENTRY, 0, 0, 3);
	key = key_of(CLASS_EXIT, svm_io);
	key.detail_flags = DETAIL_IO | DETAIL_WRITE | b;
	key.detail = 0x70;
	CHECK(bpf_map_lookup_elem(latency_fd, &key, &lat) == 0 && lat.count == 1 && lat.vcpu == 3,
	      "latency of outb 0x70 in its own entry");
	key.detail = 0x3f8;	/* each exit above was followed by another, not an entry */
	CHECK(bpf_map_lookup_elem(latency_fd, &key, &lat) != 0, "no entry closed an outb 0x3f8 exit");
}

static void test_hypercalls_and_vmm_trips(void)
{
	struct trap_latency lat;

	for (int i = 0; i < 5; i++)
		drive(DRIVE_HYPERCALL, 11, 0, 0);
	drive(DRIVE_HYPERCALL, 0x1234, 0, 0);
	CHECK_U64(count_of(CLASS_HYPERCALL, 11), 5);
	CHECK_U64(count_of(CLASS_HYPERCALL, 0x1234), 1);
	/* the same number by Hyper-V and Xen guests: keys of their own */
	for (int i = 0; i < 3; i++)
		drive(DRIVE_HYPERCALL, 11, HC_ABI_HYPERV, 0);
	for (int i = 0; i < 2; i++)
		drive(DRIVE_HYPERCALL, 11, HC_ABI_XEN, 0);
	CHECK_U64(count_of(CLASS_HYPERCALL, 11), 5);
	CHECK_U64(count_of(CLASS_HYPERCALL, (__u64)HC_ABI_HYPERV << HC_ABI_SHIFT | 11), 3);
	CHECK_U64(count_of(CLASS_HYPERCALL, (__u64)HC_ABI_XEN << HC_ABI_SHIFT | 11), 2);

	for (int i = 0; i < 4; i++) {
		drive(DRIVE_USERSPACE_EXIT, 2 /* KVM_EXIT_IO */, 0, 0);
		sleep_us(500);
		drive(DRIVE_KVM_RUN, 0, 0, 0);
	}
	drive(DRIVE_USERSPACE_EXIT, 0, (__u64)-4, 0);	/* interrupted by a signal */
	drive(DRIVE_KVM_RUN, 0, 0, 0);
	drive(DRIVE_KVM_RUN, 0, 0, 0);	/* a KVM_RUN with no trip before it */
	CHECK_U64(count_of(CLASS_USERSPACE, 2), 4);
	CHECK_U64(count_of(CLASS_USERSPACE, USERSPACE_ERRNO | 4), 1);
	CHECK(latency_of(CLASS_USERSPACE, 2, &lat), "VMM trip latency");
	CHECK_U64(lat.count, 4);
	CHECK(lat.min_ns >= 500000, "time in VMM spans the 500 us sleep: %llu",
	      (unsigned long long)lat.min_ns);
	CHECK(latency_of(CLASS_USERSPACE, USERSPACE_ERRNO | 4, &lat) && lat.count == 1,
	      "restart trip latency");
}

static __u64 bytes_le(const __u8 *b, int n)
{
	__u64 v = 0;

	for (int i = 0; i < n && i < 8; i++)
		v |= (__u64)b[i] << (8 * i);
	return v;
}

static void emulate(const __u8 *insn, int len, int mode, int failed)
{
	drive(DRIVE_EMULATE, bytes_le(insn, len), len | mode << 8 | failed << 16,
	      len > 8 ? bytes_le(insn + 8, len - 8) : 0);
}

static void test_emulate_decoding(void)
{
	static const __u8 cpuid_pfx[] = { 0x66, 0x0f, 0xa2 };
	static const __u8 rex_sse[] = { 0xf3, 0x48, 0x0f, 0x38, 0xf0, 0x00 };
	static const __u8 dec_ax[] = { 0x48 };
	static const __u8 many_pfx[] = { 0x2e, 0x3e, 0x26, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2,
					 0xf3, 0x36, 0x0f, 0x3a, 0x0f, 0xc1 };
	static const __u8 mov_mem[] = { 0x26, 0x8a, 0x05 };
	static const __u8 vmmcall[] = { 0x0f, 0x01, 0xd9 };
	static const __u8 inc_mem[] = { 0x66, 0xff, 0x06, 0x34, 0x12 };
	static const __u8 group_cut[] = { 0xff };	/* no ModRM byte fetched */

	emulate(cpuid_pfx, 3, 0, 0);
	emulate(cpuid_pfx, 3, 0, 0);
	emulate(rex_sse, 6, 9, 0);
	emulate(dec_ax, 1, 1, 0);	/* 0x48 is REX only in 64-bit mode */
	emulate(many_pfx, 15, 5, 0);	/* 11 prefixes, then a 3-byte opcode */
	emulate(mov_mem, 3, 0, 1);
	emulate(vmmcall, 3, 5, 0);
	emulate(inc_mem, 5, 0, 0);
	emulate(group_cut, 1, 0, 0);
	CHECK_U64(count_of(CLASS_EMULATE, 0x0fa2), 2);
	CHECK_U64(count_of(CLASS_EMULATE, 0x0f38f0 | 9ULL << EMUL_MODE_SHIFT), 1);
	CHECK_U64(count_of(CLASS_EMULATE, 0x48 | 1ULL << EMUL_MODE_SHIFT), 1);
	CHECK_U64(count_of(CLASS_EMULATE, 0x0f3a0f | 5ULL << EMUL_MODE_SHIFT), 1);
	CHECK_U64(count_of(CLASS_EMULATE, 0x8a | EMUL_FAILED), 1);
	CHECK_U64(count_of(CLASS_EMULATE, 0x0f01 | (EMUL_MODRM_VALID | 0xd9) << EMUL_MODRM_SHIFT |
					  5ULL << EMUL_MODE_SHIFT), 1);
	CHECK_U64(count_of(CLASS_EMULATE, 0xff | (EMUL_MODRM_VALID | 0x06) << EMUL_MODRM_SHIFT), 1);
	CHECK_U64(count_of(CLASS_EMULATE, 0xff), 1);
}

static void emulate_at(const __u8 *insn, int len, int mode, int failed, __u32 rip)
{
	__u8 buf[16] = {};

	memcpy(buf, insn, len);
	buf[len] = 0xcc;	/* the next instruction's bytes: never part of the key */
	drive(DRIVE_EMULATE, bytes_le(buf, 8), len | mode << 8 | failed << 16 | (__u64)rip << 32,
	      bytes_le(buf + 8, 7));
}

/* --insns (emul_insns set for this object): each instruction's bytes, mode
 * and address in insn_counts, failures only in failed_insns; the loader's
 * reading (insns.c) sums them per instruction over its addresses. */
static void test_insns(void)
{
	static const __u8 out[] = { 0xee }, mov[] = { 0x66, 0xbf, 0x03, 0x00, 0x00, 0x00 },
			  aaa[] = { 0x37 }, lock_add[] = { 0x64, 0x66, 0xf0, 0x48, 0x81, 0x84, 0x24, 0x11,
							   0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	struct insn_table t;
	struct insn_sum *sums;
	struct failed_insn f;
	struct insn_key key;
	size_t nr;
	char ranges[64];

	/* what test_emulate_decoding drove went in too: start from empty maps */
	for (int fd = insns_fd; ; fd = failed_fd) {
		while (!bpf_map_get_next_key(fd, NULL, &key))
			bpf_map_delete_elem(fd, &key);
		if (fd == failed_fd)
			break;
	}
	for (int i = 0; i < 5; i++)
		emulate_at(out, 1, 0, 0, 0x100f);
	emulate_at(out, 1, 0, 0, 0x2000);
	emulate_at(mov, 6, 0, 0, 0x1006);
	emulate_at(mov, 6, 0, 0, 0x1006);
	for (int i = 0; i < 3; i++) {
		emulate_at(aaa, 1, 0, 0, 0x1040);	/* decoded ... */
		emulate_at(aaa, 1, 0, 1, 0x1040 + i);	/* ... and failed */
	}
	emulate_at(lock_add, 15, 9, 0, 0xfff0);	/* the longest: 15 bytes */
	key = (struct insn_key){ .tgid = getpid(), .len = 1, .mode = 0 };
	key.bytes[0] = 0x37;
	CHECK(bpf_map_lookup_elem(failed_fd, &key, &f) == 0, "failed aaa in failed_insns (rip 0 in key)");
	CHECK_U64(f.count, 3);
	CHECK_U64(f.last_rip, 0x1042);
	CHECK(insns_init(&t) == 0, "insns_init");
	CHECK(insns_read(&t) == 0, "insns_read");
	sums = insn_sums(&t, getpid(), false, &nr);
	CHECK_U64(nr, 4);
	CHECK(nr == 4 && !strcmp(sums[0].text, "out dx, al") && sums[0].count == 6, "out dx, al: 6");
	insn_ranges_text(&sums[0], 0, ranges, sizeof(ranges));
	CHECK_STR(ranges, "0x100f 0x2000");
	CHECK(nr == 4 && !strcmp(sums[1].text, "aaa") && sums[1].count == 3,
	      "aaa counted once per instruction, not per failure");
	CHECK(nr == 4 && !strcmp(sums[2].text, "mov edi, 3") && sums[2].count == 2, "mov edi, 3: 2");
	CHECK(nr == 4 && sums[3].key.len == 15 && sums[3].key.mode == 9 &&
	      !strcmp(sums[3].text, "lock add qword ptr fs:[rsp + 0x44332211], -0x778899ab"), "15 bytes in 64-bit mode: %s",
	      nr == 4 ? sums[3].text : "");
	insn_sums_free(sums, nr);
	sums = insn_sums(&t, getpid(), true, &nr);
	CHECK(nr == 1 && sums[0].count == 3 && sums[0].last_rip == 0x1042, "one failure, 3 times");
	insn_sums_free(sums, nr);
	emulate_at(out, 1, 0, 0, 0x100f);
	CHECK(insns_read(&t) == 0, "insns_read");
	CHECK(t.nr == 6, "no new row for a counted key: %zu", t.nr);	/* 5 + the failure */
	for (size_t i = 0; i < t.nr; i++)
		if (t.rows[i].key.rip == 0x100f)
			CHECK(t.rows[i].count == 6 && t.rows[i].interval == 1, "the next read adds one");
	insns_free(&t);
}

/* failed_insns full: each failure lost is a drop, never silent. */
static void test_failed_full(void)
{
	__u64 before = drops_of(DROP_FAILED_FULL), existing = 0;
	struct insn_key k, *prev = NULL;
	__u8 bytes[2] = { 0x0f };

	while (!bpf_map_get_next_key(failed_fd, prev, &k)) {
		existing++;
		prev = &k;
	}
	for (int i = 0; i < MAX_FAILED_KEYS + 10; i++) {
		bytes[1] = i & 0xff;
		emulate_at(bytes, 2, i >> 8, 1, 0x1000);	/* 2 modes x 256 second bytes */
	}
	CHECK_U64(drops_of(DROP_FAILED_FULL) - before, MAX_FAILED_KEYS + 10 - (MAX_FAILED_KEYS - existing));
}

/* A guest that ends: its totals stay in the table, its map entries go. */
static void pin_cpu0(void);

static void test_reclaim(struct trap_table *s)
{
	size_t slots[TABLE_PROBES] = {};
	struct trap_key seen = {};
	pid_t child = fork();
	const struct guest *g;
	struct trap_key key;
	struct trap_row *row;
	int status;

	if (!child) {
		/* on one CPU, between two keys that meet it in its hot slot
		 * pair: its 9 move to the table */
		struct trap_key k77 = key_of(CLASS_HYPERCALL, HC_CODE(0ULL, 77));
		__u64 meet[2] = {}, n = 0;

		pin_cpu0();
		for (__u64 nr = 1000; nr < 1000 + (1 << 20) && n < 2; nr++) {
			struct trap_key k = key_of(CLASS_HYPERCALL, HC_CODE(0ULL, nr));

			if (hot_slot_of_key(&k) == hot_slot_of_key(&k77))
				meet[n++] = nr;
		}
		drive(DRIVE_HYPERCALL, meet[0], 0, 0);
		for (int i = 0; i < 9; i++)
			drive(DRIVE_HYPERCALL, 77, 0, 0);
		drive(DRIVE_HYPERCALL, meet[1], 0, 0);
		_exit(0);
	}
	waitpid(child, &status, 0);
	key = (struct trap_key){ .tgid = child, .tid = child, .class = CLASS_HYPERCALL, .code = 77 };
	CHECK_U64(entry_count(&key), 9);
	/* its slot, as the mapping and as the map itself have it */
	CHECK(map_table_find(&reader, &key, slots) == 1 &&
	      !bpf_map_lookup_elem(table_keys_fd, &(__u32){ slots[0] }, &seen) && !memcmp(&seen, &key, sizeof(key)),
	      "its count table slot, the same through the mapping and bpf(2)");
	CHECK(map_read(&reader, s, NULL, NULL) == 0, "read");
	map_reclaim(&reader, s, NULL, NULL);	/* notices the end */
	CHECK(map_read(&reader, s, NULL, NULL) == 0, "read");
	map_reclaim(&reader, s, NULL, NULL);	/* deletes its entries */
	key = (struct trap_key){ .tgid = child, .tid = child, .class = CLASS_HYPERCALL, .code = 77 };
	g = table_find_guest(s, child);
	CHECK(g && g->ended && g->retired, "guest marked ended, then retired");
	row = NULL;
	for (size_t r = 0; g && r < s->nr_rows; r++)
		if (&s->guests[s->rows[r].guest] == g && !memcmp(&s->rows[r].key, &key, sizeof(key)))
			row = &s->rows[r];
	CHECK(row && row->count == 9, "ended guest keeps its total: %llu", row ? (unsigned long long)row->count : 0ULL);
	CHECK(!table_row(s, &key, false), "and its pid is free for a new guest");
	{
		__u8 there;

		__u64 claim = 1;

		CHECK(bpf_map_lookup_elem(keys_fd, &key, &there) && errno == ENOENT && !in_a_table(&key),
		      "ended guest's map entry reclaimed, its table slots too");
		CHECK(!bpf_map_lookup_elem(table_keys_fd, &(__u32){ slots[0] }, &seen) && seen.tgid == TABLE_TOMBSTONE &&
		      !bpf_map_lookup_elem(table_claims_fd, &(__u32){ slots[0] }, &claim) && !claim,
		      "its slot a tombstone, free, as the programs see it: tgid %u, claim %llu", seen.tgid,
		      (unsigned long long)claim);
	}
	CHECK(map_read(&reader, s, NULL, NULL) == 0, "read");
	CHECK(row->count == 9 && row->interval == 0, "total stays after reclaim");
}

/* A guest that ends: its instructions and failures keep their totals in
 * the loader, their map entries go with the guest's other keys. */
static void test_insns_reclaim(struct trap_table *s)
{
	static const __u8 out[] = { 0xee }, aaa[] = { 0x37 };
	struct insn_table t;
	struct insn_key k;
	struct insn_sum *sums;
	size_t nr, left = 0;
	pid_t child;
	int status;

	while (!bpf_map_get_next_key(failed_fd, NULL, &k))	/* test_failed_full filled it */
		bpf_map_delete_elem(failed_fd, &k);
	child = fork();
	if (!child) {
		for (int i = 0; i < 4; i++)
			emulate_at(out, 1, 0, 0, 0x2222);
		emulate_at(aaa, 1, 0, 1, 0x3333);
		drive(DRIVE_HYPERCALL, 78, 0, 0);	/* a trap key: stats learns the guest */
		_exit(0);
	}
	waitpid(child, &status, 0);
	insns_init(&t);
	for (int round = 0; round < 2; round++) {	/* notice the end, then delete */
		CHECK(map_read(&reader, s, NULL, NULL) == 0, "read");
		CHECK(insns_read(&t) == 0, "insns_read");
		map_reclaim(&reader, s, &t, NULL);
	}
	for (int fd = insns_fd; ; fd = failed_fd) {
		struct insn_key *prev = NULL;

		while (!bpf_map_get_next_key(fd, prev, &k)) {
			left += k.tgid == (__u32)child;
			prev = &k;
		}
		if (fd == failed_fd)
			break;
	}
	CHECK_U64(left, 0);
	CHECK(insns_read(&t) == 0, "insns_read");
	sums = insn_sums(&t, child, false, &nr);
	CHECK(nr == 1 && sums[0].count == 4 && sums[0].ranges[0].lo == 0x2222, "ended guest's out dx, al kept");
	insn_sums_free(sums, nr);
	sums = insn_sums(&t, child, true, &nr);
	CHECK(nr == 1 && sums[0].count == 1 && sums[0].last_rip == 0x3333, "ended guest's failure kept");
	insn_sums_free(sums, nr);
	insns_free(&t);
}

static void test_loader_read(struct trap_table *s)
{
	struct trap_key key = key_of(CLASS_EXIT, (__u64)ISA_SVM << 32 | 0x7b);
	struct trap_row *row;

	CHECK(map_read(&reader, s, NULL, NULL) == 0, "map_read");
	row = table_row(s, &key, false);
	CHECK(row && row->count == 7 && row->lat.count == 7, "loader sees 7 io exits");
	CHECK(row && row->vcpu == 3, "vCPU learnt from the exit");
	drive(DRIVE_EXIT, ISA_SVM, 0x7b, 3);
	drive(DRIVE_ENTRY, 0, 0, 3);
	CHECK(map_read(&reader, s, NULL, NULL) == 0, "map_read");
	CHECK(row->count == 8 && row->interval == 1, "interval counts the new exit");
	CHECK(row->lat.count == 8 && row->interval_lat_count == 1, "interval latency");
	/* the quick exit above is the interval's max, not the 300 us ones before */
	CHECK(row->interval_lat_max < 300000 && row->interval_lat_max >= row->interval_lat_sum,
	      "interval max is the interval's: %llu", (unsigned long long)row->interval_lat_max);
	key = key_of(CLASS_HYPERCALL, 11);
	row = table_row(s, &key, false);
	CHECK(row && row->count == 5 && row->interval == 0, "hypercalls unchanged");
}

/* Sets the next pid (or thread id) the kernel hands out to want - 1 + 1;
 * other processes may take it first: the callers check and retry. */
static void next_pid(pid_t want)
{
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
	char buf[16];

	if (fd < 0 || write(fd, buf, snprintf(buf, sizeof(buf), "%d", want - 1)) < 0)
		fprintf(stderr, "bpf_drive: ns_last_pid: %s\n", strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* A child with pid want (0 in the child), or -1 when it never came. */
static pid_t fork_as(pid_t want)
{
	for (int i = 0; i < 50; i++) {
		pid_t p;

		next_pid(want);
		p = fork();
		if (p == 0 && getpid() != want)
			_exit(0);
		if (p <= 0 || p == want)
			return p;
		waitpid(p, NULL, 0);
	}
	return -1;
}

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *reused_tid_thread(void *arg)
{
	pid_t want = *(pid_t *)arg;

	if (gettid() != want)
		return (void *)1;
	drive(DRIVE_KVM_RUN, 0, 0, 0);	/* the dead thread's open trip is not ours */
	drive(DRIVE_USERSPACE_EXIT, 2, 0, 0);	/* our own trip */
	drive(DRIVE_KVM_RUN, 0, 0, 0);
	return NULL;
}


static bool cpu0_slot_empty(__u32 idx)
{
	struct hot_slot slots[libbpf_num_possible_cpus()];

	return !bpf_map_lookup_elem(hot_fd, &idx, slots) && !slots[0].count;
}

/* Three keys of one thread whose hashes meet (the same first slot, empty
 * on CPU 0: run first, while every slot is), one after the other as a
 * vCPU's pio and its trip to the VMM come: two of them stay in the pair,
 * none of their counts move to the hash; a third only takes the second
 * slot, the first slot's key stays. */
static void test_slot_pairs(void)
{
	cpu_set_t was;
	struct trap_key k[3];
	__u32 idx = 0;
	int found = 0;

	sched_getaffinity(0, sizeof(was), &was);
	pin_cpu0();
	for (__u64 nr = 5000; nr < 5000 + (1 << 20) && found < 3; nr++) {
		struct trap_key key = key_of(CLASS_HYPERCALL, HC_CODE(HC_ABI_KVM, nr));
		__u32 i = hot_slot_of_key(&key);

		if (!found && !cpu0_slot_empty(i))
			continue;
		if (found && i != idx)
			continue;
		idx = i;
		k[found++] = key;
	}
	CHECK(found == 3, "three hypercall numbers meet in one slot: %d", found);
	if (found == 3) {
		for (int i = 0; i < 500; i++) {
			drive(DRIVE_HYPERCALL, k[0].code, HC_ABI_KVM, 0);
			drive(DRIVE_HYPERCALL, k[1].code, HC_ABI_KVM, 0);
		}
		CHECK_U64(key_count(&k[0]), 500);
		CHECK_U64(key_count(&k[1]), 500);
		CHECK(entry_count(&k[0]) == 0 && entry_count(&k[1]) == 0,
		      "two keys that meet stay in the pair: %llu and %llu moved to the hash",
		      (unsigned long long)entry_count(&k[0]), (unsigned long long)entry_count(&k[1]));
		for (int i = 0; i < 100; i++) {
			drive(DRIVE_HYPERCALL, k[2].code, HC_ABI_KVM, 0);
			drive(DRIVE_HYPERCALL, k[1].code, HC_ABI_KVM, 0);
		}
		CHECK_U64(key_count(&k[0]), 500);
		CHECK_U64(key_count(&k[1]), 600);
		CHECK_U64(key_count(&k[2]), 100);
		CHECK(entry_count(&k[0]) == 0, "the first slot's key stays: %llu moved",
		      (unsigned long long)entry_count(&k[0]));
	}
	sched_setaffinity(0, sizeof(was), &was);
}

static size_t probe_of(const struct trap_key *key, __u32 i)
{
	return (table_home(key, reader.table_bits) + i * (i + 1) / 2) & (reader.table_slots - 1);
}

/* Occupies probe i of key in the count table with a key of no guest (tgid
 * 1: no trap of it is ever driven), claimed; tombstone: a reclaimed one,
 * free. */
static size_t occupy_probe(const struct trap_key *key, __u32 i, bool tombstone)
{
	size_t at = probe_of(key, i);

	reader.table_keys[at] = (struct trap_key){ .tgid = tombstone ? TABLE_TOMBSTONE : 1, .tid = 1,
						   .class = CLASS_HYPERCALL, .code = 0xfa4e0000 + i };
	reader.table_claims[at] = !tombstone;
	reader.table_counts[at] = !tombstone;
	return at;
}

/* count_table's probes, driven through the programs: four keys of one
 * thread meet in one hot slot pair on CPU 0 (the first empty: run early),
 * the first stays in its slot, the other three take the second in turn,
 * each moving the one before to the table.  The second key's home is
 * taken and its next probe a tombstone: it takes the tombstone; the
 * third's first three probes are taken: it goes on to the fourth; all of
 * the fourth's probes are taken: its moved events are dropped, and said. */
static void test_table_probes(void)
{
	size_t taken[TABLE_PROBES + 5], tomb, slots[TABLE_PROBES];
	__u64 before = drops_of(DROP_COUNTS_FULL);
	struct trap_key k[4];
	struct trap_table t;
	struct trap_row *row;
	int found = 0, nt = 0;
	__u32 idx = 0;
	cpu_set_t was;

	sched_getaffinity(0, sizeof(was), &was);
	pin_cpu0();
	for (__u64 nr = 9000; nr < 9000 + (1 << 22) && found < 4; nr++) {
		struct trap_key key = key_of(CLASS_HYPERCALL, HC_CODE(HC_ABI_KVM, nr));
		__u32 i = hot_slot_of_key(&key);

		if ((!found && !cpu0_slot_empty(i)) || (found && i != idx) || entry_count(&key))
			continue;
		idx = i;
		k[found++] = key;
	}
	CHECK(found == 4, "four hypercall numbers meet in one slot: %d", found);
	if (found < 4 || table_init(&t, NULL)) {
		sched_setaffinity(0, sizeof(was), &was);
		return;
	}
	taken[nt++] = occupy_probe(&k[1], 0, false);
	taken[nt++] = tomb = occupy_probe(&k[1], 1, true);
	for (__u32 i = 0; i < 3; i++)
		taken[nt++] = occupy_probe(&k[2], i, false);
	for (__u32 i = 0; i < TABLE_PROBES; i++)	/* those another key has stay */
		if (!reader.table_keys[probe_of(&k[3], i)].tgid)
			taken[nt++] = occupy_probe(&k[3], i, false);
	drive(DRIVE_HYPERCALL, k[0].code, HC_ABI_KVM, 0);
	for (int i = 0; i < 100; i++)
		for (int j = 1; j < 4; j++)
			drive(DRIVE_HYPERCALL, k[j].code, HC_ABI_KVM, 0);
	CHECK(map_table_find(&reader, &k[1], slots) == 1 && slots[0] == tomb, "the second key took the tombstone");
	CHECK(map_table_find(&reader, &k[2], slots) == 1 && slots[0] == probe_of(&k[2], 3),
	      "the third took its fourth probe");
	CHECK_U64(entry_count(&k[1]), 100);	/* each moved by the next key */
	CHECK_U64(entry_count(&k[2]), 100);
	CHECK_U64(key_count(&k[3]), 1);	/* only the one in its slot */
	CHECK_U64(drops_of(DROP_COUNTS_FULL) - before, 99);
	/* the reader: the slots' keys from the mapping; the taken ones are tgid 1's */
	CHECK(map_read(&reader, &t, NULL, NULL) == 0, "read");
	row = table_row(&t, &k[1], false);
	CHECK(row && row->count == 100, "read: the second key's 100");
	row = table_row(&t, &k[2], false);
	CHECK(row && row->count == 100, "read: the third key's 100");
	row = table_row(&t, &k[3], false);
	CHECK(row && row->count == 1, "read: the fourth key's one");
	for (int i = 0; i < nt; i++)
		if (taken[i] != tomb) {
			reader.table_keys[taken[i]].tgid = TABLE_TOMBSTONE;
			reader.table_counts[taken[i]] = 0;
			reader.table_claims[taken[i]] = 0;
		}
	table_free(&t);
	sched_setaffinity(0, sizeof(was), &was);
}

/* A thread dies in the VMM (its trip open); its id comes back as a thread
 * of another process, whose KVM_RUN must not close the dead one's trip. */
static void test_reused_tid(void)
{
	pid_t dead = fork(), other = 0;
	struct trap_latency lat;
	struct trap_key key;
	int status = 0;

	if (!dead) {
		drive(DRIVE_USERSPACE_EXIT, 2, 0, 0);
		_exit(0);
	}
	waitpid(dead, &status, 0);
	for (int i = 0; i < 50; i++) {
		other = fork();
		if (!other) {
			pthread_t th;
			void *missed = (void *)1;

			next_pid(dead);
			if (!pthread_create(&th, NULL, reused_tid_thread, &dead))
				pthread_join(th, &missed);
			_exit(missed ? 3 : 0);
		}
		waitpid(other, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			break;
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a thread got id %d again", dead);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return;
	key = (struct trap_key){ .tgid = other, .tid = dead, .class = CLASS_USERSPACE, .code = 2 };
	CHECK(bpf_map_lookup_elem(latency_fd, &key, &lat) == 0 && lat.count == 1,
	      "the reused thread id has its own trip only: %llu samples",
	      (unsigned long long)lat.count);
}

/* Reads twice with reclaims: the second deletes the ended guests' entries. */
static void read_reclaim(struct trap_table *s, int times)
{
	for (int i = 0; i < times; i++) {
		CHECK(map_read(&reader, s, NULL, NULL) == 0, "read");
		map_reclaim(&reader, s, NULL, NULL);
	}
}

static int entries_of(int fd, __u32 tgid)
{
	struct trap_key k, *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(fd, prev, &k)) {
		n += k.tgid == tgid;
		prev = &k;
	}
	return n;
}

/* A guest ends; a new process gets its pid (so the same thread id and the
 * same keys) once its entries were reclaimed: the new one is a new guest,
 * with its own count, name and no trip of the old one; on the same CPU, so
 * the key's cache slot still holds the old count. */
static void test_reused_pid(struct trap_table *s)
{
	int go[2], ready[2];
	pid_t first, second;
	struct trap_key key;
	const struct guest *g;
	struct trap_row *row;
	char c;

	if (pipe(go) || pipe(ready))
		return;
	first = fork();
	if (!first) {
		pin_cpu0();
		prctl(PR_SET_NAME, "first");
		for (int i = 0; i < 9; i++)
			drive(DRIVE_HYPERCALL, 77, 0, 0);
		drive(DRIVE_USERSPACE_EXIT, 2, 0, 0);	/* dies in the VMM */
		write(ready[1], "r", 1);
		read(go[0], &c, 1);
		_exit(0);
	}
	read(ready[0], &c, 1);
	CHECK(map_read(&reader, s, NULL, NULL) == 0, "read");	/* named */
	write(go[1], "g", 1);
	waitpid(first, NULL, 0);
	read_reclaim(s, 2);
	CHECK(map_thread_find(&reader, first) < 0,
	      "the dead guest's thread record (its open trip) is deleted");
	second = fork_as(first);
	if (!second) {
		pin_cpu0();
		prctl(PR_SET_NAME, "second");
		drive(DRIVE_KVM_RUN, 0, 0, 0);
		for (int i = 0; i < 4; i++)
			drive(DRIVE_HYPERCALL, 77, 0, 0);
		write(ready[1], "r", 1);
		read(go[0], &c, 1);
		_exit(0);
	}
	CHECK(second == first, "pid %d again (ns_last_pid)", first);
	if (second != first)
		return;
	read(ready[0], &c, 1);
	CHECK(map_read(&reader, s, NULL, NULL) == 0, "read");
	key = (struct trap_key){ .tgid = first, .tid = first, .class = CLASS_HYPERCALL, .code = 77 };
	row = table_row(s, &key, false);
	g = table_find_guest(s, first);
	CHECK(row && row->count == 4, "the new process counts its own 4: %llu",
	      row ? (unsigned long long)row->count : 0ULL);
	CHECK(g && !g->ended && !strcmp(g->name, "second"), "a live guest named second: %s",
	      g ? g->name : "none");
	key.class = CLASS_USERSPACE;
	key.code = 2;
	row = table_row(s, &key, false);
	CHECK(!row || !row->lat.count, "no trip of the old process closed by the new one");
	{
		int old = 0, old_ok = 0;

		for (size_t i = 0; i < s->nr_guests; i++)
			if (s->guests[i].pid == (__u32)first && s->guests[i].retired) {
				old++;
				old_ok += !strcmp(s->guests[i].name, "first");
			}
		key.class = CLASS_HYPERCALL;
		key.code = 77;
		for (size_t r = 0; r < s->nr_rows; r++)
			if (!memcmp(&s->rows[r].key, &key, sizeof(key)) && s->guests[s->rows[r].guest].retired)
				old_ok += s->rows[r].count == 9;
		CHECK(old == 1 && old_ok == 2, "the old guest keeps its name and its 9");
	}
	write(go[1], "g", 1);
	waitpid(second, NULL, 0);
	read_reclaim(s, 2);
	CHECK(entries_of(keys_fd, first) == 0 && entries_of(latency_fd, first) == 0,
	      "the new guest's entries are reclaimed too");
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

static void summary_of(FILE *f, void *s)
{
	report_summary(f, s, 1.0, &(struct summary_view){ .top = 5 });
}

static void csv_of(FILE *f, void *s)
{
	csv_write_histograms(f, s);
}

static void json_of(FILE *f, void *s)
{
	json_write_summary(f, s, 1.0);
}

static bool output_has(void (*fn)(FILE *, void *), struct trap_table *s, const char *want)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	bool found;

	fn(f, s);
	fclose(f);
	found = buf && strstr(buf, want);
	if (!found)
		fprintf(stderr, "no '%s' in:\n%s\n", want, buf ? buf : "");
	free(buf);
	return found;
}

/* Counts past 2^32: a key whose per-CPU counts sum above it (as after a
 * long run), driven on, read, and written by the summary, CSV and JSON. */
static void test_64bit(struct trap_table *s)
{
	int ncpus = libbpf_num_possible_cpus();
	long at;
	struct trap_latency lat = { .vcpu = VCPU_UNKNOWN, .count = 0x100000002ULL,
				    .sum_ns = 0x300000000000ULL, .min_ns = 1, .max_ns = 0x200000000ULL };
	struct trap_key key = key_of(CLASS_HYPERCALL, 0x64);
	struct trap_row *row;

	lat.slots[LAT_SLOTS - 1] = lat.count;
	CHECK(bpf_map_update_elem(keys_fd, &key, &(__u8){ 0 }, BPF_NOEXIST) == 0, "the key");
	/* the first CPU's count and the last's: 2^32 + 5 */
	at = map_table_free_slot(&reader, &key);
	if (at >= 0) {
		reader.table_keys[at] = key;
		reader.table_claims[at] = 1;
		reader.table_counts[at] = 0xffffffffULL;
		reader.table_counts[(ncpus - 1) * reader.table_slots + at] += 6;
	}
	CHECK(at >= 0, "set a count");
	CHECK(bpf_map_update_elem(latency_fd, &key, &lat, BPF_NOEXIST) == 0, "set a latency");
	for (int i = 0; i < 3; i++)
		drive(DRIVE_HYPERCALL, 0x64, 0, 0);
	CHECK_U64(count_of(CLASS_HYPERCALL, 0x64), 0x100000008ULL);
	CHECK(map_read(&reader, s, NULL, NULL) == 0, "read");
	row = table_row(s, &key, false);
	CHECK(row && row->count == 0x100000008ULL && row->interval == 0x100000008ULL,
	      "read past 2^32: %llu", row ? (unsigned long long)row->count : 0ULL);
	for (int i = 0; i < 2; i++)
		drive(DRIVE_HYPERCALL, 0x64, 0, 0);
	CHECK(map_read(&reader, s, NULL, NULL) == 0, "read");
	CHECK(row && row->count == 0x10000000aULL && row->interval == 2, "and on: %llu, %llu",
	      row ? (unsigned long long)row->count : 0ULL, row ? (unsigned long long)row->interval : 0ULL);
	CHECK(row && row->lat.count == 0x100000002ULL && row->lat.sum_ns == 0x300000000000ULL,
	      "latency count and sum past 2^32");
	CHECK(output_has(summary_of, s, "4294967306"), "summary");
	CHECK(output_has(csv_of, s, ",hypercall,0x64,hypercall 0x64,4294967306,4294967298,"
			 "52776558133248,1,8589934592,2147483648,,4294967298,"), "CSV");
	CHECK(output_has(json_of, s, "{\"code\":100,\"name\":\"hypercall 0x64\",\"count\":4294967306,"
			 "\"latency\":{\"count\":4294967298,\"sum_ns\":52776558133248,"), "JSON");
}

/* A full map counts each lost event as a drop: never silent. */
static void test_full_map(void)
{
	struct trap_key k, *prev = NULL;
	__u64 existing = 0, before = drops_of(DROP_COUNTS_FULL);
	const __u64 tries = MAX_TRAP_KEYS + 100;

	while (!bpf_map_get_next_key(keys_fd, prev, &k)) {
		existing++;
		prev = &k;
	}
	for (__u64 nr = 0; nr < tries; nr++)
		drive(DRIVE_HYPERCALL, 0x100000 + nr, 0, 0);
	CHECK_U64(drops_of(DROP_COUNTS_FULL) - before, tries - (MAX_TRAP_KEYS - existing));
	drive(DRIVE_HYPERCALL, 11, 0, 0);	/* existing keys still count */
	CHECK_U64(count_of(CLASS_HYPERCALL, 11), 6);
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	usleep(ms * 1000);
}

static __u64 thread_cpu_ns(void)
{
	struct timespec ts;

	/* reading it brings the scheduler's sum for this thread up to date */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Uses ms of CPU time, as the scheduler sums it. */
static void spin_cpu_ms(int ms)
{
	__u64 end = thread_cpu_ns() + ms * 1000000ULL;

	while (thread_cpu_ns() < end)
		;
}

static int slow_records, slow_fd, rips_fd;
static struct slow_trap slow_seen[4];

static int on_slow(void *ctx, void *data, size_t size)
{
	if (slow_records < 4)
		memcpy(&slow_seen[slow_records], data, sizeof(slow_seen[0]));
	slow_records++;
	return 0;
}

/* The time accounting's state machine, in a thread named as QEMU names a
 * vCPU: each state gets the time scripted in it (sleeps: at least that,
 * and a few ms more on a busy machine), the states sum exactly to the
 * record's span, halt polling moves to halted, a thread's end is outside,
 * and the two exits longer than --slow (15 ms) are logged, not the
 * shorter VMM trip. */
static void *time_thread(void *arg)
{
	__u64 *halt_begin = arg;

	prctl(PR_SET_NAME, "CPU 5/KVM");
	drive(DRIVE_KVM_RUN, 0, 0, 0);		/* exit (in KVM_RUN, on CPU) */
	sleep_ms(10);
	drive(DRIVE_EXIT, ISA_SVM, 0x7b, 5);
	drive(DRIVE_ENTRY, 0, 0, 5);		/* guest */
	sleep_ms(10);
	drive(DRIVE_EXIT, ISA_SVM, 0x7b, 5);	/* exit, 5 ms, then preempted 20 ms: a 25 ms exit */
	sleep_ms(5);
	drive(DRIVE_SWITCH_OUT, 1, 0, 0);
	sleep_ms(20);
	drive(DRIVE_SWITCH_IN, 0, 0, 0);
	drive(DRIVE_ENTRY, 0, 0, 5);
	/* a hlt at guest RIP 0x1234: polls 8 ms, blocks 20 ms, wakes 2 ms on */
	drive_args((__u64[DRIVE_ARGS]){ DRIVE_EXIT, ISA_SVM, 0x78, 5, 0x1234 });
	*halt_begin = mono_ns();
	sleep_ms(8);
	drive(DRIVE_SWITCH_OUT, 0, 0, 0);
	sleep_ms(20);
	drive(DRIVE_SWITCH_IN, 0, 0, 0);
	sleep_ms(2);
	drive(DRIVE_HALT_END, mono_ns() - *halt_begin, 1, 0);
	drive(DRIVE_ENTRY, 0, 0, 5);
	drive(DRIVE_USERSPACE_EXIT, 2, 0, 0);	/* vmm 10 ms */
	sleep_ms(10);
	drive(DRIVE_KVM_RUN, 0, 0, 0);
	drive(DRIVE_USERSPACE_EXIT, 2, 0, 0);	/* its last trip: 5 ms, then it ends: outside */
	sleep_ms(5);
	drive(DRIVE_SWITCH_OUT, 0, 1, 0);
	return NULL;
}

/* --rip: exits counted per guest address, in a thread of its own (a new
 * key); named with a System.map the test writes, a KASLR offset applied;
 * the guest kernel's share by the address's top bit. */
static void *rip_thread(void *arg)
{
	static const __u64 rips[] = { 0xffffffff81001010ULL, 0xffffffff81001010ULL, 0xffffffff81001010ULL,
				      0xffffffff81002004ULL, 0x401000 };

	for (size_t i = 0; i < sizeof(rips) / sizeof(rips[0]); i++)
		drive_args((__u64[DRIVE_ARGS]){ DRIVE_EXIT, ISA_SVM, 0x7c, 7, rips[i] });
	*(__u32 *)arg = gettid();
	return NULL;
}

/* A full rip map read by a reader of the smallest --max-keys on this
 * host's CPUs: the read buffers fit the rip map whatever --max-keys (they
 * were sized by it: a heap overflow, which the ASan build reports). */
static void test_rips_small_reader(void)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 per_cpu[ncpus], sum = 0;
	struct map_reader small;
	struct rip_table t;
	struct trap_table s;
	struct rip_key k = { .tgid = 0x3ffff0, .class = CLASS_EXIT, .code = 0x7c };
	__u32 made = 0;

	for (int c = 0; c < ncpus; c++)
		per_cpu[c] = c + 1;
	if (map_reader_init(&small, ncpus, 1024) || rips_init(&t) || table_init(&s, NULL) ||
	    map_reader_map_table(&small, table_keys_fd, table_claims_fd, table_counts_fd)) {
		CHECK(0, "set up");
		return;
	}
	for (__u32 i = 0; i < MAX_RIP_KEYS; i++) {
		k.rip = 0xffffffff81000000ULL + i;
		made += !bpf_map_update_elem(rips_fd, &k, per_cpu, BPF_NOEXIST);
	}
	small.latency_fd = latency_fd;
	small.rips_fd = rips_fd;
	CHECK(map_read(&small, &s, NULL, &t) == 0, "read");
	for (size_t i = 0; i < t.nr; i++)
		if (t.rows[i].key.tgid == k.tgid)
			sum += t.rows[i].count;
	CHECK(made >= MAX_RIP_KEYS - 64 && sum == (__u64)made * ncpus * (ncpus + 1) / 2,
	      "%u rip keys made, their counts read: %llu", made, (unsigned long long)sum);
	for (__u32 i = 0; i < MAX_RIP_KEYS; i++) {
		k.rip = 0xffffffff81000000ULL + i;
		bpf_map_delete_elem(rips_fd, &k);
	}
	rips_free(&t);
	table_free(&s);
	map_reader_free(&small);
}

static void test_rips(void)
{
	static const char map[] = "ffffffff80000000 T _text\nffffffff80001000 T native_write_msr\n"
				  "ffffffff80002000 t native_read_msr_safe\nffffffff80003000 D some_data\n"
				  "ffffffff80004000 T _etext\nffffffff80008000 T _sinittext\n"
				  "ffffffff80008000 t start_kernel\nffffffff80009000 T _einittext\n";
	char path[] = "/tmp/kvmprof-sysmap-XXXXXX", name[160];
	struct guest_syms syms = {};
	struct rip_table t;
	struct trap_table s;
	struct rip_sum *sums;
	size_t nr = 0;
	pthread_t th;
	__u32 tid = 0;
	bool found = false;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, map, sizeof(map) - 1) != sizeof(map) - 1 || rips_init(&t) ||
	    table_init(&s, NULL) || pthread_create(&th, NULL, rip_thread, &tid)) {
		CHECK(0, "set up");
		return;
	}
	close(fd);
	pthread_join(th, NULL);
	reader.rips_fd = rips_fd;
	CHECK(map_read(&reader, &s, NULL, &t) == 0, "read");
	reader.rips_fd = -1;
	CHECK(guest_syms_load(&syms, "drive*", path) == 0 && guest_syms_kaslr(&syms, "drive*", 0x1000000) == 0,
	      "the System.map and a KASLR offset");
	unlink(path);
	t.syms = &syms;
	CHECK(rip_sums(&t, getpid(), &sums, &nr) == 0 && nr >= 1, "sums");
	for (size_t i = 0; i < nr; i++) {
		const struct rip_sum *r = &sums[i];

		if (r->key.code != ((__u64)ISA_SVM << 32 | 0x7c) || r->nr != 3)
			continue;
		CHECK(r->total == 5 && r->kernel == 4, "5 msr exits, 4 in the guest kernel: %llu %llu",
		      (unsigned long long)r->total, (unsigned long long)r->kernel);
		CHECK(r->rows[0]->key.rip == 0xffffffff81001010ULL && r->rows[0]->count == 3, "the busiest first");
		CHECK(guest_sym_name(&syms, getpid(), "drive", r->rows[0]->key.rip, name, sizeof(name)),
		      "named");
		CHECK_STR(name, "native_write_msr+0x10");
		CHECK(guest_sym_name(&syms, getpid(), "drive", 0xffffffff81002004ULL, name, sizeof(name)), "t symbol");
		CHECK_STR(name, "native_read_msr_safe+0x4");
		CHECK(!guest_sym_name(&syms, getpid(), "drive", 0x401000, name, sizeof(name)), "a user address: none");
		CHECK(!guest_sym_name(&syms, getpid(), "drive", 0xffffffff81005000ULL, name, sizeof(name)),
		      "past _etext: none");
		CHECK(guest_sym_name(&syms, getpid(), "drive", 0xffffffff81008020ULL, name, sizeof(name)),
		      "the init text (a boot's exits)");
		CHECK_STR(name, "start_kernel+0x20");
		CHECK(!guest_sym_name(&syms, getpid(), "drive", 0xffffffff81009000ULL, name, sizeof(name)),
		      "past _einittext: none");
		CHECK(!guest_sym_name(&syms, getpid(), "other", 0xffffffff81001010ULL, name, sizeof(name)) ||
		      getpid() == 0, "another guest's file does not name it");
		found = true;
	}
	CHECK(found, "the thread's msr exits by address");
	rip_sums_free(sums, nr);
	guest_syms_free(&syms);
	rips_free(&t);
	table_free(&s);
}

/* A slot of the thread table held by another thread's record, as the
 * programs see one (claimed, tid last). */
static void hold_thread_slot(__u32 at, __u32 tid)
{
	reader.threads[at] = (struct vcpu_thread){ .tid = tid, .tgid = 0x3ffff0 };
	reader.thread_claims[at] = 1;
}

static void free_thread_slot(__u32 at)
{
	reader.threads[at] = (struct vcpu_thread){};
	reader.thread_claims[at] = 0;
}

/* The thread table's probes, in a new thread (a tid with no record): its
 * home slot taken by another thread, its record goes to its next probe and
 * is found there past a tombstone, not made again; with every probe taken,
 * the thread gets no record and the drop is counted. */
static void *thread_table_thread(void *arg)
{
	__u32 tid = gettid(), home = thread_probe(tid, 0), next = thread_probe(tid, 1);
	__u64 dropped = drops_of(DROP_STARTS_FULL);
	struct trap_latency lat;
	int *failed = arg;

	*failed = 1;
	if (reader.threads[home].tid || reader.threads[next].tid)
		return NULL;	/* another test's: not this one's layout */
	hold_thread_slot(home, 0x3ffff1);
	drive(DRIVE_USERSPACE_EXIT, 2, 0, 0);
	CHECK(map_thread_find(&reader, tid) == next, "the record at the second probe: %ld",
	      map_thread_find(&reader, tid));
	/* the other thread's record deleted as the loader does: a tombstone */
	reader.threads[home].tid = THREAD_TOMBSTONE;
	reader.thread_claims[home] = 0;
	drive(DRIVE_KVM_RUN, 0, 0, 0);
	CHECK(reader.threads[home].tid == THREAD_TOMBSTONE && map_thread_find(&reader, tid) == next,
	      "found past the tombstone, not made again");
	CHECK(latency_of(CLASS_USERSPACE, 2, &lat) && lat.count == 1, "its trip closed through it");
	free_thread_slot(home);
	free_thread_slot(next);
	drive(DRIVE_KVM_RUN, 0, 0, 0);
	CHECK(map_thread_find(&reader, tid) == home, "made again at home once freed");
	free_thread_slot(home);
	/* every probe taken: by this test where another thread's record is
	 * not, each slot put back as it was after (a tombstone stays one) */
	struct vcpu_thread was[THREAD_PROBES];
	__u64 was_claim[THREAD_PROBES];
	bool held[THREAD_PROBES] = {};

	for (__u32 i = 0; i < THREAD_PROBES; i++) {
		__u32 at = thread_probe(tid, i), t = reader.threads[at].tid;

		was[i] = reader.threads[at];
		was_claim[i] = reader.thread_claims[at];
		if ((held[i] = !t || t == THREAD_TOMBSTONE))
			hold_thread_slot(at, 0x3ffff2 + i);
	}
	drive(DRIVE_KVM_RUN, 0, 0, 0);
	CHECK(map_thread_find(&reader, tid) < 0 && drops_of(DROP_STARTS_FULL) == dropped + 1,
	      "every probe taken: no record, one drop");
	for (__u32 i = 0; i < THREAD_PROBES; i++) {
		__u32 at = thread_probe(tid, i);

		if (held[i]) {
			reader.threads[at] = was[i];
			reader.thread_claims[at] = was_claim[i];
		}
	}
	*failed = 0;
	return NULL;
}

static void test_thread_table(void)
{
	pthread_t th;
	int failed = 1;

	CHECK(pthread_create(&th, NULL, thread_table_thread, &failed) == 0, "a thread");
	pthread_join(th, NULL);
	CHECK(!failed, "the thread table's slots were free for the test");
}

/* The record of this process's thread named 'CPU vcpu/KVM'; false if none. */
static bool record_of_vcpu(int vcpu, struct vcpu_thread *rec, __u32 *tid)
{
	/* through bpf(2), not the mapping */
	for (__u32 at = 0; at < THREAD_SLOTS; at++) {
		if (bpf_map_lookup_elem(threads_fd, &at, rec) || !rec->tid || rec->tid == THREAD_TOMBSTONE)
			continue;
		*tid = rec->tid;
		if (rec->vcpu == vcpu && rec->tgid == (__u32)getpid())
			return true;
	}
	return false;
}

static void test_time_accounting(void)
{
	static const struct { int state; __u64 ms; } want[] = {
		{ TIME_GUEST, 10 }, { TIME_EXIT, 15 }, { TIME_VMM, 10 }, { TIME_HALTED, 30 },
		{ TIME_PREEMPTED, 20 }, { TIME_OUTSIDE, 5 },
	};
	struct ring_buffer *rb = ring_buffer__new(slow_fd, on_slow, NULL, NULL);
	struct vcpu_thread rec;
	__u64 halt_begin, sum = 0;
	pthread_t th;
	__u32 tid;

	if (!rb || pthread_create(&th, NULL, time_thread, &halt_begin)) {
		CHECK(0, "ring buffer and thread");
		return;
	}
	pthread_join(th, NULL);
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	/* the thread's record: the only one named CPU 5 */
	CHECK(record_of_vcpu(5, &rec, &tid) && rec.end_ns, "the record of 'CPU 5/KVM': vCPU 5 from its name, ended");
	CHECK(rec.entries == 1 && rec.state == TIME_OUTSIDE, "it entered; it is outside after its end");
	for (int i = 0; i < NR_TIME_STATES; i++)
		sum += rec.time_ns[i];
	CHECK_U64(sum, rec.end_ns - rec.first_ns);	/* every moment in exactly one state */
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		__u64 ms = rec.time_ns[want[i].state] / 1000000;

		CHECK(ms >= want[i].ms && ms < want[i].ms + 8, "%s: %llu ms, scripted %llu",
		      time_state_name(want[i].state), (unsigned long long)ms, (unsigned long long)want[i].ms);
	}
	CHECK(slow_records == 2, "two slow traps: %d", slow_records);
	CHECK(slow_seen[0].class == CLASS_EXIT && slow_seen[0].code == ((__u64)ISA_SVM << 32 | 0x7b) &&
	      slow_seen[0].vcpu == 5 && slow_seen[0].tid == tid && slow_seen[0].duration_ns >= 25000000 &&
	      slow_seen[0].duration_ns < 33000000, "the 25 ms io exit: %llu ns",
	      (unsigned long long)slow_seen[0].duration_ns);
	CHECK(slow_seen[1].code == ((__u64)ISA_SVM << 32 | 0x78) && slow_seen[1].duration_ns >= 30000000 &&
	      slow_seen[1].duration_ns < 38000000 && slow_seen[1].rip == 0x1234,
	      "the 30 ms hlt exit: %llu ns", (unsigned long long)slow_seen[1].duration_ns);
}

/* Switches in that fired no sched_switch (some do not, on a 6.18 host):
 * the thread switches out again, or has an event of its own, while its
 * record has it preempted. */
static void *unseen_switch_thread(void *arg)
{
	prctl(PR_SET_NAME, "CPU 6/KVM");
	drive(DRIVE_KVM_RUN, 0, 0, 0);
	drive(DRIVE_SWITCH_OUT, 1, 0, 0);	/* preempted 20 ms */
	sleep_ms(20);
	spin_cpu_ms(15);			/* back on the CPU, unseen: 15 ms in KVM_RUN */
	drive(DRIVE_SWITCH_OUT, 1, 0, 0);	/* preempted 10 ms */
	sleep_ms(10);
	spin_cpu_ms(5);				/* unseen again: 5 ms more */
	drive(DRIVE_USERSPACE_EXIT, 2, 0, 0);	/* its own event tells */
	drive(DRIVE_SWITCH_OUT, 0, 1, 0);	/* it ends */
	return arg;
}

/* The CPU time the scheduler summed since the last switch out is the exit
 * state it resumed; the rest of each gap, preempted.  Counted from the
 * switches alone it would be all preempted (50 ms) and no exit. */
/* Runs script, a thread named 'CPU vcpu/KVM' that ends, to its end: its
 * time record, false (and a failed check) if there is none. */
static bool ended_vcpu_record(void *(*script)(void *), int vcpu, struct vcpu_thread *rec)
{
	pthread_t th;
	__u32 tid;
	bool found;

	if (pthread_create(&th, NULL, script, NULL)) {
		CHECK(0, "thread");
		return false;
	}
	pthread_join(th, NULL);
	found = record_of_vcpu(vcpu, rec, &tid) && rec->end_ns;
	CHECK(found, "the record of 'CPU %d/KVM', ended", vcpu);
	return found;
}

static void test_unseen_switch_in(void)
{
	struct vcpu_thread rec;

	if (!ended_vcpu_record(unseen_switch_thread, 6, &rec))
		return;
	/* 20 ms of CPU; at most the spins' last clock reads and the calls around them more */
	CHECK(rec.time_ns[TIME_EXIT] >= 20000000 && rec.time_ns[TIME_EXIT] < 21500000,
	      "unseen switches in: exit %llu ns, its CPU time 20 ms", (unsigned long long)rec.time_ns[TIME_EXIT]);
	/* the sleeps, and any time a spin itself was preempted; less the CPU
	 * time usleep() spends between arming its timer and switching out,
	 * which counts as exit (CI saw 29.991 ms) */
	CHECK(rec.time_ns[TIME_PREEMPTED] >= 29500000 && rec.time_ns[TIME_PREEMPTED] < 38000000,
	      "unseen switches in: preempted %llu ns, slept 30 ms", (unsigned long long)rec.time_ns[TIME_PREEMPTED]);
}

/* A halt that blocks twice (a wakeup that finds no interrupt blocks again):
 * all of it is halted, its polling before the first block too, not only
 * the way between the two blocks. */
static void *two_block_halt_thread(void *arg)
{
	__u64 begin;

	prctl(PR_SET_NAME, "CPU 7/KVM");
	drive(DRIVE_KVM_RUN, 0, 0, 0);
	drive(DRIVE_EXIT, ISA_SVM, 0x78, 7);	/* hlt */
	begin = mono_ns();
	spin_cpu_ms(8);				/* polls 8 ms */
	drive(DRIVE_SWITCH_OUT, 0, 0, 0);	/* blocks 10 ms */
	sleep_ms(10);
	drive(DRIVE_SWITCH_IN, 0, 0, 0);
	spin_cpu_ms(3);				/* no interrupt: 3 ms on the CPU */
	drive(DRIVE_SWITCH_OUT, 0, 0, 0);	/* blocks again, 10 ms */
	sleep_ms(10);
	drive(DRIVE_SWITCH_IN, 0, 0, 0);
	spin_cpu_ms(2);
	drive(DRIVE_HALT_END, mono_ns() - begin, 1, 0);
	drive(DRIVE_ENTRY, 0, 0, 7);
	drive(DRIVE_SWITCH_OUT, 0, 1, 0);	/* it ends */
	return arg;
}

static void test_two_block_halt(void)
{
	struct vcpu_thread rec;

	if (!ended_vcpu_record(two_block_halt_thread, 7, &rec))
		return;
	/* 33 ms scripted; the spins and sleeps may run long on a busy host */
	CHECK(rec.time_ns[TIME_HALTED] >= 33000000 && rec.time_ns[TIME_HALTED] < 53000000,
	      "a halt blocking twice: halted %llu ns, scripted 33 ms", (unsigned long long)rec.time_ns[TIME_HALTED]);
	/* what runs before the halt's clock starts and after it ends */
	CHECK(rec.time_ns[TIME_EXIT] < 1000000, "a halt blocking twice: exit %llu ns, none scripted",
	      (unsigned long long)rec.time_ns[TIME_EXIT]);
}

/* An emulated hlt after a block between two halts (the VMM woke it), and
 * a halt whose switch outs are all runnable (its blocks woken before they
 * switched out): the halt's time on the CPU is halted, from the hlt on;
 * not left in exit because the first block since the last halt was not
 * this halt's. */
static void *runnable_halt_thread(void *arg)
{
	__u64 begin;

	prctl(PR_SET_NAME, "CPU 8/KVM");
	drive(DRIVE_KVM_RUN, 0, 0, 0);
	drive(DRIVE_SWITCH_OUT, 0, 0, 0);	/* blocks 5 ms between halts */
	sleep_ms(5);
	drive(DRIVE_SWITCH_IN, 0, 0, 0);
	spin_cpu_ms(2);				/* 2 ms in KVM_RUN */
	drive(DRIVE_EMULATE, 0xf4, 1, 0);	/* hlt, real mode */
	begin = mono_ns();
	spin_cpu_ms(4);				/* the halt on the CPU, 4 ms */
	drive(DRIVE_SWITCH_OUT, 1, 0, 0);	/* runnable: preempted 5 ms */
	sleep_ms(5);
	drive(DRIVE_SWITCH_IN, 0, 0, 0);
	spin_cpu_ms(4);				/* 4 ms more */
	drive(DRIVE_HALT_END, mono_ns() - begin, 1, 0);
	drive(DRIVE_SWITCH_OUT, 0, 1, 0);	/* it ends */
	return arg;
}

static void test_runnable_halt(void)
{
	struct vcpu_thread rec;

	if (!ended_vcpu_record(runnable_halt_thread, 8, &rec))
		return;
	/* 5 ms blocked + 8 ms on the CPU in the halt; the spins and sleeps may run long */
	CHECK(rec.time_ns[TIME_HALTED] >= 13000000 && rec.time_ns[TIME_HALTED] < 20000000,
	      "a halt with runnable switch outs: halted %llu ns, scripted 13 ms",
	      (unsigned long long)rec.time_ns[TIME_HALTED]);
	/* the 2 ms before the hlt, and the calls around */
	CHECK(rec.time_ns[TIME_EXIT] >= 2000000 && rec.time_ns[TIME_EXIT] < 3500000,
	      "a halt with runnable switch outs: exit %llu ns, scripted 2 ms", (unsigned long long)rec.time_ns[TIME_EXIT]);
	CHECK(rec.time_ns[TIME_PREEMPTED] >= 4500000 && rec.time_ns[TIME_PREEMPTED] < 12000000,
	      "a halt with runnable switch outs: preempted %llu ns, scripted 5 ms",
	      (unsigned long long)rec.time_ns[TIME_PREEMPTED]);
}

int main(void)
{
	struct bpf_drive_bpf *skel = bpf_drive_bpf__open();
	struct bpf_program *prog;
	struct trap_table s;

	if (!skel) {
		fprintf(stderr, "bpf_drive: cannot open the BPF object\n");
		return 1;
	}
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, prog == skel->progs.drive || prog == skel->progs.flush_hot);
	skel->rodata->emul_insns = true;	/* --insns */
	skel->rodata->slow_ns = 15000000;	/* --slow 15ms */
	skel->rodata->count_rips = true;	/* --rip */
	skel->rodata->count_table_bits = map_table_size(skel->maps.count_keys, skel->maps.count_claims,
							skel->maps.count_table, MAX_TRAP_KEYS);
	if (bpf_drive_bpf__load(skel)) {
		fprintf(stderr, "bpf_drive: cannot load the drive program\n");
		return 1;
	}
	prog_fd = bpf_program__fd(skel->progs.drive);
	keys_fd = bpf_map__fd(skel->maps.trap_keys);
	table_keys_fd = bpf_map__fd(skel->maps.count_keys);
	table_counts_fd = bpf_map__fd(skel->maps.count_table);
	table_claims_fd = bpf_map__fd(skel->maps.count_claims);
	hot_fd = bpf_map__fd(skel->maps.hot_counts);
	latency_fd = bpf_map__fd(skel->maps.trap_latency);
	drops_fd = bpf_map__fd(skel->maps.drops);
	insns_fd = bpf_map__fd(skel->maps.insn_counts);
	failed_fd = bpf_map__fd(skel->maps.failed_insns);
	threads_fd = bpf_map__fd(skel->maps.vcpu_threads);
	slow_fd = bpf_map__fd(skel->maps.slow_traps);
	rips_fd = bpf_map__fd(skel->maps.rip_counts);
	table_init(&s, &procfs_source);
	map_reader_init(&reader, libbpf_num_possible_cpus(), MAX_TRAP_KEYS);
	reader.keys_fd = keys_fd;
	if (map_reader_map_table(&reader, bpf_map__fd(skel->maps.count_keys), bpf_map__fd(skel->maps.count_claims),
				 bpf_map__fd(skel->maps.count_table))) {
		fprintf(stderr, "bpf_drive: cannot map the count table\n");
		return 1;
	}
	reader.hot_fd = hot_fd;
	reader.latency_fd = latency_fd;
	reader.drops_fd = drops_fd;
	reader.insns_fd = insns_fd;
	reader.failed_fd = failed_fd;
	if (map_reader_map_threads(&reader, threads_fd, bpf_map__fd(skel->maps.thread_claims))) {
		fprintf(stderr, "bpf_drive: cannot map the thread table\n");
		return 1;
	}
	reader.flush_fd = bpf_program__fd(skel->progs.flush_hot);

	test_slot_pairs();	/* first: every slot empty */
	test_table_probes();	/* and while most are */
	test_exits();	/* one thread: vCPU 3 throughout */
	test_exit_details();
	test_hypercalls_and_vmm_trips();
	test_emulate_decoding();
	test_insns();
	test_failed_full();
	test_loader_read(&s);
	test_reclaim(&s);
	test_insns_reclaim(&s);
	test_reused_tid();
	test_thread_table();
	test_reused_pid(&s);
	test_64bit(&s);
	test_time_accounting();
	test_unseen_switch_in();
	test_two_block_halt();
	test_runnable_halt();
	test_rips();
	test_rips_small_reader();
	test_full_map();

	table_free(&s);
	map_reader_free(&reader);
	bpf_drive_bpf__destroy(skel);
	return check_report("bpf");
}
