/* SPDX-License-Identifier: GPL-2.0 */
/* The emulate class's code from an instruction's bytes (x86 decoding: legacy
 * and REX prefixes, escapes, ModRM of group opcodes), and the instruction in
 * full into insn_counts (--insns) and failed_insns. */
#ifndef EMULATE_BPF_H
#define EMULATE_BPF_H

#include "aggregate.bpf.h"

#define HLT_OPCODE 0xf4	/* an emulated hlt begins a halt: on_hlt_emulated() */

static __always_inline bool is_legacy_prefix(__u8 b)
{
	switch (b) {
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
		return true;
	}
	return false;
}

/* Opcodes whose instruction the ModRM reg field picks (Intel SDM Vol. 2,
 * table A-6): 0x80-0x83, 0x8f, 0xc0/0xc1, 0xc6/0xc7, 0xd0-0xd3, 0xf6/0xf7,
 * 0xfe/0xff; 0x0f 00/01/18/71/72/73/ae/b9/ba/c7. */
static __always_inline bool is_group_opcode(__u64 op)
{
	if (op <= 0xff)
		return (op >= 0x80 && op <= 0x83) || op == 0x8f || op == 0xc0 || op == 0xc1 ||
		       op == 0xc6 || op == 0xc7 || (op >= 0xd0 && op <= 0xd3) || op == 0xf6 ||
		       op == 0xf7 || op == 0xfe || op == 0xff;
	switch (op) {
	case 0x0f00: case 0x0f01: case 0x0f18: case 0x0f71: case 0x0f72: case 0x0f73:
	case 0x0fae: case 0x0fb9: case 0x0fba: case 0x0fc7:
		return true;
	}
	return false;
}

#define MODE_PROT64 9
#define INSN_MAX 15

/* Opcode bytes of an instruction: prefixes skipped, then one byte, or the
 * 0x0f escape and one more, or 0x0f 0x38/0x3a and one more. */
static __always_inline __u64 emulate_code_used(const __u8 *insn, __u8 len, __u8 mode, bool failed,
						int *used)
{
	__u64 op = 0;
	int i = 0, state = 0;	/* 0 in prefixes, 1 after 0x0f, 2 after 0x0f 0x38/3a */

	if (len > INSN_MAX)
		len = INSN_MAX;
	for (; i < INSN_MAX && i < len; i++) {
		__u8 b = insn[i];

		if (state == 0 && (is_legacy_prefix(b) || (mode == MODE_PROT64 && (b & 0xf0) == 0x40)))
			continue;
		op = op << 8 | b;
		if (state == 0 && b == 0x0f)
			state = 1;
		else if (state == 1 && (b == 0x38 || b == 0x3a))
			state = 2;
		else
			break;
	}
	/* group opcodes name their instruction in the ModRM byte's reg field */
	if (is_group_opcode(op) && i + 1 < len && i + 1 < INSN_MAX) {
		op |= (EMUL_MODRM_VALID | insn[i + 1]) << EMUL_MODRM_SHIFT;
		i++;
	}
	*used = i + 1;
	return op | (__u64)mode << EMUL_MODE_SHIFT | (failed ? EMUL_FAILED : 0);
}

static __always_inline __u64 emulate_code(const __u8 *insn, __u8 len, __u8 mode, bool failed)
{
	int used;

	return emulate_code_used(insn, len, mode, failed, &used);
}

/* The instruction in full: with --insns into insn_counts (events with the
 * failed flag clear: the emulator reports each instruction once so, and
 * once more if it fails), and failures into failed_insns. */
static __always_inline void record_insn(const __u8 *insn, __u8 len, __u8 mode, bool failed, __u64 rip)
{
	static const struct failed_insn no_fail;
	static const struct insn_count no_count;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct insn_key key = { .tgid = tgid, .mode = mode, .rip = failed ? 0 : rip };
	struct insn_count *c;
	struct failed_insn *f;

	if (!guest_chosen(tgid))
		return;
	key.len = len > INSN_MAX ? INSN_MAX : len;
	/* the fetch buffer holds the next instruction's bytes past len */
	_Pragma("unroll")
	for (int i = 0; i < INSN_MAX; i++)
		key.bytes[i] = i < key.len ? insn[i] : 0;
	if (failed) {
		f = lookup_or_try_init(&failed_insns, &key, &no_fail);
		if (!f) {
			count_drop(DROP_FAILED_FULL);
			return;
		}
		__sync_fetch_and_add(&f->count, 1);
		f->last_rip = rip;
		return;
	}
	c = lookup_or_try_init(&insn_counts, &key, &no_count);
	if (!c) {
		count_drop(DROP_INSNS_FULL);
		return;
	}
	c->count++;
}

/* Copy the instruction bytes to the stack: the loop above indexes them by a
 * variable, which tracepoint records and BTF pointers do not allow.
 * BYTE(i) reads byte i where the attach variant has it. */
#define COPY_INSN(dst, BYTE) do {					\
	_Pragma("unroll")						\
	for (int _i = 0; _i < INSN_MAX; _i++)				\
		(dst)[_i] = BYTE(_i);					\
} while (0)

#endif /* EMULATE_BPF_H */
