// SPDX-License-Identifier: GPL-2.0
/* Plain text: the per-interval batch table and the final summary. */
#include <string.h>
#include <time.h>
#include "model/names.h"
#include "model/summary.h"
#include "present/lines.h"
#include "present/text.h"

void report_interval(FILE *out, const struct trap_table *s, double interval_s, double elapsed_s)
{
	struct summary sum;
	char now[16];
	time_t t = time(NULL);

	if (summary_build(&sum, s, NULL))
		return;
	strftime(now, sizeof(now), "%H:%M:%S", localtime(&t));
	fprintf(out, "%s  kvmprof  elapsed %.1fs  interval %.2fs  traps %.0f/s  guests %zu live, %zu ended"
		"  dropped %llu\n", now, elapsed_s, interval_s, sum.interval / interval_s, sum.live,
		sum.nr_guests - sum.live, (unsigned long long)sum.drops);
	fprintf(out, "%-8s %-16s %5s %9s", "PID", "GUEST", "VCPUS", "TRAPS/s");
	for (int c = 0; c < NR_CLASSES; c++)	/* only the classes this architecture has */
		if (class_traced_here(c))
			fprintf(out, " %8s", class_table[c].column);
	fprintf(out, "  %-24s %-19s %-19s\n", "TOP CODE", "EXIT AVG/MAX", "VMM AVG/MAX");
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
		fprintf(out, "  %-24.24s %-19s %-19s\n", top, exit_lat, vmm_lat);
	}
	fputc('\n', out);
	fflush(out);
	summary_free(&sum);
}

void report_summary(FILE *out, const struct trap_table *s, double elapsed_s, int top)
{
	struct detail_view view = { .seconds = elapsed_s, .top = top };
	struct sink sink = file_sink(out);
	struct summary sum;

	if (summary_build_all(&sum, s)) {
		summary_free(&sum);
		fprintf(stderr, "kvmprof: out of memory for the summary\n");
		return;
	}
	fprintf(out, "=== kvmprof summary: %.1f s, %zu guest%s, %llu dropped event%s ===\n",
		elapsed_s, sum.nr_guests, sum.nr_guests == 1 ? "" : "s",
		(unsigned long long)sum.drops, sum.drops == 1 ? "" : "s");
	for (int c = 0; c < NR_CLASSES; c++)	/* chosen, but this kernel has no event for it */
		if (class_traced_here(c) && !class_attached(c))
			fprintf(out, "Class %s not traced: %s.\n", class_name(c), class_untraced_why(c));
	if (!sum.nr_guests)
		fprintf(out, "No KVM traps seen.\n");
	for (size_t i = 0; i < sum.nr_guests; i++) {
		const struct sum_guest *g = &sum.guests[i];

		fprintf(out, "\nGuest %u \"%s\"%s: %d vCPU thread%s, %llu traps, %.1f/s\n", g->guest->pid,
			g->guest->name, g->guest->ended ? " (ended)" : "", g->vcpus, g->vcpus == 1 ? "" : "s",
			(unsigned long long)g->total, g->total / elapsed_s);
		render_guest_detail(&sink, g, &view);
	}
	fflush(out);
	summary_free(&sum);
}
