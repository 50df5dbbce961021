/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PROBES_H
#define PROBES_H

#include <stdbool.h>
#include <stdio.h>
#include "cli/options.h"

struct bpf_object;
struct bpf_program;
struct bpf_link;

enum attach_method { METHOD_NONE, METHOD_TRACEPOINT, METHOD_BTF, METHOD_FENTRY, METHOD_KPROBE };

/* Every architecture's events; each architecture's table (probes.c) names
 * its own, the others are skipped.  On arm64 EV_KVM_HYPERCALL is
 * kvm_hvc_arm64; EV_KVM_WFX, EV_KVM_SYSREG and EV_KVM_GUEST_FAULT are arm64's,
 * EV_KVM_HV_HYPERCALL and EV_KVM_XEN_HYPERCALL x86's (also hypercalls). */
enum probe_event {
	EV_KVM_EXIT, EV_KVM_ENTRY, EV_KVM_HYPERCALL, EV_KVM_EMULATE_INSN, EV_KVM_PIO,
	EV_KVM_MMIO, EV_KVM_USERSPACE_EXIT, EV_SYS_ENTER_IOCTL, EV_KVM_MSR, EV_KVM_CPUID,
	EV_KVM_WFX, EV_KVM_SYSREG, EV_KVM_GUEST_FAULT, EV_KVM_HV_HYPERCALL, EV_KVM_XEN_HYPERCALL,
	/* beyond traps (-e) */
	EV_KVM_INJ_VIRQ, EV_KVM_INJ_EXCEPTION, EV_KVM_SET_IRQ, EV_KVM_MSI_SET_IRQ, EV_KVM_IOAPIC_SET_IRQ,
	EV_KVM_PIC_SET_IRQ, EV_VGIC_UPDATE_IRQ_PENDING, EV_KVM_TIMER_UPDATE_IRQ, EV_KVM_IRQ_LINE,
	EV_KVM_APIC_IPI, EV_KVM_APIC_ACCEPT_IRQ, EV_KVM_PAGE_FAULT, EV_KVM_VCPU_WAKEUP,
	EV_KVM_HALT_POLL_NS, EV_KVM_NESTED_VMEXIT, EV_KVM_NESTED_VMEXIT_INJECT, EV_KVM_NESTED_VMENTER,
	EV_KVM_NESTED_VMRUN,
	/* the vCPU time accounting's */
	EV_SCHED_SWITCH,
	NR_EVENTS,
};

enum probe_arch { PROBE_ARCH_X86, PROBE_ARCH_ARM64, NR_PROBE_ARCHES };

/* A handler function an event's fentry/kprobe variant attaches to. */
struct function_probe {
	const char *function;	/* as kallsyms and BTF name it */
	const char *module;	/* where it lives in Debian's kernels; NULL: vmlinux */
	const char *program;	/* programs fentry_ (fexit_), kprobe_ (+ kretprobe_) PROGRAM */
	const char *reads;	/* a struct the program reads through CO-RE; NULL none */
};

struct probe_plan {
	enum attach_method method[NR_EVENTS];
	const struct function_probe *function[NR_EVENTS];	/* METHOD_FENTRY, METHOD_KPROBE */
	bool direct[NR_EVENTS];		/* the tp_btf variant with plain loads (_direct) */
	/* METHOD_TRACEPOINT whose record type (struct trace_event_raw_NAME) is
	 * in no kernel BTF: record_btf.c builds it from tracefs's format file */
	bool record_from_tracefs[NR_EVENTS];
	char note[NR_EVENTS][256];	/* why this method, or why none */
};

/* What this kernel offers each event, and the choice for mode; timed: the
 * vCPU time accounting's events too (sched_switch, kvm_vcpu_wakeup).
 * Returns 0, or -1 after printing one line when mode cannot be had here. */
int plan_probes(enum attach_mode mode, bool timed, struct probe_plan *plan);
/* Is the time accounting on, and which of its states can it tell apart? */
bool plan_timed(const struct probe_plan *plan);
bool plan_splits_guest(const struct probe_plan *plan);	/* kvm_exit and kvm_entry */
bool plan_times_polling(const struct probe_plan *plan);	/* kvm_vcpu_wakeup */

/* Enables exactly the planned programs of obj and sets their attach
 * targets (between open and load).  -1 after one line if the object lacks
 * a planned program. */
int apply_plan(struct bpf_object *obj, const struct probe_plan *plan);

/* Attaches the planned programs of the loaded obj; each link is stored in
 * *link_slot(ctx, prog) (the skeleton's slot, freed with it).  -1 after
 * one line naming the program the kernel refused. */
int attach_plan(struct bpf_object *obj, const struct probe_plan *plan, enum attach_mode mode,
		struct bpf_link **(*link_slot)(void *ctx, const struct bpf_program *prog), void *ctx);

/* The planned event a program serves, as "kvm:kvm_mmio (tracepoint)", for
 * messages; NULL if prog is none of the plan's. */
const char *plan_program_event(const struct probe_plan *plan, const char *prog_name,
			       char *buf, size_t size);

/* The classes with a counting event attached, a bit each. */
unsigned long plan_classes(const struct probe_plan *plan);
/* How the class's counting event is attached (METHOD_NONE: not here). */
enum attach_method plan_class_method(const struct probe_plan *plan, unsigned int class);

/* The event's name ("kvm_mmio") in this build's table, NULL if none. */
const char *probe_event_name(enum probe_event ev);

/* Calls fn for every program a plan of arch can enable: for the unit test
 * that checks each against the BPF object of that architecture. */
void probe_each_program(enum probe_arch arch,
			void (*fn)(void *ctx, const char *event, const char *method, const char *program),
			void *ctx);

void print_plan(FILE *out, const struct probe_plan *plan);
/* One line: "exit=tracepoint emulate=tp_btf ..." */
void print_plan_line(FILE *out, const struct probe_plan *plan);
const char *method_name(enum attach_method m);

/* The tracefs events folder, mounting tracefs first if needed; NULL after
 * printing one line when there is none. */
const char *tracefs_events(void);

#endif
