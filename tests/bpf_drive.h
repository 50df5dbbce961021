/* SPDX-License-Identifier: GPL-2.0 */
/* Input to the test driver program (tests/bpf_drive.bpf.c), which
 * tests/bpf_drive.c runs through BPF_PROG_TEST_RUN (raw_tp): args[0] is the
 * event, args[1..6] its values a..f. */
#ifndef BPF_DRIVE_H
#define BPF_DRIVE_H

enum drive_event {
	DRIVE_EXIT = 1,		/* a = isa, b = reason, c = vcpu, d = rip */
	DRIVE_ENTRY,		/* c = vcpu */
	DRIVE_HYPERCALL,	/* a = nr, b = HC_ABI_* */
	DRIVE_USERSPACE_EXIT,	/* a = reason, b = errno */
	DRIVE_KVM_RUN,		/* the vCPU thread enters KVM_RUN */
	DRIVE_EMULATE,		/* a = insn bytes 0..7, b = len | mode << 8 | failed << 16
				 * | rip << 32 (the linear address, 32 bits), c = bytes 8..14 */
	DRIVE_EXIT_INFO,	/* as DRIVE_EXIT, with d = info1 (SVM EXITINFO1 or VMX exit
				 * qualification), e = guest RCX, f = DRIVE_INFO1_OK | DRIVE_RCX_OK */
	DRIVE_SWITCH_OUT,	/* the thread leaves the CPU: a = runnable, b = dead */
	DRIVE_SWITCH_IN,	/* and comes back */
	DRIVE_HALT_END,		/* kvm_vcpu_wakeup: a = ns, b = waited */
};
#define DRIVE_ARGS 7		/* the driver reads args[0..6]: pass them all */
#define DRIVE_INFO1_OK 1
#define DRIVE_RCX_OK 2

#endif /* BPF_DRIVE_H */
