// SPDX-License-Identifier: GPL-2.0
/* Choosing, per event, how to attach: classic tracepoint, BTF tracepoint,
 * fentry/fexit or kprobe, from what the running kernel offers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "probes.h"

struct event_desc {
	const char *system, *name;
	const char *feeds;		/* classes, for --list-probes */
	const char *functions[2];	/* fentry/kprobe variants: the design's handlers,
					 * the first one this kernel has is used */
	const char *fentry;		/* "fentry", or "fexit" where the data exists only after */
	bool has_btf;
};

/* The build's architecture picks its events (traps_ARCH.bpf.h has their
 * programs); an event without a name is another architecture's. */
static const struct event_desc events[NR_EVENTS] = {
#if defined(__aarch64__)
	/* handle_exit() runs once per exit; handle_hvc() is static, reached
	 * through arm_exit_handlers[ESR_ELx_EC_HVC64] (arch/arm64/kvm/handle_exit.c) */
	[EV_KVM_EXIT] = { "kvm", "kvm_exit", "exit", { "handle_exit" }, "fentry", true },
	[EV_KVM_HYPERCALL] = { "kvm", "kvm_hvc_arm64", "hypercall (hvc)", { "handle_hvc" },
			       "fentry", true },
	[EV_KVM_WFX] = { "kvm", "kvm_wfx_arm64", "wfx", {}, NULL, true },
	[EV_KVM_SYSREG] = { "kvm", "kvm_handle_sys_reg", "sysreg", {}, NULL, true },
	[EV_KVM_GUEST_FAULT] = { "kvm", "kvm_guest_fault", "fault", {}, NULL, true },
#else
	[EV_KVM_EXIT] = { "kvm", "kvm_exit", "exit", { "svm_handle_exit", "vmx_handle_exit" },
			  "fentry", true },
	[EV_KVM_HYPERCALL] = { "kvm", "kvm_hypercall", "hypercall", {}, NULL, true },
	[EV_KVM_EMULATE_INSN] = { "kvm", "kvm_emulate_insn", "emulate",
				  { "x86_emulate_instruction" }, "fexit", true },
	[EV_KVM_PIO] = { "kvm", "kvm_pio", "pio", {}, NULL, true },
	[EV_KVM_MSR] = { "kvm", "kvm_msr", "msr", {}, NULL, true },
	[EV_KVM_CPUID] = { "kvm", "kvm_cpuid", "cpuid", {}, NULL, true },
	/* fire only for guests KVM treats as Hyper-V (CONFIG_KVM_HYPERV, 6.8+)
	 * or Xen (CONFIG_KVM_XEN) ones; a kernel without them skips them */
	[EV_KVM_HV_HYPERCALL] = { "kvm", "kvm_hv_hypercall", "hypercall (Hyper-V)", {}, NULL, true },
	[EV_KVM_XEN_HYPERCALL] = { "kvm", "kvm_xen_hypercall", "hypercall (Xen)", {}, NULL, true },
#endif
	[EV_KVM_ENTRY] = { "kvm", "kvm_entry", "exit latency", {}, NULL, true },
	[EV_KVM_MMIO] = { "kvm", "kvm_mmio", "mmio", {}, NULL, true },
	[EV_KVM_USERSPACE_EXIT] = { "kvm", "kvm_userspace_exit", "userspace", {}, NULL, true },
	/* only ioctls: the BTF variant (raw sys_enter) would run on every syscall */
	[EV_SYS_ENTER_IOCTL] = { "syscalls", "sys_enter_ioctl", "userspace latency (KVM_RUN)", {},
				 NULL, false },
};

static const char *const method_names[] = {
	[METHOD_NONE] = "none", [METHOD_TRACEPOINT] = "tracepoint", [METHOD_BTF] = "tp_btf",
	[METHOD_FENTRY] = "fexit", [METHOD_KPROBE] = "kprobe",
};

const char *method_name(enum attach_method m)
{
	return method_names[m];
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
static struct btf *kernel_btf[4];

static void load_kernel_btf(void)
{
	static const char *const modules[] = { "kvm", "kvm_amd", "kvm_intel" };
	static bool loaded;

	if (loaded)
		return;
	loaded = true;
	kernel_btf[0] = btf__load_vmlinux_btf();
	if (!kernel_btf[0])
		return;
	for (int i = 0; i < 3; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/sys/kernel/btf/%s", modules[i]);
		if (!access(path, R_OK))
			kernel_btf[i + 1] = btf__load_module_btf(modules[i], kernel_btf[0]);
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

static bool btf_tracepoint_exists(const struct event_desc *e)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", e->name);
	return btf_has(name, BTF_KIND_TYPEDEF);
}

static bool kprobes_supported(void)
{
	return !access("/sys/bus/event_source/devices/kprobe/type", R_OK);
}

static bool kallsyms_has(const char *func)
{
	char line[512], name[256];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %*s %255s", name) == 1 && !strcmp(name, func);
	fclose(f);
	return found;
}

/* A BTF tracepoint variant that can do its job here. */
static bool btf_usable(enum probe_event ev, char *why, size_t size)
{
	if (!btf_tracepoint_exists(&events[ev])) {
		snprintf(why, size, "no BTF for tracepoint %s", events[ev].name);
		return false;
	}
#if !defined(__aarch64__)	/* arm64's tp_btf/kvm_exit has the reason as an argument */
	/* tp_btf/kvm_exit reads the reason from struct vcpu_svm / vcpu_vmx */
	if (ev == EV_KVM_EXIT && !btf_has("vcpu_svm", BTF_KIND_STRUCT) &&
	    !btf_has("vcpu_vmx", BTF_KIND_STRUCT)) {
		snprintf(why, size, "no vcpu_svm/vcpu_vmx in kernel BTF to read the exit reason");
		return false;
	}
#endif
	return true;
}

int plan_probes(enum attach_mode mode, struct probe_plan *plan)
{
	bool want_btf = mode != ATTACH_TRACEPOINT;
	int btf_used = 0, function_used = 0;

	memset(plan, 0, sizeof(*plan));
	if (mode == ATTACH_KPROBE && !kprobes_supported()) {
		fprintf(stderr, "kvmprof: --attach kprobe: this kernel has no kprobes "
			"(CONFIG_KPROBES off); try --attach auto\n");
		return -1;
	}
	tracefs_events();
	for (int ev = 0; ev < NR_EVENTS; ev++) {
		const struct event_desc *e = &events[ev];
		char *note = plan->note[ev];
		size_t size = sizeof(plan->note[ev]);
		char why[128] = "";

		if (!e->name)	/* another architecture's event */
			continue;

		if (e->functions[0] && (mode == ATTACH_KPROBE || mode == ATTACH_FENTRY)) {
			bool kprobe = mode == ATTACH_KPROBE;

			for (int f = 0; f < 2 && e->functions[f] && !plan->function[ev]; f++)
				if (kprobe ? kallsyms_has(e->functions[f]) :
					     btf_has(e->functions[f], BTF_KIND_FUNC))
					plan->function[ev] = e->functions[f];
			if (plan->function[ev]) {
				plan->method[ev] = kprobe ? METHOD_KPROBE : METHOD_FENTRY;
				snprintf(note, size, "%s %s", kprobe ? "kprobe" : e->fentry,
					 plan->function[ev]);
				function_used++;
				continue;
			}
			snprintf(why, sizeof(why), "no %s%s%s in this kernel for %s", e->functions[0],
				 e->functions[1] ? " or " : "", e->functions[1] ? e->functions[1] : "",
				 attach_mode_name(mode));
		}
		if (!tracepoint_exists(e)) {
			plan->method[ev] = METHOD_NONE;
			snprintf(note, size, "%s:%s is not in this kernel: %s not traced",
				 e->system, e->name, e->feeds);
			continue;
		}
		if (*why)	/* the requested function variant is not here */
			snprintf(note, size, "%s; ", why);
		if (e->has_btf && want_btf && btf_usable(ev, why, sizeof(why))) {
			plan->method[ev] = METHOD_BTF;
			btf_used++;
			/* the verifier follows vcpu->arch.emulate_ctxt only where the
			 * struct is defined in vmlinux's BTF (KVM built in) */
			if (ev == EV_KVM_EMULATE_INSN && btf_in_vmlinux("x86_emulate_ctxt", BTF_KIND_STRUCT)) {
				plan->variant[ev] = "_direct";
				snprintf(note, size, "reads the emulator with plain loads");
			}
			continue;
		}
		plan->method[ev] = METHOD_TRACEPOINT;
		if (want_btf && e->has_btf)
			snprintf(note + strlen(note), size - strlen(note), "%s", why);
	}
	if (mode == ATTACH_BTF && !btf_used) {
		fprintf(stderr, "kvmprof: --attach btf: this kernel has no BTF for the KVM "
			"tracepoints; try --attach tracepoint\n");
		return -1;
	}
	if ((mode == ATTACH_KPROBE || mode == ATTACH_FENTRY) && !function_used) {
		fprintf(stderr, "kvmprof: --attach %s: none of the KVM handler functions is in this "
			"kernel; try --attach auto\n", attach_mode_name(mode));
		return -1;
	}
	return 0;
}

/* Program names in kvmprof.bpf.c follow the method: tp_EVENT, btf_EVENT,
 * fexit_FUNCTION, kprobe_FUNCTION + kretprobe_FUNCTION. */
void apply_plan(struct bpf_object *obj, const struct probe_plan *plan)
{
	struct bpf_program *prog;
	char name[128];

	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, false);
	for (int ev = 0; ev < NR_EVENTS; ev++) {
		const struct event_desc *e = &events[ev];
		const char *prefixes[2] = { NULL, NULL };
		const char *base = e->name;

		switch (plan->method[ev]) {
		case METHOD_NONE: continue;
		case METHOD_TRACEPOINT: prefixes[0] = "tp"; break;
		case METHOD_BTF: prefixes[0] = "btf"; break;
		case METHOD_FENTRY: prefixes[0] = e->fentry; base = plan->function[ev]; break;
		case METHOD_KPROBE:
			prefixes[0] = "kprobe";
			prefixes[1] = "kretprobe";	/* where the event has one */
			base = plan->function[ev];
			break;
		}
		for (int i = 0; i < 2 && prefixes[i]; i++) {
			snprintf(name, sizeof(name), "%s_%s%s", prefixes[i], base,
				 plan->variant[ev] ? plan->variant[ev] : "");
			prog = bpf_object__find_program_by_name(obj, name);
			if (prog)
				bpf_program__set_autoload(prog, true);
		}
	}
}

/* "fentry" or "fexit" where the event's function probe is one or the other */
static const char *method_label(const struct probe_plan *plan, int ev)
{
	if (plan->method[ev] == METHOD_FENTRY && events[ev].fentry)
		return events[ev].fentry;
	return method_names[plan->method[ev]];
}

void print_plan(FILE *out, const struct probe_plan *plan)
{
	fprintf(out, "%-28s %-28s %-11s %s\n", "EVENT", "FEEDS", "ATTACH", "NOTE");
	for (int ev = 0; ev < NR_EVENTS; ev++) {
		char event[64];

		if (!events[ev].name)
			continue;
		snprintf(event, sizeof(event), "%s:%s", events[ev].system, events[ev].name);
		fprintf(out, "%-28s %-28s %-11s %s\n", event, events[ev].feeds,
			method_label(plan, ev), plan->note[ev]);
	}
}

void print_plan_line(FILE *out, const struct probe_plan *plan)
{
	fprintf(out, "kvmprof: attach:");
	for (int ev = 0; ev < NR_EVENTS; ev++)
		if (events[ev].name)
			fprintf(out, " %s=%s", events[ev].name, method_label(plan, ev));
	fputc('\n', out);
}
