// SPDX-License-Identifier: GPL-2.0
/* --insns: instructions in full, their sums and ranges, the instructions CSV. */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "model/insns.h"
#include "model/table.h"
#include "present/csv_out.h"

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

void unit_insns(void)
{
	test_insn_text();
	test_insn_sums();
}
