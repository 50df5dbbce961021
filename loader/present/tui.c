// SPDX-License-Identifier: GPL-2.0
/* The live view: a top-style guest table with sorting, filtering and a
 * drill-down per guest, drawn with ncurses from the stats the loop reads. */
#include <ctype.h>
#include <setjmp.h>
#include <signal.h>
#include <termios.h>
#include <curses.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "model/guest_filter.h"
#include "model/counters.h"
#include "model/devices.h"
#include "model/insns.h"
#include "model/names.h"
#include "model/summary.h"
#include "present/lines.h"
#include "present/tui.h"
#include "util/vec.h"

#define HEADER_LINES 4	/* three lines of header, then the column titles */
#define FILTER_MAX 64

enum view { VIEW_GUESTS, VIEW_GUEST };

enum sort_key {
	SORT_TRAPS, SORT_PID, SORT_NAME, SORT_VCPUS, SORT_TOTAL, SORT_EXIT_LAT, SORT_VMM_LAT,
	SORT_CLASS,	/* SORT_CLASS + c: the rate of class c */
	NR_SORTS = SORT_CLASS + NR_CLASSES,
};

/* Refresh intervals + and - step through. */
static const double interval_steps[] = { 0.1, 0.2, 0.5, 1, 2, 3, 5, 10, 30, 60 };

/* One guest of the table. */
struct guest_line {
	const struct guest *guest;
	int vcpus;
	double rate, class_rate[NR_CLASSES], share;
	__u64 total;		/* since start, or since c */
	char top[48];		/* the interval's most frequent code */
	__u64 exit_n, exit_sum, exit_max, vmm_n, vmm_sum, vmm_max;	/* the interval's */
	double time_share[NR_TIME_COLUMNS];	/* t: each state's % of its vCPUs' wall time, the interval's */
};

/* A line of the drill-down's scrolling body. */
struct text_line {
	char text[256];
	int attr;
};

struct tui {
	SCREEN *screen;
	struct termios saved;	/* the terminal's modes before the view */
	bool stuck;		/* a draw was cut off by a stop signal: the terminal takes no output */
	const struct options *opts;
	char host[65], kernel[65], attach[256];
	double interval_s;	/* the setting */
	double last_interval_s;	/* the length of the last read, for rates */

	bool have_data, paused, quit, help, editing;
	enum view view;
	unsigned int time_flags;	/* the table's, at the last build */
	bool time_view;		/* t: the guest table shows where vCPU time goes, not trap rates */
	bool per_vcpu;		/* v: the drill-down per vCPU thread too */
	enum code_order order;	/* o: codes by count, time, mean or max */
	int sort;
	bool reverse;
	__u32 selected_pid;
	int cursor, top;	/* guest table: selected line, first line shown */
	int scroll;		/* drill-down: first body line shown */
	bool scroll_end;	/* End: the drill-down keeps its last line shown as lines come */
	char filter[FILTER_MAX], edit[FILTER_MAX];
	struct baseline base;	/* c: the totals' zero; base.at_s 0 before any c */
	struct guest_line *lines;
	size_t nr_lines;
	/* every guest's line before / and the sort, made again only after a
	 * read, c, o or a new guest: a key that sorts, filters or moves does
	 * not sum a host's rows again */
	struct guest_line *all_lines;
	size_t nr_all;
	bool all_stale;
	const struct guest *all_of;	/* the table's guests they point into */
	size_t all_nr_guests;
	struct text_line *body;
	size_t nr_body, cap_body;
	/* the header's KVM check, made again only after a read: each guest's
	 * rows for each pair (a host's 68000) are not walked on every key */
	char check[256];
	bool check_stale;
};

static const char *sort_name(int sort)
{
	static const char *const names[] = {
		[SORT_TRAPS] = "traps/s", [SORT_PID] = "pid", [SORT_NAME] = "name",
		[SORT_VCPUS] = "vcpus", [SORT_TOTAL] = "total", [SORT_EXIT_LAT] = "exit latency",
		[SORT_VMM_LAT] = "VMM time",
	};

	return sort >= SORT_CLASS ? class_name(sort - SORT_CLASS) : names[sort];
}

/* Text at (y, x), cut at the screen's edge: nothing ever wraps. */
static void put(int y, int x, int attr, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int room = COLS - x - (y == LINES - 1);	/* the last cell would scroll */

	if (y < 0 || y >= LINES || room <= 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	attron(attr);
	mvaddnstr(y, x, buf, room);
	attroff(attr);
}

static void fill_line(int y, int attr)
{
	attron(attr);
	mvhline(y, 0, ' ', COLS);
	attroff(attr);
}

static bool filter_matches(const struct tui *t, const struct guest *g)
{
	char pid[16];

	if (!t->filter[0])
		return true;
	snprintf(pid, sizeof(pid), "%u", g->pid);
	if (strpbrk(t->filter, "*?["))
		return !fnmatch(t->filter, g->name, 0) || !fnmatch(t->filter, pid, 0);
	return strstr(g->name, t->filter) || strstr(pid, t->filter);
}

static double sort_value(const struct guest_line *l, int sort)
{
	switch (sort) {
	case SORT_TRAPS: return l->rate;
	case SORT_PID: return l->guest->pid;
	case SORT_VCPUS: return l->vcpus;
	case SORT_TOTAL: return l->total;
	case SORT_EXIT_LAT: return l->exit_n ? (double)l->exit_sum / l->exit_n : -1;
	case SORT_VMM_LAT: return l->vmm_n ? (double)l->vmm_sum / l->vmm_n : -1;
	default: return sort >= SORT_CLASS ? l->class_rate[sort - SORT_CLASS] : 0;
	}
}

/* Names and pids ascending, numbers descending; r reverses either. */
static int line_order(const void *a, const void *b, void *arg)
{
	const struct guest_line *x = a, *y = b;
	const struct tui *t = arg;
	int order;

	if (t->sort == SORT_NAME) {
		order = strcmp(x->guest->name, y->guest->name);
	} else {
		double vx = sort_value(x, t->sort), vy = sort_value(y, t->sort);

		order = vx == vy ? 0 : vx < vy ? -1 : 1;
		if (t->sort != SORT_PID)
			order = -order;
	}
	if (!order)
		order = x->guest->pid < y->guest->pid ? -1 : x->guest->pid > y->guest->pid;
	return t->reverse ? -order : order;
}

/* Every guest's line: the guests that pass -g, with their sums. */
static int collect_lines(struct tui *t, struct trap_table *s)
{
	double iv = t->have_data ? t->last_interval_s : 0;
	struct summary sum;
	__u64 all = 0;

	free(t->all_lines);
	t->all_lines = calloc(s->nr_guests + 1, sizeof(*t->all_lines));
	t->nr_all = 0;
	if (!t->all_lines || summary_build(&sum, s, t->base.at_s > 0 ? &t->base : NULL, t->order))
		return -1;
	t->all_stale = false;
	t->all_of = s->guests;
	t->all_nr_guests = s->nr_guests;
	t->time_flags = s->time_flags;
	if (!(t->time_flags & TIME_ON))
		t->time_view = false;
	for (size_t i = 0; i < sum.nr_guests; i++) {
		const struct sum_guest *g = &sum.guests[i];
		struct guest_line *l;

		if (!guest_name_matches(g->guest->name, t->opts->guest_globs, t->opts->nr_guest_globs))
			continue;
		all += t->have_data ? g->interval : 0;
		l = &t->all_lines[t->nr_all++];
		l->guest = g->guest;
		l->vcpus = g->vcpus;
		l->total = g->total;
		if (iv > 0) {
			l->rate = g->interval / iv;
			for (int c = 0; c < NR_CLASSES; c++)
				l->class_rate[c] = g->classes[c].interval / iv;
			l->share = g->interval;	/* divided by all below */
			l->exit_n = g->classes[CLASS_EXIT].int_lat_count;
			l->exit_sum = g->classes[CLASS_EXIT].int_lat_sum;
			l->exit_max = g->classes[CLASS_EXIT].int_lat_max;
			l->vmm_n = g->classes[CLASS_USERSPACE].int_lat_count;
			l->vmm_sum = g->classes[CLASS_USERSPACE].int_lat_sum;
			l->vmm_max = g->classes[CLASS_USERSPACE].int_lat_max;
		}
		for (int c = 0; c < NR_TIME_COLUMNS; c++)
			l->time_share[c] = g->time.interval_wall ?
				100.0 * time_column_ns(c, g->time.interval) / g->time.interval_wall : 0;
		snprintf(l->top, sizeof(l->top), "-");
		if (iv > 0 && g->has_top)
			trap_name_fit(g->top.class, g->top.code, g->top.detail_flags, g->top.detail, l->top,
				      sizeof(l->top), 22);	/* column_width[COL_TOP] */
	}
	for (size_t i = 0; i < t->nr_all; i++)
		t->all_lines[i].share = all ? 100.0 * t->all_lines[i].share / all : 0;
	summary_free(&sum);
	return 0;
}

/* The table's lines: guests that pass -g and /, sorted. */
static void build_lines(struct tui *t, struct trap_table *s)
{
	t->nr_lines = 0;
	if ((t->all_stale || !t->all_lines || t->all_of != s->guests || t->all_nr_guests != s->nr_guests) &&
	    collect_lines(t, s))
		return;
	free(t->lines);
	t->lines = calloc(t->nr_all + 1, sizeof(*t->lines));
	if (!t->lines)
		return;
	for (size_t i = 0; i < t->nr_all; i++)
		if (filter_matches(t, t->all_lines[i].guest))
			t->lines[t->nr_lines++] = t->all_lines[i];
	qsort_r(t->lines, t->nr_lines, sizeof(*t->lines), line_order, t);
}

static void format_elapsed(double s, char *buf, size_t size)
{
	if (s < 3600)
		snprintf(buf, size, "%.1fs", s);
	else
		snprintf(buf, size, "%dh%02dm%02ds", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
}

/* "  KVM check: 9 hold, 2 differ (Enter: which)" over the guests shown, or
 * why KVM's counters are not read; "" without a check (--counters). */
static const char *check_summary(const struct trap_table *s, const struct tui *t, char *buf, size_t size)
{
	struct check_result r[64];
	size_t hold = 0, differ = 0;

	if (!s->counters || class_traced_here(CLASS_COUNTER))
		return "";
	if (!s->counters->readable) {
		snprintf(buf, size, "  no KVM check: %s", s->counters->why);
		return buf;
	}
	for (size_t i = 0; i < s->nr_guests && nr_check_pairs <= 64; i++) {
		size_t n;

		if (!guest_name_matches(s->guests[i].name, t->opts->guest_globs, t->opts->nr_guest_globs))
			continue;
		n = counters_check(s->counters, s, &s->guests[i], r);
		for (size_t j = 0; j < n; j++) {
			if (r[j].verdict == CHECK_DIFFERS)
				differ++;
			else
				hold++;
		}
	}
	snprintf(buf, size, "  KVM check: %zu hold, %zu differ%s", hold, differ, differ ? " (details: Enter)" : "");
	return buf;
}

static void draw_header(struct tui *t, struct trap_table *s, double elapsed_s)
{
	char el[256], since[48] = "", why[40] = "";
	unsigned int most = 0;
	double all = 0;
	size_t live = 0, shown = 0;

	for (size_t i = 0; i < t->nr_lines; i++)
		all += t->lines[i].rate;
	for (size_t i = 0; i < s->nr_guests; i++) {
		if (!guest_name_matches(s->guests[i].name, t->opts->guest_globs,
					t->opts->nr_guest_globs))
			continue;
		shown++;
		live += !s->guests[i].ended;
	}
	format_elapsed(elapsed_s, el, sizeof(el));
	/* the reason of the most drops: the summary says what to raise */
	for (unsigned int d = 0; d < NR_DROPS; d++)
		if (s->drops[d] && (!most || s->drops[d] > s->drops[most - 1]))
			most = d + 1;
	if (most)
		snprintf(why, sizeof(why), " (%s)", drop_reason_name(most - 1));
	if (t->base.at_s > 0)
		snprintf(since, sizeof(since), "  totals since %.1fs (c)", t->base.at_s);
	put(0, 0, A_BOLD, "kvmprof  host %s  kernel %s  elapsed %s  interval %.2fs%s%s", t->host,
	    t->kernel, el, t->interval_s, t->paused ? "  PAUSED" : "", since);
	put(1, 0, 0, "traps %.0f/s  guests %zu seen: %zu live, %zu ended  dropped %llu%s  sort %s%s%s%s%s",
	    all, shown, live, shown - live, (unsigned long long)table_total_drops(s), why,
	    sort_name(t->sort), t->reverse ? " (reversed)" : "",
	    t->filter[0] ? "  filter '" : "", t->filter, t->filter[0] ? "'" : "");
	if (t->check_stale) {
		snprintf(t->check, sizeof(t->check), "%s", check_summary(s, t, el, sizeof(el)));
		t->check_stale = false;
	}
	put(2, 0, 0, "attach %s%s", t->attach, t->check);
}

static void draw_help_line(struct tui *t)
{
	int y = LINES - 1;

	if (t->editing) {
		fill_line(y, 0);
		put(y, 0, A_BOLD, "filter (name or pid, globs allowed; Enter applies, Esc cancels): %s_",
		    t->edit);
		return;
	}
	fill_line(y, A_REVERSE);
	if (t->view == VIEW_GUESTS)
		put(y, 0, A_REVERSE, " q quit  Enter details  s/r sort  t time  / filter  p pause  c clear  "
		    "+/- interval  h help");
	else
		put(y, 0, A_REVERSE, " Esc back  Up/Down/PgUp/PgDn scroll  o order  v per vCPU  p pause  "
		    "c clear  +/- interval  h help  q quit");
}

/* Guest table columns, in screen order; the least important drop first
 * when the terminal is narrow. */
enum column {
	COL_PID, COL_NAME, COL_STATE, COL_VCPUS, COL_TRAPS, COL_CLASS,
	COL_SHARE = COL_CLASS + NR_CLASSES, COL_TOTAL, COL_TOP, COL_EXIT_LAT, COL_VMM_LAT,
	COL_TIME,	/* COL_TIME + enum time_column: the time view's */
	NR_COLUMNS = COL_TIME + NR_TIME_COLUMNS,
};

static const int column_width[NR_COLUMNS] = {
	[COL_PID] = 7, [COL_NAME] = 16, [COL_STATE] = 5, [COL_VCPUS] = 5, [COL_TRAPS] = 10,
	[COL_CLASS ... COL_CLASS + NR_CLASSES - 1] = 8,
	[COL_SHARE] = 6, [COL_TOTAL] = 11, [COL_TOP] = 22, [COL_EXIT_LAT] = 17, [COL_VMM_LAT] = 17,
	[COL_TIME ... COL_TIME + NR_TIME_COLUMNS - 1] = 10,
};

/* Which columns fit: name, pid and rate first, then by usefulness; class
 * columns busiest first.  Returns the name column's width. */
static int fit_columns(const struct tui *t, bool shown[NR_COLUMNS])
{
	int order[NR_COLUMNS], n = 0, used = 0, name_w;
	double class_sum[NR_CLASSES] = {};
	static const int first[] = { COL_PID, COL_NAME, COL_TRAPS, COL_STATE, COL_SHARE, COL_TOP,
				     COL_EXIT_LAT, COL_VMM_LAT, COL_TOTAL, COL_VCPUS };

	for (size_t i = 0; i < t->nr_lines; i++)
		for (int c = 0; c < NR_CLASSES; c++)
			class_sum[c] += t->lines[i].class_rate[c];
	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++)
		order[n++] = first[i];
	if (t->time_view) {	/* the states this kernel tells apart, in place of the classes */
		enum time_column cols[NR_TIME_COLUMNS];
		int nc = time_columns(t->time_flags, cols);

		for (int i = 0; i < nc; i++)
			order[n++] = COL_TIME + cols[i];
	}
	for (int k = 0; !t->time_view && k < NR_CLASSES; k++) {	/* busiest class next, ties in class order */
		int best = -1;

		for (int c = 0; c < NR_CLASSES; c++) {
			bool taken = false;

			for (int j = 0; j < n; j++)
				taken |= order[j] == COL_CLASS + c;
			if (!taken && class_traced_here(c) && (best < 0 || class_sum[c] > class_sum[best]))
				best = c;
		}
		if (best < 0)	/* the other architecture's classes get no column */
			break;
		order[n++] = COL_CLASS + best;
	}
	memset(shown, 0, NR_COLUMNS * sizeof(bool));
	for (int i = 0; i < n; i++) {
		int w = column_width[order[i]] + (used ? 1 : 0);

		if (used + w > COLS)
			continue;
		shown[order[i]] = true;
		used += w;
	}
	name_w = column_width[COL_NAME];
	if (shown[COL_NAME] && COLS > used)	/* spare room goes to long names */
		name_w += COLS - used > 24 ? 24 : COLS - used;
	return name_w;
}

/* One table row (or the titles when l is NULL) into buf. */
static void format_row(char *buf, size_t size, const struct guest_line *l,
		       const bool shown[NR_COLUMNS], int name_w)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int c = 0; c < NR_COLUMNS && o < size; c++) {
		char cell[GUEST_NAME_MAX + 32];
		int w = c == COL_NAME ? name_w : column_width[c];
		bool left = c == COL_NAME || c == COL_TOP || c == COL_STATE ||
			    c == COL_EXIT_LAT || c == COL_VMM_LAT;

		if (!shown[c])
			continue;
		if (!l) {
			static const char *const titles[NR_COLUMNS] = {
				[COL_PID] = "PID", [COL_NAME] = "GUEST", [COL_STATE] = "STATE",
				[COL_VCPUS] = "VCPUS", [COL_TRAPS] = "TRAPS/s", [COL_SHARE] = "SHARE",
				[COL_TOTAL] = "TOTAL", [COL_TOP] = "TOP CODE",
				[COL_EXIT_LAT] = "EXIT AVG/MAX", [COL_VMM_LAT] = "VMM AVG/MAX",
			};

			if (c >= COL_TIME)
				snprintf(cell, sizeof(cell), "%.9s%%", time_column_name(c - COL_TIME));
			else
				snprintf(cell, sizeof(cell), "%s",
					 c >= COL_CLASS && c < COL_SHARE ? class_table[c - COL_CLASS].column : titles[c]);
			left |= c == COL_PID;
		} else if (c >= COL_TIME) {
			snprintf(cell, sizeof(cell), "%.1f%%", l->time_share[c - COL_TIME]);
		} else if (c == COL_PID) {
			snprintf(cell, sizeof(cell), "%u", l->guest->pid);
			left = true;
		} else if (c == COL_NAME) {
			snprintf(cell, sizeof(cell), "%s", l->guest->name);
		} else if (c == COL_STATE) {
			snprintf(cell, sizeof(cell), "%s", l->guest->ended ? "ended" : "live");
		} else if (c == COL_VCPUS) {
			snprintf(cell, sizeof(cell), "%d", l->vcpus);
		} else if (c == COL_TRAPS) {
			snprintf(cell, sizeof(cell), "%.0f", l->rate);
		} else if (c < COL_SHARE) {
			snprintf(cell, sizeof(cell), "%.0f", l->class_rate[c - COL_CLASS]);
		} else if (c == COL_SHARE) {
			snprintf(cell, sizeof(cell), "%.1f%%", l->share);
		} else if (c == COL_TOTAL) {
			snprintf(cell, sizeof(cell), "%llu", (unsigned long long)l->total);
		} else if (c == COL_TOP) {
			snprintf(cell, sizeof(cell), "%s", l->top);
		} else if (c == COL_EXIT_LAT) {
			latency_cell(cell, sizeof(cell), l->exit_n, l->exit_sum, l->exit_max);
		} else {
			latency_cell(cell, sizeof(cell), l->vmm_n, l->vmm_sum, l->vmm_max);
		}
		/* names longer than the column are cut, with a '~' saying so */
		if ((int)strlen(cell) > w && w > 1) {
			cell[w - 1] = '~';
			cell[w] = '\0';
		}
		o += snprintf(buf + o, size - o, "%s%*s", o ? " " : "", left ? -w : w, cell);
	}
}

/* The cursor follows the selected guest when the order or filter changes. */
static void follow_selection(struct tui *t)
{
	for (size_t i = 0; i < t->nr_lines; i++)
		if (t->lines[i].guest->pid == t->selected_pid)
			t->cursor = i;
	if (t->cursor >= (int)t->nr_lines)
		t->cursor = t->nr_lines ? (int)t->nr_lines - 1 : 0;
	if (t->cursor < 0)
		t->cursor = 0;
	if (t->nr_lines)
		t->selected_pid = t->lines[t->cursor].guest->pid;
}

static void draw_guests(struct tui *t)
{
	bool shown[NR_COLUMNS];
	int name_w = fit_columns(t, shown), rows = LINES - HEADER_LINES - 1;
	char buf[512];

	format_row(buf, sizeof(buf), NULL, shown, name_w);
	fill_line(HEADER_LINES - 1, A_REVERSE);
	put(HEADER_LINES - 1, 0, A_REVERSE | A_BOLD, "%s", buf);
	if (!t->nr_lines) {
		put(HEADER_LINES, 0, 0, "%s", t->filter[0] || t->opts->nr_guest_globs ?
		    "No guest matches." : "No KVM traps seen yet.");
		return;
	}
	follow_selection(t);
	if (rows < 1)
		return;
	if (t->cursor < t->top)
		t->top = t->cursor;
	if (t->cursor >= t->top + rows)
		t->top = t->cursor - rows + 1;
	if (t->top > (int)t->nr_lines - rows)
		t->top = t->nr_lines > (size_t)rows ? (int)t->nr_lines - rows : 0;
	for (int i = 0; i < rows && t->top + i < (int)t->nr_lines; i++) {
		const struct guest_line *l = &t->lines[t->top + i];
		int attr = t->top + i == t->cursor ? A_REVERSE : l->guest->ended ? A_DIM : 0;

		format_row(buf, sizeof(buf), l, shown, name_w);
		if (attr & A_REVERSE)
			fill_line(HEADER_LINES + i, attr);
		put(HEADER_LINES + i, 0, attr, "%s", buf);
	}
}

/* The drill-down's body lines, from the sink the detail renderer fills. */
static void body_line(void *ctx, enum line_attr attr, const char *text)
{
	static const int attrs[] = { [LINE_PLAIN] = 0, [LINE_BOLD] = A_BOLD,
				     [LINE_TITLE] = A_BOLD | A_UNDERLINE, [LINE_ALERT] = A_BOLD };
	struct tui *t = ctx;
	struct text_line *l;

	if (VEC_GROW(t->body, t->cap_body, t->nr_body + 1))
		return;
	l = &t->body[t->nr_body++];
	l->attr = attrs[attr];
	snprintf(l->text, sizeof(l->text), "%s", text);
}

/* v: each vCPU thread of guest g on its own, as the guest is shown. */
static void render_vcpus(const struct sink *sink, const struct trap_table *s, const struct guest *g,
			 const struct detail_view *view, enum code_order order)
{
	for (size_t i = 0; i < s->nr_threads; i++) {
		struct trap_table one;
		struct summary sum;

		if (&s->guests[s->threads[i].guest] != g)
			continue;
		if (table_select_thread(&one, s, i) || summary_build_all(&sum, &one, order)) {
			table_free(&one);
			return;
		}
		sink_printf(sink, LINE_PLAIN, "%s", "");
		if (s->threads[i].vcpu >= 0)
			sink_printf(sink, LINE_BOLD, "vCPU %d, thread %u", s->threads[i].vcpu, s->threads[i].tid);
		else
			sink_printf(sink, LINE_BOLD, "vCPU ?, thread %u", s->threads[i].tid);
		render_guest_detail(sink, &sum.guests[0], view);
		summary_free(&sum);
		table_free(&one);
	}
}

static void draw_guest(struct tui *t, struct trap_table *s)
{
	const struct baseline *base = t->base.at_s > 0 ? &t->base : NULL;
	struct detail_view view = { .interval_rates = true, .seconds = t->have_data ? t->last_interval_s : 0,
				    .time_flags = s->time_flags };
	struct sink sink = { .line = body_line, .ctx = t, .width = COLS };
	int rows = LINES - HEADER_LINES - 1;
	const struct sum_guest *g = NULL;
	struct summary sum;

	if (summary_build(&sum, s, base, t->order))
		return;
	for (size_t i = 0; i < sum.nr_guests; i++)
		if (sum.guests[i].guest->pid == t->selected_pid && !summary_detail(&sum, s, base, i))
			g = &sum.guests[i];
	if (!g) {
		summary_free(&sum);
		t->view = VIEW_GUESTS;
		return;
	}
	fill_line(HEADER_LINES - 1, A_REVERSE);
	put(HEADER_LINES - 1, 0, A_REVERSE | A_BOLD, "Guest %u \"%s\" %s: %d vCPU thread%s, "
	    "%.0f traps/s, %llu traps since %s", g->guest->pid, g->guest->name,
	    g->guest->ended ? "ended" : "live", g->vcpus, g->vcpus == 1 ? "" : "s",
	    view.seconds > 0 ? g->interval / view.seconds : 0, (unsigned long long)g->total,
	    base ? "c" : "start");
	t->nr_body = 0;
	if (t->order != ORDER_COUNT)
		sink_printf(&sink, LINE_PLAIN, "  codes by %s (o)", code_order_name(t->order));
	render_guest_detail(&sink, g, &view);
	if (t->per_vcpu)
		render_vcpus(&sink, s, g->guest, &view, t->order);
	summary_free(&sum);
	if (t->scroll_end || t->scroll > (int)t->nr_body - rows)
		t->scroll = (int)t->nr_body - rows;
	if (t->scroll < 0)
		t->scroll = 0;
	for (int i = 0; i < rows && t->scroll + i < (int)t->nr_body; i++)
		put(HEADER_LINES + i, 0, t->body[t->scroll + i].attr, "%s",
		    t->body[t->scroll + i].text);
}

static void draw_help(void)
{
	static const char *const lines[] = {
		"kvmprof live view: keys",
		"",
		"  Up/Down, j/k, PgUp/PgDn, Home/End   select a guest, or scroll the details",
		"  Enter                               details of the selected guest: vCPUs, classes, codes,",
		"                                      latency histograms, emulated instructions (--insns)",
		"                                      and failed emulations",
		"  Esc, Backspace, Left                back to the guest table",
		"  s                                   next sort column;  r  reverses the order",
		"  T I N V O E M                       sort by traps/s, pid, name, vCPUs, total, exit",
		"                                      latency, time in VMM",
		NULL,	/* the class keys, from the class table */
		"  t                                   the guest table: trap rates, or where vCPU time goes",
		"                                      (each state's share of the vCPUs' wall time)",
		"  o                                   codes by count, total time, mean or max (details)",
		"  v                                   details per vCPU thread too",
		"  /                                   filter guests by name or pid (substring or glob);",
		"                                      an empty filter shows all",
		"  p                                   pause (the numbers stay; the next read covers the pause)",
		"  c                                   clear the totals shown (the summary and files keep all)",
		"  + -                                 longer or shorter refresh interval",
		"  h, ?                                this help;  q  quit and print the summary",
		"",
		"Rates are over the last interval; totals since start (or since c).  Latency columns:",
		"average/maximum exit latency (exit -> entry) and time in the VMM, over the last interval.",
		"",
		"Any key closes this help.",
	};

	char keys[16] = "", names[256] = "";
	int y = 0;

	for (int c = 0; c < NR_CLASSES; c++) {
		if (!class_sort_key(c))
			continue;
		snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), "%c", class_sort_key(c));
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", *names ? ", " : "",
			 class_name(c));
	}
	erase();
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (lines[i]) {
			put(y++, 0, i ? 0 : A_BOLD, "%s", lines[i]);
			continue;
		}
		put(y, 2, 0, "%s", keys);
		put(y++, 38, 0, "sort by the rate of: %s", names);
	}
}

/* A terminal stopped with Ctrl-S takes no output, and ncurses retries a
 * write a signal interrupts: a stop signal during the screen's update
 * jumps out of it (tui_interrupt), and the run ends without touching the
 * terminal again. */
static sigjmp_buf update_jump;
static volatile sig_atomic_t updating;

void tui_interrupt(void)
{
	if (updating)
		siglongjmp(update_jump, 1);
}

static void update_screen(struct tui *t)
{
	if (t->stuck)
		return;
	if (sigsetjmp(update_jump, 1)) {
		updating = 0;
		t->stuck = true;
		return;
	}
	updating = 1;
	refresh();
	updating = 0;
}

void tui_draw(struct tui *t, struct trap_table *s, double elapsed_s)
{
	if (t->help) {
		draw_help();
		update_screen(t);
		return;
	}
	erase();
	build_lines(t, s);
	draw_header(t, s, elapsed_s);
	if (t->view == VIEW_GUEST)
		draw_guest(t, s);
	if (t->view == VIEW_GUESTS)
		draw_guests(t);
	draw_help_line(t);
	update_screen(t);
}

void tui_update(struct tui *t, struct trap_table *s, double interval_s, double elapsed_s)
{
	t->last_interval_s = interval_s;
	t->have_data = true;
	t->all_stale = t->check_stale = true;
	tui_handle_input(t, s, elapsed_s);	/* a c held back during the read; draws */
}

/* c: what each row holds now becomes the view's zero. */
static void clear_totals(struct tui *t, const struct trap_table *s, double elapsed_s)
{
	baseline_take(&t->base, s, elapsed_s);
	t->all_stale = true;
}

static void step_interval(struct tui *t, int dir)
{
	int n = sizeof(interval_steps) / sizeof(interval_steps[0]);

	if (dir > 0) {
		for (int i = 0; i < n; i++)
			if (interval_steps[i] > t->interval_s + 1e-9) {
				t->interval_s = interval_steps[i];
				return;
			}
	} else {
		for (int i = n - 1; i >= 0; i--)
			if (interval_steps[i] < t->interval_s - 1e-9) {
				t->interval_s = interval_steps[i];
				return;
			}
	}
}

static void edit_filter(struct tui *t, int ch)
{
	size_t n = strlen(t->edit);

	if (ch == 27) {
		t->editing = false;
	} else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		snprintf(t->filter, sizeof(t->filter), "%s", t->edit);
		t->editing = false;
		t->top = 0;
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (n)
			t->edit[n - 1] = '\0';
	} else if (ch >= 0x20 && ch < 0x7f && n + 1 < sizeof(t->edit)) {
		t->edit[n] = ch;
		t->edit[n + 1] = '\0';
	}
}

#define SCROLL_END 1000000	/* Home and End: past any list's first or last line */

static void move_cursor(struct tui *t, int delta)
{
	if (t->view == VIEW_GUEST) {
		t->scroll += delta;	/* clamped when drawn */
		t->scroll_end = delta == SCROLL_END;
		return;
	}
	t->cursor += delta;
	if (t->cursor < 0)
		t->cursor = 0;
	if (t->cursor >= (int)t->nr_lines)
		t->cursor = t->nr_lines ? (int)t->nr_lines - 1 : 0;
	if (t->cursor < (int)t->nr_lines)
		t->selected_pid = t->lines[t->cursor].guest->pid;
}

static void handle_key(struct tui *t, struct trap_table *s, int ch, double elapsed_s)
{
	static const char sort_keys[] = "TINVOEM";
	int page = LINES - HEADER_LINES - 1 > 1 ? LINES - HEADER_LINES - 2 : 1;
	const char *k;

	if (t->editing) {
		edit_filter(t, ch);
		return;
	}
	if (t->help) {
		t->help = ch == KEY_RESIZE;	/* any key closes the help */
		return;
	}
	if (ch > 0 && ch < 0x80 && (k = strchr(sort_keys, ch))) {
		t->sort = k - sort_keys;
		return;
	}
	if (class_of_sort_key(ch) >= 0) {
		t->sort = SORT_CLASS + class_of_sort_key(ch);
		return;
	}
	switch (ch) {
	case 'q': t->quit = true; break;
	case 'h': case '?': t->help = true; break;
	case 's': t->sort = (t->sort + 1) % NR_SORTS; break;
	case 'r': t->reverse = !t->reverse; break;
	case 't': t->time_view = !t->time_view && (t->time_flags & TIME_ON); break;
	case 'o': t->order = (t->order + 1) % NR_CODE_ORDERS; t->all_stale = true; break;
	case 'v': t->per_vcpu = !t->per_vcpu; break;
	case 'p': t->paused = !t->paused; break;
	case 'c': clear_totals(t, s, elapsed_s); break;
	case '+': case '=': step_interval(t, 1); break;
	case '-': case '_': step_interval(t, -1); break;
	case '/':
		t->editing = true;
		snprintf(t->edit, sizeof(t->edit), "%s", t->filter);
		break;
	case KEY_UP: case 'k': move_cursor(t, -1); break;
	case KEY_DOWN: case 'j': move_cursor(t, 1); break;
	case KEY_PPAGE: move_cursor(t, -page); break;
	case KEY_NPAGE: case ' ': move_cursor(t, page); break;
	case KEY_HOME: move_cursor(t, -SCROLL_END); break;
	case KEY_END: move_cursor(t, SCROLL_END); break;
	case '\n': case '\r': case KEY_ENTER: case KEY_RIGHT:
		build_lines(t, s);	/* keys typed ahead may have changed them */
		follow_selection(t);
		if (t->view == VIEW_GUESTS && t->nr_lines) {
			t->view = VIEW_GUEST;
			t->scroll = 0;
			t->scroll_end = false;
		}
		break;
	case 27: case KEY_BACKSPACE: case 127: case 8: case KEY_LEFT:
		t->view = VIEW_GUESTS;
		break;
	}
}

/* The waiting keys, then a draw; in_read holds c back for tui_update. */
static void take_input(struct tui *t, struct trap_table *s, double elapsed_s, bool in_read)
{
	int ch;

	while ((ch = getch()) != ERR) {
		if (in_read && ch == 'c' && !t->editing && !t->help) {
			ungetch(ch);
			break;
		}
		handle_key(t, s, ch, elapsed_s);
	}
	tui_draw(t, s, elapsed_s);
}

void tui_handle_input(struct tui *t, struct trap_table *s, double elapsed_s)
{
	take_input(t, s, elapsed_s, false);
}

void tui_handle_input_in_read(struct tui *t, struct trap_table *s, double elapsed_s)
{
	take_input(t, s, elapsed_s, true);
}

/* "tp_btf: exit hcall emul pio mmio msr cpuid  tracepoint: vmm" */
static void describe_attach(struct tui *t, const struct probe_plan *plan)
{
	size_t o = 0;

	t->attach[0] = '\0';
	for (int m = METHOD_NONE; m <= METHOD_KPROBE; m++) {
		bool any = false;

		for (int c = 0; c < NR_CLASSES && o < sizeof(t->attach); c++) {
			if (!class_traced_here(c) || (int)plan_class_method(plan, c) != m)
				continue;
			o += snprintf(t->attach + o, sizeof(t->attach) - o, "%s%s%s",
				      any ? " " : o ? "  " : "",
				      any ? "" : method_name(m), any ? "" : ": ");
			if (o < sizeof(t->attach))
				o += snprintf(t->attach + o, sizeof(t->attach) - o, "%s", class_name(c));
			any = true;
		}
	}
}

static bool can_address(void)
{
	char *cup = tigetstr("cup");

	return cup && cup != (char *)-1;
}

struct tui *tui_start(const struct options *opts, const struct probe_plan *plan,
		      double interval_s)
{
	struct tui *t = calloc(1, sizeof(*t));
	struct utsname u;

	if (!t)
		return NULL;
	t->check_stale = true;
	tcgetattr(STDIN_FILENO, &t->saved);
	t->screen = newterm(NULL, stdout, stdin);
	/* a terminal that cannot move the cursor (TERM=dumb) would show nothing */
	if (t->screen && !can_address()) {
		endwin();
		delscreen(t->screen);
		t->screen = NULL;
	}
	if (!t->screen) {
		const char *term = getenv("TERM");

		fprintf(stderr, "kvmprof: cannot start the live view on terminal type '%s': "
			"printing tables instead (-b)\n", term ? term : "");
		free(t);
		return NULL;
	}
	t->opts = opts;
	t->interval_s = interval_s;
	t->order = opts->sort;
	t->per_vcpu = opts->per_vcpu;
	if (!uname(&u)) {
		snprintf(t->host, sizeof(t->host), "%s", u.nodename);
		snprintf(t->kernel, sizeof(t->kernel), "%s", u.release);
	}
	describe_attach(t, plan);
	set_escdelay(25);	/* Esc alone goes back at once */
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
	return t;
}

void tui_stop(struct tui *t)
{
	if (!t)
		return;
	if (t->stuck)	/* endwin would wait on the stopped terminal: its modes back only */
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
	else {
		endwin();
		delscreen(t->screen);
	}
	free(t->lines);
	free(t->all_lines);
	free(t->body);
	baseline_free(&t->base);
	free(t);
}

int tui_input_fd(const struct tui *t)
{
	return STDIN_FILENO;
}

bool tui_quit(const struct tui *t)
{
	return t->quit;
}

bool tui_paused(const struct tui *t)
{
	return t->paused;
}

double tui_interval(const struct tui *t)
{
	return t->interval_s;
}
