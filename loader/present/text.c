// SPDX-License-Identifier: GPL-2.0
/* Plain text: the per-interval batch table and the final summary. */
#include <string.h>
#include <time.h>
#include "model/guest_filter.h"
#include "model/names.h"
#include "model/summary.h"
#include "present/lines.h"
#include "present/text.h"

/* The batch table's time columns: the guest's vCPU time in the interval. */
static void time_heading(FILE *out, unsigned int flags)
{
	enum time_column cols[NR_TIME_COLUMNS];
	int n = time_columns(flags, cols);

	for (int i = 0; (flags & TIME_ON) && i < n; i++)
		if (cols[i] != TCOL_OUTSIDE)
			fprintf(out, " %10.10s%%", time_column_heading(cols[i]));
}

static void time_cells(FILE *out, const struct time_sum *t, unsigned int flags)
{
	enum time_column cols[NR_TIME_COLUMNS];
	int n = time_columns(flags, cols);

	for (int i = 0; (flags & TIME_ON) && i < n; i++)
		if (cols[i] != TCOL_OUTSIDE)
			fprintf(out, " %10.1f%%", t->interval_wall ?
				100.0 * time_column_ns(cols[i], t->interval) / t->interval_wall : 0);
}

void report_interval(FILE *out, const struct trap_table *s, double interval_s, double elapsed_s,
		     enum code_order order)
{
	struct summary sum;
	char now[16];
	time_t t = time(NULL);

	if (summary_build(&sum, s, NULL, order))
		return;
	strftime(now, sizeof(now), "%H:%M:%S", localtime(&t));
	fprintf(out, "%s  kvmprof  elapsed %.1fs  interval %.2fs  traps %.0f/s  guests %zu live, %zu ended"
		"  dropped %llu\n", now, elapsed_s, interval_s, sum.interval / interval_s, sum.live,
		sum.nr_guests - sum.live, (unsigned long long)sum.drops);
	fprintf(out, "%-8s %-16s %5s %9s", "PID", "GUEST", "VCPUS", "TRAPS/s");
	for (int c = 0; c < NR_CLASSES; c++)	/* only the classes this architecture has */
		if (class_traced_here(c))
			fprintf(out, " %8s", class_table[c].column);
	fprintf(out, "  %-24s %-19s %-19s", order == ORDER_COUNT ? "TOP CODE" : "TOP CODE (time)",
		"EXIT AVG/MAX", "VMM AVG/MAX");
	time_heading(out, sum.time_flags);
	fputc('\n', out);
	for (size_t i = 0; i < sum.nr_guests; i++) {
		const struct sum_guest *g = &sum.guests[i];
		const struct sum_class *exit = &g->classes[CLASS_EXIT], *vmm = &g->classes[CLASS_USERSPACE];
		char top[64] = "-", exit_lat[40], vmm_lat[40];

		if (g->guest->ended && !g->interval)
			continue;
		if (g->has_top)
			trap_name_fit(g->top.class, g->top.code, g->top.detail_flags, g->top.detail, top,
				      sizeof(top), 24);
		latency_cell(exit_lat, sizeof(exit_lat), exit->int_lat_count, exit->int_lat_sum,
			     exit->int_lat_max);
		latency_cell(vmm_lat, sizeof(vmm_lat), vmm->int_lat_count, vmm->int_lat_sum, vmm->int_lat_max);
		fprintf(out, "%-8u %-16.16s %5d %9.0f", g->guest->pid, g->guest->name, g->vcpus,
			g->interval / interval_s);
		for (int c = 0; c < NR_CLASSES; c++)
			if (class_traced_here(c))
				fprintf(out, " %8.0f", g->classes[c].interval / interval_s);
		fprintf(out, "  %-24.24s %-19s %-19s", top, exit_lat, vmm_lat);
		time_cells(out, &g->time, sum.time_flags);
		fputc('\n', out);
	}
	fputc('\n', out);
	fflush(out);
	summary_free(&sum);
}

/* --per-vcpu: each vCPU thread of guest g on its own, as a guest is shown. */
static void render_vcpus(FILE *out, const struct trap_table *s, const struct guest *g,
			 const struct detail_view *view, enum code_order order)
{
	struct sink sink = file_sink(out);

	for (size_t t = 0; t < s->nr_threads; t++) {
		struct trap_table one;
		struct summary sum;
		char vcpu[16] = "vCPU ?";

		if (&s->guests[s->threads[t].guest] != g)
			continue;
		if (table_select_thread(&one, s, t) || summary_build_all(&sum, &one, order)) {
			table_free(&one);
			fprintf(stderr, "kvmprof: out of memory for the per-vCPU summary\n");
			return;
		}
		if (s->threads[t].vcpu >= 0)
			snprintf(vcpu, sizeof(vcpu), "vCPU %d", s->threads[t].vcpu);
		fprintf(out, "\n  %s, thread %u: %llu traps\n", vcpu, s->threads[t].tid,
			(unsigned long long)sum.guests[0].total);
		render_guest_detail(&sink, &sum.guests[0], view);
		summary_free(&sum);
		table_free(&one);
	}
}

void report_summary(FILE *out, const struct trap_table *s, double elapsed_s, const struct summary_view *sv)
{
	struct detail_view view = { .seconds = elapsed_s, .top = sv->top };
	struct sink sink = file_sink(out);
	struct summary sum;

	if (summary_build_all(&sum, s, sv->order)) {
		summary_free(&sum);
		fprintf(stderr, "kvmprof: out of memory for the summary\n");
		return;
	}
	view.time_flags = sum.time_flags;
	fprintf(out, "=== kvmprof summary: %.1f s, %zu guest%s, %llu dropped event%s%s%s ===\n",
		elapsed_s, sum.nr_guests, sum.nr_guests == 1 ? "" : "s",
		(unsigned long long)sum.drops, sum.drops == 1 ? "" : "s",
		sv->order != ORDER_COUNT ? ", codes by " : "", sv->order != ORDER_COUNT ?
		code_order_name(sv->order) : "");
	for (unsigned int d = 0; d < NR_DROPS; d++) {
		char advice[256];

		if (!s->drops[d])
			continue;
		drop_reason_advice(d, sv->max_keys, sv->max_guest_keys, advice, sizeof(advice));
		fprintf(out, "Dropped %llu event%s (%s): %s.\n", (unsigned long long)s->drops[d],
			s->drops[d] == 1 ? "" : "s", drop_reason_name(d), advice);
	}
	for (int c = 0; c < NR_CLASSES; c++)	/* chosen, but this kernel has no event for it */
		if (class_traced_here(c) && !class_attached(c))
			fprintf(out, "Class %s not traced: %s.\n", class_name(c), class_untraced_why(c));
	if (sum.counters_why)
		fprintf(out, "No check against KVM's counters: %s.\n", sum.counters_why);
	if (!sum.nr_guests)
		fprintf(out, "No KVM traps seen.\n");
	for (size_t i = 0; i < sum.nr_guests; i++) {
		const struct sum_guest *g = &sum.guests[i];

		fprintf(out, "\nGuest %u \"%s\"%s: %d vCPU thread%s, %llu traps, %.1f/s\n", g->guest->pid,
			g->guest->name, g->guest->ended ? " (ended)" : "", g->vcpus, g->vcpus == 1 ? "" : "s",
			(unsigned long long)g->total, g->total / elapsed_s);
		render_guest_detail(&sink, g, &view);
		if (sv->per_vcpu)
			render_vcpus(out, s, g->guest, &view, sv->order);
	}
	fflush(out);
	summary_free(&sum);
}
