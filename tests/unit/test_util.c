// SPDX-License-Identifier: GPL-2.0
/* util/: the shared hash index, vector growth and the disassembler cache. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "model/names.h"
#include "util/disasm.h"
#include "util/index.h"
#include "util/vec.h"

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

void unit_util(void)
{
	test_index();
	test_vec_grow();
	test_disasm();
}
