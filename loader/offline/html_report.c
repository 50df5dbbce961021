// SPDX-License-Identifier: GPL-2.0
/* kvmprof report: a finished run's CSV files as one self-contained HTML page
 * (inline CSS and SVG; no script, nothing fetched). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "offline/html_report.h"
#include "model/names.h"
#include "cli/options.h"
#include "util/outfile.h"
#include "model/latency.h"
#include "present/lines.h"

#define MAX_BARS 300		/* bars of a time chart; more intervals share a bar */

void html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				fprintf(f, "\\x%02x", c);
			else
				fputc(c, f);
		}
	}
}

void html_nice_axis(double max, int ticks, double *top, double *step)
{
	double raw = max > 0 ? max / ticks : 1, mag = pow(10, floor(log10(raw))), r = raw / mag;

	*step = (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
	*top = ceil(max / *step) * *step;
	if (*top <= 0)
		*top = *step;
}

/* 1500 as "1.5k", 2000000 as "2M": axis labels only; the exact numbers are
 * in the tables and the bars' titles. */
static const char *short_num(double v, char *buf, size_t size)
{
	static const char *const unit[] = { "", "k", "M", "G", "T" };
	int u = 0;

	while (fabs(v) >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(buf, size, "%.*f%s", v == floor(v) ? 0 : 1, v, unit[u]);
	return buf;
}

/* A bucket's lower bound, short: "512ns", "131us", "1.0ms", "2.1s". */
static const char *short_ns(__u64 ns, char *buf, size_t size)
{
	static const char *const unit[] = { "ns", "us", "ms", "s" };
	double v = ns;
	int u = 0;

	while (v >= 1000 && u < 3) {
		v /= 1000;
		u++;
	}
	snprintf(buf, size, "%.*f%s", v < 10 && u ? 1 : 0, v, unit[u]);
	return buf;
}

/* The vCPU time states' colours (.t0 ...), by column. */
static const char *const time_colors[NR_TIME_COLUMNS] = {
	[TCOL_GUEST] = "#2e7d32", [TCOL_EXIT] = "#c62828", [TCOL_KVM_RUN] = "#6a8f3a",
	[TCOL_VMM] = "#1565c0", [TCOL_HALTED] = "#b0bec5", [TCOL_PREEMPTED] = "#ef6c00",
	[TCOL_OUTSIDE] = "#e0e0e0",
};

static void write_style(FILE *f)
{
	fputs("<style>\n"
	      "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;"
	      "margin:0;background:#f6f7f9}\n"
	      "main{max-width:1000px;margin:0 auto;padding:16px 24px 48px}\n"
	      "h1{font-size:24px;margin:8px 0 4px}h2{font-size:19px;margin:0 0 4px}"
	      "h3{font-size:15px;margin:18px 0 6px;color:#333}\n"
	      ".meta{color:#555;margin:0 0 12px}.note{color:#8a5a00;background:#fff6e0;"
	      "padding:4px 8px;border-radius:4px;display:inline-block}\n"
	      "section.guest{background:#fff;border:1px solid #dde1e6;border-radius:8px;"
	      "padding:16px 20px;margin:18px 0}\n"
	      "table{border-collapse:collapse;font-variant-numeric:tabular-nums;margin:4px 0}\n"
	      "th,td{padding:3px 10px;border-bottom:1px solid #e8eaed;text-align:right;"
	      "white-space:nowrap}\n"
	      "th{font-weight:600;color:#444;background:#f0f2f5}td.l,th.l{text-align:left}\n"
	      "td.name{white-space:normal;word-break:break-all;max-width:340px}\n"
	      ".sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;"
	      "vertical-align:baseline}\n"
	      ".legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:2px 0 0 64px;font-size:13px}\n"
	      ".hists{display:flex;flex-wrap:wrap;gap:8px 24px}.hists figure{margin:0}\n"
	      "figcaption{font-size:13px;color:#444;margin-left:56px}\n"
	      "svg text{font:11px system-ui,sans-serif;fill:#555}svg .axis{stroke:#888}"
	      "svg .grid{stroke:#e6e8eb}svg text.label{fill:#333;font-size:12px}\n", f);
	for (int c = 0; c < NR_CLASSES; c++)
		fprintf(f, ".k%d{fill:%s;background:%s}", c, class_table[c].color, class_table[c].color);
	for (int c = 0; c < NR_TIME_COLUMNS; c++)
		fprintf(f, ".t%d{fill:%s;background:%s}", c, time_colors[c], time_colors[c]);
	fputs("\n</style>\n", f);
}

void html_swatch(FILE *f, int class)
{
	fprintf(f, "<span class=\"sw k%d\"></span>", class);
}

void html_legend(FILE *f, const bool used[NR_CLASSES])
{
	fputs("<div class=\"legend\">", f);
	for (int c = 0; c < NR_CLASSES; c++)
		if (used[c]) {
			html_swatch(f, c);
			fprintf(f, "<span>%s</span>", class_name(c));
		}
	fputs("</div>\n", f);
}

void html_page_start(FILE *f, const char *title, const char *css)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
	html_text(f, title);
	fputs("</title>\n", f);
	write_style(f);
	if (css)
		fprintf(f, "<style>\n%s\n</style>\n", css);
	fputs("</head>\n<body>\n<main>\n<h1>", f);
	html_text(f, title);
	fputs("</h1>\n", f);
}

void html_page_end(FILE *f, const char *by, const char *hint)
{
	fputs("<p class=\"meta\">Written by <code>", f);
	html_text(f, by);
	fputs("</code>.", f);
	if (hint) {
		fputc(' ', f);
		html_text(f, hint);
	}
	fputs("</p>\n</main>\n</body>\n</html>\n", f);
}

void html_y_axis(FILE *f, double x0, double y0, double w, double h, double top, double step,
		 const char *label)
{
	char buf[32];

	for (double v = 0; v <= top + step / 2; v += step) {
		double y = y0 + h - v / top * h;

		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
			x0, x0 + w, y, y);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", x0 - 6,
			y + 4, short_num(v, buf, sizeof(buf)));
	}
	fprintf(f, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x0, x0,
		y0, y0 + h);
	fprintf(f, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x0,
		x0 + w, y0 + h, y0 + h);
	fprintf(f, "<text class=\"label\" transform=\"translate(14 %.1f) rotate(-90)\" "
		"text-anchor=\"middle\">%s</text>\n", y0 + h / 2, label);
}

/* The trap mix chart's plot area, in its 940 x 250 view box. */
#define MIX_W 940.0
#define MIX_H 250.0
#define MIX_X0 64.0
#define MIX_Y0 10.0
#define MIX_PLOT_W (MIX_W - MIX_X0 - 16)
#define MIX_PLOT_H (MIX_H - MIX_Y0 - 42)

/* A time chart's bars: at most MAX_BARS, per_bar intervals each. */
static size_t intervals_per_bar(const struct run_data *d)
{
	return (d->nr_intervals + MAX_BARS - 1) / MAX_BARS;
}

/* Bar b of per_bar intervals: the seconds it spans, and its x extent in
 * the chart's plot area (a gap before it where it is wide enough). */
struct bar_span {
	double start, end, xa, xb;
};

static struct bar_span bar_span(const struct run_data *d, size_t per_bar, size_t b)
{
	double t_end = d->intervals[d->nr_intervals - 1].end_s;
	size_t first = b * per_bar, last = first + per_bar - 1;
	struct bar_span s;

	if (last >= d->nr_intervals)
		last = d->nr_intervals - 1;
	s.start = d->intervals[first].end_s - d->intervals[first].len_s;
	s.end = d->intervals[last].end_s;
	s.xa = MIX_X0 + (s.start > 0 ? s.start : 0) / t_end * MIX_PLOT_W;
	s.xb = MIX_X0 + s.end / t_end * MIX_PLOT_W;
	if (s.xb - s.xa > 4)
		s.xa += 1;
	return s;
}

/* Its bars: per_bar intervals each, their traps by class. */
struct mix_bars {
	size_t per_bar, nr;
	__u64 (*traps)[NR_CLASSES];
	double *len;		/* the seconds each spans */
	bool used[NR_CLASSES];	/* classes with traps */
	double max;		/* the highest traps/s */
};

static int mix_bars_sum(struct mix_bars *mb, const struct run_data *d, const struct run_guest *g)
{
	*mb = (struct mix_bars){ .per_bar = intervals_per_bar(d) };
	mb->nr = (d->nr_intervals + mb->per_bar - 1) / mb->per_bar;
	mb->traps = calloc(mb->nr, sizeof(*mb->traps));
	mb->len = calloc(mb->nr, sizeof(*mb->len));
	if (!mb->traps || !mb->len)
		return -ENOMEM;
	for (size_t i = 0; i < d->nr_intervals; i++)
		mb->len[i / mb->per_bar] += d->intervals[i].len_s;
	for (size_t p = 0; p < g->nr_points; p++)
		for (int c = 0; c < NR_CLASSES; c++) {
			mb->traps[g->points[p].interval / mb->per_bar][c] += g->points[p].count[c];
			mb->used[c] |= g->points[p].count[c] > 0;
		}
	for (size_t b = 0; b < mb->nr; b++) {
		__u64 sum = 0;

		for (int c = 0; c < NR_CLASSES; c++)
			sum += mb->traps[b][c];
		if (sum / mb->len[b] > mb->max)
			mb->max = sum / mb->len[b];
	}
	return 0;
}

/* x: seconds since the start, ticks at nice steps. */
static void mix_x_axis(FILE *f, double t_end)
{
	const double x0 = MIX_X0, y0 = MIX_Y0, w = MIX_PLOT_W, h = MIX_PLOT_H;
	double xtop, xstep;
	char buf[32];

	html_nice_axis(t_end, 8, &xtop, &xstep);
	/* by tick number, not by adding up steps: a run of 1e-300 s (a
	 * malformed series) must neither loop for ever nor draw a million */
	for (int i = 0; i <= 10 && i * xstep <= t_end * (1 + 1e-9); i++) {
		double t = i * xstep, x = x0 + t / t_end * w;

		fprintf(f, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x, x, y0 + h,
			y0 + h + 4, x, y0 + h + 16, short_num(t, buf, sizeof(buf)));
	}
	fprintf(f, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">seconds "
		"since the start</text>\n", x0 + w / 2, MIX_H - 6);
}

/* Bar b: its classes stacked, spanning its intervals' time; y up to top. */
static void mix_bar(FILE *f, const struct run_data *d, const struct mix_bars *mb, size_t b,
		    double top)
{
	const double h = MIX_PLOT_H;
	struct bar_span sp = bar_span(d, mb->per_bar, b);
	double start = sp.start, end = sp.end, xa = sp.xa, xb = sp.xb, y = MIX_Y0 + h;

	for (int c = 0; c < NR_CLASSES; c++) {
		__u64 n = mb->traps[b][c];
		double rate = n / mb->len[b], bh = rate / top * h;

		if (!n)
			continue;
		y -= bh;
		fprintf(f, "<rect class=\"k%d\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
			"height=\"%.2f\" data-class=\"%s\" data-count=\"%llu\" "
			"data-start=\"%.3f\" data-end=\"%.3f\"><title>%.3f–%.3f s: %s %llu traps "
			"(%.0f/s)</title></rect>\n", c, xa, y, xb - xa > 0.5 ? xb - xa : 0.5, bh,
			class_name(c), (unsigned long long)n, start, end, start, end,
			class_name(c), (unsigned long long)n, rate);
	}
}

/* Trap mix over time: per interval (or group of intervals) a bar of
 * traps/s stacked by class, spanning the interval's time. */
static void mix_chart(FILE *f, const struct run_data *d, const struct run_guest *g)
{
	struct mix_bars mb;
	double top, step;

	if (mix_bars_sum(&mb, d, g)) {
		fputs("<p class=\"note\">Out of memory drawing this chart.</p>\n", f);
		goto out;
	}
	html_nice_axis(mb.max, 4, &top, &step);
	fprintf(f, "<svg class=\"mix\" data-pid=\"%u\" data-bars=\"%zu\" viewBox=\"0 0 %.0f %.0f\" "
		"width=\"%.0f\" height=\"%.0f\" role=\"img\" aria-label=\"trap mix over time\">\n",
		g->pid, mb.nr, MIX_W, MIX_H, MIX_W, MIX_H);
	html_y_axis(f, MIX_X0, MIX_Y0, MIX_PLOT_W, MIX_PLOT_H, top, step, "traps/s");
	mix_x_axis(f, d->intervals[d->nr_intervals - 1].end_s);
	for (size_t b = 0; b < mb.nr; b++)
		mix_bar(f, d, &mb, b, top);
	fputs("</svg>\n", f);
	html_legend(f, mb.used);
out:
	free(mb.traps);
	free(mb.len);
}

/* Where the guest's vCPU time went over the run: each column's share of
 * its threads' wall time (the --csv file's vcpu_time rows). */
static void time_table(FILE *f, const struct run_guest *g)
{
	char a[32];

	fputs("<table class=\"time\"><tr><th class=\"l\">vCPU time</th><th>seconds</th>"
	      "<th>share of wall</th></tr>\n", f);
	for (int c = 0; c < NR_TIME_COLUMNS; c++) {
		if (!g->has_time[c])
			continue;
		fprintf(f, "<tr data-state=\"%s\" data-ns=\"%llu\"><td class=\"l\"><span class=\"sw "
			"t%d\"></span>%s</td><td>%s</td><td>%.2f%%</td></tr>\n", time_column_name(c),
			(unsigned long long)g->time_ns[c], c, time_column_heading(c),
			short_num(g->time_ns[c] / 1e9, a, sizeof(a)),
			g->time_wall_ns ? 100.0 * g->time_ns[c] / g->time_wall_ns : 0);
	}
	fprintf(f, "<tr><td class=\"l\">wall (%d thread%s)</td><td>%s</td><td></td></tr>\n</table>\n",
		g->threads, g->threads == 1 ? "" : "s", short_num(g->time_wall_ns / 1e9, a, sizeof(a)));
}

/* vCPU time over time: per interval (or group of them) a bar of 100%, its
 * threads' time stacked by state, spanning the interval's time. */
static void time_chart(FILE *f, const struct run_data *d, const struct run_guest *g)
{
	const double h = MIX_PLOT_H;
	size_t per_bar = intervals_per_bar(d), nr = (d->nr_intervals + per_bar - 1) / per_bar;
	double t_end = d->intervals[d->nr_intervals - 1].end_s;
	__u64 (*ns)[NR_TIME_COLUMNS] = calloc(nr, sizeof(*ns));
	bool used[NR_TIME_COLUMNS] = {};

	if (!ns) {
		fputs("<p class=\"note\">Out of memory drawing this chart.</p>\n", f);
		return;
	}
	for (size_t p = 0; p < g->nr_points; p++)
		for (int c = 0; c < NR_TIME_COLUMNS; c++) {
			ns[g->points[p].interval / per_bar][c] += g->points[p].time_ns[c];
			used[c] |= g->points[p].time_ns[c] > 0;
		}
	fprintf(f, "<svg class=\"timeshares\" data-pid=\"%u\" data-bars=\"%zu\" viewBox=\"0 0 %.0f "
		"%.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" aria-label=\"vCPU time shares over "
		"time\">\n", g->pid, nr, MIX_W, MIX_H, MIX_W, MIX_H);
	html_y_axis(f, MIX_X0, MIX_Y0, MIX_PLOT_W, MIX_PLOT_H, 100, 25, "% of the vCPU threads' time");
	mix_x_axis(f, t_end);
	for (size_t b = 0; b < nr; b++) {
		struct bar_span sp = bar_span(d, per_bar, b);
		double start = sp.start, end = sp.end, xa = sp.xa, xb = sp.xb, y = MIX_Y0 + h;
		__u64 sum = 0;

		for (int c = 0; c < NR_TIME_COLUMNS; c++)
			sum += ns[b][c];
		if (!sum)
			continue;
		for (int c = 0; c < NR_TIME_COLUMNS; c++) {
			double share = (double)ns[b][c] / sum, bh = share * h;

			if (!ns[b][c])
				continue;
			y -= bh;
			fprintf(f, "<rect class=\"t%d\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
				"height=\"%.2f\" data-state=\"%s\" data-ns=\"%llu\" data-start=\"%.3f\" "
				"data-end=\"%.3f\"><title>%.3f–%.3f s: %s %.1f%%</title></rect>\n", c, xa, y,
				xb - xa > 0.5 ? xb - xa : 0.5, bh, time_column_name(c),
				(unsigned long long)ns[b][c], start, end, start, end, time_column_heading(c),
				100 * share);
		}
	}
	fputs("</svg>\n<div class=\"legend\">", f);
	for (int c = 0; c < NR_TIME_COLUMNS; c++)
		if (used[c])
			fprintf(f, "<span class=\"sw t%d\"></span><span>%s</span>", c,
				time_column_heading(c));
	fputs("</div>\n", f);
	free(ns);
}

/* One class's log2 latency histogram, as the CSV's buckets: a bar per
 * bucket from the lowest to the highest that holds samples. */
static void latency_chart(FILE *f, const struct run_guest *g, int c)
{
	const double W = 460, H = 230, x0 = 56, y0 = 10, w = W - x0 - 10, h = H - y0 - 48;
	const __u64 *slots = g->lat_slots[c];
	int lo_slot = -1, hi_slot = -1, n, every;
	__u64 max = 0, sum = 0;
	double top, step, bw;
	char a[32], b[32];

	for (int i = 0; i < LAT_SLOTS; i++)
		if (slots[i]) {
			if (lo_slot < 0)
				lo_slot = i;
			hi_slot = i;
			sum += slots[i];
			if (slots[i] > max)
				max = slots[i];
		}
	if (lo_slot < 0)
		return;
	n = hi_slot - lo_slot + 1;
	if (n < 6) {	/* a few empty buckets around narrow histograms, for context */
		lo_slot = lo_slot > 1 ? lo_slot - 1 : 0;
		hi_slot = hi_slot < LAT_SLOTS - 1 ? hi_slot + 1 : hi_slot;
		n = hi_slot - lo_slot + 1;
	}
	bw = w / n;
	every = bw >= 34 ? 1 : (int)ceil(34 / bw);
	html_nice_axis(max, 4, &top, &step);
	fprintf(f, "<figure><svg class=\"hist\" data-pid=\"%u\" data-class=\"%s\" data-samples=\"%llu\" "
		"viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
		"aria-label=\"%s latency histogram\">\n", g->pid, class_name(c),
		(unsigned long long)sum, W, H, W, H, class_name(c));
	html_y_axis(f, x0, y0, w, h, top, step, "samples");
	for (int i = lo_slot; i <= hi_slot; i++) {
		__u64 lo, hi;
		double x = x0 + (i - lo_slot) * bw, bh = slots[i] / top * h;

		if (slots[i] && bh < 1.5)	/* a bucket with samples stays visible */
			bh = 1.5;

		slot_bounds(i, &lo, &hi);
		if ((i - lo_slot) % every == 0)
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" transform=\"rotate(-35 "
				"%.1f %.1f)\">%s</text>\n", x + bw / 2 + 4, y0 + h + 14, x + bw / 2 + 4,
				y0 + h + 14, short_ns(lo, a, sizeof(a)));
		if (!slots[i])
			continue;
		fprintf(f, "<rect class=\"k%d\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
			"data-lo=\"%llu\" ", c, x + 1, y0 + h - bh, bw - 2 > 1 ? bw - 2 : 1, bh,
			(unsigned long long)lo);
		if (i == LAT_SLOTS - 1)
			fprintf(f, "data-hi=\"\" data-count=\"%llu\"><title>%llu ns and more (%s+): "
				"%llu samples</title></rect>\n", (unsigned long long)slots[i],
				(unsigned long long)lo, short_ns(lo, a, sizeof(a)),
				(unsigned long long)slots[i]);
		else
			fprintf(f, "data-hi=\"%llu\" data-count=\"%llu\"><title>%llu–%llu ns (%s–%s): "
				"%llu samples</title></rect>\n", (unsigned long long)hi,
				(unsigned long long)slots[i], (unsigned long long)lo,
				(unsigned long long)hi, short_ns(lo, a, sizeof(a)),
				short_ns(hi + 1, b, sizeof(b)), (unsigned long long)slots[i]);
	}
	fprintf(f, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">latency, "
		"log2 buckets (lower bound)</text>\n</svg>\n", x0 + w / 2, H - 4);
	fprintf(f, "<figcaption>%s <b>", class_name(c));
	html_text(f, class_latency_label(c) ? class_latency_label(c) : "latency");
	fprintf(f, "</b>: %llu samples, avg %s, max %s</figcaption></figure>\n",
		(unsigned long long)g->lat_count[c],
		format_ns(g->lat_count[c] ? g->lat_sum_ns[c] / g->lat_count[c] : 0, a, sizeof(a)),
		format_ns(g->lat_max_ns[c], b, sizeof(b)));
}

static void class_share_table(FILE *f, const struct run_guest *g, double elapsed)
{
	char a[32], b[32];

	fputs("<table class=\"classes\"><tr><th class=\"l\">class</th><th>traps</th><th>share</th>", f);
	if (elapsed > 0)
		fputs("<th>traps/s</th>", f);
	fputs("<th>latency samples</th><th>avg</th><th>max</th></tr>\n", f);
	for (int c = 0; c < NR_CLASSES; c++) {
		if (!g->class_total[c] && !g->lat_count[c])
			continue;
		fprintf(f, "<tr data-class=\"%s\" data-count=\"%llu\" data-lat-count=\"%llu\"><td "
			"class=\"l\">", class_name(c), (unsigned long long)g->class_total[c],
			(unsigned long long)g->lat_count[c]);
		html_swatch(f, c);
		fprintf(f, "%s</td><td>%llu</td><td>%.2f%%</td>", class_name(c),
			(unsigned long long)g->class_total[c],
			g->total ? 100.0 * g->class_total[c] / g->total : 0);
		if (elapsed > 0)
			fprintf(f, "<td>%.1f</td>", g->class_total[c] / elapsed);
		if (g->lat_count[c])
			fprintf(f, "<td>%llu</td><td>%s</td><td>%s</td></tr>\n",
				(unsigned long long)g->lat_count[c],
				format_ns(g->lat_sum_ns[c] / g->lat_count[c], a, sizeof(a)),
				format_ns(g->lat_max_ns[c], b, sizeof(b)));
		else
			fputs("<td></td><td></td><td></td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static int by_count_desc(const void *a, const void *b)
{
	const struct run_code *x = *(const struct run_code *const *)a;
	const struct run_code *y = *(const struct run_code *const *)b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->class != y->class)
		return x->class < y->class ? -1 : 1;
	return x->code < y->code ? -1 : x->code > y->code;
}

static void code_table(FILE *f, const struct run_guest *g, int top)
{
	size_t nr = g->codes.nr, shown = nr < (size_t)top ? nr : (size_t)top;
	const struct run_code **order = calloc(nr ? nr : 1, sizeof(*order));
	__u64 rest = 0;
	char a[32], b[32];

	if (!order) {
		fputs("<p class=\"note\">Out of memory listing the codes.</p>\n", f);
		return;
	}
	for (size_t i = 0; i < nr; i++)
		order[i] = &g->codes.v[i];
	qsort(order, nr, sizeof(*order), by_count_desc);
	fputs("<table class=\"codes\"><tr><th>#</th><th class=\"l\">class</th><th class=\"l\">code"
	      "</th><th class=\"l\">name</th><th>traps</th><th>share</th><th>avg latency</th>"
	      "<th>max latency</th></tr>\n", f);
	for (size_t i = 0; i < shown; i++) {
		const struct run_code *c = order[i];

		fprintf(f, "<tr data-class=\"%s\" data-code=\"0x%llx\" data-count=\"%llu\"><td>%zu</td>"
			"<td class=\"l\">", class_name(c->class), (unsigned long long)c->code,
			(unsigned long long)c->count, i + 1);
		html_swatch(f, c->class);
		fprintf(f, "%s</td><td class=\"l\"><code>0x%llx</code></td><td class=\"l name\">",
			class_name(c->class), (unsigned long long)c->code);
		html_text(f, c->name);
		fprintf(f, "</td><td>%llu</td><td>%.2f%%</td>", (unsigned long long)c->count,
			g->total ? 100.0 * c->count / g->total : 0);
		if (c->lat_count)
			fprintf(f, "<td>%s</td><td>%s</td></tr>\n",
				format_ns(c->lat_sum_ns / c->lat_count, a, sizeof(a)),
				format_ns(c->lat_max_ns, b, sizeof(b)));
		else
			fputs("<td></td><td></td></tr>\n", f);
	}
	for (size_t i = shown; i < nr; i++)
		rest += order[i]->count;
	fputs("</table>\n", f);
	if (shown < nr)
		fprintf(f, "<p class=\"meta\">%zu more code%s: %llu trap%s (all are in the CSV).</p>\n",
			nr - shown, nr - shown == 1 ? "" : "s",
			(unsigned long long)rest, rest == 1 ? "" : "s");
	free(order);
}

static void guest_section(FILE *f, const struct run_data *d, const struct run_guest *g, int top,
			  double elapsed)
{
	bool any_latency = false;

	fprintf(f, "<section class=\"guest\" id=\"g%u\" data-pid=\"%u\" data-total=\"%llu\" "
		"data-name=\"", g->pid, g->pid, (unsigned long long)g->total);
	html_text(f, g->name);
	fputs("\">\n<h2>Guest &ldquo;", f);
	html_text(f, g->name);
	fprintf(f, "&rdquo; <small>pid %u</small></h2>\n<p class=\"meta\">%llu traps from %d vCPU "
		"thread%s", g->pid, (unsigned long long)g->total, g->threads,
		g->threads == 1 ? "" : "s");
	if (elapsed > 0)
		fprintf(f, ", %.1f/s over %.1f s", g->total / elapsed, elapsed);
	fputs(".</p>\n", f);
	class_share_table(f, g, elapsed);

	fputs("<h3>Trap mix over time</h3>\n", f);
	if (!d->has_series)
		fputs("<p class=\"meta\">No time series: give kvmprof report the run's --csv-series "
		      "file too.</p>\n", f);
	else if (!g->nr_points || !d->nr_intervals)
		fputs("<p class=\"meta\">The series holds no traps of this guest.</p>\n", f);
	else {
		mix_chart(f, d, g);
		if (g->series_total != g->total)
			fprintf(f, "<p class=\"note\">The series holds %llu of the %llu traps the "
				"histograms count: a part of a rotated series, or files of another "
				"run.</p>\n", (unsigned long long)g->series_total,
				(unsigned long long)g->total);
	}

	if (g->time_wall_ns) {
		fputs("<h3>Where the vCPU time went</h3>\n", f);
		time_table(f, g);
		if (g->series_time && d->nr_intervals)
			time_chart(f, d, g);
		else if (d->has_series)
			fputs("<p class=\"meta\">The series holds no vCPU time of this guest.</p>\n", f);
	}

	for (int c = 0; c < NR_CLASSES; c++)
		any_latency |= g->lat_count[c] > 0;
	if (any_latency) {
		fputs("<h3>Latency</h3>\n<div class=\"hists\">\n", f);
		for (int c = 0; c < NR_CLASSES; c++)
			if (g->lat_count[c])
				latency_chart(f, g, c);
		fputs("</div>\n", f);
	}
	fputs("<h3>Top codes</h3>\n", f);
	code_table(f, g, top);
	fputs("</section>\n", f);
}

static int by_total_desc(const void *a, const void *b)
{
	const struct run_guest *x = *(const struct run_guest *const *)a;
	const struct run_guest *y = *(const struct run_guest *const *)b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

void html_write_report(FILE *f, struct run_data *d, const char *hist_path,
		       const char *series_path, int top)
{
	const struct run_guest **order = calloc(d->nr_guests ? d->nr_guests : 1, sizeof(*order));
	double elapsed = d->nr_intervals ? d->intervals[d->nr_intervals - 1].end_s : 0;
	__u64 total = 0, class_total[NR_CLASSES] = {};
	size_t sections;

	html_page_start(f, "kvmprof report", NULL);
	fputs("<p class=\"meta\">From <code>", f);
	html_text(f, hist_path);
	fputs("</code>", f);
	if (series_path) {
		fputs(" and <code>", f);
		html_text(f, series_path);
		fputs("</code>", f);
	}
	if (!order) {
		fputs(".</p><p class=\"note\">Out of memory.</p></main></body></html>\n", f);
		return;
	}
	for (size_t i = 0; i < d->nr_guests; i++) {
		order[i] = &d->guests[i];
		total += d->guests[i].total;
		for (int c = 0; c < NR_CLASSES; c++)
			class_total[c] += d->guests[i].class_total[c];
	}
	qsort(order, d->nr_guests, sizeof(*order), by_total_desc);
	fprintf(f, ": <span id=\"total\" data-total=\"%llu\">%llu traps</span> of %zu guest%s",
		(unsigned long long)total, (unsigned long long)total, d->nr_guests,
		d->nr_guests == 1 ? "" : "s");
	if (elapsed > 0)
		fprintf(f, " over %.1f s", elapsed);
	fputs(".</p>\n", f);

	/* the overview: every guest, busiest first, a column per class seen */
	fputs("<table class=\"overview\"><tr><th class=\"l\">guest</th><th>pid</th><th>threads</th>"
	      "<th>traps</th>", f);
	for (int c = 0; c < NR_CLASSES; c++)
		if (class_total[c]) {
			fputs("<th>", f);
			html_swatch(f, c);
			fprintf(f, "%s</th>", class_name(c));
		}
	fputs("</tr>\n", f);
	for (size_t i = 0; i < d->nr_guests; i++) {
		const struct run_guest *g = order[i];

		fprintf(f, "<tr data-pid=\"%u\" data-total=\"%llu\"><td class=\"l name\">", g->pid,
			(unsigned long long)g->total);
		if (i < HTML_MAX_SECTIONS)
			fprintf(f, "<a href=\"#g%u\">", g->pid);
		html_text(f, g->name);
		fprintf(f, "%s</td><td>%u</td><td>%d</td><td>%llu</td>", i < HTML_MAX_SECTIONS ? "</a>" : "",
			g->pid, g->threads, (unsigned long long)g->total);
		for (int c = 0; c < NR_CLASSES; c++)
			if (class_total[c])
				fprintf(f, "<td>%llu</td>", (unsigned long long)g->class_total[c]);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
	if (!d->nr_guests)
		fputs("<p class=\"meta\">The run traced no traps.</p>\n", f);

	sections = d->nr_guests < HTML_MAX_SECTIONS ? d->nr_guests : HTML_MAX_SECTIONS;
	for (size_t i = 0; i < sections; i++)
		guest_section(f, d, order[i], top, elapsed);
	if (sections < d->nr_guests)
		fprintf(f, "<p class=\"meta\">The %zu busiest guests have a section; the other %zu are "
			"in the table above.</p>\n", sections, d->nr_guests - sections);
	html_page_end(f, "kvmprof report", "Hover a bar for its exact numbers.");
	free(order);
}
