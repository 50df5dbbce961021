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
#include "util/text.h"
#include "util/index.h"
#include "util/vec.h"

/* Guests by pid, a guest's codes by (class, code), the threads seen by
 * (pid, tid). */
static size_t guest_hash(const void *d, size_t i)
{
	return hash_pid_tid(((const struct run_data *)d)->guests[i].pid, 0);
}

static size_t code_hash(__u32 class, __u64 code)
{
	return hash_u64(code ^ (__u64)class << 56);	/* classes are small numbers */
}

static size_t code_entry_hash(const void *g, size_t i)
{
	const struct run_code *c = &((const struct run_guest *)g)->codes[i];

	return code_hash(c->class, c->code);
}

static size_t thread_hash(const void *d, size_t i)
{
	const struct run_thread *t = &((const struct run_data *)d)->threads[i];

	return hash_pid_tid(t->pid, t->tid);
}

/* One line for the whole load: "kvmprof: report: FILE:LINE: why", the
 * file's name and the fields quoted in it escaped. */
static int fail(const char *path, unsigned long line, const char *fmt, ...)
{
	char why[512], shown_path[1024], shown[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	escape_text(path, shown_path, sizeof(shown_path));
	escape_text(why, shown, sizeof(shown));
	fprintf(stderr, "kvmprof: report: %s", shown_path);
	if (line)
		fprintf(stderr, ":%lu", line);
	fprintf(stderr, ": %s\n", shown);
	return -1;
}

static struct run_guest *guest_of(struct run_data *d, __u32 pid, const char *name)
{
	size_t h = hash_pid_tid(pid, 0), pos;
	struct run_guest *g;

	for (size_t i = index_first(&d->guest_index, h, &pos); i != INDEX_NONE;
	     i = index_next(&d->guest_index, &pos))
		if (d->guests[i].pid == pid)
			return &d->guests[i];
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

static struct run_code *code_of(struct run_guest *g, __u32 class, __u64 code, const char *name)
{
	size_t h = code_hash(class, code), pos;
	struct run_code *c;

	for (size_t i = index_first(&g->code_index, h, &pos); i != INDEX_NONE;
	     i = index_next(&g->code_index, &pos))
		if (g->codes[i].class == class && g->codes[i].code == code)
			return &g->codes[i];
	if (VEC_GROW(g->codes, g->codes_cap, g->nr_codes + 1) ||
	    index_reserve(&g->code_index, g->nr_codes + 1, code_entry_hash, g))
		return NULL;
	c = &g->codes[g->nr_codes];
	memset(c, 0, sizeof(*c));
	c->class = class;
	c->code = code;
	if (!(c->name = strdup(name)))
		return NULL;
	index_add(&g->code_index, h, g->nr_codes, code_entry_hash, g);	/* reserved */
	g->nr_codes++;
	return c;
}

/* Notes thread (pid, tid): 1 when it is new, 0 when seen before, -ENOMEM. */
static int note_thread(struct run_data *d, __u32 pid, __u32 tid)
{
	size_t h = hash_pid_tid(pid, tid), pos;

	for (size_t i = index_first(&d->thread_index, h, &pos); i != INDEX_NONE;
	     i = index_next(&d->thread_index, &pos))
		if (d->threads[i].pid == pid && d->threads[i].tid == tid)
			return 0;
	if (VEC_GROW(d->threads, d->threads_cap, d->nr_threads + 1) ||
	    index_add(&d->thread_index, h, d->nr_threads, thread_hash, d))
		return -ENOMEM;
	d->threads[d->nr_threads++] = (struct run_thread){ pid, tid };
	return 1;
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
static int table_open(struct table *t, const struct csv_file *file)
{
	const char *path = file->path;
	int have = 0, rc;

	t->path = path;
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
	__u64 lat_count, lat_sum, lat_max, lo, hi, n;
	const char *s_lo, *s_hi, *s_n;
};

static int read_hist_row(struct table *t, struct hist_row *h)
{
	if (read_key(t, &h->k))
		return -1;
	h->s_lo = field(t, C_BUCKET_LO);
	h->s_hi = field(t, C_BUCKET_HI);
	h->s_n = field(t, C_BUCKET_COUNT);
	if (!parse_u64(field(t, C_LAT_COUNT), false, true, &h->lat_count) ||
	    !parse_u64(field(t, C_LAT_SUM), false, true, &h->lat_sum) ||
	    !parse_u64(field(t, C_LAT_MAX), false, true, &h->lat_max) ||
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

static int add_key_totals(struct run_data *d, struct run_guest *g, struct run_code *c,
			  const struct hist_row *h, const struct table *t)
{
	int cls = h->k.class, new_thread = note_thread(d, h->k.pid, h->k.tid);
	__u64 n = h->k.count;

	if (new_thread < 0)
		return fail(t->path, t->r.line, "out of memory");
	g->threads += new_thread;
	if (!add(&c->count, n) || !add(&g->class_total[cls], n) || !add(&g->total, n) ||
	    !add(&c->lat_count, h->lat_count) || !add(&c->lat_sum_ns, h->lat_sum) ||
	    !add(&g->lat_count[cls], h->lat_count) || !add(&g->lat_sum_ns[cls], h->lat_sum))
		return fail(t->path, t->r.line, "counts overflow 64 bits");
	if (h->lat_max > c->lat_max_ns)
		c->lat_max_ns = h->lat_max;
	if (h->lat_max > g->lat_max_ns[cls])
		g->lat_max_ns[cls] = h->lat_max;
	return 0;
}

/* A log2 bucket: [0, 1], or [2^i, 2^(i+1) - 1], the last open. */
static int add_bucket(struct run_guest *g, const struct hist_row *h, const struct table *t)
{
	__u64 lo = h->lo, hi = h->hi;
	int slot = lo ? 63 - __builtin_clzll(lo) : 0;
	bool log2 = lo ? !(lo & (lo - 1)) && slot < LAT_SLOTS &&
		    (slot == LAT_SLOTS - 1 ? !*h->s_hi : hi == 2 * lo - 1) : hi == 1;

	if (!*h->s_lo || !log2)
		return fail(t->path, t->r.line, "bucket '%s'..'%s' is not one of kvmprof's log2 buckets",
			    h->s_lo, h->s_hi);
	if (!add(&g->lat_slots[h->k.class][slot], h->n))
		return fail(t->path, t->r.line, "counts overflow 64 bits");
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
	if ((have & HIST_COLS) != HIST_COLS) {
		csv_close(&t.r);
		return fail(path, 1, "not a kvmprof --csv file (its header lacks the histogram "
			    "columns%s)", (have & SERIES_COLS) == SERIES_COLS ? ": a --csv-series file?" : "");
	}
	while ((rc = table_next(&t)) > 0) {
		struct hist_row h;
		struct run_guest *g;
		struct run_code *c;
		bool first;

		if (read_hist_row(&t, &h)) {
			rc = -1;
			break;
		}
		g = guest_of(d, h.k.pid, csv_unformula(field(&t, C_GUEST)));
		c = g ? code_of(g, h.k.class, h.k.code, csv_unformula(field(&t, C_CODE_NAME))) : NULL;
		if (!c) {
			rc = fail(path, t.r.line, "out of memory");
			break;
		}
		first = !same_key(&h.k, &prev);
		prev = h.k;
		if ((first && add_key_totals(d, g, c, &h, &t)) || (*h.s_n && add_bucket(g, &h, &t))) {
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

int run_load_series(struct run_data *d, const struct csv_file *file)
{
	const char *path = file->path;
	char prev_elapsed[32] = "", prev_len[32] = "";
	struct table t;
	int have = table_open(&t, file), rc;

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
			if (VEC_GROW(d->intervals, d->intervals_cap, d->nr_intervals + 1)) {
				rc = fail(path, line, "out of memory");
				break;
			}
			iv = &d->intervals[d->nr_intervals++];
			iv->end_s = end_s;
			iv->len_s = len_s;
			snprintf(prev_elapsed, sizeof(prev_elapsed), "%s", elapsed);
			snprintf(prev_len, sizeof(prev_len), "%s", len);
		}
		g = guest_of(d, k.pid, csv_unformula(field(&t, C_GUEST)));
		if (!g) {
			rc = fail(path, line, "out of memory");
			break;
		}
		if (!g->nr_points || g->points[g->nr_points - 1].interval != d->nr_intervals - 1) {
			if (VEC_GROW(g->points, g->points_cap, g->nr_points + 1)) {
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
		index_free(&g->code_index);
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
