/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NAMES_H
#define NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "model/classes.h"

/* Names from the kernel's own uapi tables; NULL when the code is unknown. */
const char *vmx_exit_name(__u32 reason);
const char *svm_exit_name(__u32 reason);
const char *kvm_exit_reason_name(__u32 reason);	/* KVM_EXIT_* */
const char *hypercall_name(__u64 nr);		/* KVM_HC_* */
const char *hv_call_name(__u64 code);		/* x86: Hyper-V HVCALL_* */
const char *xen_hypercall_name(__u64 nr);	/* x86: Xen __HYPERVISOR_* */
/* arm64: ESR_ELx_EC_* class names ("HVC64"), PSCI/SMCCC function ids in w0
 * ("PSCI_0_2_FN_CPU_ON"), system registers by sys_reg() encoding. */
const char *esr_ec_name(__u32 ec);
const char *hvc_function_name(__u32 function_id);
const char *sysreg_name(__u32 encoding);
/* An arm64 CLASS_HYPERCALL code: "hvc #0 PSCI_0_2_FN_PSCI_VERSION". */
void hvc_code_name(__u64 code, char *buf, size_t size);

/* Is a CLASS_EXIT code a halt (SVM hlt, VMX HLT, arm64 WFx)?  Its exit ->
 * entry time is the vCPU's halted time, not KVM's work. */
bool exit_is_halt(__u64 code);

/* The kvm_emulate_insn mode flags as the tracepoint prints them: "real",
 * "vm86", "prot16", "prot32", "prot64" ("mode?" for others). */
const char *emulate_mode_name(unsigned int mode);

/* A trap code as people read it, e.g. "SVM io", "out 0x3f8",
 * "KVM_EXIT_MMIO", "0f a2 real".  Unknown codes come out as numbers. */
void code_name(unsigned int class, __u64 code, char *buf, size_t size);

/* The code of a class beyond traps (irq, ipi, pagefault, halt, nested),
 * model/event_names.c; false for the trap classes. */
bool event_code_name(unsigned int class, __u64 code, char *buf, size_t size);

/* An exit's detail (trap_key detail_flags, detail): "outb 0x3f8",
 * "rep insw 0x1f0", "rdmsr 0x10", "wrmsr (index unknown)", "mov to cr4",
 * "clts"; "" when flags is 0. */
void exit_detail_name(__u16 flags, __u32 detail, char *buf, size_t size);

/* A key's code name, its exit detail and its device, as one line shows
 * them: "SVM io outb 0x3f8 (serial COM1)", "out 0x3f8 (serial COM1)". */
void trap_name(__u16 class, __u64 code, __u16 flags, __u32 detail, char *buf, size_t size);
/* The same for a column width chars wide: without the device when the
 * whole does not fit. */
void trap_name_fit(__u16 class, __u64 code, __u16 flags, __u32 detail, char *buf, size_t size,
		   size_t width);

/* A drop reason (enum drop_reason) as /metrics and the JSON name it:
 * "counts_full", ..., "slow_log_full". */
const char *drop_reason_name(unsigned int reason);

/* What filled up for drop reason, and what to run instead, one line without
 * a full stop: max_keys and max_guest_keys are the run's --max-keys and
 * --max-guest-keys. */
void drop_reason_advice(unsigned int reason, long max_keys, long max_guest_keys, char *buf, size_t size);

#endif
