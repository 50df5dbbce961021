// SPDX-License-Identifier: GPL-2.0
/* kvmprof diff's text table (stdout): per guest its rows of counts (and
 * rates, shares), then those with latencies; names escaped. */
#include <math.h>
#include <string.h>
#include "model/classes.h"
#include "offline/diff.h"
#include "present/lines.h"	/* fit_text */
#include "model/vcpu_time.h"
#include "util/text.h"

#define NAME_MIN 28
#define NAME_MAX_W 60

/* "  pio", "    out 0x3f8", "      ... 3 more details": a row's first cell. */
static void name_cell(const struct diff_row *r, char *buf, size_t size)
{
	char name[512], shown[1024];

	if (r->more)
		diff_more_label(r, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "%s", r->name ? r->name : "");
	escape_text(name, shown, sizeof(shown));
	snprintf(buf, size, "%*s%s", 2 * (int)r->level, "", shown);
}

static int name_width(const struct diff_guest *dg)
{
	int w = NAME_MIN;

	for (size_t i = 0; i < dg->nr; i++) {
		char cell[1100];
		int n;

		name_cell(&dg->rows[i], cell, sizeof(cell));
		n = strlen(cell);
		if (n > w)
			w = n < NAME_MAX_W ? n : NAME_MAX_W;
	}
	return w;
}

static void count_line(FILE *f, const struct diff *d, const struct diff_row *r, int w)
{
	char name[1100], a[32], b[32], c[32], e[32], g[32];

	name_cell(r, name, sizeof(name));
	fit_text(name, w);
	fprintf(f, "  %-*s %12llu %12llu %8s %12s", w, name, (unsigned long long)r->side[0].count,
		(unsigned long long)r->side[1].count, diff_ratio_text(r, FIGURE_COUNT, a, sizeof(a)),
		diff_count_delta(r->side[0].count, r->side[1].count, b, sizeof(b)));
	if (d->rates)
		fprintf(f, " %12s %12s %8s", diff_rate_text(r->side[0].rate, c, sizeof(c)),
			diff_rate_text(r->side[1].rate, e, sizeof(e)), diff_ratio_text(r, FIGURE_RATE, g, sizeof(g)));
	fprintf(f, " %8s %8s\n", diff_pct_text(r->side[0].share, a, sizeof(a)),
		diff_pct_text(r->side[1].share, b, sizeof(b)));
}

static void latency_line(FILE *f, const struct diff_row *r, int w)
{
	const struct diff_side *s = r->side;
	char name[1100], c[4][32], ratio[32];

	name_cell(r, name, sizeof(name));
	fit_text(name, w);
	fprintf(f, "  %-*s %10s %10s %10s %10s %8s\n", w, name, diff_ns_text(&s[0], s[0].p50, c[0], 32),
		diff_ns_text(&s[1], s[1].p50, c[1], 32), diff_ns_text(&s[0], s[0].p99, c[2], 32),
		diff_ns_text(&s[1], s[1].p99, c[3], 32), diff_ratio_text(r, FIGURE_P99, ratio, sizeof(ratio)));
}

/* Each state's share of the vCPU threads' wall time, A and B. */
static void time_table(FILE *f, const struct diff_guest *dg, int w)
{
	char a[32], b[32], delta[32], ratio[32];

	if (!dg->timed[0] && !dg->timed[1])
		return;
	fprintf(f, "  %-*s %10s %10s %10s %8s\n", w, "VCPU TIME (% of wall)", "A", "B", "DIFF", "RATIO");
	for (int c = 0; c < NR_TIME_COLUMNS; c++) {
		const double *x = dg->time_share[0], *y = dg->time_share[1];

		if (!dg->has_time[c])
			continue;
		if (dg->timed[0] && dg->timed[1])
			snprintf(delta, sizeof(delta), "%+.2f", y[c] - x[c]);
		else
			snprintf(delta, sizeof(delta), "-");
		fprintf(f, "  %-*s %10s %10s %10s %8s\n", w, time_column_heading(c),
			diff_pct_text(dg->timed[0] ? x[c] : -1, a, sizeof(a)),
			diff_pct_text(dg->timed[1] ? y[c] : -1, b, sizeof(b)), delta,
			dg->timed[0] && dg->timed[1] ? diff_ratio_of(x[c], y[c], ratio, sizeof(ratio)) : "");
	}
}

/* "guest web (A pid 12, B pid 34): 1036 -> 1606 traps (1.55x, +570)" */
static void guest_heading(FILE *f, const struct diff *d, const struct diff_guest *dg)
{
	const struct guest_row *m = dg->match;
	struct diff_row total = { .side = { dg->total[0], dg->total[1] } };
	char shown[1024], a[32], b[32];

	escape_text(m->name, shown, sizeof(shown));
	fprintf(f, "\nguest %s", shown);
	if (m->nth > 1)
		fprintf(f, " (%d)", m->nth);
	if (m->map) {
		escape_text(m->g[1] ? m->g[1]->name : "", shown, sizeof(shown));
		fprintf(f, " = %s in B (--map)", shown);
	}
	for (int s = 0; s < 2; s++)
		if (m->g[s])
			fprintf(f, "%s%c pid %u", s ? ", " : " (", 'A' + s, m->g[s]->pid);
		else
			fprintf(f, "%snot in %c", s ? ", " : " (", 'A' + s);
	fprintf(f, "): %llu -> %llu traps (%s, %s)", (unsigned long long)dg->total[0].count,
		(unsigned long long)dg->total[1].count, diff_ratio_text(&total, FIGURE_COUNT, a, sizeof(a)),
		diff_count_delta(dg->total[0].count, dg->total[1].count, b, sizeof(b)));
	if (d->rates)
		fprintf(f, ", %.1f/s -> %.1f/s (%s)", dg->total[0].rate, dg->total[1].rate,
			diff_ratio_text(&total, FIGURE_RATE, a, sizeof(a)));
	fputc('\n', f);
}

static void guest_tables(FILE *f, const struct diff *d, const struct diff_guest *dg)
{
	int w = name_width(dg);

	fprintf(f, "  %-*s %12s %12s %8s %12s", w, "CLASS / CODE", "A", "B", "RATIO", "DIFF");
	if (d->rates)
		fprintf(f, " %12s %12s %8s", "A/s", "B/s", "RATIO");
	fprintf(f, " %8s %8s\n", "SHARE A", "SHARE B");
	for (size_t i = 0; i < dg->nr; i++)
		count_line(f, d, &dg->rows[i], w);
	time_table(f, dg, w);
	if (!dg->latency)
		return;
	fprintf(f, "  %-*s %10s %10s %10s %10s %8s\n", w, "LATENCY (estimated)", "P50 A", "P50 B",
		"P99 A", "P99 B", "RATIO");
	for (size_t i = 0; i < dg->nr; i++)
		if (dg->rows[i].side[0].lat_count || dg->rows[i].side[1].lat_count)
			latency_line(f, &dg->rows[i], w);
}

static void run_line(FILE *f, const struct diff *d, int s)
{
	const struct run *r = &d->rs->run[s];
	char shown[1024];

	escape_text(r->hist->path, shown, sizeof(shown));
	fprintf(f, "  %c: %s, %zu guest%s", 'A' + s, shown, r->d.nr_guests, r->d.nr_guests == 1 ? "" : "s");
	if (r->series) {
		escape_text(r->series->path, shown, sizeof(shown));
		fprintf(f, ", series %s%s, %.1f s", shown, r->series_found ? " (found beside it)" : "",
			d->elapsed[s]);
	} else {
		fputs(", no series", f);
	}
	fputc('\n', f);
}

void diff_write_text(FILE *f, const struct diff *d)
{
	fputs("kvmprof diff: B against A\n", f);
	run_line(f, d, 0);
	run_line(f, d, 1);
	fprintf(f, "  %s\n  %s\n", diff_rates_note(d), DIFF_QUANTILE_NOTE);
	if (!d->nr_guests)
		fputs("\nneither run traced a trap\n", f);
	for (size_t i = 0; i < d->nr_guests; i++) {
		guest_heading(f, d, &d->guests[i]);
		guest_tables(f, d, &d->guests[i]);
	}
}
