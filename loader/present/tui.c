// SPDX-License-Identifier: GPL-2.0
/* The live view: a top-style guest table with sorting, filtering and a
 * drill-down per guest, drawn with ncurses from the stats the loop reads. */
#include <ctype.h>
#include <curses.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "model/guest_filter.h"
#include "model/devices.h"
#include "model/insns.h"
#include "model/names.h"
#include "present/text.h"
#include "present/tui.h"

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
};

/* One code of the drill-down, merged over the guest's threads. */
struct code_line {
	__u32 class;
	__u16 detail_flags;	/* an exit's DETAIL_*, 0: none */
	__u32 detail;
	__u64 code, interval, total;
	__u64 code_total, code_interval;	/* of all the code's details */
	struct trap_latency lat;	/* since start, or since c */
};

/* A line of the drill-down's scrolling body. */
struct text_line {
	char text[256];
	int attr;
};

struct tui {
	SCREEN *screen;
	const struct options *opts;
	char host[65], kernel[65], attach[256];
	double interval_s;	/* the setting */
	double last_interval_s;	/* the length of the last read, for rates */
	double clear_elapsed;	/* when c was pressed, or 0 */
	bool have_data, paused, quit, help, editing;
	enum view view;
	int sort;
	bool reverse;
	__u32 selected_pid;
	int cursor, top;	/* guest table: selected line, first line shown */
	int scroll;		/* drill-down: first body line shown */
	char filter[FILTER_MAX], edit[FILTER_MAX];
	/* c: each row's count and latency at that moment, by row index (rows are
	 * only ever appended); rows made later start from zero */
	__u64 *base_count;
	struct trap_latency *base_lat;
	size_t nr_base;
	struct guest_line *lines;
	size_t nr_lines;
	struct text_line *body;
	size_t nr_body, cap_body;
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

/* Count and latency of row r since start, or since c. */
static __u64 row_total(const struct tui *t, const struct stats *s, size_t r)
{
	return s->rows[r].count - (r < t->nr_base ? t->base_count[r] : 0);
}

static void row_latency(const struct tui *t, const struct stats *s, size_t r,
			struct trap_latency *out)
{
	const struct trap_latency *now = &s->rows[r].lat, *base;
	int top = -1;

	if (r >= t->nr_base || !t->base_lat[r].count) {
		*out = *now;
		return;
	}
	base = &t->base_lat[r];
	latency_delta(out, now, base);
	out->min_ns = 0;
	if (now->max_ns > base->max_ns)
		return;		/* a new maximum since c: exact */
	/* the maximum predates c: what came since is bounded by its top bucket */
	for (int i = 0; i < LAT_SLOTS; i++)
		if (out->slots[i])
			top = i;
	if (top < 0) {
		out->max_ns = 0;
	} else {
		__u64 lo, hi;

		slot_bounds(top, &lo, &hi);
		out->max_ns = hi < now->max_ns ? hi : now->max_ns;
	}
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

/* The table's lines: guests that pass -g and /, with their sums, sorted. */
static void build_lines(struct tui *t, struct stats *s)
{
	struct guest_sum *sums = sum_guests(s);
	double iv = t->have_data ? t->last_interval_s : 0;
	__u64 all = 0;

	free(t->lines);
	t->lines = calloc(s->nr_guests + 1, sizeof(*t->lines));
	t->nr_lines = 0;
	if (!sums || !t->lines) {
		free(sums);
		return;
	}
	for (size_t i = 0; i < s->nr_guests; i++) {
		struct guest_sum *gs = &sums[i];
		struct guest_line *l;

		if (!guest_name_matches(gs->guest->name, t->opts->guest_globs,
					t->opts->nr_guest_globs))
			continue;
		all += t->have_data ? gs->interval : 0;
		if (!filter_matches(t, gs->guest))
			continue;
		l = &t->lines[t->nr_lines++];
		l->guest = gs->guest;
		l->vcpus = gs->vcpus;
		if (iv > 0) {
			l->rate = gs->interval / iv;
			for (int c = 0; c < NR_CLASSES; c++)
				l->class_rate[c] = gs->class_interval[c] / iv;
			l->share = gs->interval;	/* divided by all below */
			l->exit_n = gs->class_int_lat_count[CLASS_EXIT];
			l->exit_sum = gs->class_int_lat_sum[CLASS_EXIT];
			l->exit_max = gs->class_int_lat_max[CLASS_EXIT];
			l->vmm_n = gs->class_int_lat_count[CLASS_USERSPACE];
			l->vmm_sum = gs->class_int_lat_sum[CLASS_USERSPACE];
			l->vmm_max = gs->class_int_lat_max[CLASS_USERSPACE];
		}
		snprintf(l->top, sizeof(l->top), "-");
		if (iv > 0 && gs->top)
			trap_name_fit(gs->top->key.class, gs->top->key.code, gs->top->key.detail_flags,
				      gs->top->key.detail, l->top, sizeof(l->top), 22);	/* column_width[COL_TOP] */
	}
	for (size_t i = 0; i < t->nr_lines; i++)
		t->lines[i].share = all ? 100.0 * t->lines[i].share / all : 0;
	/* totals since start, or since c */
	for (size_t r = 0; r < s->nr_rows; r++)
		for (size_t i = 0; i < t->nr_lines; i++)
			if (t->lines[i].guest == &s->guests[s->rows[r].guest]) {
				t->lines[i].total += row_total(t, s, r);
				break;
			}
	qsort_r(t->lines, t->nr_lines, sizeof(*t->lines), line_order, t);
	free(sums);
}

static void format_elapsed(double s, char *buf, size_t size)
{
	if (s < 3600)
		snprintf(buf, size, "%.1fs", s);
	else
		snprintf(buf, size, "%dh%02dm%02ds", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
}

static void draw_header(struct tui *t, struct stats *s, double elapsed_s)
{
	char el[32], since[48] = "";
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
	if (t->clear_elapsed > 0)
		snprintf(since, sizeof(since), "  totals since %.1fs (c)", t->clear_elapsed);
	put(0, 0, A_BOLD, "kvmprof  host %s  kernel %s  elapsed %s  interval %.2fs%s%s", t->host,
	    t->kernel, el, t->interval_s, t->paused ? "  PAUSED" : "", since);
	put(1, 0, 0, "traps %.0f/s  guests %zu seen: %zu live, %zu ended  dropped %llu  sort %s%s%s%s%s",
	    all, shown, live, shown - live, (unsigned long long)stats_total_drops(s),
	    sort_name(t->sort), t->reverse ? " (reversed)" : "",
	    t->filter[0] ? "  filter '" : "", t->filter, t->filter[0] ? "'" : "");
	put(2, 0, 0, "attach %s", t->attach);
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
		put(y, 0, A_REVERSE, " q quit  Enter details  s/r sort  / filter  p pause  c clear  "
		    "+/- interval  h help");
	else
		put(y, 0, A_REVERSE, " Esc back  Up/Down/PgUp/PgDn scroll  p pause  c clear  "
		    "+/- interval  h help  q quit");
}

/* Guest table columns, in screen order; the least important drop first
 * when the terminal is narrow. */
enum column {
	COL_PID, COL_NAME, COL_STATE, COL_VCPUS, COL_TRAPS, COL_CLASS,
	COL_SHARE = COL_CLASS + NR_CLASSES, COL_TOTAL, COL_TOP, COL_EXIT_LAT, COL_VMM_LAT,
	NR_COLUMNS,
};

static const int column_width[NR_COLUMNS] = {
	[COL_PID] = 7, [COL_NAME] = 16, [COL_STATE] = 5, [COL_VCPUS] = 5, [COL_TRAPS] = 10,
	[COL_CLASS ... COL_CLASS + NR_CLASSES - 1] = 8,
	[COL_SHARE] = 6, [COL_TOTAL] = 11, [COL_TOP] = 22, [COL_EXIT_LAT] = 17, [COL_VMM_LAT] = 17,
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
	for (int k = 0; k < NR_CLASSES; k++) {	/* busiest class next, ties in class order */
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

static void latency_text(char *buf, size_t size, __u64 n, __u64 sum, __u64 max)
{
	char a[16], m[16];

	if (!n)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%s/%s", format_ns(sum / n, a, sizeof(a)),
			 format_ns(max, m, sizeof(m)));
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

			snprintf(cell, sizeof(cell), "%s",
				 c >= COL_CLASS && c < COL_SHARE ? class_table[c - COL_CLASS].column : titles[c]);
			left |= c == COL_PID;
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
			latency_text(cell, sizeof(cell), l->exit_n, l->exit_sum, l->exit_max);
		} else {
			latency_text(cell, sizeof(cell), l->vmm_n, l->vmm_sum, l->vmm_max);
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

static void add_body(struct tui *t, int attr, const char *fmt, ...)
{
	struct text_line *l;
	va_list ap;

	if (t->nr_body == t->cap_body) {
		size_t cap = t->cap_body ? t->cap_body * 2 : 256;

		l = realloc(t->body, cap * sizeof(*l));
		if (!l)
			return;
		t->body = l;
		t->cap_body = cap;
	}
	l = &t->body[t->nr_body++];
	l->attr = attr;
	va_start(ap, fmt);
	vsnprintf(l->text, sizeof(l->text), fmt, ap);
	va_end(ap);
}

static int code_key_order(const void *a, const void *b)
{
	const struct code_line *x = a, *y = b;

	if (x->class != y->class)
		return x->class < y->class ? -1 : 1;
	if (x->code != y->code)
		return x->code < y->code ? -1 : 1;
	if (x->detail_flags != y->detail_flags)
		return x->detail_flags < y->detail_flags ? -1 : 1;
	return x->detail < y->detail ? -1 : x->detail > y->detail;
}

/* by class, code by its details' total, detail by its own */
static int code_order(const void *a, const void *b)
{
	const struct code_line *x = a, *y = b;

	if (x->class != y->class)
		return x->class < y->class ? -1 : 1;
	if (x->code_total != y->code_total)
		return x->code_total > y->code_total ? -1 : 1;
	if (x->code != y->code)
		return x->code < y->code ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return code_key_order(a, b);
}

static struct trap_key line_key(const struct code_line *c)
{
	return (struct trap_key){ .class = c->class, .detail_flags = c->detail_flags,
				  .detail = c->detail, .code = c->code };
}

/* The guest's codes over all its threads, since start or c, by class then
 * total: one line per row, sorted on (class, code) and merged. */
static struct code_line *guest_codes(struct tui *t, struct stats *s, size_t gi, size_t *nr)
{
	struct code_line *codes = calloc(s->nr_rows + 1, sizeof(*codes));
	size_t n = 0, merged = 0;

	*nr = 0;
	if (!codes)
		return NULL;
	for (size_t r = 0; r < s->nr_rows; r++) {
		struct code_line *c = &codes[n];

		if (s->rows[r].guest != gi || s->rows[r].key.class >= NR_CLASSES)
			continue;
		c->class = s->rows[r].key.class;
		c->code = s->rows[r].key.code;
		c->detail = s->rows[r].key.detail;
		c->detail_flags = s->rows[r].key.detail_flags;
		c->interval = t->have_data ? s->rows[r].interval : 0;
		c->total = row_total(t, s, r);
		row_latency(t, s, r, &c->lat);
		n++;
	}
	qsort(codes, n, sizeof(*codes), code_key_order);
	for (size_t i = 0; i < n; i++) {
		struct code_line *m = &codes[merged - (merged > 0)];

		if (merged && !code_key_order(m, &codes[i])) {
			m->interval += codes[i].interval;
			m->total += codes[i].total;
			latency_add(&m->lat, &codes[i].lat);
		} else {
			codes[merged++] = codes[i];
		}
	}
	/* sorted on (class, code, detail): a code's details are adjacent */
	for (size_t i = 0, e; i < merged; i = e) {
		__u64 total = 0, interval = 0;

		for (e = i; e < merged && codes[e].class == codes[i].class && codes[e].code == codes[i].code; e++) {
			total += codes[e].total;
			interval += codes[e].interval;
		}
		for (size_t j = i; j < e; j++) {
			codes[j].code_total = total;
			codes[j].code_interval = interval;
		}
	}
	qsort(codes, merged, sizeof(*codes), code_order);
	*nr = merged;
	return codes;
}

static void add_latency_cols(char *buf, size_t size, const struct trap_latency *lat)
{
	char a[16], m[16];

	if (lat->count)
		snprintf(buf, size, " %10s %10s", format_ns(lat->sum_ns / lat->count, a, sizeof(a)),
			 format_ns(lat->max_ns, m, sizeof(m)));
	else
		buf[0] = '\0';
}

static void add_histogram(struct tui *t, const struct trap_latency *lat, const char *label)
{
	int first = -1, last = -1, width = COLS - 48;
	__u64 max = 0;

	if (width > 40)
		width = 40;
	for (int i = 0; i < LAT_SLOTS; i++) {
		if (!lat->slots[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (lat->slots[i] > max)
			max = lat->slots[i];
	}
	if (last < 0)
		return;
	add_body(t, A_BOLD, "    %s latency, all codes (log2 ns buckets):", label);
	for (int i = first; i <= last; i++) {
		char range[48], bar[48];
		__u64 lo, hi;
		int stars = width > 0 ? (int)(lat->slots[i] * width / max) : 0;

		slot_bounds(i, &lo, &hi);
		if (i == LAT_SLOTS - 1)
			snprintf(range, sizeof(range), "%llu -> inf", (unsigned long long)lo);
		else
			snprintf(range, sizeof(range), "%llu -> %llu", (unsigned long long)lo,
				 (unsigned long long)hi);
		memset(bar, '*', stars > 0 ? stars : 0);
		memset(bar + (stars > 0 ? stars : 0), ' ', width > stars ? width - stars : 0);
		bar[width > 0 ? width : 0] = '\0';
		add_body(t, 0, "    %24s : %-10llu|%s|", range, (unsigned long long)lat->slots[i], bar);
	}
}

static void add_code_line(struct tui *t, int indent, const char *name, __u64 interval, __u64 total,
			  __u64 class_total, double iv, const struct trap_latency *lat)
{
	char cols[32] = "";

	if (lat)
		add_latency_cols(cols, sizeof(cols), lat);
	add_body(t, 0, "%*s%-*s %12.1f %14llu %7.2f%%%s", indent, "", 40 - indent, name,
		 iv > 0 ? interval / iv : 0, (unsigned long long)total,
		 class_total ? 100.0 * total / class_total : 0, cols);
}

/* Per-device subtotals of codes[k..end) (one class): "device serial COM1". */
static void add_device_lines(struct tui *t, const struct code_line *codes, int k, int end,
			     __u64 class_total, double iv)
{
	struct { const char *name; __u64 total, interval; } devs[64];
	int n = 0;

	for (; k < end; k++) {
		struct trap_key key = line_key(&codes[k]);
		const char *device = trap_device(&key);
		int i = 0;

		if (!device)
			continue;
		while (i < n && strcmp(devs[i].name, device))
			i++;
		if (i == n) {
			if (n == 64)
				continue;
			devs[n].name = device;
			devs[n].total = devs[n].interval = 0;
			n++;
		}
		devs[i].total += codes[k].total;
		devs[i].interval += codes[k].interval;
	}
	for (int i = 0; i < n; i++) {	/* few: by total, insertion order for ties */
		int best = i;
		char name[64];

		for (int j = i + 1; j < n; j++)
			if (devs[j].total > devs[best].total)
				best = j;
		if (best != i) {
			__typeof__(devs[0]) tmp = devs[i];

			devs[i] = devs[best];
			devs[best] = tmp;
		}
		snprintf(name, sizeof(name), "device %s", devs[i].name);
		add_code_line(t, 2, name, devs[i].interval, devs[i].total, class_total, iv, NULL);
	}
}

/* The guest's emulated instructions in full (--insns) or its failed
 * emulations, most frequent first: totals since start (c does not clear
 * them), rates over the last interval. */
static void add_insns(struct tui *t, struct stats *s, __u32 pid, bool failed, double iv)
{
	size_t nr;
	struct insn_sum *sums = insn_sums(s->insns, pid, failed, &nr);

	if (nr) {
		add_body(t, 0, "%s", "");
		add_body(t, A_BOLD | A_UNDERLINE, "%-34s %-20s %-6s %12s %14s  %s",
			 failed ? "FAILED EMULATION" : "EMULATED INSTRUCTION", "BYTES", "MODE", "RATE/s",
			 "TOTAL", failed ? "LAST RIP" : "RIP (CS base + rip)");
	}
	for (size_t i = 0; i < nr; i++) {
		char hex[64], where[96];

		insn_hex(&sums[i].key, hex, sizeof(hex));
		if (!failed)
			insn_ranges_text(&sums[i], 3, where, sizeof(where));
		else if (sums[i].last_rip == RIP_UNKNOWN)
			snprintf(where, sizeof(where), "?");
		else
			snprintf(where, sizeof(where), "0x%llx", (unsigned long long)sums[i].last_rip);
		add_body(t, failed ? A_BOLD : 0, "%-34.34s %-20.20s %-6s %12.1f %14llu  %s", sums[i].text,
			 hex, emulate_mode_name(sums[i].key.mode), iv > 0 ? sums[i].interval / iv : 0,
			 (unsigned long long)sums[i].count, where);
	}
	insn_sums_free(sums, nr);
}

/* The drill-down's body: vCPU threads, then per class its codes (with an
 * exit's details under it), its devices and its latency histogram, then
 * emulated instructions in full and failures. */
static void build_body(struct tui *t, struct stats *s, const struct guest *g)
{
	double iv = t->have_data ? t->last_interval_s : 0;
	size_t nr_codes;
	size_t gi = g - s->guests;
	struct code_line *codes = guest_codes(t, s, gi, &nr_codes);
	__u64 class_total[NR_CLASSES] = {}, class_interval[NR_CLASSES] = {}, total = 0;
	struct trap_latency class_lat[NR_CLASSES] = {};
	char cols[32];

	t->nr_body = 0;
	for (size_t i = 0; i < nr_codes; i++) {
		class_total[codes[i].class] += codes[i].total;
		class_interval[codes[i].class] += codes[i].interval;
		latency_add(&class_lat[codes[i].class], &codes[i].lat);
		total += codes[i].total;
	}
	add_body(t, A_BOLD | A_UNDERLINE, "%-14s %-10s %12s %14s %8s", "VCPU", "TID", "TRAPS/s",
		 "TOTAL", "%");
	for (size_t i = 0; i < s->nr_threads; i++) {
		const struct thread *th = &s->threads[i];
		__u64 thr_total = 0, thr_interval = 0;
		char vcpu[16];

		if (th->guest != gi)
			continue;
		for (size_t r = 0; r < s->nr_rows; r++)
			if (s->rows[r].thread == i) {
				thr_total += row_total(t, s, r);
				thr_interval += s->rows[r].interval;
			}
		if (th->vcpu >= 0)
			snprintf(vcpu, sizeof(vcpu), "vcpu%d", th->vcpu);
		else
			snprintf(vcpu, sizeof(vcpu), "-");
		add_body(t, 0, "%-14s %-10u %12.0f %14llu %7.2f%%", vcpu, th->tid,
			 iv > 0 ? thr_interval / iv : 0, (unsigned long long)thr_total,
			 total ? 100.0 * thr_total / total : 0);
	}
	add_body(t, 0, "%s", "");
	add_body(t, A_BOLD | A_UNDERLINE, "%-40s %12s %14s %8s %10s %10s", "CLASS / CODE", "RATE/s",
		 "TOTAL", "%", "AVG", "MAX");
	if (!nr_codes)
		add_body(t, 0, "No traps %s.", t->clear_elapsed > 0 ? "since c" : "yet");
	for (int c = 0, k = 0; c < NR_CLASSES; c++) {
		if (!class_total[c] && !class_interval[c]) {
			/* its codes (none since c) are passed over, or no later
			 * class would find its own */
			while (k < (int)nr_codes && codes[k].class == (__u32)c)
				k++;
			continue;
		}
		add_latency_cols(cols, sizeof(cols), &class_lat[c]);
		add_body(t, A_BOLD, "%-40s %12.1f %14llu %7.2f%%%s", class_name(c),
			 iv > 0 ? class_interval[c] / iv : 0, (unsigned long long)class_total[c],
			 total ? 100.0 * class_total[c] / total : 0, cols);
		int first = k;

		while (k < (int)nr_codes && codes[k].class == (__u32)c) {
			int end = k + 1;
			struct trap_latency lat = { .vcpu = VCPU_UNKNOWN };
			char name[96];

			while (end < (int)nr_codes && codes[end].class == (__u32)c && codes[end].code == codes[k].code)
				end++;
			if (end == k + 1 && !codes[k].detail_flags) {
				trap_name(c, codes[k].code, 0, 0, name, sizeof(name));
				add_code_line(t, 2, name, codes[k].interval, codes[k].total, class_total[c], iv,
					      &codes[k].lat);
				k = end;
				continue;
			}
			/* the reason's total, then a line per detail */
			for (int i = k; i < end; i++)
				latency_add(&lat, &codes[i].lat);
			code_name(c, codes[k].code, name, sizeof(name));
			add_code_line(t, 2, name, codes[k].code_interval, codes[k].code_total, class_total[c], iv,
				      &lat);
			for (; k < end; k++) {
				struct trap_key key = line_key(&codes[k]);
				const char *device = trap_device(&key);
				size_t n;

				exit_detail_name(codes[k].detail_flags, codes[k].detail, name, sizeof(name));
				if (!codes[k].detail_flags)
					snprintf(name, sizeof(name), "(no detail)");
				n = strlen(name);
				if (device)
					snprintf(name + n, sizeof(name) - n, " (%s)", device);
				add_code_line(t, 4, name, codes[k].interval, codes[k].total, class_total[c], iv,
					      &codes[k].lat);
			}
		}
		add_device_lines(t, codes, first, k, class_total[c], iv);
		if (class_latency_label(c))
			add_histogram(t, &class_lat[c], class_latency_label(c));
	}
	free(codes);
	add_insns(t, s, g->pid, false, iv);
	add_insns(t, s, g->pid, true, iv);
}

static void draw_guest(struct tui *t, struct stats *s)
{
	const struct guest *g = NULL;
	int rows = LINES - HEADER_LINES - 1;
	__u64 total = 0, interval = 0;
	int vcpus = 0;

	for (size_t i = 0; i < s->nr_guests; i++)
		if (s->guests[i].pid == t->selected_pid)
			g = &s->guests[i];
	if (!g) {
		t->view = VIEW_GUESTS;
		return;
	}
	for (size_t r = 0; r < s->nr_rows; r++)
		if (&s->guests[s->rows[r].guest] == g) {
			total += row_total(t, s, r);
			interval += s->rows[r].interval;
		}
	for (size_t i = 0; i < s->nr_threads; i++)
		vcpus += &s->guests[s->threads[i].guest] == g;
	fill_line(HEADER_LINES - 1, A_REVERSE);
	put(HEADER_LINES - 1, 0, A_REVERSE | A_BOLD, "Guest %u \"%s\" %s: %d vCPU thread%s, "
	    "%.0f traps/s, %llu traps since %s", g->pid, g->name, g->ended ? "ended" : "live", vcpus,
	    vcpus == 1 ? "" : "s", t->have_data && t->last_interval_s > 0 ?
	    interval / t->last_interval_s : 0, (unsigned long long)total,
	    t->clear_elapsed > 0 ? "c" : "start");
	build_body(t, s, g);
	if (t->scroll > (int)t->nr_body - rows)
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

void tui_draw(struct tui *t, struct stats *s, double elapsed_s)
{
	if (t->help) {
		draw_help();
		refresh();
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
	refresh();
}

void tui_update(struct tui *t, struct stats *s, double interval_s, double elapsed_s)
{
	t->last_interval_s = interval_s;
	t->have_data = true;
	tui_draw(t, s, elapsed_s);
}

/* c: what each row holds now becomes the view's zero. */
static void clear_totals(struct tui *t, const struct stats *s, double elapsed_s)
{
	__u64 *count = realloc(t->base_count, (s->nr_rows + 1) * sizeof(*count));
	struct trap_latency *lat;

	if (!count)
		return;
	t->base_count = count;
	lat = realloc(t->base_lat, (s->nr_rows + 1) * sizeof(*lat));
	if (!lat)
		return;
	t->base_lat = lat;
	for (size_t r = 0; r < s->nr_rows; r++) {
		count[r] = s->rows[r].count;
		lat[r] = s->rows[r].lat;
	}
	t->nr_base = s->nr_rows;
	t->clear_elapsed = elapsed_s > 0 ? elapsed_s : 0.001;
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

static void move_cursor(struct tui *t, int delta)
{
	if (t->view == VIEW_GUEST) {
		t->scroll += delta;	/* clamped when drawn */
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

static void handle_key(struct tui *t, struct stats *s, int ch, double elapsed_s)
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
	case KEY_HOME: move_cursor(t, -1000000); break;
	case KEY_END: move_cursor(t, 1000000); break;
	case '\n': case '\r': case KEY_ENTER: case KEY_RIGHT:
		build_lines(t, s);	/* keys typed ahead may have changed them */
		follow_selection(t);
		if (t->view == VIEW_GUESTS && t->nr_lines) {
			t->view = VIEW_GUEST;
			t->scroll = 0;
		}
		break;
	case 27: case KEY_BACKSPACE: case 127: case 8: case KEY_LEFT:
		t->view = VIEW_GUESTS;
		break;
	}
}

void tui_handle_input(struct tui *t, struct stats *s, double elapsed_s)
{
	int ch;

	while ((ch = getch()) != ERR)
		handle_key(t, s, ch, elapsed_s);
	tui_draw(t, s, elapsed_s);
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

struct tui *tui_start(const struct options *opts, const struct probe_plan *plan,
		      double interval_s)
{
	struct tui *t = calloc(1, sizeof(*t));
	struct utsname u;

	if (!t)
		return NULL;
	t->screen = newterm(NULL, stdout, stdin);
	if (!t->screen) {
		const char *term = getenv("TERM");

		fprintf(stderr, "kvmprof: cannot start the live view on terminal type '%s': "
			"printing tables instead (-b)\n", term ? term : "");
		free(t);
		return NULL;
	}
	t->opts = opts;
	t->interval_s = interval_s;
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
	endwin();
	delscreen(t->screen);
	free(t->lines);
	free(t->body);
	free(t->base_count);
	free(t->base_lat);
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
