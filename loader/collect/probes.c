// SPDX-License-Identifier: GPL-2.0
/* Choosing, per event, how to attach: classic tracepoint, BTF tracepoint,
 * fentry/fexit or kprobe, from what the running kernel offers: each variant
 * is chosen only when every type it reads is in the kernel's BTF. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "collect/probes.h"
#include "model/classes.h"

#define MAX_FUNCTIONS 3
#ifndef ENOTSUPP
#define ENOTSUPP 524	/* the kernel's, e.g. arm64 without BPF trampolines */
#endif

struct event_desc {
	const char *system, *name;
	enum trap_class class;		/* the class it counts */
	bool latency_only;		/* it only closes the class's latency intervals */
	const char *feeds;		/* for --list-probes */
	bool has_btf;			/* a tp_btf variant exists */
	bool by_name;			/* a kvm record read by field name (no tp_btf variant) */
	const char *btf_reads[2];	/* the tp_btf variant reads one of these */
	bool direct;			/* and a _direct one, for KVM built in */
	/* fentry/kprobe variants: the first this kernel can run is used */
	struct function_probe functions[MAX_FUNCTIONS];
	bool fexit;			/* the data exists only after the function */
	bool kretprobe;			/* the kprobe variant has a return half */
	bool timed;			/* the time accounting attaches it, class chosen or not */
};

/* Each architecture's events (traps_ARCH.bpf.c has their programs); an
 * event without a name is another architecture's.  Programs are named by
 * method: tp_NAME, btf_NAME (_direct), fentry_/fexit_/kprobe_PROGRAM. */
#define EVENT(sys, ev, cls, what) .system = sys, .name = ev, .class = cls, .feeds = what
#define KVM_EVENT(ev, cls, what) EVENT("kvm", ev, cls, what), .has_btf = true
/* a kvm event whose record the program reads by name: no tp_btf variant */
#define CLASSIC(ev, cls, what) EVENT("kvm", ev, cls, what), .by_name = true
/* every context switch on the host: halted and preempted vCPU time (the
 * program leaves other tasks after one bitmap test) */
#define SCHED_SWITCH EVENT("sched", "sched_switch", CLASS_USERSPACE, "vCPU time (halted, preempted)"), \
	.has_btf = true, .latency_only = true, .timed = true
static const struct event_desc arch_events[NR_PROBE_ARCHES][NR_EVENTS] = {
	[PROBE_ARCH_X86] = {
		[EV_KVM_EXIT] = { KVM_EVENT("kvm_exit", CLASS_EXIT, "exit"), .btf_reads = { "vcpu_svm", "vcpu_vmx" },
			.functions = {
				{ "svm_handle_exit", "kvm_amd", "svm_exit", "vcpu_svm" },
				{ "vmx_handle_exit", "kvm_intel", "vmx_exit", "vcpu_vmx" },
				/* Linux 5.10's, static in svm.c; svm_handle_exit from 5.11 */
				{ "handle_exit", "kvm_amd", "svm_exit", "vcpu_svm" } } },
		[EV_KVM_ENTRY] = { KVM_EVENT("kvm_entry", CLASS_EXIT, "exit latency"), .latency_only = true },
		[EV_KVM_HYPERCALL] = { KVM_EVENT("kvm_hypercall", CLASS_HYPERCALL, "hypercall") },
		[EV_KVM_EMULATE_INSN] = { KVM_EVENT("kvm_emulate_insn", CLASS_EMULATE, "emulate"),
			.btf_reads = { "x86_emulate_ctxt" }, .direct = true,
			/* the decoder: the tracepoint fires right after it */
			.functions = { { "x86_decode_insn", "kvm", "emulate", "x86_emulate_ctxt" } },
			.fexit = true, .kretprobe = true },
		[EV_KVM_PIO] = { KVM_EVENT("kvm_pio", CLASS_PIO, "pio") },
		[EV_KVM_MMIO] = { KVM_EVENT("kvm_mmio", CLASS_MMIO, "mmio") },
		[EV_KVM_USERSPACE_EXIT] = { KVM_EVENT("kvm_userspace_exit", CLASS_USERSPACE, "userspace") },
		/* only ioctls: the BTF variant (raw sys_enter) would run on every syscall */
		[EV_SYS_ENTER_IOCTL] = { EVENT("syscalls", "sys_enter_ioctl", CLASS_USERSPACE, "userspace latency (KVM_RUN)"),
				   .latency_only = true },
		[EV_KVM_MSR] = { KVM_EVENT("kvm_msr", CLASS_MSR, "msr") },
		[EV_KVM_CPUID] = { KVM_EVENT("kvm_cpuid", CLASS_CPUID, "cpuid") },
		/* fire only for guests KVM treats as Hyper-V (CONFIG_KVM_HYPERV, 6.8+)
		 * or Xen (CONFIG_KVM_XEN) ones; a kernel without them skips them */
		[EV_KVM_HV_HYPERCALL] = { KVM_EVENT("kvm_hv_hypercall", CLASS_HYPERCALL, "hypercall (Hyper-V)") },
		[EV_KVM_XEN_HYPERCALL] = { KVM_EVENT("kvm_xen_hypercall", CLASS_HYPERCALL, "hypercall (Xen)") },
		/* beyond traps, chosen with -e: classic tracepoints only, whose
		 * records the programs read by field name (they differ across
		 * kernels; no tp_btf variant) */
		[EV_KVM_INJ_VIRQ] = { CLASSIC("kvm_inj_virq", CLASS_IRQ, "irq (injected)") },
		[EV_KVM_INJ_EXCEPTION] = { CLASSIC("kvm_inj_exception", CLASS_IRQ, "irq (exceptions)") },
		[EV_KVM_SET_IRQ] = { CLASSIC("kvm_set_irq", CLASS_IRQ, "irq (lines)") },
		[EV_KVM_MSI_SET_IRQ] = { CLASSIC("kvm_msi_set_irq", CLASS_IRQ, "irq (MSIs)") },
		[EV_KVM_IOAPIC_SET_IRQ] = { CLASSIC("kvm_ioapic_set_irq", CLASS_IRQ, "irq (IOAPIC)") },
		[EV_KVM_PIC_SET_IRQ] = { CLASSIC("kvm_pic_set_irq", CLASS_IRQ, "irq (PIC)") },
		[EV_KVM_APIC_IPI] = { CLASSIC("kvm_apic_ipi", CLASS_IPI, "ipi (sent)") },
		[EV_KVM_APIC_ACCEPT_IRQ] = { CLASSIC("kvm_apic_accept_irq", CLASS_IPI, "ipi (accepted)") },
		[EV_KVM_PAGE_FAULT] = { CLASSIC("kvm_page_fault", CLASS_PAGEFAULT, "pagefault") },
		[EV_KVM_VCPU_WAKEUP] = { CLASSIC("kvm_vcpu_wakeup", CLASS_HALT, "halt (wakeups)"),
			.timed = true },
		[EV_KVM_HALT_POLL_NS] = { CLASSIC("kvm_halt_poll_ns", CLASS_HALT, "halt (poll changes)") },
		[EV_KVM_NESTED_VMEXIT] = { CLASSIC("kvm_nested_vmexit", CLASS_NESTED, "nested (L2 exits)") },
		[EV_KVM_NESTED_VMEXIT_INJECT] = { CLASSIC("kvm_nested_vmexit_inject", CLASS_NESTED,
							  "nested (to L1)") },
		[EV_KVM_NESTED_VMENTER] = { CLASSIC("kvm_nested_vmenter", CLASS_NESTED, "nested (entries)") },
		/* Linux 5.10's, before kvm_nested_vmenter */
		[EV_KVM_NESTED_VMRUN] = { CLASSIC("kvm_nested_vmrun", CLASS_NESTED, "nested (entries, 5.10)") },
		[EV_SCHED_SWITCH] = { SCHED_SWITCH },
	},
	[PROBE_ARCH_ARM64] = {
		/* handle_exit() runs once per exit; handle_hvc() is static, reached
		 * through arm_exit_handlers[ESR_ELx_EC_HVC64] (arch/arm64/kvm/handle_exit.c) */
		[EV_KVM_EXIT] = { KVM_EVENT("kvm_exit", CLASS_EXIT, "exit"),
			.functions = { { "handle_exit", NULL, "exit", "kvm_vcpu" } } },
		[EV_KVM_ENTRY] = { KVM_EVENT("kvm_entry", CLASS_EXIT, "exit latency"), .latency_only = true },
		[EV_KVM_HYPERCALL] = { KVM_EVENT("kvm_hvc_arm64", CLASS_HYPERCALL, "hypercall (hvc)"),
			.functions = { { "handle_hvc", NULL, "hvc", "kvm_vcpu" } } },
		[EV_KVM_MMIO] = { KVM_EVENT("kvm_mmio", CLASS_MMIO, "mmio") },
		[EV_KVM_USERSPACE_EXIT] = { KVM_EVENT("kvm_userspace_exit", CLASS_USERSPACE, "userspace") },
		[EV_SYS_ENTER_IOCTL] = { EVENT("syscalls", "sys_enter_ioctl", CLASS_USERSPACE, "userspace latency (KVM_RUN)"),
				   .latency_only = true },
		[EV_KVM_WFX] = { KVM_EVENT("kvm_wfx_arm64", CLASS_WFX, "wfx") },
		[EV_KVM_SYSREG] = { KVM_EVENT("kvm_handle_sys_reg", CLASS_SYSREG, "sysreg") },
		[EV_KVM_GUEST_FAULT] = { KVM_EVENT("kvm_guest_fault", CLASS_FAULT, "fault") },
		[EV_KVM_SET_IRQ] = { CLASSIC("kvm_set_irq", CLASS_IRQ, "irq (lines)") },
		[EV_VGIC_UPDATE_IRQ_PENDING] = { CLASSIC("vgic_update_irq_pending", CLASS_IRQ, "irq (vgic)") },
		[EV_KVM_TIMER_UPDATE_IRQ] = { CLASSIC("kvm_timer_update_irq", CLASS_IRQ, "irq (timer)") },
		[EV_KVM_IRQ_LINE] = { CLASSIC("kvm_irq_line", CLASS_IRQ, "irq (KVM_IRQ_LINE)") },
		[EV_KVM_VCPU_WAKEUP] = { CLASSIC("kvm_vcpu_wakeup", CLASS_HALT, "halt (wakeups)"),
			.timed = true },
		[EV_KVM_HALT_POLL_NS] = { CLASSIC("kvm_halt_poll_ns", CLASS_HALT, "halt (poll changes)") },
		[EV_SCHED_SWITCH] = { SCHED_SWITCH },
	},
};

#if defined(__aarch64__)
#define HOST_ARCH PROBE_ARCH_ARM64
#else
#define HOST_ARCH PROBE_ARCH_X86
#endif
static const struct event_desc *const events = arch_events[HOST_ARCH];

static const char *const method_names[] = {
	[METHOD_NONE] = "none", [METHOD_TRACEPOINT] = "tracepoint", [METHOD_BTF] = "tp_btf",
	[METHOD_FENTRY] = "fentry", [METHOD_KPROBE] = "kprobe",
};

const char *method_name(enum attach_method m)
{
	return method_names[m];
}

unsigned long plan_classes(const struct probe_plan *plan)
{
	unsigned long mask = 0;

	for (int ev = 0; ev < NR_EVENTS; ev++)
		if (events[ev].name && !events[ev].latency_only && plan->method[ev] != METHOD_NONE &&
		    class_traced_here(events[ev].class))	/* not one attached for the time alone */
			mask |= 1UL << events[ev].class;
	return mask;
}

enum attach_method plan_class_method(const struct probe_plan *plan, unsigned int class)
{
	for (int ev = 0; ev < NR_EVENTS && class_traced_here(class); ev++)
		if (events[ev].name && !events[ev].latency_only && events[ev].class == class)
			return plan->method[ev];
	return METHOD_NONE;
}

const char *probe_event_name(enum probe_event ev)
{
	return events[ev].name;
}

static const char *events_dir;

const char *tracefs_events(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing/events",
					    "/sys/kernel/debug/tracing/events" };
	struct stat st;

	if (events_dir)
		return events_dir;
	for (int i = 0; i < 2; i++)
		if (!stat(dirs[i], &st))
			return events_dir = dirs[i];
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) && errno != EBUSY) {
		fprintf(stderr, "kvmprof: tracefs is not mounted and cannot be mounted on "
			"/sys/kernel/tracing: %s\n", strerror(errno));
		return NULL;
	}
	if (!stat(dirs[0], &st))
		return events_dir = dirs[0];
	fprintf(stderr, "kvmprof: tracefs mounted but has no events folder (kernel without tracepoints?)\n");
	return NULL;
}

static bool tracepoint_exists(const struct event_desc *e)
{
	char path[256];
	struct stat st;

	if (!events_dir)
		return false;
	snprintf(path, sizeof(path), "%s/%s/%s/id", events_dir, e->system, e->name);
	return !stat(path, &st);
}

/* Kernel BTF: vmlinux plus the KVM modules, where they are modules. */
static const char *const kvm_modules[] = { "kvm", "kvm_amd", "kvm_intel" };
static struct btf *kernel_btf[4];

static void load_kernel_btf(void)
{
	static bool loaded;

	if (loaded)
		return;
	loaded = true;
	kernel_btf[0] = btf__load_vmlinux_btf();
	if (!kernel_btf[0])
		return;
	for (int i = 0; i < 3; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/sys/kernel/btf/%s", kvm_modules[i]);
		if (!access(path, R_OK))
			kernel_btf[i + 1] = btf__load_module_btf(kvm_modules[i], kernel_btf[0]);
	}
}

static bool btf_has(const char *name, __u32 kind)
{
	load_kernel_btf();
	for (int i = 0; i < 4; i++)
		if (kernel_btf[i] && btf__find_by_name_kind(kernel_btf[i], name, kind) > 0)
			return true;
	return false;
}

static bool btf_in_vmlinux(const char *name, __u32 kind)
{
	load_kernel_btf();
	return kernel_btf[0] && btf__find_by_name_kind(kernel_btf[0], name, kind) > 0;
}

/* KVM is a loaded module without module BTF (Linux before 5.11, or built
 * without CONFIG_DEBUG_INFO_BTF_MODULES): its types are in no BTF. */
static bool kvm_module_without_btf(void)
{
	return !access("/sys/module/kvm/initstate", R_OK) && access("/sys/kernel/btf/kvm", R_OK);
}

#define NO_MODULE_BTF "KVM is a module and this kernel has no module BTF (Linux 5.11+ has it)"

/* Why struct name cannot be read here, in why; false when it can. */
static bool type_missing(const char *name, char *why, size_t size)
{
	if (btf_has(name, BTF_KIND_STRUCT))
		return false;
	snprintf(why, size, "struct %s is in no kernel BTF%s%s", name,
		 kvm_module_without_btf() ? ": " : "", kvm_module_without_btf() ? NO_MODULE_BTF : "");
	return true;
}

static bool kprobes_supported(void)
{
	return !access("/sys/bus/event_source/devices/kprobe/type", R_OK);
}

/* Can a kprobe go on func?  As libbpf-tools' kprobe_exists: tracefs's
 * available_filter_functions first (a symbol may be in kallsyms and still
 * not be probeable), kallsyms where tracefs does not list functions. */
static bool kprobe_target_exists(const char *func)
{
	char path[256], line[512], name[256];
	bool found = false;
	FILE *f = NULL;

	if (events_dir) {
		snprintf(path, sizeof(path), "%.*s/available_filter_functions",
			 (int)(strrchr(events_dir, '/') - events_dir), events_dir);
		f = fopen(path, "r");
	}
	if (f) {
		while (!found && fgets(line, sizeof(line), f))
			found = sscanf(line, "%255s", name) == 1 && !strcmp(name, func);
		fclose(f);
		return found;
	}
	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %*s %255s", name) == 1 && !strcmp(name, func);
	fclose(f);
	return found;
}

/* Does an fentry program attach to func here?  A two-instruction program
 * tried for real: arm64 before Linux 6.4 loads it but has no trampoline
 * to attach it with (ENOTSUPP).  Functions in modules are taken on trust:
 * x86 has trampolines since 5.5. */
static bool fentry_attaches(const char *func, char *why, size_t size)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int id, fd, link;

	load_kernel_btf();
	id = kernel_btf[0] ? btf__find_by_name_kind(kernel_btf[0], func, BTF_KIND_FUNC) : -1;
	if (id <= 0)
		return true;
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY,
		    .attach_btf_id = id);
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "kvmprof_probe", "GPL", insns, 2, &opts);
	link = fd < 0 ? fd : bpf_raw_tracepoint_open(NULL, fd);
	if (link >= 0) {
		close(link);
		close(fd);
		return true;
	}
	snprintf(why, size, "this kernel cannot attach fentry programs (%s%s)",
		 -link == ENOTSUPP ? "no BPF trampoline" : strerror(-link),
		 HOST_ARCH == PROBE_ARCH_ARM64 && -link == ENOTSUPP ? ": arm64 has them from Linux 6.4" : "");
	if (fd >= 0)
		close(fd);
	return false;
}

/* Appends one part to an event's note, "; " between parts. */
static void note_add(struct probe_plan *plan, int ev, const char *fmt, ...)
{
	char *note = plan->note[ev];
	size_t used = strlen(note), size = sizeof(plan->note[ev]);
	va_list ap;

	if (used && used + 2 < size) {
		strcpy(note + used, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(note + used, size - used, fmt, ap);
	va_end(ap);
}

/* "handle_exit [kvm_amd]": the module named where it is one here */
static const char *function_label(const struct function_probe *f, char *buf, size_t size)
{
	char path[96];
	bool module = false;

	if (f->module) {
		snprintf(path, sizeof(path), "/sys/module/%s/initstate", f->module);
		module = !access(path, R_OK);
	}
	snprintf(buf, size, "%s%s%s%s", f->function, module ? " [" : "", module ? f->module : "",
		 module ? "]" : "");
	return buf;
}

/* The first function variant of ev that mode can run here; the reasons
 * against the others go into the note. */
static const struct function_probe *plan_function(struct probe_plan *plan, int ev, bool kprobe,
						  bool *refused)
{
	const struct event_desc *e = &events[ev];
	char why[200], label[96];
	int absent = 0, n = 0;

	for (int f = 0; f < MAX_FUNCTIONS && e->functions[f].function; f++, n++) {
		const struct function_probe *fp = &e->functions[f];

		if (!(kprobe ? kprobe_target_exists(fp->function) : btf_has(fp->function, BTF_KIND_FUNC))) {
			absent++;
			continue;
		}
		function_label(fp, label, sizeof(label));
		if (fp->reads && type_missing(fp->reads, why, sizeof(why))) {
			note_add(plan, ev, "%s: %s", label, why);
			continue;
		}
		if (!kprobe && !fentry_attaches(fp->function, why, sizeof(why))) {
			note_add(plan, ev, "%s: %s", label, why);
			*refused = true;
			continue;
		}
		return fp;
	}
	if (absent == n) {
		char names[200] = "";

		for (int f = 0; f < n; f++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 f ? (f == n - 1 ? " or " : ", ") : "", e->functions[f].function);
		note_add(plan, ev, "no %s in this kernel%s", names,
			 kprobe ? "" : kvm_module_without_btf() ? " with BTF (" NO_MODULE_BTF ")" : "'s BTF");
	}
	return NULL;
}

/* Can the tp_btf variant of ev run here?  Else why. */
static bool btf_usable(int ev, char *why, size_t size)
{
	const struct event_desc *e = &events[ev];
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", e->name);
	if (!btf_has(name, BTF_KIND_TYPEDEF)) {
		snprintf(why, size, "no BTF for tracepoint %s%s%s", e->name,
			 kvm_module_without_btf() ? ": " : "", kvm_module_without_btf() ? NO_MODULE_BTF : "");
		return false;
	}
	if (!e->btf_reads[0])
		return true;
	for (int i = 0; i < 2 && e->btf_reads[i]; i++)
		if (btf_has(e->btf_reads[i], BTF_KIND_STRUCT))
			return true;
	snprintf(why, size, "struct %s%s%s is in no kernel BTF", e->btf_reads[0],
		 e->btf_reads[1] ? " or " : "", e->btf_reads[1] ? e->btf_reads[1] : "");
	return false;
}

/* The classic tracepoint: its record type from BTF where some kernel BTF
 * has it, else from tracefs (record_btf.c). */
static void plan_tracepoint(struct probe_plan *plan, int ev)
{
	char name[128];

	plan->method[ev] = METHOD_TRACEPOINT;
	if (!events[ev].has_btf && !events[ev].by_name)	/* a syscall's record: fixed ABI */
		return;
	snprintf(name, sizeof(name), "trace_event_raw_%s", events[ev].name);
	/* the test hook: as on a kernel without module BTF (docs/tests.md),
	 * where KVM's records are in no BTF; vmlinux's (sched) always are */
	if (btf_has(name, BTF_KIND_STRUCT) && (!getenv("KVMPROF_RECORDS_FROM_TRACEFS") ||
					       strcmp(events[ev].system, "kvm")))
		return;
	plan->record_from_tracefs[ev] = true;
	note_add(plan, ev, "record layout from tracefs (struct %s is in no BTF)", name);
}

bool plan_timed(const struct probe_plan *plan)
{
	return plan->method[EV_SCHED_SWITCH] != METHOD_NONE && plan->method[EV_SYS_ENTER_IOCTL] != METHOD_NONE;
}

bool plan_splits_guest(const struct probe_plan *plan)
{
	return plan->method[EV_KVM_EXIT] != METHOD_NONE && plan->method[EV_KVM_ENTRY] != METHOD_NONE;
}

bool plan_times_polling(const struct probe_plan *plan)
{
	return plan->method[EV_KVM_VCPU_WAKEUP] != METHOD_NONE;
}

/* The kernel's BTF, which every choice of plan_probes() reads; false after
 * one line. */
static bool kernel_btf_read(void)
{
	struct rlimit as;

	load_kernel_btf();
	if (kernel_btf[0])
		return true;
	if (!getrlimit(RLIMIT_AS, &as) && as.rlim_cur != RLIM_INFINITY)
		fprintf(stderr, "kvmprof: cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): "
			"too little memory under ulimit -v %llu KiB?\n", (unsigned long long)as.rlim_cur >> 10);
	else
		fprintf(stderr, "kvmprof: cannot read the kernel's BTF (/sys/kernel/btf/vmlinux)\n");
	return false;
}

/* Is event ev of this architecture to be attached (its class chosen, or
 * the time accounting's)?  Not: its note says why, and it costs nothing. */
static bool event_chosen(struct probe_plan *plan, int ev, bool timed)
{
	const struct event_desc *e = &events[ev];

	if (e->timed && e->class == CLASS_USERSPACE && !timed) {
		note_add(plan, ev, "%s", class_traced_here(e->class) ? "--no-time" :
			 "userspace not chosen (-e): no time accounting");
		return false;
	}
	if (!class_traced_here(e->class) && !(e->timed && timed)) {
		note_add(plan, ev, "%s not chosen (-e)", class_name(e->class));
		return false;
	}
	if (!class_traced_here(e->class))	/* attached for the time alone */
		note_add(plan, ev, "%s not chosen (-e): attached for the vCPU time accounting",
			 class_name(e->class));
	return true;
}

int plan_probes(enum attach_mode mode, bool timed, struct probe_plan *plan)
{
	bool want_btf = mode != ATTACH_TRACEPOINT, function_mode = mode == ATTACH_KPROBE || mode == ATTACH_FENTRY;
	bool refused = false;
	int btf_used = 0, function_used = 0, with_functions = 0;
	char btf_why[200] = "", function_why[256] = "";

	memset(plan, 0, sizeof(*plan));
	if (mode == ATTACH_KPROBE && !kprobes_supported()) {
		fprintf(stderr, "kvmprof: --attach kprobe: this kernel has no kprobes "
			"(CONFIG_KPROBES off); try --attach auto\n");
		return -1;
	}
	tracefs_events();
	if (!kernel_btf_read())
		return -1;
	for (int ev = 0; ev < NR_EVENTS; ev++) {
		const struct event_desc *e = &events[ev];
		char why[200];

		if (!e->name || !event_chosen(plan, ev, timed))
			continue;
		if (function_mode && e->functions[0].function) {
			with_functions++;
			plan->function[ev] = plan_function(plan, ev, mode == ATTACH_KPROBE, &refused);
			if (!plan->function[ev] && (!*function_why || refused))
				snprintf(function_why, sizeof(function_why), "%s", plan->note[ev]);
			if (plan->function[ev]) {
				plan->method[ev] = mode == ATTACH_KPROBE ? METHOD_KPROBE : METHOD_FENTRY;
				function_used++;
				continue;
			}
		}
		if (!tracepoint_exists(e)) {
			plan->method[ev] = METHOD_NONE;
			note_add(plan, ev, "%s:%s is not in this kernel: %s not traced", e->system, e->name,
				 e->feeds);
			continue;
		}
		if (e->has_btf && want_btf && btf_usable(ev, why, sizeof(why))) {
			plan->method[ev] = METHOD_BTF;
			btf_used += !strcmp(e->system, "kvm");
			/* the verifier follows vcpu->arch.emulate_ctxt only where the
			 * struct is defined in vmlinux's BTF (KVM built in) */
			if (e->direct && btf_in_vmlinux(e->btf_reads[0], BTF_KIND_STRUCT)) {
				plan->direct[ev] = true;
				note_add(plan, ev, "reads the emulator with plain loads");
			}
			continue;
		}
		if (e->has_btf && want_btf) {
			note_add(plan, ev, "%s", why);
			if (!*btf_why)
				snprintf(btf_why, sizeof(btf_why), "%s", why);
		}
		plan_tracepoint(plan, ev);
	}
	if (mode == ATTACH_BTF && !btf_used) {
		fprintf(stderr, "kvmprof: --attach btf: no KVM tracepoint can be traced through BTF here "
			"(%s); use --attach auto or tracepoint\n", *btf_why ? btf_why : "no KVM tracepoints");
		return -1;
	}
	/* fentry without a handler to trace is refused; kprobe falls back per
	 * event (a kernel without module BTF: the tracepoints, each with why) */
	if (mode == ATTACH_FENTRY && with_functions && !function_used) {
		fprintf(stderr, "kvmprof: --attach %s: no KVM handler can be traced with %s here (%s); "
			"use --attach auto%s\n", attach_mode_name(mode), attach_mode_name(mode),
			function_why, refused ? " or kprobe" : "");
		return -1;
	}
	return 0;
}

/* The programs of ev under its planned method: at most two (kprobe and
 * kretprobe); returns how many. */
static int event_programs(const struct event_desc *e, enum attach_method m,
			  const struct function_probe *fp, bool direct, char names[2][64])
{
	switch (m) {
	case METHOD_NONE:
		return 0;
	case METHOD_TRACEPOINT:
		snprintf(names[0], 64, "tp_%s", e->name);
		return 1;
	case METHOD_BTF:
		snprintf(names[0], 64, "btf_%s%s", e->name, direct ? "_direct" : "");
		return 1;
	case METHOD_FENTRY:
		snprintf(names[0], 64, "%s_%s", e->fexit ? "fexit" : "fentry", fp->program);
		return 1;
	case METHOD_KPROBE:
		snprintf(names[0], 64, "kprobe_%s", fp->program);
		if (!e->kretprobe)
			return 1;
		snprintf(names[1], 64, "kretprobe_%s", fp->program);
		return 2;
	}
	return 0;
}

void probe_each_program(enum probe_arch arch,
			void (*fn)(void *ctx, const char *event, const char *method, const char *program),
			void *ctx)
{
	for (int ev = 0; ev < NR_EVENTS; ev++) {
		const struct event_desc *e = &arch_events[arch][ev];
		char names[2][64];

		if (!e->name)
			continue;
		for (enum attach_method m = METHOD_TRACEPOINT; m <= METHOD_KPROBE; m++) {
			int variants = m == METHOD_BTF ? (e->has_btf ? 1 + e->direct : 0) :
				       m == METHOD_TRACEPOINT ? 1 : MAX_FUNCTIONS;

			for (int v = 0; v < variants; v++) {
				const struct function_probe *fp = &e->functions[v];

				if ((m == METHOD_FENTRY || m == METHOD_KPROBE) && !fp->function)
					break;
				for (int i = 0, n = event_programs(e, m, fp, v == 1, names); i < n; i++)
					fn(ctx, e->name, method_names[m], names[i]);
			}
		}
	}
}

int apply_plan(struct bpf_object *obj, const struct probe_plan *plan)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, false);
	for (int ev = 0; ev < NR_EVENTS; ev++) {
		char names[2][64];
		int n = event_programs(&events[ev], plan->method[ev], plan->function[ev], plan->direct[ev],
				       names);

		for (int i = 0; i < n; i++) {
			prog = bpf_object__find_program_by_name(obj, names[i]);
			if (!prog) {
				fprintf(stderr, "kvmprof: the BPF object has no program %s for %s:%s "
					"(a build of another architecture?)\n", names[i], events[ev].system,
					events[ev].name);
				return -1;
			}
			bpf_program__set_autoload(prog, true);
			if (plan->method[ev] == METHOD_FENTRY &&
			    bpf_program__set_attach_target(prog, 0, plan->function[ev]->function)) {
				fprintf(stderr, "kvmprof: cannot aim %s at %s: %s\n", names[i],
					plan->function[ev]->function, strerror(errno));
				return -1;
			}
		}
	}
	return 0;
}

/* The event whose planned programs include prog_name, -1 if none. */
static int event_of_program(const struct probe_plan *plan, const char *prog_name)
{
	for (int ev = 0; ev < NR_EVENTS; ev++) {
		char names[2][64];
		int n = event_programs(&events[ev], plan->method[ev], plan->function[ev], plan->direct[ev],
				       names);

		for (int i = 0; i < n; i++)
			if (!strcmp(names[i], prog_name))
				return ev;
	}
	return -1;
}

const char *plan_program_event(const struct probe_plan *plan, const char *prog_name, char *buf,
			       size_t size)
{
	int ev = event_of_program(plan, prog_name);

	if (ev < 0)
		return NULL;
	if (plan->function[ev])
		snprintf(buf, size, "%s %s for %s:%s", method_names[plan->method[ev]],
			 plan->function[ev]->function, events[ev].system, events[ev].name);
	else
		snprintf(buf, size, "%s:%s as %s", events[ev].system, events[ev].name,
			 method_names[plan->method[ev]]);
	return buf;
}

int attach_plan(struct bpf_object *obj, const struct probe_plan *plan, enum attach_mode mode,
		struct bpf_link **(*link_slot)(void *ctx, const struct bpf_program *prog), void *ctx)
{
	for (int ev = 0; ev < NR_EVENTS; ev++) {
		char names[2][64], what[160];
		int n = event_programs(&events[ev], plan->method[ev], plan->function[ev], plan->direct[ev],
				       names);

		for (int i = 0; i < n; i++) {
			struct bpf_program *prog = bpf_object__find_program_by_name(obj, names[i]);
			struct bpf_link **slot = prog ? link_slot(ctx, prog) : NULL;
			struct bpf_link *link;
			int err;

			if (!slot) {
				fprintf(stderr, "kvmprof: no link slot for program %s\n", names[i]);
				return -1;
			}
			if (plan->method[ev] == METHOD_KPROBE)
				link = bpf_program__attach_kprobe(prog, i == 1, plan->function[ev]->function);
			else
				link = bpf_program__attach(prog);
			if (link) {
				*slot = link;
				continue;
			}
			err = errno;
			plan_program_event(plan, names[i], what, sizeof(what));
			fprintf(stderr, "kvmprof: %s%s%scannot attach program %s (%s): %s%s\n",
				mode == ATTACH_AUTO ? "" : "--attach ", mode == ATTACH_AUTO ? "" : attach_mode_name(mode),
				mode == ATTACH_AUTO ? "" : ": ", names[i], what,
				err == ENOTSUPP ? "not supported by this kernel" : strerror(err),
				mode == ATTACH_FENTRY || mode == ATTACH_KPROBE ? "; try --attach auto" : "");
			return -1;
		}
	}
	return 0;
}

/* "fentry" or "fexit" where the event's function probe is one or the other */
static const char *method_label(const struct probe_plan *plan, int ev)
{
	if (plan->method[ev] == METHOD_FENTRY && events[ev].fexit)
		return "fexit";
	return method_names[plan->method[ev]];
}

void print_plan(FILE *out, const struct probe_plan *plan)
{
	fprintf(out, "%-28s %-28s %-11s %s\n", "EVENT", "FEEDS", "ATTACH", "NOTE");
	for (int ev = 0; ev < NR_EVENTS; ev++) {
		char event[64], note[400];

		if (!events[ev].name)
			continue;
		snprintf(event, sizeof(event), "%s:%s", events[ev].system, events[ev].name);
		if (plan->function[ev])
			snprintf(note, sizeof(note), "%s %s%s%s", method_label(plan, ev),
				 plan->function[ev]->function, *plan->note[ev] ? "; " : "", plan->note[ev]);
		else
			snprintf(note, sizeof(note), "%s", plan->note[ev]);
		fprintf(out, "%-28s %-28s %-11s %s\n", event, events[ev].feeds, method_label(plan, ev), note);
	}
	for (unsigned int c = 0; c < NR_CLASSES; c++)	/* what this architecture has no events for */
		if (!class_of_this_arch(c) && class_table[c].optional)
			fprintf(out, "%-28s %-28s %-11s %s\n", "-", class_name(c), "none",
				"KVM has no event for it on this architecture: not traced");
}

void print_plan_line(FILE *out, const struct probe_plan *plan)
{
	fprintf(out, "kvmprof: attach:");
	for (int ev = 0; ev < NR_EVENTS; ev++)
		if (events[ev].name)
			fprintf(out, " %s=%s", events[ev].name, method_label(plan, ev));
	fputc('\n', out);
}
