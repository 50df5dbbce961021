/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DISASM_H
#define DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* x86 instructions as capstone reads them, with one capstone handle per
 * mode (16, 32 and 64-bit), opened on first use and kept. */
struct disasm_insn {
	char mnemonic[32];	/* "mov" */
	char op_str[160];	/* "byte ptr [0x1000], al" */
	size_t size;		/* bytes it took */
};

/* The first instruction of bytes[0..len) at address addr (relative
 * branches show their target), decoded in KVM's emulator mode mode
 * (X86EMUL_MODE_*: 9 prot64, 5 prot32, anything else 16-bit).  False when
 * capstone cannot open the mode or read the bytes as an instruction. */
bool disasm_x86(unsigned int mode, const __u8 *bytes, size_t len, __u64 addr,
		struct disasm_insn *out);

#endif
