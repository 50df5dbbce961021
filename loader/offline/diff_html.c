// SPDX-License-Identifier: GPL-2.0
/* kvmprof diff -o: the comparison as one self-contained HTML page (the
 * report's style and escaping; no script, nothing fetched).  Every row
 * carries its numbers as data- attributes. */
#include <math.h>
#include <string.h>
#include "model/classes.h"
#include "offline/diff.h"
#include "offline/html_report.h"
#include "model/vcpu_time.h"

static const char diff_css[] =
	"td.lv1{padding-left:24px}td.lv2{padding-left:42px}tr.more td{color:#666;font-style:italic}"
	"tr.lv0 td{font-weight:600}td.up{color:#a0341f}td.down{color:#1d5fa8}"
	".verdict{font-weight:600}";

static const char *const level_names[] = { "class", "code", "detail" };

/* A figure as an attribute: "" where that side has none. */
static void attr_num(FILE *f, const char *name, bool has, double v)
{
	if (has)
		fprintf(f, " %s=\"%.17g\"", name, v);
	else
		fprintf(f, " %s=\"\"", name);
}

static void row_attrs(FILE *f, const struct diff_row *r)
{
	fprintf(f, "<tr class=\"lv%d%s\" data-level=\"%s\" data-class=\"%s\"", r->level,
		r->more ? " more" : "", r->more ? "more" : level_names[r->level], class_name(r->class));
	if (r->level >= DIFF_CODE)
		fprintf(f, " data-code=\"0x%llx\"", (unsigned long long)r->code);
	if (r->level == DIFF_DETAIL)
		fprintf(f, " data-detail=\"0x%llx\"", (unsigned long long)r->detail);
	if (r->more)
		fprintf(f, " data-more=\"%zu\"", r->more);
	for (int s = 0; s < 2; s++) {
		const struct diff_side *d = &r->side[s];
		char name[32];

		snprintf(name, sizeof(name), "data-count-%c", 'a' + s);
		fprintf(f, " %s=\"%llu\"", name, (unsigned long long)d->count);
		snprintf(name, sizeof(name), "data-rate-%c", 'a' + s);
		attr_num(f, name, d->rate >= 0, d->rate);
		snprintf(name, sizeof(name), "data-p50-%c", 'a' + s);
		attr_num(f, name, d->lat_count > 0 && d->p50 >= 0, d->p50);
		snprintf(name, sizeof(name), "data-p99-%c", 'a' + s);
		attr_num(f, name, d->lat_count > 0 && d->p99 >= 0, d->p99);
	}
	fputc('>', f);
}

static void name_td(FILE *f, const struct diff_row *r)
{
	char more[64];

	fprintf(f, "<td class=\"l name lv%d\">", r->level);
	if (r->level == DIFF_CLASS)
		html_swatch(f, r->class);
	html_text(f, r->more ? diff_more_label(r, more, sizeof(more)) : r->name ? r->name : "");
	fputs("</td>", f);
}

/* A ratio cell, coloured by its direction. */
static void ratio_td(FILE *f, const struct diff_row *r, enum diff_figure fig)
{
	char buf[32];
	const char *t = diff_ratio_text(r, fig, buf, sizeof(buf));
	double a, b;
	bool has = diff_figure(&r->side[0], fig, &a) && diff_figure(&r->side[1], fig, &b);

	fprintf(f, "<td class=\"%s\">", !has || a == b ? "" : b > a ? "up" : "down");
	html_text(f, t);
	fputs("</td>", f);
}

static void count_row(FILE *f, const struct diff *d, const struct diff_row *r)
{
	char a[32], b[32];

	row_attrs(f, r);
	name_td(f, r);
	fprintf(f, "<td>%llu</td><td>%llu</td>", (unsigned long long)r->side[0].count,
		(unsigned long long)r->side[1].count);
	ratio_td(f, r, FIGURE_COUNT);
	fprintf(f, "<td>%s</td>", diff_count_delta(r->side[0].count, r->side[1].count, a, sizeof(a)));
	if (d->rates) {
		fprintf(f, "<td>%s</td>", diff_rate_text(r->side[0].rate, a, sizeof(a)));
		fprintf(f, "<td>%s</td>", diff_rate_text(r->side[1].rate, b, sizeof(b)));
		ratio_td(f, r, FIGURE_RATE);
	}
	fprintf(f, "<td>%s</td>", diff_pct_text(r->side[0].share, a, sizeof(a)));
	fprintf(f, "<td>%s</td></tr>\n", diff_pct_text(r->side[1].share, b, sizeof(b)));
}

static void latency_row(FILE *f, const struct diff_row *r)
{
	const struct diff_side *s = r->side;
	char c[32];

	row_attrs(f, r);
	name_td(f, r);
	fprintf(f, "<td>%s</td>", diff_ns_text(&s[0], s[0].p50, c, sizeof(c)));
	fprintf(f, "<td>%s</td>", diff_ns_text(&s[1], s[1].p50, c, sizeof(c)));
	fprintf(f, "<td>%s</td>", diff_ns_text(&s[0], s[0].p99, c, sizeof(c)));
	fprintf(f, "<td>%s</td>", diff_ns_text(&s[1], s[1].p99, c, sizeof(c)));
	ratio_td(f, r, FIGURE_P99);
	fputs("</tr>\n", f);
}

/* Each state's share of the vCPU threads' wall time, A and B. */
static void time_table(FILE *f, const struct diff_guest *dg)
{
	char a[32], b[32], ratio[32];

	if (!dg->timed[0] && !dg->timed[1])
		return;
	fputs("<h3>vCPU time (% of the threads' wall time)</h3>\n<table class=\"time\"><tr>"
	      "<th class=\"l\">state</th><th>A</th><th>B</th><th>diff</th><th>ratio</th></tr>\n", f);
	for (int c = 0; c < NR_TIME_COLUMNS; c++) {
		const double x = dg->time_share[0][c], y = dg->time_share[1][c];
		bool both = dg->timed[0] && dg->timed[1];

		if (!dg->has_time[c])
			continue;
		fprintf(f, "<tr data-state=\"%s\"", time_column_name(c));
		for (int s = 0; s < 2; s++)
			attr_num(f, s ? "data-share-b" : "data-share-a", dg->timed[s], dg->time_share[s][c]);
		fprintf(f, "><td class=\"l\">%s</td><td>%s</td><td>%s</td>", time_column_heading(c),
			diff_pct_text(dg->timed[0] ? x : -1, a, sizeof(a)),
			diff_pct_text(dg->timed[1] ? y : -1, b, sizeof(b)));
		if (both)
			fprintf(f, "<td>%+.2f</td><td>%s</td></tr>\n", y - x, diff_ratio_of(x, y, ratio, sizeof(ratio)));
		else
			fputs("<td></td><td></td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void guest_tables(FILE *f, const struct diff *d, const struct diff_guest *dg)
{
	fputs("<table class=\"counts\"><tr><th class=\"l\">class / code</th><th>A</th><th>B</th>"
	      "<th>ratio</th><th>diff</th>", f);
	if (d->rates)
		fputs("<th>A/s</th><th>B/s</th><th>ratio</th>", f);
	fputs("<th>share A</th><th>share B</th></tr>\n", f);
	for (size_t i = 0; i < dg->nr; i++)
		count_row(f, d, &dg->rows[i]);
	fputs("</table>\n", f);
	time_table(f, dg);
	if (!dg->latency)
		return;
	fputs("<h3>Latency (estimated from the log2 buckets)</h3>\n<table class=\"latency\"><tr>"
	      "<th class=\"l\">class / code</th><th>p50 A</th><th>p50 B</th><th>p99 A</th>"
	      "<th>p99 B</th><th>p99 ratio</th></tr>\n", f);
	for (size_t i = 0; i < dg->nr; i++)
		if (dg->rows[i].side[0].lat_count || dg->rows[i].side[1].lat_count)
			latency_row(f, &dg->rows[i]);
	fputs("</table>\n", f);
}

static void guest_section(FILE *f, const struct diff *d, const struct diff_guest *dg, size_t i)
{
	const struct guest_row *m = dg->match;

	fprintf(f, "<section class=\"guest\" id=\"g%zu\" data-name=\"", i);
	html_text(f, m->name);
	fprintf(f, "\" data-nth=\"%d\" data-count-a=\"%llu\" data-count-b=\"%llu\"", m->nth,
		(unsigned long long)dg->total[0].count, (unsigned long long)dg->total[1].count);
	for (int s = 0; s < 2; s++)
		if (m->g[s])
			fprintf(f, " data-pid-%c=\"%u\"", 'a' + s, m->g[s]->pid);
	fputs(">\n<h2>Guest &ldquo;", f);
	html_text(f, m->name);
	if (m->nth > 1)
		fprintf(f, " (%d)", m->nth);
	fputs("&rdquo;", f);
	if (m->map && m->g[1]) {
		fputs(" = &ldquo;", f);
		html_text(f, m->g[1]->name);
		fputs("&rdquo; in B", f);
	}
	fputs("</h2>\n<p class=\"meta\">", f);
	for (int s = 0; s < 2; s++)
		if (m->g[s])
			fprintf(f, "%s%c: pid %u, %llu traps", s ? "; " : "", 'A' + s, m->g[s]->pid,
				(unsigned long long)dg->total[s].count);
		else
			fprintf(f, "%snot in %c", s ? "; " : "", 'A' + s);
	fputs(".</p>\n", f);
	guest_tables(f, d, dg);
	fputs("</section>\n", f);
}

static void sources(FILE *f, const struct diff *d)
{
	fputs("<table class=\"runs\"><tr><th>run</th><th class=\"l\">files</th><th>seconds</th>"
	      "<th>guests</th></tr>\n", f);
	for (int s = 0; s < 2; s++) {
		const struct run *r = &d->rs->run[s];

		fprintf(f, "<tr data-run=\"%c\"><td>%c</td><td class=\"l name\"><code>", 'a' + s, 'A' + s);
		html_text(f, r->hist->path);
		fputs("</code>", f);
		if (r->series) {
			fputs(" and <code>", f);
			html_text(f, r->series->path);
			fprintf(f, "</code>%s", r->series_found ? " (found beside it)" : "");
		}
		if (d->elapsed[s] > 0)
			fprintf(f, "</td><td>%.1f</td>", d->elapsed[s]);
		else
			fputs(" (no series)</td><td></td>", f);
		fprintf(f, "<td>%zu</td></tr>\n", r->d.nr_guests);
	}
	fputs("</table>\n<p class=\"meta\">", f);
	html_text(f, diff_rates_note(d));
	fputs(".<br>", f);
	html_text(f, DIFF_QUANTILE_NOTE);
	fputs(".</p>\n", f);
}

static void verdict(FILE *f, const struct diff *d)
{
	const struct diff_verdict *v = &d->verdict;

	if (d->fail_above < 0)
		return;
	fprintf(f, "<p class=\"verdict\" data-above=\"%zu\">--fail-above %g%% on the %s: ", v->above,
		d->fail_above, diff_figure_name(d->fail_on));
	if (!v->above) {
		fputs("no code changed more.</p>\n", f);
		return;
	}
	fprintf(f, "%zu code%s changed more; the most: guest &ldquo;", v->above, v->above == 1 ? "" : "s");
	html_text(f, v->match->name);
	fprintf(f, "&rdquo;, %s ", class_name(v->worst.class));
	html_text(f, v->worst.name ? v->worst.name : "");
	if (isinf(v->worst_pct))
		fputs(" (new).</p>\n", f);
	else
		fprintf(f, " (%+.2f%%).</p>\n", v->worst_pct);
}

void diff_write_html(FILE *f, const struct diff *d)
{
	html_page_start(f, "kvmprof diff", diff_css);
	fputs("<p class=\"meta\">Run B against run A, per guest (matched by name), class, code and "
	      "detail, biggest changes first.</p>\n", f);
	sources(f, d);
	verdict(f, d);
	if (!d->nr_guests)
		fputs("<p class=\"meta\">Neither run traced a trap.</p>\n", f);
	for (size_t i = 0; i < d->nr_guests; i++)
		guest_section(f, d, &d->guests[i], i);
	html_page_end(f, "kvmprof diff", NULL);
}
