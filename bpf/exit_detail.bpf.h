/* SPDX-License-Identifier: GPL-2.0 */
/* x86 exit detail: the IO port, MSR index or CR access of an exit, decoded
 * from SVM's EXITINFO1 or VMX's exit qualification and the guest's RCX. */
#ifndef EXIT_DETAIL_BPF_H
#define EXIT_DETAIL_BPF_H

#include <asm/svm.h>	/* SVM_EXIT_*, uapi: macros only */
#include <asm/vmx.h>	/* EXIT_REASON_* */
#include "kvmprof.h"

/* SVM IOIO EXITINFO1 (AMD APM vol. 2, "IOIO Intercept"; Linux
 * arch/x86/include/asm/svm.h SVM_IOIO_*): bit 0 in, 2 string, 3 rep, 4-6 size
 * one-hot in bytes (1, 2, 4), 16-31 port.  SVM MSR EXITINFO1: 1 wrmsr. */
#define SVM_IOIO_IN 0x1
#define SVM_IOIO_STR 0x4
#define SVM_IOIO_REP 0x8
#define SVM_IOIO_SIZE_SHIFT 4
/* VMX IO exit qualification (Intel SDM vol. 3C, "Exit Qualification for I/O
 * Instructions"; Linux handle_io()): bits 0-2 size - 1, 3 in, 4 string, 5 rep,
 * 16-31 port.  CR access: bits 0-3 CR number, 4-5 access type. */
#define VMX_IO_IN 0x8
#define VMX_IO_STR 0x10
#define VMX_IO_REP 0x20
#define VMX_CR_ACCESS_MASK 0x3f

/* Does the exit begin a halt (hlt intercepted)? */
static __always_inline bool halt_exit(__u32 isa, __u32 reason)
{
	return isa == ISA_SVM ? reason == SVM_EXIT_HLT : isa == ISA_VMX && reason == EXIT_REASON_HLT;
}

/* The DETAIL_* kind of an exit reason (exit_code_reason()'s), 0 if none:
 * the only test every exit pays for. */
static __always_inline __u16 exit_detail_kind(__u32 isa, __u32 reason)
{
	if (isa == ISA_SVM)
		return reason == SVM_EXIT_IOIO ? DETAIL_IO : reason == SVM_EXIT_MSR ? DETAIL_MSR : 0;
	if (isa != ISA_VMX)
		return 0;
	switch (reason) {
	case EXIT_REASON_IO_INSTRUCTION: return DETAIL_IO;
	case EXIT_REASON_MSR_READ: case EXIT_REASON_MSR_WRITE: return DETAIL_MSR;
	case EXIT_REASON_CR_ACCESS: return DETAIL_CR;
	}
	return 0;
}

/* Decodes an exit of kind *flags (exit_detail_kind()) from info1, SVM's
 * EXITINFO1 or VMX's exit qualification, and the guest's RCX; each only if
 * its _ok says the attach variant could read it, else DETAIL_UNKNOWN. */
static __always_inline void decode_exit_detail(__u32 isa, __u32 reason, __u32 *detail, __u16 *flags,
					       __u64 info1, bool info1_ok, __u64 rcx, bool rcx_ok)
{
	__u16 f = *flags;

	*detail = 0;
	if (f == DETAIL_MSR) {
		/* the direction is in the VMX reason, in SVM's EXITINFO1 */
		if (isa == ISA_VMX ? reason == EXIT_REASON_MSR_WRITE : info1_ok && (info1 & 1))
			f |= DETAIL_WRITE;
		if (rcx_ok)
			*detail = (__u32)rcx;
		else
			f |= DETAIL_UNKNOWN;
	} else if (!info1_ok) {
		f |= DETAIL_UNKNOWN;
	} else if (f == DETAIL_CR) {
		*detail = info1 & VMX_CR_ACCESS_MASK;
	} else if (isa == ISA_SVM) {	/* DETAIL_IO */
		*detail = (info1 >> 16) & 0xffff;
		f |= (info1 & SVM_IOIO_IN ? 0 : DETAIL_WRITE) | (info1 & SVM_IOIO_STR ? DETAIL_STRING : 0) |
		     (info1 & SVM_IOIO_REP ? DETAIL_REP : 0) |
		     (((info1 >> SVM_IOIO_SIZE_SHIFT) & 7) << DETAIL_SIZE_SHIFT);
	} else {
		*detail = (info1 >> 16) & 0xffff;
		f |= (info1 & VMX_IO_IN ? 0 : DETAIL_WRITE) | (info1 & VMX_IO_STR ? DETAIL_STRING : 0) |
		     (info1 & VMX_IO_REP ? DETAIL_REP : 0) | (((info1 & 7) + 1) << DETAIL_SIZE_SHIFT);
	}
	*flags = f;
}

#endif /* EXIT_DETAIL_BPF_H */
