// SPDX-License-Identifier: GPL-2.0
/* A finished run read back from kvmprof's own CSV files, for the report. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "offline/csv_read.h"
#include "model/classes.h"
#include "model/names.h"
#include "offline/run_data.h"
#include "util/text.h"
#include "util/index.h"
#include "util/vec.h"

/* Guests by pid, a guest's codes by (class, code), the threads seen by
 * (pid, tid). */
static size_t guest_hash(const void *d, size_t i)
{
	return hash_pid_tid(((const struct run_data *)d)->guests[i].pid, 0);
}

static size_t code_hash(__u32 class, __u64 code, __u64 detail)
{
	return hash_u64(code ^ (__u64)class << 56 ^ hash_u64(detail));	/* classes are small numbers */
}

static size_t code_entry_hash(const void *set, size_t i)
{
	const struct run_code *c = &((const struct run_codes *)set)->v[i];

	return code_hash(c->class, c->code, c->detail);
}

static size_t thread_hash(const void *d, size_t i)
{
	const struct run_thread *t = &((const struct run_data *)d)->threads[i];

	return hash_pid_tid(t->pid, t->tid);
}

static const char *command = "report";

void run_set_command(const char *name)
{
	command = name;
}

const char *run_command(void)
{
	return command;
}

/* One line for the whole load: "kvmprof: report: FILE:LINE: why", the
 * file's name and the fields quoted in it escaped; without a file, "why"
 * alone. */
int run_fail(const char *path, unsigned long line, const char *fmt, ...)
{
	char why[512], shown_path[1024], shown[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	escape_text(path ? path : "", shown_path, sizeof(shown_path));
	escape_text(why, shown, sizeof(shown));
	fprintf(stderr, "kvmprof: %s: %s", command, shown_path);
	if (path && line)
		fprintf(stderr, ":%lu", line);
	fprintf(stderr, "%s%s\n", path ? ": " : "", shown);
	return -1;
}
#define fail run_fail

static struct run_guest *guest_find(struct run_data *d, __u32 pid)
{
	size_t pos;

	for (size_t i = index_first(&d->guest_index, hash_pid_tid(pid, 0), &pos); i != INDEX_NONE;
	     i = index_next(&d->guest_index, &pos))
		if (d->guests[i].pid == pid)
			return &d->guests[i];
	return NULL;
}

static struct run_guest *guest_of(struct run_data *d, __u32 pid, const char *name)
{
	size_t h = hash_pid_tid(pid, 0);
	struct run_guest *g = guest_find(d, pid);

	if (g)
		return g;
	if (VEC_GROW(d->guests, d->guests_cap, d->nr_guests + 1) ||
	    index_reserve(&d->guest_index, d->nr_guests + 1, guest_hash, d))
		return NULL;
	g = &d->guests[d->nr_guests];
	memset(g, 0, sizeof(*g));
	g->pid = pid;
	if (!(g->name = strdup(name)))
		return NULL;
	index_add(&d->guest_index, h, d->nr_guests, guest_hash, d);	/* reserved */
	d->nr_guests++;
	return g;
}

const struct run_code *run_codes_find(const struct run_codes *s, __u32 class, __u64 code, __u64 detail)
{
	size_t h = code_hash(class, code, detail), pos;

	for (size_t i = index_first(&s->index, h, &pos); i != INDEX_NONE; i = index_next(&s->index, &pos))
		if (s->v[i].class == class && s->v[i].code == code && s->v[i].detail == detail)
			return &s->v[i];
	return NULL;
}

/* The entry of (class, code, detail) in s, added with its names if new. */
static struct run_code *code_of(struct run_codes *s, __u32 class, __u64 code, __u64 detail,
				const char *name, const char *detail_name)
{
	size_t h = code_hash(class, code, detail);
	struct run_code *c = (struct run_code *)run_codes_find(s, class, code, detail);

	if (c)
		return c;
	if (VEC_GROW(s->v, s->cap, s->nr + 1) || index_reserve(&s->index, s->nr + 1, code_entry_hash, s))
		return NULL;
	c = &s->v[s->nr];
	memset(c, 0, sizeof(*c));
	c->class = class;
	c->code = code;
	c->detail = detail;
	if (!(c->name = strdup(name)) || (detail_name && !(c->detail_name = strdup(detail_name)))) {
		free(c->name);
		return NULL;
	}
	index_add(&s->index, h, s->nr, code_entry_hash, s);	/* reserved */
	s->nr++;
	return c;
}

static void codes_free(struct run_codes *s)
{
	for (size_t j = 0; j < s->nr; j++) {
		free(s->v[j].name);
		free(s->v[j].detail_name);
	}
	free(s->v);
	index_free(&s->index);
}

/* Thread (pid, tid), added if new; NULL when out of memory. */
static struct run_thread *thread_of(struct run_data *d, __u32 pid, __u32 tid)
{
	size_t h = hash_pid_tid(pid, tid), pos;

	for (size_t i = index_first(&d->thread_index, h, &pos); i != INDEX_NONE;
	     i = index_next(&d->thread_index, &pos))
		if (d->threads[i].pid == pid && d->threads[i].tid == tid)
			return &d->threads[i];
	if (VEC_GROW(d->threads, d->threads_cap, d->nr_threads + 1) ||
	    index_add(&d->thread_index, h, d->nr_threads, thread_hash, d))
		return NULL;
	d->threads[d->nr_threads] = (struct run_thread){ .pid = pid, .tid = tid };
	return &d->threads[d->nr_threads++];
}

/* Columns by name, so that a column added later does not break reading. */
enum col { C_PID, C_GUEST, C_TID, C_CLASS, C_CODE, C_CODE_NAME, C_COUNT, C_LAT_COUNT, C_LAT_SUM,
	   C_LAT_MAX, C_BUCKET_LO, C_BUCKET_HI, C_BUCKET_COUNT, C_ELAPSED, C_INTERVAL, C_DETAIL,
	   C_DETAIL_NAME, C_LAT_MIN, C_WALL, NR_COLS };
static const char *const col_names[NR_COLS] = {
	"pid", "guest", "tid", "class", "code", "code_name", "count", "lat_count", "lat_sum_ns",
	"lat_max_ns", "bucket_lo_ns", "bucket_hi_ns", "bucket_count", "elapsed_s", "interval_s",
	"detail", "detail_name",	/* optional: files before exit details have none */
	"lat_min_ns", "wall_ns",	/* optional: the series has no minimum, older files no wall */
};
#define HIST_COLS ((1 << C_ELAPSED) - 1)
#define SERIES_COLS (1 << C_PID | 1 << C_GUEST | 1 << C_TID | 1 << C_CLASS | 1 << C_CODE | \
		     1 << C_CODE_NAME | 1 << C_COUNT | 1 << C_ELAPSED | 1 << C_INTERVAL)

struct table {
	struct csv_reader r;
	struct run_data *d;	/* what the rows go into */
	const char *path;
	int col[NR_COLS];
	int nr_fields;
};

/* Opens path and reads its header.  Returns the set of known columns it
 * has, or -1 (one line printed). */
static int table_open(struct table *t, const struct csv_file *file)
{
	const char *path = file->path;
	int have = 0, rc;

	t->path = path;
	t->d = NULL;
	if (csv_open(&t->r, file))
		return fail(path, 0, "cannot read: %s", strerror(errno));
	rc = csv_next(&t->r);
	if (rc < 0) {
		fail(path, t->r.line, "%s", t->r.err);
		csv_close(&t->r);
		return -1;
	}
	for (int c = 0; c < NR_COLS; c++) {
		t->col[c] = -1;
		for (int i = 0; rc > 0 && i < t->r.nr; i++)
			if (!strcmp(csv_get(&t->r, i), col_names[c]))
				t->col[c] = i;
		if (t->col[c] >= 0)
			have |= 1 << c;
	}
	t->nr_fields = rc > 0 ? t->r.nr : 0;
	return have;
}

/* The next row: 1, 0 at the end, -1 (one line printed). */
static int table_next(struct table *t)
{
	int rc = csv_next(&t->r);

	if (rc < 0)
		return fail(t->path, t->r.line, "%s", t->r.err);
	if (rc > 0 && t->r.nr != t->nr_fields)
		return fail(t->path, t->r.line, "%d fields where the header has %d", t->r.nr,
			    t->nr_fields);
	return rc;
}

static const char *field(const struct table *t, enum col c)
{
	return csv_get(&t->r, t->col[c]);
}

/* A decimal (or with hex, 0x-prefixed hex) u64; empty is 0 when
 * may_be_empty.  False on anything else. */
static bool parse_u64(const char *s, bool hex, bool may_be_empty, __u64 *out)
{
	__u64 v = 0;
	int base = hex ? 16 : 10;

	if (!*s) {
		*out = 0;
		return may_be_empty;
	}
	if (hex) {
		if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2])
			return false;
		s += 2;
	}
	for (; *s; s++) {
		int digit;

		if (*s >= '0' && *s <= '9')
			digit = *s - '0';
		else if (hex && *s >= 'a' && *s <= 'f')
			digit = *s - 'a' + 10;
		else if (hex && *s >= 'A' && *s <= 'F')
			digit = *s - 'A' + 10;
		else
			return false;
		if (v > (~0ULL - digit) / base)
			return false;
		v = v * base + digit;
	}
	*out = v;
	return true;
}

static bool parse_seconds(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return *s && !*end && !errno && isfinite(*out) && *out >= 0;
}

int run_arch(const struct run_data *d, int *class)
{
	for (int c = 0; c < NR_CLASSES; c++)
		if (d->class_line[c] && class_table[c].x86 != class_table[c].arm64) {
			*class = c;
			return class_table[c].x86 ? 'x' : 'a';
		}
	return 0;
}

const char *run_arch_name(int arch)
{
	return arch == 'x' ? "x86" : arch == 'a' ? "arm64" : "either architecture";
}

/* Where class first appears; a class of the other architecture than the
 * run's is refused there. */
static int note_class(struct run_data *d, int class, const char *path, unsigned long line)
{
	int first, arch;

	if (d->class_line[class])
		return 0;
	arch = run_arch(d, &first);
	if (arch && class_table[class].x86 != class_table[class].arm64 &&
	    (arch == 'x') != class_table[class].x86)
		return fail(path, line, "class %s is %s's, but this run has %s's %s (%s:%lu): files of "
			    "two architectures", class_name(class), run_arch_name(arch == 'x' ? 'a' : 'x'),
			    run_arch_name(arch), class_name(first), d->class_path[first],
			    d->class_line[first]);
	d->class_path[class] = path;
	d->class_line[class] = line;
	return 0;
}

double run_elapsed(const struct run_data *d)
{
	return d->nr_intervals ? d->intervals[d->nr_intervals - 1].end_s : 0;
}

/* The columns both files share: pid, tid, class, code, count.  Returns 0 or
 * -1 (one line printed). */
struct key_row {
	__u64 pid, tid, code, count;
	__u64 detail;	/* an exit's detail, 0 when none (or no such column) */
	bool has_detail;	/* the detail field is not empty */
	int class;
};

static int read_key(struct table *t, struct key_row *k)
{
	const char *cls = field(t, C_CLASS);
	unsigned long line = t->r.line;

	if (!parse_u64(field(t, C_PID), false, false, &k->pid) || k->pid > 0xffffffffULL)
		return fail(t->path, line, "pid '%s' is not a number", field(t, C_PID));
	if (!parse_u64(field(t, C_TID), false, false, &k->tid) || k->tid > 0xffffffffULL)
		return fail(t->path, line, "tid '%s' is not a number", field(t, C_TID));
	if ((k->class = class_from_name(cls)) < 0)
		return fail(t->path, line, "unknown class '%.40s'", cls);
	if (!parse_u64(field(t, C_CODE), true, false, &k->code))
		return fail(t->path, line, "code '%.40s' is not a 0x number", field(t, C_CODE));
	if (!parse_u64(field(t, C_COUNT), false, false, &k->count))
		return fail(t->path, line, "count '%.40s' is not a number", field(t, C_COUNT));
	k->detail = 0;
	k->has_detail = t->col[C_DETAIL] >= 0 && *field(t, C_DETAIL);
	if (t->col[C_DETAIL] >= 0 && !parse_u64(field(t, C_DETAIL), true, true, &k->detail))
		return fail(t->path, line, "detail '%.40s' is not a 0x number", field(t, C_DETAIL));
	return note_class(t->d, k->class, t->path, line);
}

static bool add(__u64 *sum, __u64 v)
{
	if (*sum + v < *sum)
		return false;
	*sum += v;
	return true;
}

int run_file_kind(const struct csv_file *file)
{
	const char *path = file->path;
	struct table t;
	int have = table_open(&t, file);

	if (have < 0)
		return 0;
	csv_close(&t.r);
	if ((have & HIST_COLS) == HIST_COLS)
		return 'h';
	if ((have & SERIES_COLS) == SERIES_COLS)
		return 's';
	fail(path, 1, "not a kvmprof --csv or --csv-series file (its header lacks the columns)");
	return 0;
}

/* A --csv row: its key, the key's latency totals and one log2 bucket
 * (bucket_count empty: none). */
struct hist_row {
	struct key_row k;
	__u64 lat_count, lat_sum, lat_min, lat_max, lo, hi, n;
	const char *s_lo, *s_hi, *s_n;
};

static int read_hist_row(struct table *t, struct hist_row *h)
{
	if (read_key(t, &h->k))
		return -1;
	h->lat_min = 0;
	h->s_lo = field(t, C_BUCKET_LO);
	h->s_hi = field(t, C_BUCKET_HI);
	h->s_n = field(t, C_BUCKET_COUNT);
	if (!parse_u64(field(t, C_LAT_COUNT), false, true, &h->lat_count) ||
	    !parse_u64(field(t, C_LAT_SUM), false, true, &h->lat_sum) ||
	    !parse_u64(field(t, C_LAT_MAX), false, true, &h->lat_max) ||
	    (t->col[C_LAT_MIN] >= 0 && !parse_u64(field(t, C_LAT_MIN), false, true, &h->lat_min)) ||
	    !parse_u64(h->s_lo, false, true, &h->lo) || !parse_u64(h->s_hi, false, true, &h->hi) ||
	    !parse_u64(h->s_n, false, true, &h->n))
		return fail(t->path, t->r.line, "a latency column is not a number");
	return 0;
}

/* A key with latencies has one row per bucket, each repeating the key's
 * totals: they count once, at its first row (exits split by detail). */
static bool same_key(const struct key_row *a, const struct key_row *b)
{
	return a->pid == b->pid && a->tid == b->tid && a->class == b->class &&
	       a->code == b->code && a->detail == b->detail;
}

/* A key's entries: its guest's code and, for a key with a detail, its
 * detail; [1] is NULL without one. */
struct key_entries {
	struct run_guest *g;
	struct run_code *c[2];
};

static int find_entries(struct run_data *d, const struct table *t, const struct key_row *k,
			struct key_entries *e)
{
	const char *name = csv_unformula(field(t, C_CODE_NAME));
	const char *detail_name = t->col[C_DETAIL_NAME] >= 0 ? field(t, C_DETAIL_NAME) : "";

	e->g = guest_of(d, k->pid, csv_unformula(field(t, C_GUEST)));
	e->c[0] = e->g ? code_of(&e->g->codes, k->class, k->code, 0, name, NULL) : NULL;
	e->c[1] = NULL;
	if (e->c[0] && k->has_detail)
		e->c[1] = code_of(&e->g->details, k->class, k->code, k->detail, name,
				  csv_unformula(detail_name));
	if (!e->c[0] || (k->has_detail && !e->c[1]))
		return fail(t->path, t->r.line, "out of memory");
	return 0;
}

/* The lower of two minimums, 0 being none. */
static void lower_min(__u64 *min, __u64 v)
{
	if (v && (!*min || v < *min))
		*min = v;
}

static bool add_code_totals(struct run_code *c, const struct hist_row *h)
{
	if (!c)
		return true;
	if (h->lat_max > c->lat_max_ns)
		c->lat_max_ns = h->lat_max;
	lower_min(&c->lat_min_ns, h->lat_min);
	return add(&c->count, h->k.count) && add(&c->lat_count, h->lat_count) &&
	       add(&c->lat_sum_ns, h->lat_sum);
}

static int add_key_totals(struct run_data *d, const struct key_entries *e, const struct hist_row *h,
			  const struct table *t)
{
	struct run_thread *th = thread_of(d, h->k.pid, h->k.tid);
	struct run_guest *g = e->g;
	int cls = h->k.class;
	__u64 n = h->k.count;

	if (!th)
		return fail(t->path, t->r.line, "out of memory");
	g->threads += !th->traps;
	th->traps = true;
	if (!add_code_totals(e->c[0], h) || !add_code_totals(e->c[1], h) ||
	    !add(&g->class_total[cls], n) || !add(&g->total, n) ||
	    !add(&g->lat_count[cls], h->lat_count) || !add(&g->lat_sum_ns[cls], h->lat_sum))
		return fail(t->path, t->r.line, "counts overflow 64 bits");
	if (h->lat_max > g->lat_max_ns[cls])
		g->lat_max_ns[cls] = h->lat_max;
	lower_min(&g->lat_min_ns[cls], h->lat_min);
	return 0;
}

/* A log2 bucket: [0, 1], or [2^i, 2^(i+1) - 1], the last open. */
static int add_bucket(const struct key_entries *e, const struct hist_row *h, const struct table *t)
{
	__u64 lo = h->lo, hi = h->hi;
	int slot = lo ? 63 - __builtin_clzll(lo) : 0;
	bool log2 = lo ? !(lo & (lo - 1)) && slot < LAT_SLOTS &&
		    (slot == LAT_SLOTS - 1 ? !*h->s_hi : hi == 2 * lo - 1) : hi == 1;

	if (!*h->s_lo || !log2)
		return fail(t->path, t->r.line, "bucket '%s'..'%s' is not one of kvmprof's log2 buckets",
			    h->s_lo, h->s_hi);
	if (!add(&e->g->lat_slots[h->k.class][slot], h->n) || !add(&e->c[0]->lat_slots[slot], h->n) ||
	    (e->c[1] && !add(&e->c[1]->lat_slots[slot], h->n)))
		return fail(t->path, t->r.line, "counts overflow 64 bits");
	return 0;
}


/* A vcpu_time row (model/vcpu_time.h): a vCPU thread's nanoseconds in one
 * state, its wall time last. */
struct time_row {
	__u64 pid, tid, col, ns, wall;
};

/* The row's fields, checked: 0, or -1 after one line. */
static int parse_time_row(const struct table *t, struct time_row *r)
{
	unsigned long line = t->r.line;

	if (!parse_u64(field(t, C_PID), false, false, &r->pid) || r->pid > 0xffffffffULL ||
	    !parse_u64(field(t, C_TID), false, false, &r->tid) || r->tid > 0xffffffffULL)
		return fail(t->path, line, "the pid or tid of a vcpu_time row is not a number");
	if (!parse_u64(field(t, C_CODE), false, false, &r->col) || r->col >= NR_TIME_COLUMNS ||
	    strcmp(field(t, C_CODE_NAME), time_column_name(r->col)))
		return fail(t->path, line, "vcpu_time state %.20s '%.40s' is not one of kvmprof's",
			    field(t, C_CODE), field(t, C_CODE_NAME));
	if (!parse_u64(field(t, C_COUNT), false, false, &r->ns) || t->col[C_WALL] < 0 ||
	    !parse_u64(field(t, C_WALL), false, false, &r->wall))
		return fail(t->path, line, "a vcpu_time row's count or wall_ns is not a number");
	return 0;
}

/* A --csv file's vcpu_time row into its guest's totals (if trap rows named
 * it: a guest without traps is not shown). */
static int add_time_total(struct table *t)
{
	unsigned long line = t->r.line;
	struct time_row r;
	struct run_thread *th;
	struct run_guest *g;
	bool first;

	if (parse_time_row(t, &r))
		return -1;
	if (!(th = thread_of(t->d, r.pid, r.tid)))
		return fail(t->path, line, "out of memory");
	if (th->timed && th->wall_ns != r.wall)
		return fail(t->path, line, "wall_ns %llu is not the thread's earlier %llu",
			    (unsigned long long)r.wall, (unsigned long long)th->wall_ns);
	first = !th->timed;
	th->timed = true;
	th->wall_ns = r.wall;
	if (!(g = guest_find(t->d, r.pid)))
		return 0;
	g->has_time[r.col] = true;
	if ((first && !add(&g->time_wall_ns, r.wall)) || !add(&g->time_ns[r.col], r.ns))
		return fail(t->path, line, "counts overflow 64 bits");
	return 0;
}

/* A check row (kvmprof's count of a pair against KVM's own counters): its
 * numbers checked, nothing shown of it. */
static int read_check_row(const struct table *t)
{
	__u64 pid, code, count;

	if (!parse_u64(field(t, C_PID), false, false, &pid) || pid > 0xffffffffULL ||
	    !parse_u64(field(t, C_CODE), false, false, &code) ||
	    !parse_u64(field(t, C_COUNT), false, false, &count))
		return fail(t->path, t->r.line, "a check row's pid, code or count is not a number");
	return 0;
}

/* Rows that are not traps: a vCPU thread's time (vcpu_time), which
 * add_time takes (the --csv file's totals, the series' intervals), and the
 * checks against KVM's counters (check), read and not shown.  0 for any
 * other row; 1 when it was one, -1 when it is malformed. */
static int non_trap_row(struct table *t, int (*add_time)(struct table *t))
{
	const char *cls = field(t, C_CLASS);

	if (!strcmp(cls, "vcpu_time"))
		return add_time(t) ? -1 : 1;
	if (!strcmp(cls, "check"))
		return read_check_row(t) ? -1 : 1;
	return 0;
}

int run_load_histograms(struct run_data *d, const struct csv_file *file)
{
	const char *path = file->path;
	struct key_row prev = { .class = -1 };
	__u64 key_buckets = 0;	/* the samples in the key's buckets so far */
	struct table t;
	int have = table_open(&t, file), rc;

	if (have < 0)
		return -1;
	t.d = d;
	if ((have & HIST_COLS) != HIST_COLS) {
		csv_close(&t.r);
		return fail(path, 1, "not a kvmprof --csv file (its header lacks the histogram "
			    "columns%s)", (have & SERIES_COLS) == SERIES_COLS ? ": a --csv-series file?" : "");
	}
	while ((rc = table_next(&t)) > 0) {
		struct key_entries e;
		struct hist_row h;
		bool first;

		if ((rc = non_trap_row(&t, add_time_total)) > 0)
			continue;
		if (rc < 0 || read_hist_row(&t, &h) || find_entries(d, &t, &h.k, &e)) {
			rc = -1;
			break;
		}
		first = !same_key(&h.k, &prev);
		prev = h.k;
		if ((first && add_key_totals(d, &e, &h, &t)) || (*h.s_n && add_bucket(&e, &h, &t))) {
			rc = -1;
			break;
		}
		if (first)
			key_buckets = 0;
		if (!add(&key_buckets, h.n) || key_buckets > h.lat_count) {	/* what kvmprof never writes */
			rc = fail(path, t.r.line, "the buckets hold %llu samples, more than lat_count %llu",
				  (unsigned long long)key_buckets, (unsigned long long)h.lat_count);
			break;
		}
	}
	csv_close(&t.r);
	return rc < 0 ? -1 : 0;
}

/* The interval of a series row: rows of one interval are written together,
 * stamped alike; a new stamp starts the next interval.  0 or -1. */
struct stamp {
	char elapsed[32], len[32];
};

static int stamp_interval(struct run_data *d, const struct table *t, struct stamp *prev)
{
	const char *elapsed = field(t, C_ELAPSED), *len = field(t, C_INTERVAL);
	struct run_interval *iv;
	double end_s, len_s;

	if (d->nr_intervals && !strcmp(elapsed, prev->elapsed) && !strcmp(len, prev->len))
		return 0;
	if (strlen(elapsed) >= sizeof(prev->elapsed) || strlen(len) >= sizeof(prev->len) ||
	    !parse_seconds(elapsed, &end_s) || !parse_seconds(len, &len_s) || !len_s ||
	    len_s > end_s + 0.002)
		return fail(t->path, t->r.line, "elapsed_s '%.30s' or interval_s '%.30s' is not a time",
			    elapsed, len);
	if (d->nr_intervals && end_s < d->intervals[d->nr_intervals - 1].end_s)
		return fail(t->path, t->r.line, "elapsed_s goes back in time (%.30s)", elapsed);
	if (VEC_GROW(d->intervals, d->intervals_cap, d->nr_intervals + 1))
		return fail(t->path, t->r.line, "out of memory");
	iv = &d->intervals[d->nr_intervals++];
	iv->end_s = end_s;
	iv->len_s = len_s;
	snprintf(prev->elapsed, sizeof(prev->elapsed), "%s", elapsed);
	snprintf(prev->len, sizeof(prev->len), "%s", len);
	return 0;
}

/* Guest pid's point of the current interval (made on its first row), or
 * NULL after one line. */
static struct run_point *current_point(struct run_data *d, const struct table *t, __u32 pid,
				       struct run_guest **gp)
{
	struct run_guest *g = guest_of(d, pid, csv_unformula(field(t, C_GUEST)));
	struct run_point *p;

	if (!g) {
		fail(t->path, t->r.line, "out of memory");
		return NULL;
	}
	if (!g->nr_points || g->points[g->nr_points - 1].interval != d->nr_intervals - 1) {
		if (VEC_GROW(g->points, g->points_cap, g->nr_points + 1)) {
			fail(t->path, t->r.line, "out of memory");
			return NULL;
		}
		p = &g->points[g->nr_points++];
		memset(p, 0, sizeof(*p));
		p->interval = d->nr_intervals - 1;
	}
	*gp = g;
	return &g->points[g->nr_points - 1];
}

/* A series row's traps into its guest's point of the current interval. */
static int add_point(struct run_data *d, const struct table *t, const struct key_row *k)
{
	struct run_guest *g;
	struct run_point *p = current_point(d, t, k->pid, &g);

	if (!p)
		return -1;
	if (!add(&p->count[k->class], k->count) || !add(&g->series_total, k->count))
		return fail(t->path, t->r.line, "counts overflow 64 bits");
	return 0;
}

/* A series vcpu_time row: the interval's time of one thread in one
 * column, into its guest's point. */
static int add_time_point(struct table *t)
{
	struct time_row r;
	struct run_guest *g;
	struct run_point *p;

	if (parse_time_row(t, &r) || !(p = current_point(t->d, t, r.pid, &g)))
		return -1;
	g->series_time = true;
	if (!add(&p->time_ns[r.col], r.ns))
		return fail(t->path, t->r.line, "counts overflow 64 bits");
	return 0;
}

int run_load_series(struct run_data *d, const struct csv_file *file)
{
	const char *path = file->path;
	struct stamp prev = {};
	struct table t;
	int have = table_open(&t, file), rc;

	if (have < 0)
		return -1;
	if ((have & SERIES_COLS) != SERIES_COLS) {
		csv_close(&t.r);
		return fail(path, 1, "not a kvmprof --csv-series file (its header lacks the columns)");
	}
	t.d = d;
	d->has_series = true;
	while ((rc = table_next(&t)) > 0) {
		struct key_row k;

		if (stamp_interval(d, &t, &prev)) {
			rc = -1;
			break;
		}
		if ((rc = non_trap_row(&t, add_time_point)) > 0)	/* time: the time chart's */
			continue;
		if (rc < 0 || read_key(&t, &k) || add_point(d, &t, &k)) {
			rc = -1;
			break;
		}
	}
	csv_close(&t.r);
	return rc < 0 ? -1 : 0;
}

void run_free(struct run_data *d)
{
	for (size_t i = 0; i < d->nr_guests; i++) {
		struct run_guest *g = &d->guests[i];

		codes_free(&g->codes);
		codes_free(&g->details);
		free(g->points);
		free(g->name);
	}
	free(d->guests);
	free(d->intervals);
	free(d->threads);
	index_free(&d->guest_index);
	index_free(&d->thread_index);
	memset(d, 0, sizeof(*d));
}
