// SPDX-License-Identifier: GPL-2.0
/* The capstone handles, once per mode (util/disasm.h). */
#include <stdio.h>
#include <capstone/capstone.h>
#include "util/disasm.h"

bool disasm_x86(unsigned int mode, const __u8 *bytes, size_t len, __u64 addr,
		struct disasm_insn *out)
{
	static csh handles[3];
	static bool opened[3];
	static const cs_mode cs_modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
	int h = mode == 9 ? 2 : mode == 5 ? 1 : 0;	/* prot64, prot32, else 16-bit */
	cs_insn *insn;

	if (!opened[h]) {
		if (cs_open(CS_ARCH_X86, cs_modes[h], &handles[h]) != CS_ERR_OK)
			return false;
		opened[h] = true;
	}
	if (cs_disasm(handles[h], bytes, len, addr, 1, &insn) != 1)
		return false;
	snprintf(out->mnemonic, sizeof(out->mnemonic), "%s", insn->mnemonic);
	snprintf(out->op_str, sizeof(out->op_str), "%s", insn->op_str);
	out->size = insn->size;
	cs_free(insn, 1);
	return true;
}
