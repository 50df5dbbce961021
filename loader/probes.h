/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PROBES_H
#define PROBES_H

#include <stdbool.h>
#include <stdio.h>
#include "options.h"

struct bpf_object;

enum attach_method { METHOD_NONE, METHOD_TRACEPOINT, METHOD_BTF, METHOD_FENTRY, METHOD_KPROBE };

/* Every architecture's events; the build's own have a tracepoint in
 * probes.c, the others none and are skipped.  On arm64 EV_KVM_HYPERCALL is
 * kvm_hvc_arm64; EV_KVM_WFX, EV_KVM_SYSREG and EV_KVM_GUEST_FAULT are arm64's,
 * EV_KVM_HV_HYPERCALL and EV_KVM_XEN_HYPERCALL x86's (also hypercalls). */
enum probe_event {
	EV_KVM_EXIT, EV_KVM_ENTRY, EV_KVM_HYPERCALL, EV_KVM_EMULATE_INSN, EV_KVM_PIO,
	EV_KVM_MMIO, EV_KVM_USERSPACE_EXIT, EV_SYS_ENTER_IOCTL, EV_KVM_MSR, EV_KVM_CPUID,
	EV_KVM_WFX, EV_KVM_SYSREG, EV_KVM_GUEST_FAULT, EV_KVM_HV_HYPERCALL, EV_KVM_XEN_HYPERCALL,
	NR_EVENTS,
};

struct probe_plan {
	enum attach_method method[NR_EVENTS];
	const char *function[NR_EVENTS];	/* the handler a kprobe/fentry attaches to */
	const char *variant[NR_EVENTS];		/* suffix of a cheaper program variant */
	char note[NR_EVENTS][160];	/* why this method, or why none */
};

/* What this kernel offers each event, and the choice for mode.  Returns 0,
 * or -1 after printing one line when mode cannot be had here at all. */
int plan_probes(enum attach_mode mode, struct probe_plan *plan);

/* Enables exactly the planned programs of obj (between open and load). */
void apply_plan(struct bpf_object *obj, const struct probe_plan *plan);

void print_plan(FILE *out, const struct probe_plan *plan);
/* One line: "exit=tracepoint emulate=tp_btf ..." */
void print_plan_line(FILE *out, const struct probe_plan *plan);
const char *method_name(enum attach_method m);

/* The tracefs events folder, mounting tracefs first if needed; NULL after
 * printing one line when there is none. */
const char *tracefs_events(void);

#endif
