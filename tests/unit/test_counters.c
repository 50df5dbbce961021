// SPDX-License-Identifier: GPL-2.0
/* KVM's counters and the self-check: the window's bounds, a pair that
 * holds, a busy window, an ended guest, and a wrong pair, which must be
 * reported, never hidden. */
#include <string.h>
#include <linux/kvm.h>
#include "unit.h"
#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>
#include "collect/iter_read.h"
#include "model/classes.h"
#include "model/counters.h"
#include "present/lines.h"

static __u64 no_start(const struct vcpu_stats *r)
{
	return 0;
}

static struct vcpu_stats rec(__u32 pid, __u32 vcpu, __u64 exits, __u64 mmio)
{
	struct vcpu_stats r = { .tgid = pid, .tid = pid + 1 + vcpu, .vcpu_id = vcpu, .vm = 0xffff0000,
				.present = 1ULL << KSTAT_EXITS | 1ULL << KSTAT_MMIO_EXITS };

	r.value[KSTAT_EXITS] = exits;
	r.value[KSTAT_MMIO_EXITS] = mmio;
	return r;
}

static const struct check_result *find(const struct check_result *r, size_t n, enum kvm_stat stat)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].pair->stat == stat)
			return &r[i];
	return NULL;
}

static void test_check(void)
{
	struct kvm_counters c = { .readable = true };
	struct trap_table s;
	struct check_result out[64];
	const struct check_result *exits, *io;
	struct trap_key ek = { .tgid = 100, .tid = 101, .class = CLASS_EXIT, .code = (__u64)ISA_SVM << 32 | 0x7b };
	struct trap_key uk = { .tgid = 100, .tid = 101, .class = CLASS_USERSPACE, .code = KVM_EXIT_MMIO };
	struct vcpu_stats r[2];
	char text[256];
	size_t n;

	classes_choose(0);
	classes_attached(~0UL);
	table_init(&s, NULL);
	/* before attaching: vCPU 0 of guest 100 at 1000 exits; after: 1010 */
	r[0] = rec(100, 0, 1000, 50);
	CHECK(!counters_take(&c, r, 1, COUNTERS_BEFORE_ATTACH, no_start), "before attach");
	r[0] = rec(100, 0, 1010, 50);
	CHECK(!counters_take(&c, r, 1, COUNTERS_AFTER_ATTACH, no_start), "after attach");
	/* the final read: 1510 before the detach, 1515 after; vCPU 1 made in the window */
	r[0] = rec(100, 0, 1510, 80);
	r[1] = rec(100, 1, 200, 7);
	CHECK(!counters_take(&c, r, 2, COUNTERS_PRE, no_start), "pre");
	r[0] = rec(100, 0, 1515, 80);
	CHECK(!counters_take(&c, r, 2, COUNTERS_POST, no_start), "post");
	/* kvmprof saw 700 exits (500..515 of vCPU 0's + 200 of vCPU 1's) */
	table_row(&s, &ek, true)->count = 700;
	table_row(&s, &uk, true)->count = 37;
	n = counters_check(&c, &s, table_guest(&s, 100), out);
	exits = find(out, n, KSTAT_EXITS);
	io = find(out, n, KSTAT_MMIO_EXITS);
	CHECK(exits && exits->kvm_low == 500 + 200 && exits->kvm_high == 515 + 200, "the window: %llu..%llu",
	      exits ? (unsigned long long)exits->kvm_low : 0, exits ? (unsigned long long)exits->kvm_high : 0);
	CHECK(exits && exits->verdict == CHECK_WITHIN, "700 in 700..715: within");
	CHECK(io && io->kvm_low == 37 && io->kvm_high == 37 && io->verdict == CHECK_EQUAL, "mmio_exits 37 = 37");
	check_text(io, text, sizeof(text));
	CHECK_STR(text, "mmio_exits 37 = KVM 37");
	/* a wrong pair: kvmprof's count off by one is a difference, said */
	table_row(&s, &uk, false)->count = 38;
	n = counters_check(&c, &s, table_guest(&s, 100), out);
	io = find(out, n, KSTAT_MMIO_EXITS);
	CHECK(io && io->verdict == CHECK_DIFFERS && io->why, "38 against 37 differs, with a cause");
	check_text(io, text, sizeof(text));
	CHECK(strstr(text, "mmio_exits 38 != KVM 37 (+1:") == text, "said: %s", text);
	/* the guest ended: vCPUs gone at the last read, only a lower bound */
	CHECK(!counters_take(&c, r, 0, COUNTERS_PRE, no_start) && !counters_take(&c, r, 0, COUNTERS_POST, no_start),
	      "a read without them");
	n = counters_check(&c, &s, table_guest(&s, 100), out);
	exits = find(out, n, KSTAT_EXITS);
	CHECK(exits && exits->kvm_high == ~0ULL && exits->verdict == CHECK_WITHIN, "ended: at least");
	table_row(&s, &ek, false)->count = 600;	/* below what KVM had counted already */
	n = counters_check(&c, &s, table_guest(&s, 100), out);
	exits = find(out, n, KSTAT_EXITS);
	CHECK(exits && exits->verdict == CHECK_DIFFERS, "600 below KVM's 700 at its last read differs");
	/* not traced (-e): no check for its pairs */
	classes_choose(1UL << CLASS_EXIT);
	n = counters_check(&c, &s, table_guest(&s, 100), out);
	CHECK(!find(out, n, KSTAT_MMIO_EXITS) && find(out, n, KSTAT_EXITS), "userspace not chosen: no mmio_exits check");
	classes_choose(0);
	CHECK_STR(kvm_stat_name(KSTAT_HALT_WAIT_NS), "halt_wait_ns");
	table_free(&s);
	counters_free(&c);
}

struct taken {
	__u32 tgid[8];
	int n;
};

static int take(const void *rec, void *ctx)
{
	struct taken *t = ctx;
	struct vcpu_stats r;

	memcpy(&r, rec, sizeof(r));
	if (t->n == 8)
		return -E2BIG;
	t->tgid[t->n++] = r.tgid;
	return 0;
}

/* The iterator's seq file may end a read(2) inside a record (64 KB pages):
 * records come whole all the same, and output cut short is an error. */
static void test_records_cut(void)
{
	struct vcpu_stats recs[3] = { rec(11, 0, 1, 0), rec(12, 0, 2, 0), rec(13, 0, 3, 0) };
	struct taken t = {};
	const char *p = (const char *)recs;
	size_t cuts[] = { 100, sizeof(recs[0]), sizeof(recs) - 100 - sizeof(recs[0]) };
	int fds[2];

	/* written in three pieces; a packet socket's read(2) takes one each */
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) == 0, "socketpair");
	for (int i = 0; i < 3; i++) {
		CHECK(write(fds[1], p, cuts[i]) == (ssize_t)cuts[i], "write a piece");
		p += cuts[i];
	}
	close(fds[1]);
	CHECK(records_read(fds[0], sizeof(recs[0]), take, &t) == 0, "records read");
	close(fds[0]);
	CHECK(t.n == 3 && t.tgid[0] == 11 && t.tgid[1] == 12 && t.tgid[2] == 13, "three whole records, in order");

	t.n = 0;
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) == 0, "socketpair");
	CHECK(write(fds[1], recs, sizeof(recs) - 8) == (ssize_t)(sizeof(recs) - 8), "write");
	close(fds[1]);
	CHECK(records_read(fds[0], sizeof(recs[0]), take, &t) == -EIO, "output ending inside a record: -EIO");
	close(fds[0]);
	CHECK(t.n == 2, "the whole records before it taken");
}

void unit_counters(void)
{
	test_check();
	test_records_cut();
}
