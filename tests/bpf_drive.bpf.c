// SPDX-License-Identifier: GPL-2.0
/* The test driver, in an object of its own (bpf_drive.bpf.o, skeleton
 * bpf_drive_bpf), never in kvmprof's: linked with bpf/kvmprof.bpf.c, so it
 * feeds the same maps, through the same aggregation and decoding functions
 * the tracepoint programs call, what tests/bpf_drive.c passes it through
 * BPF_PROG_TEST_RUN (bpf_drive.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "aggregate.bpf.h"
#include "emulate.bpf.h"
#if defined(__TARGET_ARCH_x86)
#include "exit_detail.bpf.h"
#define DRIVE_HALT_EXIT(isa, reason) halt_exit(isa, reason)
#else
#define DRIVE_HALT_EXIT(isa, reason) false
#endif
#include "bpf_drive.h"

SEC("raw_tp")
int drive(__u64 *args)
{
	__u64 a = args[1], b = args[2], c = args[3];

	switch (args[0]) {
	case DRIVE_EXIT: on_exit(a, exit_code_reason(a, b), c, 0, 0, args[4], DRIVE_HALT_EXIT(a, exit_code_reason(a, b))); break;
#if defined(__TARGET_ARCH_x86)
	case DRIVE_EXIT_INFO: {
		__u32 reason = exit_code_reason(a, b), detail = 0;
		__u16 flags = exit_detail_kind(a, reason);

		if (flags)
			decode_exit_detail(a, reason, &detail, &flags, args[4], args[6] & DRIVE_INFO1_OK,
					   args[5], args[6] & DRIVE_RCX_OK);
		on_exit(a, reason, c, detail, flags, RIP_UNKNOWN, halt_exit(a, reason));
		break;
	}
#endif
	case DRIVE_ENTRY: on_entry(); break;
	case DRIVE_HYPERCALL: count_trap(CLASS_HYPERCALL, HC_CODE(b, a)); break;
	case DRIVE_USERSPACE_EXIT: on_userspace_exit(a, (int)b); break;
	case DRIVE_KVM_RUN: on_kvm_run(); break;
	/* the driver's own thread switched out (a: runnable, b: dead) and in */
	case DRIVE_SWITCH_OUT: {
		__u64 id = bpf_get_current_pid_tgid();

		on_switch(NULL, (__u32)id, id >> 32, a, b, 0);
		break;
	}
	case DRIVE_SWITCH_IN: on_switch(NULL, 0, 0, false, false, (__u32)bpf_get_current_pid_tgid()); break;
	case DRIVE_HALT_END: on_halt_end(a, b); break;
	case DRIVE_EMULATE: {
		__u8 insn[INSN_MAX];
#define DRIVE_INSN_BYTE(i) ((i) < 8 ? (__u8)(a >> (8 * (i))) : (__u8)(c >> (8 * ((i) - 8))))
		COPY_INSN(insn, DRIVE_INSN_BYTE);
		count_trap(CLASS_EMULATE, emulate_code(insn, b & 0xff, (b >> 8) & 0xff, (b >> 16) & 1));
		if (insn[0] == HLT_OPCODE && !((b >> 16) & 1))
			on_hlt_emulated();
		if (emul_insns || (b >> 16) & 1)
			record_insn(insn, b & 0xff, (b >> 8) & 0xff, (b >> 16) & 1, b >> 32);
		break;
	}
	}
	return 0;
}
