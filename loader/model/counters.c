// SPDX-License-Identifier: GPL-2.0
/* KVM's own counters per vCPU, the self-check of kvmprof's counts against
 * them (pairs below, each with where it holds), and --counters' rows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>
#include "model/classes.h"
#include "model/counters.h"
#include "util/vec.h"

static const char *const stat_names[NR_KVM_STATS] = {
	[KSTAT_EXITS] = "exits", [KSTAT_IO_EXITS] = "io_exits", [KSTAT_MMIO_EXITS] = "mmio_exits",
	[KSTAT_HALT_EXITS] = "halt_exits", [KSTAT_IRQ_EXITS] = "irq_exits",
	[KSTAT_SIGNAL_EXITS] = "signal_exits", [KSTAT_INSN_EMULATION] = "insn_emulation",
	[KSTAT_INSN_EMULATION_FAIL] = "insn_emulation_fail", [KSTAT_HYPERCALLS] = "hypercalls",
	[KSTAT_IRQ_INJECTIONS] = "irq_injections", [KSTAT_NMI_INJECTIONS] = "nmi_injections",
	[KSTAT_PF_TAKEN] = "pf_taken", [KSTAT_PF_FIXED] = "pf_fixed", [KSTAT_PF_EMULATE] = "pf_emulate",
	[KSTAT_HVC_EXIT] = "hvc_exit_stat", [KSTAT_WFE_EXIT] = "wfe_exit_stat",
	[KSTAT_WFI_EXIT] = "wfi_exit_stat", [KSTAT_MMIO_EXIT_USER] = "mmio_exit_user",
	[KSTAT_MMIO_EXIT_KERNEL] = "mmio_exit_kernel", [KSTAT_HALT_SUCCESSFUL_POLL] = "halt_successful_poll",
	[KSTAT_HALT_ATTEMPTED_POLL] = "halt_attempted_poll", [KSTAT_HALT_POLL_INVALID] = "halt_poll_invalid",
	[KSTAT_HALT_WAKEUP] = "halt_wakeup", [KSTAT_HALT_POLL_SUCCESS_NS] = "halt_poll_success_ns",
	[KSTAT_HALT_POLL_FAIL_NS] = "halt_poll_fail_ns", [KSTAT_HALT_WAIT_NS] = "halt_wait_ns",
};

const char *kvm_stat_name(unsigned int stat)
{
	return stat < NR_KVM_STATS ? stat_names[stat] : "?";
}

/* ---- the pairs ---- */

static bool userspace_mmio(const struct trap_key *k)
{
	return k->code == KVM_EXIT_MMIO;
}

static bool userspace_eintr(const struct trap_key *k)
{
	return k->code == (USERSPACE_ERRNO | EINTR);
}

/* an x86 exit of VMX basic reason vmx or SVM exit code svm */
static bool exit_reason(const struct trap_key *k, __u32 vmx, __u32 svm)
{
	__u64 isa = k->code >> EXIT_ISA_SHIFT, reason = k->code & 0xffffffff;

	return (isa == ISA_VMX && reason == vmx) || (isa == ISA_SVM && reason == svm);
}

static bool exit_io(const struct trap_key *k)
{
	return exit_reason(k, 30, 0x7b);
}

static bool exit_hlt(const struct trap_key *k)
{
	return exit_reason(k, 12, 0x78);
}

static bool exit_intr(const struct trap_key *k)
{
	return exit_reason(k, 1, 0x60);
}

static bool emulated(const struct trap_key *k)
{
	return !(k->code & EMUL_FAILED);
}

static bool emulate_failed(const struct trap_key *k)
{
	return k->code & EMUL_FAILED;
}

static bool kvm_hypercall(const struct trap_key *k)
{
	return k->code >> HC_ABI_SHIFT == HC_ABI_KVM;
}

static bool injected(const struct trap_key *k)
{
	return CODE_KIND(k->code) == IRQ_INJ_VIRQ;
}

static bool wfi(const struct trap_key *k)
{
	return k->code == 0;
}

static bool wfe(const struct trap_key *k)
{
	return k->code == 1;
}

/* Each pair only after reading the kernel's increment sites for it, in
 * Debian's 5.10, 6.1 and 6.12: the evidence, file:line, and the cases
 * each excepts are in docs/kvm-counters.md.  Pairs that do not hold
 * (io_exits against kvm_pio or KVM_EXIT_IO, the halt-poll counters
 * against kvm_vcpu_wakeup, the pf_* counters, Xen hypercalls) are not here. */
const struct check_pair check_pairs[] = {
	{ KSTAT_EXITS, CLASS_EXIT, NULL, true, false,
	  "x86 SVM 6.1, 6.12 exactly; VMX 6.1, 6.12 but for entries that never reach the guest; "
	  "5.10 VMX counts fast re-entries in kvm_exit only, and 5.10.183+ adds MSR-filter checks to exits "
	  "(tracepoint and tp_btf: fentry/kprobe on the handlers miss the fastpath)" },
	{ KSTAT_IO_EXITS, CLASS_EXIT, exit_io, true, false,
	  "x86 5.10-6.12: IO exits, but for nested guests' and SEV-ES's" },
	{ KSTAT_HALT_EXITS, CLASS_EXIT, exit_hlt, true, false,
	  "x86 5.10-6.12: HLT exits, but for nested guests', SEV-ES's and HLTs the emulator runs" },
	{ KSTAT_IRQ_EXITS, CLASS_EXIT, exit_intr, true, false,
	  "x86 5.10-6.12: external-interrupt exits, but for nested guests'" },
	{ KSTAT_MMIO_EXITS, CLASS_USERSPACE, userspace_mmio, true, true,
	  "x86 5.10-6.12: MMIO completed by the VMM, but for accesses split in pieces and SEV-ES's" },
	{ KSTAT_SIGNAL_EXITS, CLASS_USERSPACE, userspace_eintr, true, true,
	  "x86 5.10-6.12, arm64 6.1-6.12: KVM_RUN's -EINTR, but for immediate_exit (QEMU's kick)" },
	{ KSTAT_INSN_EMULATION, CLASS_EMULATE, emulated, true, false,
	  "x86 5.10-6.12 exactly (and this PVM host): kvm_emulate_insn, not failed" },
	{ KSTAT_INSN_EMULATION_FAIL, CLASS_EMULATE, emulate_failed, true, false,
	  "x86 5.10-6.12 exactly: kvm_emulate_insn, failed" },
	{ KSTAT_HYPERCALLS, CLASS_HYPERCALL, kvm_hypercall, true, false,
	  "x86 5.10 exactly for KVM's own ABI; 6.1, 6.12 but for calls handed to the VMM" },
	{ KSTAT_IRQ_INJECTIONS, CLASS_IRQ, injected, true, false,
	  "x86 5.10-6.12 exactly: kvm_inj_virq (-e irq)" },
	{ KSTAT_EXITS, CLASS_EXIT, NULL, false, true, "arm64 5.10-6.12 exactly: handle_exit" },
	{ KSTAT_HVC_EXIT, CLASS_HYPERCALL, NULL, false, true, "arm64 5.10-6.12 exactly: handle_hvc" },
	{ KSTAT_WFI_EXIT, CLASS_WFX, wfi, false, true, "arm64 5.10-6.12 exactly: kvm_handle_wfx" },
	{ KSTAT_WFE_EXIT, CLASS_WFX, wfe, false, true, "arm64 5.10-6.12 exactly: kvm_handle_wfx" },
	{ KSTAT_MMIO_EXIT_USER, CLASS_USERSPACE, userspace_mmio, false, true,
	  "arm64 5.10-6.12 exactly: io_mem_abort to the VMM" },
};
const size_t nr_check_pairs = sizeof(check_pairs) / sizeof(check_pairs[0]);

/* ---- the vCPUs ---- */

static size_t vcpu_hash(const void *ctx, size_t entry)
{
	const struct kvm_counters *c = ctx;

	return hash_pid_tid(c->v[entry].pid, 0);
}

static struct vcpu_counters *vcpu_of(struct kvm_counters *c, const struct vcpu_stats *r,
				     __u64 (*start_time)(const struct vcpu_stats *r), bool *made)
{
	__u64 start = start_time ? start_time(r) : 0;
	size_t pos;

	*made = false;
	for (size_t i = index_first(&c->by_pid, hash_pid_tid(r->tgid, 0), &pos); i != INDEX_NONE;
	     i = index_next(&c->by_pid, &pos)) {
		struct vcpu_counters *v = &c->v[i];

		if (v->pid == r->tgid && v->vm == r->vm && v->vcpu_id == r->vcpu_id &&
		    v->start_time == start)
			return v;
	}
	if (VEC_GROW(c->v, c->cap, c->nr + 1) || index_reserve(&c->by_pid, c->nr + 1, vcpu_hash, c))
		return NULL;
	if (index_add(&c->by_pid, hash_pid_tid(r->tgid, 0), c->nr, vcpu_hash, c))
		return NULL;
	*made = true;
	c->v[c->nr] = (struct vcpu_counters){ .pid = r->tgid, .vm = r->vm, .vcpu_id = r->vcpu_id,
					       .start_time = start };
	return &c->v[c->nr++];
}

int counters_take(struct kvm_counters *c, const struct vcpu_stats *recs, size_t n, enum counters_phase phase,
		  __u64 (*start_time)(const struct vcpu_stats *r))
{
	for (size_t i = 0; i < c->nr; i++)
		c->v[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		const struct vcpu_stats *r = &recs[i];
		bool made;
		struct vcpu_counters *v = vcpu_of(c, r, start_time, &made);

		if (!v)
			return -ENOMEM;
		v->seen = true;
		v->gone = false;
		v->present = r->present;
		v->hists = r->hists;
		if (r->tid)
			v->tid = r->tid;
		switch (phase) {
		case COUNTERS_BEFORE_ATTACH:	/* there before kvmprof: its window starts here */
			memcpy(v->lo, r->value, sizeof(v->lo));
			memcpy(v->hi, r->value, sizeof(v->hi));
			memcpy(v->hist_lo, r->hist, sizeof(v->hist_lo));
			break;
		case COUNTERS_AFTER_ATTACH:	/* a vCPU made in between: from 0 to now */
			memcpy(v->hi, r->value, sizeof(v->hi));
			break;
		case COUNTERS_PRE:		/* one made later starts at 0 (lo = hi = 0) */
			memcpy(v->pre, r->value, sizeof(v->pre));
			break;
		case COUNTERS_POST:
			memcpy(v->prev_post, made ? v->lo : v->post, sizeof(v->prev_post));
			memcpy(v->post, r->value, sizeof(v->post));
			memcpy(v->hist, r->hist, sizeof(v->hist));
			if (made)	/* made after the pre read */
				memset(v->pre, 0, sizeof(v->pre));
			break;
		}
		if (phase <= COUNTERS_AFTER_ATTACH) {	/* the window's start is also a read */
			memcpy(v->pre, r->value, sizeof(v->pre));
			memcpy(v->post, r->value, sizeof(v->post));
			memcpy(v->prev_post, r->value, sizeof(v->prev_post));
			memcpy(v->hist, r->hist, sizeof(v->hist));
		}
	}
	for (size_t i = 0; phase == COUNTERS_POST && i < c->nr; i++)
		if (!c->v[i].seen) {
			c->v[i].gone = true;
			memcpy(c->v[i].prev_post, c->v[i].post, sizeof(c->v[i].prev_post));
		}
	return 0;
}

void counters_pre_from_post(struct kvm_counters *c)
{
	for (size_t i = 0; i < c->nr; i++)
		memcpy(c->v[i].pre, c->v[i].post, sizeof(c->v[i].pre));
}

void counters_free(struct kvm_counters *c)
{
	free(c->v);
	index_free(&c->by_pid);
	memset(c, 0, sizeof(*c));
}

/* ---- the check ---- */

static bool pair_of_this_arch(const struct check_pair *p)
{
#if defined(__aarch64__)
	return p->arm64;
#else
	return p->x86;
#endif
}

/* kvmprof's count for every pair (its rows of the class whose code the pair
 * counts), in one walk of g's rows: a host's guests have tens of rows each,
 * and every pair wants them. */
static void kvmprof_counts(const struct trap_table *s, const struct guest *g, __u64 counts[])
{
	size_t gi = g - s->guests;

	memset(counts, 0, nr_check_pairs * sizeof(counts[0]));
	for (size_t r = table_rows_first(s, g); r < s->nr_rows; r = table_rows_next(s, r)) {
		const struct trap_row *row = &s->rows[r];

		if (row->guest != gi)
			continue;
		for (size_t p = 0; p < nr_check_pairs; p++)
			if (row->key.class == check_pairs[p].class &&
			    (!check_pairs[p].counts || check_pairs[p].counts(&row->key)))
				counts[p] += row->count;
	}
}

static const char *likely_cause(const struct check_result *r, const struct trap_table *s)
{
	if (r->kvmprof > r->kvm_high)
		return "kvmprof counted more than KVM: the pair does not hold on this kernel";
	if (!r->kvmprof && r->pair->class == CLASS_EXIT)
		return "no kvm_exit seen: this kernel's KVM does not trace its exits (PVM)";
	if (table_total_drops(s))
		return "kvmprof dropped events (see dropped)";
	if (r->pair->class == CLASS_EXIT)
		return "exits kvmprof did not see: fentry/kprobe miss the fastpath's";
	return "events of this kind KVM counts and the tracepoint does not fire for here";
}

size_t counters_check(const struct kvm_counters *c, const struct trap_table *s, const struct guest *g,
		      struct check_result *out)
{
	__u64 counts[nr_check_pairs];
	size_t n = 0;

	if (c->readable)
		kvmprof_counts(s, g, counts);
	for (size_t p = 0; c->readable && p < nr_check_pairs; p++) {
		const struct check_pair *pair = &check_pairs[p];
		struct check_result *r = &out[n];
		bool any = false, gone = false;
		__u64 low = 0, high = 0;

		if (!pair_of_this_arch(pair) || !class_traced_here(pair->class) || !class_attached(pair->class))
			continue;
		size_t pos;

		for (size_t i = index_first(&c->by_pid, hash_pid_tid(g->pid, 0), &pos); i != INDEX_NONE;
		     i = index_next(&c->by_pid, &pos)) {
			const struct vcpu_counters *v = &c->v[i];

			if (v->pid != g->pid || (g->start_time && v->start_time != g->start_time) ||
			    !(v->present & 1ULL << pair->stat))
				continue;
			any = true;
			gone |= v->gone;
			low += v->pre[pair->stat] > v->hi[pair->stat] ? v->pre[pair->stat] - v->hi[pair->stat] : 0;
			high += v->post[pair->stat] - v->lo[pair->stat];
		}
		if (!any)
			continue;
		*r = (struct check_result){ .pair = pair, .kvmprof = counts[p], .kvm_low = low,
					    .kvm_high = gone ? ~0ULL : high };
		if (r->kvmprof == low && low == r->kvm_high)
			r->verdict = CHECK_EQUAL;
		else if (r->kvmprof >= low && r->kvmprof <= r->kvm_high)
			r->verdict = CHECK_WITHIN;
		else
			r->verdict = CHECK_DIFFERS;
		if (r->verdict == CHECK_DIFFERS)
			r->why = likely_cause(r, s);
		n++;
	}
	return n;
}

/* ---- --counters ---- */

/* KVM's log2 bucket i holds [2^(i-1), 2^i): kvmprof's slot i - 1 */
static void hist_latency(struct trap_latency *l, const __u64 *hist, const __u64 *base, __u64 sum_ns)
{
	memset(l, 0, sizeof(*l));
	l->vcpu = VCPU_UNKNOWN;
	for (int i = 0; i < KVM_HIST_BUCKETS && i <= LAT_SLOTS; i++) {
		__u64 n = hist[i] - (base ? base[i] : 0);

		l->slots[i ? i - 1 : 0] += n;
		l->count += n;
	}
	l->sum_ns = sum_ns;
}

/* the histogram of a time counter, -1 for counts */
static int hist_of_stat(int stat)
{
	switch (stat) {
	case KSTAT_HALT_POLL_SUCCESS_NS: return KHIST_POLL_SUCCESS;
	case KSTAT_HALT_POLL_FAIL_NS: return KHIST_POLL_FAIL;
	case KSTAT_HALT_WAIT_NS: return KHIST_WAIT;
	}
	return -1;
}

int counters_to_rows(const struct kvm_counters *c, struct trap_table *s)
{
	for (size_t i = 0; i < c->nr; i++) {
		const struct vcpu_counters *v = &c->v[i];

		for (int st = 0; st < NR_KVM_STATS; st++) {
			/* a made-up thread id for a vCPU no thread ran yet */
			struct trap_key key = { .tgid = v->pid, .tid = v->tid ? v->tid : 0x40000000 | v->vcpu_id,
						.class = CLASS_COUNTER, .code = st };
			int h = hist_of_stat(st);
			__u64 base = c->since_start ? 0 : v->lo[st];
			struct trap_row *row;

			if (!(v->present & 1ULL << st) || (h >= 0 && !(v->hists & 1U << h)))
				continue;
			/* counters still at their start make no row (until they move) */
			row = table_row(s, &key, v->post[st] != base);
			if (!row && v->post[st] == base)
				continue;
			if (!row)
				return -ENOMEM;
			s->threads[row->thread].vcpu = v->vcpu_id;
			row->vcpu = v->vcpu_id;
			if (h < 0) {	/* a count */
				row->count = v->post[st] - base;
				row->interval = v->post[st] - v->prev_post[st];
				continue;
			}
			/* a time: its histogram's samples, their sum the time */
			hist_latency(&row->lat, v->hist[h], c->since_start ? NULL : v->hist_lo[h], v->post[st] - base);
			row->interval = row->lat.count - row->count;
			row->count = row->lat.count;
		}
	}
	return 0;
}
