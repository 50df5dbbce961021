// SPDX-License-Identifier: GPL-2.0
/* A finished run read back from kvmprof's own CSV files, for the report. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "offline/csv_read.h"
#include "model/names.h"
#include "offline/run_data.h"

struct run_slot {
	__u64 a, b;
	size_t idx1;	/* index + 1; 0: empty */
};

static size_t hash(__u64 a, __u64 b)
{
	__u64 h = (a ^ (b * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;

	return (size_t)(h ^ (h >> 32));
}

/* The slot of (a, b): its idx1 is 0 when the key is new (the caller sets
 * it).  NULL when out of memory. */
static struct run_slot *index_slot(struct run_index *ix, __u64 a, __u64 b)
{
	size_t i;

	if (!ix->slots || (ix->nr + 1) * 2 > ix->mask + 1) {	/* at most half full */
		size_t size = ix->slots ? (ix->mask + 1) * 2 : 256;
		struct run_slot *slots = calloc(size, sizeof(*slots));

		if (!slots)
			return NULL;
		for (size_t j = 0; ix->slots && j <= ix->mask; j++) {
			struct run_slot *o = &ix->slots[j];

			if (!o->idx1)
				continue;
			for (i = hash(o->a, o->b) & (size - 1); slots[i].idx1; i = (i + 1) & (size - 1))
				;
			slots[i] = *o;
		}
		free(ix->slots);
		ix->slots = slots;
		ix->mask = size - 1;
	}
	for (i = hash(a, b) & ix->mask; ix->slots[i].idx1; i = (i + 1) & ix->mask)
		if (ix->slots[i].a == a && ix->slots[i].b == b)
			return &ix->slots[i];
	ix->slots[i].a = a;
	ix->slots[i].b = b;
	ix->nr++;
	return &ix->slots[i];
}

static bool grow(void **arr, size_t *cap, size_t nr, size_t size)
{
	void *p;

	if (nr < *cap)
		return true;
	p = realloc(*arr, (*cap ? *cap * 2 : 16) * size);
	if (!p)
		return false;
	*arr = p;
	*cap = *cap ? *cap * 2 : 16;
	return true;
}

/* One line for the whole load: "kvmprof: report: FILE:LINE: why". */
static int fail(const char *path, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kvmprof: report: %s", path);
	if (line)
		fprintf(stderr, ":%lu", line);
	fprintf(stderr, ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static struct run_guest *guest_of(struct run_data *d, __u32 pid, const char *name)
{
	struct run_slot *slot = index_slot(&d->guest_index, pid, 0);
	struct run_guest *g;

	if (!slot)
		return NULL;
	if (slot->idx1)
		return &d->guests[slot->idx1 - 1];
	if (!grow((void **)&d->guests, &d->guests_cap, d->nr_guests, sizeof(*g))) {
		d->guest_index.nr--;
		return NULL;
	}
	g = &d->guests[d->nr_guests];
	memset(g, 0, sizeof(*g));
	g->pid = pid;
	if (!(g->name = strdup(name))) {
		d->guest_index.nr--;
		return NULL;
	}
	slot->idx1 = ++d->nr_guests;
	return g;
}

static struct run_code *code_of(struct run_data *d, struct run_guest *g, __u32 class, __u64 code,
				const char *name)
{
	struct run_slot *slot = index_slot(&d->code_index, (__u64)(g - d->guests) << 8 | class, code);
	struct run_code *c;

	if (!slot)
		return NULL;
	if (slot->idx1)
		return &g->codes[slot->idx1 - 1];
	if (!grow((void **)&g->codes, &g->codes_cap, g->nr_codes, sizeof(*c))) {
		d->code_index.nr--;
		return NULL;
	}
	c = &g->codes[g->nr_codes];
	memset(c, 0, sizeof(*c));
	c->class = class;
	c->code = code;
	if (!(c->name = strdup(name))) {
		d->code_index.nr--;
		return NULL;
	}
	slot->idx1 = ++g->nr_codes;
	return c;
}

/* Columns by name, so that a column added later does not break reading. */
enum col { C_PID, C_GUEST, C_TID, C_CLASS, C_CODE, C_CODE_NAME, C_COUNT, C_LAT_COUNT, C_LAT_SUM,
	   C_LAT_MAX, C_BUCKET_LO, C_BUCKET_HI, C_BUCKET_COUNT, C_ELAPSED, C_INTERVAL, C_DETAIL,
	   NR_COLS };
static const char *const col_names[NR_COLS] = {
	"pid", "guest", "tid", "class", "code", "code_name", "count", "lat_count", "lat_sum_ns",
	"lat_max_ns", "bucket_lo_ns", "bucket_hi_ns", "bucket_count", "elapsed_s", "interval_s",
	"detail",	/* optional: files before exit details have none */
};
#define HIST_COLS ((1 << C_ELAPSED) - 1)
#define SERIES_COLS (1 << C_PID | 1 << C_GUEST | 1 << C_TID | 1 << C_CLASS | 1 << C_CODE | \
		     1 << C_CODE_NAME | 1 << C_COUNT | 1 << C_ELAPSED | 1 << C_INTERVAL)

struct table {
	struct csv_reader r;
	const char *path;
	int col[NR_COLS];
	int nr_fields;
};

/* Opens path and reads its header.  Returns the set of known columns it
 * has, or -1 (one line printed). */
static int table_open(struct table *t, const char *path)
{
	int have = 0, rc;

	t->path = path;
	if (csv_open(&t->r, path))
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

/* The columns both files share: pid, tid, class, code, count.  Returns 0 or
 * -1 (one line printed). */
struct key_row {
	__u64 pid, tid, code, count;
	__u64 detail;	/* an exit's detail, 0 when none (or no such column) */
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
	if (t->col[C_DETAIL] >= 0 && !parse_u64(field(t, C_DETAIL), true, true, &k->detail))
		return fail(t->path, line, "detail '%.40s' is not a 0x number", field(t, C_DETAIL));
	return 0;
}

static bool add(__u64 *sum, __u64 v)
{
	if (*sum + v < *sum)
		return false;
	*sum += v;
	return true;
}

int run_file_kind(const char *path)
{
	struct table t;
	int have = table_open(&t, path);

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

int run_load_histograms(struct run_data *d, const char *path)
{
	struct key_row prev = { .class = -1 };
	struct table t;
	int have = table_open(&t, path), rc;

	if (have < 0)
		return -1;
	if ((have & HIST_COLS) != HIST_COLS) {
		csv_close(&t.r);
		return fail(path, 1, "not a kvmprof --csv file (its header lacks the histogram "
			    "columns%s)", (have & SERIES_COLS) == SERIES_COLS ? ": a --csv-series file?" : "");
	}
	while ((rc = table_next(&t)) > 0) {
		unsigned long line = t.r.line;
		struct key_row k;
		struct run_guest *g;
		struct run_code *c;
		__u64 lat_count, lat_sum, lat_max, lo, hi, n;
		const char *s_hi = field(&t, C_BUCKET_HI), *s_n = field(&t, C_BUCKET_COUNT);
		bool first;

		if (read_key(&t, &k)) {
			rc = -1;
			break;
		}
		if (!parse_u64(field(&t, C_LAT_COUNT), false, true, &lat_count) ||
		    !parse_u64(field(&t, C_LAT_SUM), false, true, &lat_sum) ||
		    !parse_u64(field(&t, C_LAT_MAX), false, true, &lat_max) ||
		    !parse_u64(field(&t, C_BUCKET_LO), false, true, &lo) ||
		    !parse_u64(s_hi, false, true, &hi) || !parse_u64(s_n, false, true, &n)) {
			rc = fail(path, line, "a latency column is not a number");
			break;
		}
		g = guest_of(d, k.pid, field(&t, C_GUEST));
		c = g ? code_of(d, g, k.class, k.code, field(&t, C_CODE_NAME)) : NULL;
		if (!c) {
			rc = fail(path, line, "out of memory");
			break;
		}
		/* a key with latencies has one row per bucket, each repeating
		 * the key's totals: they count once; exits split by detail */
		first = k.pid != prev.pid || k.tid != prev.tid || k.class != prev.class ||
			k.code != prev.code || k.detail != prev.detail;
		prev = k;
		if (first) {
			struct run_slot *th = index_slot(&d->thread_index, k.pid << 32 | k.tid, 0);

			if (!th) {
				rc = fail(path, line, "out of memory");
				break;
			}
			if (!th->idx1) {
				th->idx1 = 1;
				g->threads++;
			}
			if (!add(&c->count, k.count) || !add(&g->class_total[k.class], k.count) ||
			    !add(&g->total, k.count) || !add(&c->lat_count, lat_count) ||
			    !add(&c->lat_sum_ns, lat_sum) || !add(&g->lat_count[k.class], lat_count) ||
			    !add(&g->lat_sum_ns[k.class], lat_sum)) {
				rc = fail(path, line, "counts overflow 64 bits");
				break;
			}
			if (lat_max > c->lat_max_ns)
				c->lat_max_ns = lat_max;
			if (lat_max > g->lat_max_ns[k.class])
				g->lat_max_ns[k.class] = lat_max;
		}
		if (*s_n) {	/* a log2 bucket: [0, 1], or [2^i, 2^(i+1) - 1], the last open */
			int slot = lo ? 63 - __builtin_clzll(lo) : 0;
			bool log2 = lo ? !(lo & (lo - 1)) && slot < LAT_SLOTS &&
				    (slot == LAT_SLOTS - 1 ? !*s_hi : hi == 2 * lo - 1) : hi == 1;

			if (!*field(&t, C_BUCKET_LO) || !log2) {
				rc = fail(path, line, "bucket '%s'..'%s' is not one of kvmprof's log2 buckets",
					  field(&t, C_BUCKET_LO), s_hi);
				break;
			}
			if (!add(&g->lat_slots[k.class][slot], n)) {
				rc = fail(path, line, "counts overflow 64 bits");
				break;
			}
		}
	}
	csv_close(&t.r);
	return rc < 0 ? -1 : 0;
}

int run_load_series(struct run_data *d, const char *path)
{
	char prev_elapsed[32] = "", prev_len[32] = "";
	struct table t;
	int have = table_open(&t, path), rc;

	if (have < 0)
		return -1;
	if ((have & SERIES_COLS) != SERIES_COLS) {
		csv_close(&t.r);
		return fail(path, 1, "not a kvmprof --csv-series file (its header lacks the columns)");
	}
	d->has_series = true;
	while ((rc = table_next(&t)) > 0) {
		unsigned long line = t.r.line;
		const char *elapsed = field(&t, C_ELAPSED), *len = field(&t, C_INTERVAL);
		struct run_interval *iv;
		struct run_guest *g;
		struct run_point *p;
		struct key_row k;

		if (read_key(&t, &k)) {
			rc = -1;
			break;
		}
		/* rows of one interval are written together, stamped alike */
		if (!d->nr_intervals || strcmp(elapsed, prev_elapsed) || strcmp(len, prev_len)) {
			double end_s, len_s;

			if (strlen(elapsed) >= sizeof(prev_elapsed) || strlen(len) >= sizeof(prev_len) ||
			    !parse_seconds(elapsed, &end_s) || !parse_seconds(len, &len_s) || !len_s ||
			    len_s > end_s + 0.002) {
				rc = fail(path, line, "elapsed_s '%.30s' or interval_s '%.30s' is not a time",
					  elapsed, len);
				break;
			}
			if (d->nr_intervals && end_s < d->intervals[d->nr_intervals - 1].end_s) {
				rc = fail(path, line, "elapsed_s goes back in time (%.30s)", elapsed);
				break;
			}
			if (!grow((void **)&d->intervals, &d->intervals_cap, d->nr_intervals,
				  sizeof(*iv))) {
				rc = fail(path, line, "out of memory");
				break;
			}
			iv = &d->intervals[d->nr_intervals++];
			iv->end_s = end_s;
			iv->len_s = len_s;
			snprintf(prev_elapsed, sizeof(prev_elapsed), "%s", elapsed);
			snprintf(prev_len, sizeof(prev_len), "%s", len);
		}
		g = guest_of(d, k.pid, field(&t, C_GUEST));
		if (!g) {
			rc = fail(path, line, "out of memory");
			break;
		}
		if (!g->nr_points || g->points[g->nr_points - 1].interval != d->nr_intervals - 1) {
			if (!grow((void **)&g->points, &g->points_cap, g->nr_points, sizeof(*p))) {
				rc = fail(path, line, "out of memory");
				break;
			}
			p = &g->points[g->nr_points++];
			memset(p, 0, sizeof(*p));
			p->interval = d->nr_intervals - 1;
		}
		p = &g->points[g->nr_points - 1];
		if (!add(&p->count[k.class], k.count) || !add(&g->series_total, k.count)) {
			rc = fail(path, line, "counts overflow 64 bits");
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

		for (size_t j = 0; j < g->nr_codes; j++)
			free(g->codes[j].name);
		free(g->codes);
		free(g->points);
		free(g->name);
	}
	free(d->guests);
	free(d->intervals);
	free(d->guest_index.slots);
	free(d->code_index.slots);
	free(d->thread_index.slots);
	memset(d, 0, sizeof(*d));
}
