// SPDX-License-Identifier: GPL-2.0
/* Lines both the summary and the live view show, rendered once into a sink. */
#include <stdarg.h>
#include <string.h>
#include "model/counters.h"
#include "model/devices.h"
#include "model/guest_syms.h"
#include "model/rips.h"
#include "model/insns.h"
#include "model/latency.h"
#include "model/names.h"
#include "present/lines.h"

#define NAME_W 40	/* the name column, indent included */
#define BAR_W 40

void sink_printf(const struct sink *k, enum line_attr attr, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	k->line(k->ctx, attr, text);
}

static void file_line(void *ctx, enum line_attr attr, const char *text)
{
	fprintf(ctx, "%s\n", text);
}

struct sink file_sink(FILE *f)
{
	return (struct sink){ .line = file_line, .ctx = f, .width = 200 };
}

const char *format_ns(__u64 ns, char *buf, size_t size)
{
	if (ns < 1000)
		snprintf(buf, size, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, size, "%.2fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, size, "%.2fms", ns / 1e6);
	else
		snprintf(buf, size, "%.2fs", ns / 1e9);
	return buf;
}

void latency_cell(char *buf, size_t size, __u64 count, __u64 sum, __u64 max)
{
	char a[16], m[16];

	if (!count)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%s/%s", format_ns(sum / count, a, sizeof(a)),
			 format_ns(max, m, sizeof(m)));
}

void fit_text(char *text, size_t width)
{
	if (width > 1 && strlen(text) > width) {
		text[width - 1] = '~';
		text[width] = '\0';
	}
}

void render_histogram(const struct sink *k, const __u64 *slots, int indent)
{
	int first = -1, last = -1, width = k->width - indent - 40;
	__u64 max = 0;

	if (width > BAR_W)
		width = BAR_W;
	if (width < 0)
		width = 0;
	for (int i = 0; i < LAT_SLOTS; i++) {
		if (!slots[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (slots[i] > max)
			max = slots[i];
	}
	if (last < 0)
		return;
	sink_printf(k, LINE_PLAIN, "%*s%-*s : count     distribution", indent, "", 24, "          nsecs");
	for (int i = first; i <= last; i++) {
		char range[48], bar[BAR_W + 1];
		int stars = (int)(slots[i] * width / max);
		__u64 lo, hi;

		slot_bounds(i, &lo, &hi);
		if (i == LAT_SLOTS - 1)
			snprintf(range, sizeof(range), "%llu -> inf", (unsigned long long)lo);
		else
			snprintf(range, sizeof(range), "%llu -> %llu", (unsigned long long)lo,
				 (unsigned long long)hi);
		memset(bar, '*', stars);
		memset(bar + stars, ' ', width - stars);
		bar[width] = '\0';
		sink_printf(k, LINE_PLAIN, "%*s%24s : %-9llu |%s|", indent, "", range,
			    (unsigned long long)slots[i], bar);
	}
}

static double rate(const struct detail_view *v, __u64 total, __u64 interval)
{
	return v->seconds > 0 ? (v->interval_rates ? interval : total) / v->seconds : 0;
}

/* A count's latency: its samples' squares, and the time of the class it
 * is a part of (the share's whole). */
struct lat_cols {
	const struct trap_latency *lat;
	double sq;
	__u64 class_ns;
};

/* min avg max p50 p90 p99 stddev time time%, or nothing without samples;
 * a min not known (since c) is "-" */
static void latency_cols(char *buf, size_t size, const struct lat_cols *c)
{
	const struct trap_latency *lat = c ? c->lat : NULL;
	char f[7][16] = { "-" };

	if (!lat || !lat->count) {
		buf[0] = '\0';
		return;
	}
	if (lat->min_ns)
		format_ns(lat->min_ns, f[0], sizeof(f[0]));
	format_ns(lat->sum_ns / lat->count, f[1], sizeof(f[1]));
	format_ns(lat->max_ns, f[2], sizeof(f[2]));
	format_ns(latency_quantile(lat, 0.50), f[3], sizeof(f[3]));
	format_ns(latency_quantile(lat, 0.90), f[4], sizeof(f[4]));
	format_ns(latency_quantile(lat, 0.99), f[5], sizeof(f[5]));
	format_ns(latency_stddev(lat, c->sq), f[6], sizeof(f[6]));
	snprintf(buf, size, "  %9s %9s %9s %9s %9s %9s %9s %9.3f %6.2f%%", f[0], f[1], f[2], f[3], f[4],
		 f[5], f[6], lat->sum_ns / 1e9, c->class_ns ? 100.0 * lat->sum_ns / c->class_ns : 0);
}

static void code_line(const struct sink *k, const struct detail_view *v, int indent, enum line_attr attr,
		      const char *name, __u64 total, __u64 interval, __u64 of, const struct lat_cols *lat)
{
	char shown[NAME_W + 1], cols[160];

	snprintf(shown, sizeof(shown), "%s", name);
	fit_text(shown, NAME_W - indent);
	latency_cols(cols, sizeof(cols), lat);
	char share[16] = "      -";	/* of no whole: KVM's counters, each its own */

	if (of)
		snprintf(share, sizeof(share), "%6.2f%%", 100.0 * total / of);
	sink_printf(k, attr, "%*s%-*s %12llu %s %12.1f%s", indent, "", NAME_W - indent, shown,
		    (unsigned long long)total, share, rate(v, total, interval), cols);
}

static void render_threads(const struct sink *k, const struct sum_guest *g, const struct detail_view *v)
{
	sink_printf(k, LINE_TITLE, "  %-12s %-10s %12s %14s %8s", "VCPU", "TID", "TRAPS/s", "TOTAL", "%");
	for (size_t i = 0; i < g->nr_threads; i++) {
		const struct sum_thread *t = &g->threads[i];
		char vcpu[16] = "-";

		if (t->vcpu >= 0)
			snprintf(vcpu, sizeof(vcpu), "vcpu%d", t->vcpu);
		sink_printf(k, LINE_PLAIN, "  %-12s %-10u %12.1f %14llu %7.2f%%", vcpu, t->tid,
			    rate(v, t->total, t->interval), (unsigned long long)t->total,
			    g->total ? 100.0 * t->total / g->total : 0);
	}
}

/* "exits 1234 = KVM 1234", "exits 1230 within KVM 1228..1236", or the
 * difference and its likely cause. */
void check_text(const struct check_result *r, char *buf, size_t size)
{
	const char *name = kvm_stat_name(r->pair->stat);
	unsigned long long k = r->kvmprof, lo = r->kvm_low, hi = r->kvm_high;

	if (r->verdict == CHECK_EQUAL)
		snprintf(buf, size, "%s %llu = KVM %llu", name, k, lo);
	else if (r->verdict == CHECK_WITHIN && r->kvm_high == ~0ULL)
		snprintf(buf, size, "%s %llu, KVM >= %llu (the guest ended: its last counts are not read)",
			 name, k, lo);
	else if (r->verdict == CHECK_WITHIN)
		snprintf(buf, size, "%s %llu within KVM %llu..%llu (busy at the window's ends)", name, k, lo, hi);
	else if (r->kvm_high == ~0ULL || lo == hi)
		snprintf(buf, size, "%s %llu != KVM %s%llu (%+lld: %s)", name, k, r->kvm_high == ~0ULL ? ">= " : "",
			 lo, (long long)(k - lo), r->why);
	else
		snprintf(buf, size, "%s %llu != KVM %llu..%llu (%s)", name, k, lo, hi, r->why);
}

/* The check against KVM's counters: a line per pair (the summary), or, in
 * the live view, the pairs that hold on one line and each other on its own. */
static void render_checks(const struct sink *k, const struct sum_guest *g, bool compact)
{
	char text[400], held[600] = "";

	if (g->checks && !g->nr_checks)	/* read, but never while this guest lived */
		sink_printf(k, LINE_PLAIN, "  check: none (the guest came and went between two reads of KVM's "
			    "counters)");
	for (size_t i = 0; i < g->nr_checks; i++) {
		const struct check_result *r = &g->checks[i];

		if (compact && r->verdict == CHECK_EQUAL) {
			snprintf(held + strlen(held), sizeof(held) - strlen(held), "%s%s %llu", *held ? ", " : "",
				 kvm_stat_name(r->pair->stat), (unsigned long long)r->kvmprof);
			continue;
		}
		check_text(r, text, sizeof(text));
		sink_printf(k, r->verdict == CHECK_DIFFERS ? LINE_ALERT : LINE_PLAIN, "  check: %s", text);
	}
	if (*held)
		sink_printf(k, LINE_PLAIN, "  check: = KVM: %s", held);
}

/* Which states the accounting folds together here, said once. */
static void time_notes(const struct sink *k, unsigned int flags)
{
	if (!(flags & TIME_SPLIT_GUEST))
		sink_printf(k, LINE_PLAIN, "  (guest and exit are one, \"in KVM_RUN\": %s)", flags & TIME_ENTRIES ?
			    "no kvm_entry seen, this kernel's KVM does not fire it" :
			    "kvm_exit and kvm_entry are not traced on this kernel");
	if (!(flags & TIME_POLLING))
		sink_printf(k, LINE_PLAIN, "  (halt polling counts as %s: kvm_vcpu_wakeup is not traced)",
			    flags & TIME_SPLIT_GUEST ? "exit" : "in KVM_RUN");
}

/* Where the vCPU threads' time went: the guest's sum on one line, then
 * each thread's states as shares of its wall time (the summary: over the
 * run; the live view: over the last interval). */
static void render_time(const struct sink *k, const struct sum_guest *g, const struct detail_view *v)
{
	enum time_column cols[NR_TIME_COLUMNS];
	int n = time_columns(v->time_flags, cols);
	char line[400], heading[200];
	__u64 wall = v->interval_rates ? g->time.interval_wall : g->time.wall;
	const __u64 *ns = v->interval_rates ? g->time.interval : g->time.ns;
	size_t used;

	if (!(v->time_flags & TIME_ON) || !g->time.threads)
		return;
	used = snprintf(line, sizeof(line), "  vCPU time, %d thread%s, %.3f s:", g->time.threads,
			g->time.threads == 1 ? "" : "s", wall / 1e9);
	snprintf(heading, sizeof(heading), "  %-12s %-10s %10s", "VCPU", "TID", "WALL(s)");
	for (int i = 0; i < n; i++) {
		__u64 x = time_column_ns(cols[i], ns);

		if (used < sizeof(line))
			used += snprintf(line + used, sizeof(line) - used, "%s %s %.3f s (%.1f%%)", i ? "," : "",
					 time_column_heading(cols[i]), x / 1e9, wall ? 100.0 * x / wall : 0);
		snprintf(heading + strlen(heading), sizeof(heading) - strlen(heading), " %11s",
			 time_column_heading(cols[i]));
	}
	sink_printf(k, LINE_BOLD, "%s", line);
	time_notes(k, v->time_flags);
	sink_printf(k, LINE_TITLE, "%s", heading);
	for (size_t t = 0; t < g->nr_threads; t++) {
		const struct thread_time *tt = &g->threads[t].time;
		__u64 w = v->interval_rates ? tt->interval_wall : tt->wall;
		char vcpu[16] = "-";

		if (!tt->seen)
			continue;
		if (g->threads[t].vcpu >= 0)
			snprintf(vcpu, sizeof(vcpu), "vcpu%d", g->threads[t].vcpu);
		snprintf(line, sizeof(line), "  %-12s %-10u %10.3f", vcpu, g->threads[t].tid, w / 1e9);
		for (int i = 0; i < n; i++) {
			__u64 x = time_column_ns(cols[i], v->interval_rates ? tt->interval : tt->ns);

			snprintf(line + strlen(line), sizeof(line) - strlen(line), " %10.2f%%",
				 w ? 100.0 * x / w : 0);
		}
		sink_printf(k, LINE_PLAIN, "%s", line);
	}
}

/* A code: one line, or with details its total and a line per detail (at
 * most v->top, the rest summed). */
static void render_group(const struct sink *k, const struct sum_guest *g, const struct sum_group *grp,
			 __u64 class_total, __u64 class_ns, const struct detail_view *v)
{
	const struct sum_code *c = &g->codes[grp->first];
	__u64 rest = 0, rest_interval = 0;
	size_t rest_n = 0;
	char name[128];

	if (!grp->details) {
		trap_name(c->key.class, c->key.code, 0, 0, name, sizeof(name));
		code_line(k, v, 4, LINE_PLAIN, name, c->total, c->interval, class_total,
			  &(struct lat_cols){ &c->lat, c->lat_sq, class_ns });
		if (c->key.class == CLASS_EXIT && c->lat.count && exit_is_halt(c->key.code))
			sink_printf(k, LINE_PLAIN, "      (a halt's exit -> entry time is the vCPU's halted time, "
				    "waiting for an interrupt)");
		return;
	}
	code_name(c->key.class, c->key.code, name, sizeof(name));
	code_line(k, v, 4, LINE_PLAIN, name, grp->total, grp->interval, class_total,
		  &(struct lat_cols){ &grp->lat, grp->lat_sq, class_ns });
	for (size_t i = grp->first; i < grp->end; i++) {
		const struct sum_code *d = &g->codes[i];
		const char *device = trap_device(&d->key);
		size_t n;

		if (v->top && (int)(i - grp->first) >= v->top) {
			rest += d->total;
			rest_interval += d->interval;
			rest_n++;
			continue;
		}
		if (d->key.detail_flags)
			exit_detail_name(d->key.detail_flags, d->key.detail, name, sizeof(name));
		else
			snprintf(name, sizeof(name), "(no detail)");
		n = strlen(name);
		if (device)
			snprintf(name + n, sizeof(name) - n, " (%s)", device);
		code_line(k, v, 6, LINE_PLAIN, name, d->total, d->interval, class_total,
			  &(struct lat_cols){ &d->lat, d->lat_sq, class_ns });
	}
	if (rest_n) {
		snprintf(name, sizeof(name), "... %zu more", rest_n);
		code_line(k, v, 6, LINE_PLAIN, name, rest, rest_interval, class_total, NULL);
	}
}

static void render_class(const struct sink *k, const struct sum_guest *g, int cl,
			 const struct detail_view *v)
{
	const struct sum_class *c = &g->classes[cl];
	size_t shown = 0;
	char name[96];

	code_line(k, v, 2, LINE_BOLD, class_name(cl), c->total, c->interval, g->total,
		  &(struct lat_cols){ &c->lat, c->lat_sq, c->lat.sum_ns });
	for (size_t i = c->first_group; i < c->end_group; i++, shown++) {
		if (v->top && (int)shown == v->top) {
			size_t rest = c->end_group - i;

			sink_printf(k, LINE_PLAIN, "    ... %zu more code%s (see --csv)", rest, rest == 1 ? "" : "s");
			break;
		}
		render_group(k, g, &g->groups[i], cl == CLASS_COUNTER ? 0 : c->total, c->lat.sum_ns, v);
	}
	for (size_t i = c->first_device; i < c->end_device; i++) {
		snprintf(name, sizeof(name), "device %s", g->devices[i].name);
		code_line(k, v, 4, LINE_PLAIN, name, g->devices[i].total, g->devices[i].interval, c->total,
			  NULL);
	}
	if (c->lat.count && class_latency_label(cl)) {
		sink_printf(k, LINE_BOLD, "    %s latency, all codes:", class_latency_label(cl));
		render_histogram(k, c->lat.slots, 4);
	}
}

/* --rip: per exit reason (and detail) the guest addresses it came from,
 * with the guest kernel's share, and symbols where --guest-syms has them. */
static void render_rips(const struct sink *k, const struct sum_guest *g, const struct detail_view *v)
{
	int reasons = v->top ? v->top : 1000000, addrs = 5;

	if (!g->nr_rips)
		return;
	sink_printf(k, LINE_BOLD, "  Guest code (--rip): the addresses the exits came from");
	for (size_t i = 0; i < g->nr_rips && (int)i < reasons; i++) {
		const struct rip_sum *r = &g->rips[i];
		char name[160];

		trap_name(r->key.class, r->key.code, r->key.detail_flags, r->key.detail, name, sizeof(name));
		sink_printf(k, LINE_PLAIN, "    %s: %llu exits, %.1f%% in the guest kernel", name,
			    (unsigned long long)r->total, r->total ? 100.0 * r->kernel / r->total : 0);
		for (size_t j = 0; j < r->nr && (int)j < addrs; j++) {
			char sym[160] = "";

			if (!guest_sym_name(r->syms, g->guest->pid, g->guest->name, r->rows[j]->key.rip, sym,
					    sizeof(sym)) && r->syms && r->syms->nr)
				snprintf(sym, sizeof(sym), "?");
			sink_printf(k, LINE_PLAIN, "      0x%-18llx %-40s %12llu %6.2f%%",
				    (unsigned long long)r->rows[j]->key.rip, sym,
				    (unsigned long long)r->rows[j]->count, 100.0 * r->rows[j]->count / r->total);
		}
		if (r->nr > (size_t)addrs)
			sink_printf(k, LINE_PLAIN, "      ... %zu more addresses (see --csv-rips)", r->nr - addrs);
	}
}

/* Emulated instructions (failed false) or failed emulations, most
 * frequent first, each with its bytes, mode and addresses. */
static void render_insns(const struct sink *k, const struct insn_sum *sums, size_t nr, bool failed,
			 const struct detail_view *v)
{
	__u64 all = 0;

	if (!nr)
		return;
	for (size_t i = 0; i < nr; i++)
		all += sums[i].count;
	sink_printf(k, LINE_BOLD, "  %s: %zu distinct, %llu in all", failed ? "Failed emulations" :
		    "Emulated instructions", nr, (unsigned long long)all);
	sink_printf(k, LINE_TITLE, "    %-34s %-20s %-6s %12s %14s  %s", failed ? "FAILED EMULATION" :
		    "EMULATED INSTRUCTION", "BYTES", "MODE", "RATE/s", "TOTAL",
		    failed ? "LAST RIP (CS base + rip)" : "RIP (CS base + rip)");
	for (size_t i = 0; i < nr; i++) {
		const struct insn_sum *x = &sums[i];
		char hex[64], where[160];

		if (v->top && (int)i == v->top) {
			sink_printf(k, LINE_PLAIN, "    ... %zu more (see --csv-insns)", nr - i);
			break;
		}
		insn_hex(&x->key, hex, sizeof(hex));
		if (!failed)
			insn_ranges_text(x, 4, where, sizeof(where));
		else if (x->last_rip == RIP_UNKNOWN)
			snprintf(where, sizeof(where), "?");
		else
			snprintf(where, sizeof(where), "0x%llx", (unsigned long long)x->last_rip);
		sink_printf(k, failed ? LINE_ALERT : LINE_PLAIN, "    %-34.34s %-20.20s %-6s %12.1f %14llu  %s",
			    x->text, hex, emulate_mode_name(x->key.mode), rate(v, x->count, x->interval),
			    (unsigned long long)x->count, where);
	}
}

void render_guest_detail(const struct sink *k, const struct sum_guest *g, const struct detail_view *v)
{
	render_threads(k, g, v);
	render_time(k, g, v);
	if (v->interval_rates)	/* the live view: where the eye is */
		render_checks(k, g, true);
	sink_printf(k, LINE_TITLE, "  %-*s %12s %7s %12s  %9s %9s %9s %9s %9s %9s %9s %9s %7s", NAME_W - 2,
		    "CLASS / CODE", "TOTAL", "%", "RATE/s", "MIN", "AVG", "MAX", "P50", "P90", "P99", "STDDEV",
		    "TIME(s)", "TIME%");
	if (!g->total)
		sink_printf(k, LINE_PLAIN, "  No traps.");
	for (int c = 0; c < NR_CLASSES; c++)
		if (g->classes[c].total || g->classes[c].interval)
			render_class(k, g, c, v);
	render_rips(k, g, v);
	render_insns(k, g->insns, g->nr_insns, false, v);
	render_insns(k, g->failed, g->nr_failed, true, v);
	if (!v->interval_rates)
		render_checks(k, g, false);
}
