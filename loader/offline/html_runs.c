// SPDX-License-Identifier: GPL-2.0
/* kvmprof report of several runs: one page with the runs side by side (their
 * totals, every guest's traps, rate and share in each run, the trap mix of
 * each run), the guests matched by name as kvmprof diff matches them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "model/classes.h"
#include "offline/html_report.h"
#include "offline/runs.h"

/* The mix chart's plot area, in its view box. */
#define BARS_W 940.0
#define BARS_H 240.0
#define BARS_X0 64.0
#define BARS_Y0 10.0
#define BARS_PLOT_W (BARS_W - BARS_X0 - 16)
#define BARS_PLOT_H (BARS_H - BARS_Y0 - 40)

/* One set of traps per run (all guests', or one guest's), by class. */
struct per_run {
	__u64 class_total[MAX_RUNS][NR_CLASSES];
	__u64 total[MAX_RUNS];
	bool present[MAX_RUNS];
};

static void add_guest(struct per_run *p, int run, const struct run_guest *g)
{
	if (!g)
		return;
	p->present[run] = true;
	p->total[run] += g->total;
	for (int c = 0; c < NR_CLASSES; c++)
		p->class_total[run][c] += g->class_total[c];
}

/* Per run a bar of 100%, stacked by class share. */
static void mix_runs_chart(FILE *f, const struct runs *rs, const struct per_run *p, const char *id)
{
	double slot = BARS_PLOT_W / rs->nr, bw = slot * 0.6 < 120 ? slot * 0.6 : 120;
	bool used[NR_CLASSES] = {};

	fprintf(f, "<svg class=\"runmix\" data-of=\"%s\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
		"height=\"%.0f\" role=\"img\" aria-label=\"trap mix per run\">\n", id, BARS_W, BARS_H,
		BARS_W, BARS_H);
	html_y_axis(f, BARS_X0, BARS_Y0, BARS_PLOT_W, BARS_PLOT_H, 100, 25, "% of traps");
	for (int r = 0; r < rs->nr; r++) {
		double x = BARS_X0 + r * slot + (slot - bw) / 2, y = BARS_Y0 + BARS_PLOT_H;

		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">run %d%s</text>\n",
			x + bw / 2, y + 16, r + 1, p->present[r] ? "" : " (none)");
		for (int c = 0; c < NR_CLASSES && p->total[r]; c++) {
			__u64 n = p->class_total[r][c];
			double share = 100.0 * n / p->total[r], h = share / 100 * BARS_PLOT_H;

			if (!n)
				continue;
			used[c] = true;
			y -= h;
			fprintf(f, "<rect class=\"k%d\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
				"data-run=\"%d\" data-class=\"%s\" data-count=\"%llu\" data-share=\"%.4f\">"
				"<title>run %d: %s %llu traps (%.2f%%)</title></rect>\n", c, x, y, bw, h,
				r + 1, class_name(c), (unsigned long long)n, share, r + 1, class_name(c),
				(unsigned long long)n, share);
		}
	}
	fputs("</svg>\n", f);
	html_legend(f, used);
}

static void runs_table(FILE *f, const struct runs *rs, const struct per_run *all)
{
	fputs("<table class=\"runs\"><tr><th>run</th><th class=\"l\">files</th><th>seconds</th>"
	      "<th>guests</th><th>traps</th><th>traps/s</th></tr>\n", f);
	for (int r = 0; r < rs->nr; r++) {
		const struct run *run = &rs->run[r];
		double len = run_elapsed(&run->d);

		fprintf(f, "<tr data-run=\"%d\" data-total=\"%llu\" data-guests=\"%zu\"><td>%d</td>"
			"<td class=\"l name\"><code>", r + 1, (unsigned long long)all->total[r],
			run->d.nr_guests, r + 1);
		html_text(f, run->hist->path);
		fputs("</code>", f);
		if (run->series) {
			fputs(" and <code>", f);
			html_text(f, run->series->path);
			fputs("</code>", f);
		}
		if (len > 0)
			fprintf(f, "</td><td>%.1f</td>", len);
		else
			fputs(" (no series)</td><td></td>", f);
		fprintf(f, "<td>%zu</td><td>%llu</td>", run->d.nr_guests, (unsigned long long)all->total[r]);
		if (len > 0)
			fprintf(f, "<td>%.1f</td></tr>\n", all->total[r] / len);
		else
			fputs("<td></td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* A guest's name, and its place among the guests of that name. */
static void row_name(FILE *f, const struct guest_row *row)
{
	html_text(f, row->name);
	if (row->nth > 1)
		fprintf(f, " (%d)", row->nth);
}

/* Per guest, per run: traps, traps/s, share of the run's traps. */
static void guests_table(FILE *f, const struct runs *rs, const struct guest_row *const *order,
			 size_t nr, const struct per_run *all)
{
	fputs("<table class=\"guests\"><tr><th class=\"l\" rowspan=\"2\">guest</th>", f);
	for (int r = 0; r < rs->nr; r++)
		fprintf(f, "<th colspan=\"3\">run %d</th>", r + 1);
	fputs("</tr>\n<tr>", f);
	for (int r = 0; r < rs->nr; r++)
		fputs("<th>traps</th><th>traps/s</th><th>share</th>", f);
	fputs("</tr>\n", f);
	for (size_t i = 0; i < nr; i++) {
		fputs("<tr class=\"guest\" data-name=\"", f);
		html_text(f, order[i]->name);
		fprintf(f, "\" data-nth=\"%d\"><td class=\"l name\">", order[i]->nth);
		if (i < HTML_MAX_SECTIONS)
			fprintf(f, "<a href=\"#r%zu\">", i);
		row_name(f, order[i]);
		fputs(i < HTML_MAX_SECTIONS ? "</a></td>" : "</td>", f);
		for (int r = 0; r < rs->nr; r++) {
			const struct run_guest *g = order[i]->g[r];
			double len = run_elapsed(&rs->run[r].d);

			if (!g) {
				fprintf(f, "<td data-run=\"%d\" colspan=\"3\">&ndash;</td>", r + 1);
				continue;
			}
			fprintf(f, "<td data-run=\"%d\" data-pid=\"%u\" data-count=\"%llu\">%llu</td>", r + 1,
				g->pid, (unsigned long long)g->total, (unsigned long long)g->total);
			if (len > 0)
				fprintf(f, "<td>%.1f</td>", g->total / len);
			else
				fputs("<td></td>", f);
			fprintf(f, "<td>%.2f%%</td>", all->total[r] ? 100.0 * g->total / all->total[r] : 0);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* A guest: its traps per class in each run, and its mix per run. */
static void guest_section(FILE *f, const struct runs *rs, const struct guest_row *row, size_t i)
{
	struct per_run p = {};
	char id[32];

	for (int r = 0; r < rs->nr; r++)
		add_guest(&p, r, row->g[r]);
	fprintf(f, "<section class=\"guest\" id=\"r%zu\" data-name=\"", i);
	html_text(f, row->name);
	fprintf(f, "\" data-nth=\"%d\">\n<h2>Guest &ldquo;", row->nth);
	row_name(f, row);
	fputs("&rdquo;</h2>\n<table class=\"classes\"><tr><th class=\"l\">class</th>", f);
	for (int r = 0; r < rs->nr; r++)
		fprintf(f, "<th>run %d</th>", r + 1);
	fputs("</tr>\n", f);
	for (int c = 0; c < NR_CLASSES; c++) {
		bool any = false;

		for (int r = 0; r < rs->nr; r++)
			any |= p.class_total[r][c] > 0;
		if (!any)
			continue;
		fprintf(f, "<tr data-class=\"%s\"><td class=\"l\">", class_name(c));
		html_swatch(f, c);
		fputs(class_name(c), f);
		fputs("</td>", f);
		for (int r = 0; r < rs->nr; r++)
			if (row->g[r])
				fprintf(f, "<td data-run=\"%d\" data-count=\"%llu\">%llu</td>", r + 1,
					(unsigned long long)p.class_total[r][c],
					(unsigned long long)p.class_total[r][c]);
			else
				fprintf(f, "<td data-run=\"%d\">&ndash;</td>", r + 1);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n<h3>Trap mix per run</h3>\n", f);
	snprintf(id, sizeof(id), "r%zu", i);
	mix_runs_chart(f, rs, &p, id);
	fputs("</section>\n", f);
}

static __u64 row_total(const struct guest_row *r)
{
	__u64 t = 0;

	for (int i = 0; i < MAX_RUNS; i++)
		t += r->g[i] ? r->g[i]->total : 0;
	return t;
}

static int by_total_desc(const void *a, const void *b)
{
	const struct guest_row *x = *(const struct guest_row *const *)a;
	const struct guest_row *y = *(const struct guest_row *const *)b;
	__u64 tx = row_total(x), ty = row_total(y);
	int c;

	if (tx != ty)
		return tx < ty ? 1 : -1;
	c = strcmp(x->name, y->name);
	return c ? c : x->nth - y->nth;
}

int html_write_runs(FILE *f, const struct runs *rs)
{
	struct guest_rows rows;
	const struct guest_row **order = NULL;
	struct per_run all = {};
	int rc = 0;

	html_page_start(f, "kvmprof report", NULL);
	if (runs_match(rs, NULL, 0, &rows) ||
	    !(order = calloc(rows.nr ? rows.nr : 1, sizeof(*order)))) {
		fputs("<p class=\"note\">Out of memory.</p></main></body></html>\n", f);
		rc = -ENOMEM;
		goto out;
	}
	for (int r = 0; r < rs->nr; r++)
		for (size_t i = 0; i < rs->run[r].d.nr_guests; i++)
			add_guest(&all, r, &rs->run[r].d.guests[i]);
	for (size_t i = 0; i < rows.nr; i++)
		order[i] = &rows.v[i];
	qsort(order, rows.nr, sizeof(*order), by_total_desc);
	fprintf(f, "<p class=\"meta\">%d runs side by side; guests matched by name (the nth guest of "
		"a name in one run with the nth in another).</p>\n", rs->nr);
	runs_table(f, rs, &all);
	fputs("<h3>Trap mix per run</h3>\n", f);
	mix_runs_chart(f, rs, &all, "all");
	fputs("<h3>Guests</h3>\n", f);
	guests_table(f, rs, order, rows.nr, &all);
	for (size_t i = 0; i < rows.nr && i < HTML_MAX_SECTIONS; i++)
		guest_section(f, rs, order[i], i);
	if (rows.nr > HTML_MAX_SECTIONS)
		fprintf(f, "<p class=\"meta\">The %d busiest guests have a section; the other %zu are "
			"in the table above.</p>\n", HTML_MAX_SECTIONS, rows.nr - HTML_MAX_SECTIONS);
	html_page_end(f, "kvmprof report", "Hover a bar for its exact numbers; kvmprof diff compares "
		      "two runs code by code.");
out:
	free(order);
	guest_rows_free(&rows);
	return rc;
}
