// SPDX-License-Identifier: GPL-2.0
/* kvmprof diff: two runs compared row by row (offline/diff.h); the text
 * and the page are diff_text.c and diff_html.c. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model/classes.h"
#include "model/latency.h"
#include "offline/diff.h"
#include "present/lines.h"	/* format_ns */
#include "util/vec.h"

double diff_percent(double a, double b)
{
	if (a == b)
		return 0;
	return a ? (b - a) / a * 100 : INFINITY;
}

/* What a row counts in one run, from a code (or detail) or a class. */
struct source {
	__u64 count, lat_count, lat_sum, lat_min, lat_max;
	const __u64 *slots;
};

static struct source code_source(const struct run_code *c)
{
	if (!c)
		return (struct source){};
	return (struct source){ c->count, c->lat_count, c->lat_sum_ns, c->lat_min_ns, c->lat_max_ns,
				c->lat_slots };
}

static struct source class_source(const struct run_guest *g, int c)
{
	if (!g)
		return (struct source){};
	return (struct source){ g->class_total[c], g->lat_count[c], g->lat_sum_ns[c], g->lat_min_ns[c],
				g->lat_max_ns[c], g->lat_slots[c] };
}

/* The quantile q of a source's samples, as kvmprof estimates it everywhere
 * (model/latency.c: within the bucket, between bounds narrowed to the
 * samples' min and max). */
static double quantile(const struct source *src, double q)
{
	struct trap_latency l = { .count = src->lat_count, .sum_ns = src->lat_sum,
				  .min_ns = src->lat_min, .max_ns = src->lat_max };

	memcpy(l.slots, src->slots, sizeof(l.slots));
	return latency_quantile(&l, q);
}

/* One side's figures; elapsed 0: no rates (one run has no series). */
static void side_of(struct diff_side *s, const struct source *src, const struct run_guest *g,
		    double elapsed)
{
	s->count = src->count;
	s->rate = elapsed > 0 ? src->count / elapsed : -1;
	s->share = g && g->total ? 100.0 * src->count / g->total : 0;
	s->lat_count = src->lat_count;
	s->p50 = s->p99 = -1;
	if (src->lat_count && src->slots) {
		s->p50 = quantile(src, 0.5);
		s->p99 = quantile(src, 0.99);
	}
}

bool diff_figure(const struct diff_side *s, enum diff_figure fig, double *v)
{
	switch (fig) {
	case FIGURE_COUNT:
		*v = s->count;
		return true;
	case FIGURE_RATE:
		*v = s->rate;
		return s->rate >= 0;
	case FIGURE_P50:
	case FIGURE_P99:
		*v = s->lat_count ? (fig == FIGURE_P50 ? s->p50 : s->p99) : 0;
		return true;	/* none is 0: a latency that appears or goes is a change */
	default:
		return false;
	}
}

/* Rows of one level for a guest, before they are ordered. */
struct row_vec {
	struct diff_row *v;
	size_t nr, cap;
};

static struct diff_row *push(struct row_vec *rv, const struct diff *d, const struct guest_row *m,
			     const struct source src[2])
{
	struct diff_row *r;

	if (VEC_GROW(rv->v, rv->cap, rv->nr + 1))
		return NULL;
	r = &rv->v[rv->nr++];
	memset(r, 0, sizeof(*r));
	for (int s = 0; s < 2; s++)
		side_of(&r->side[s], &src[s], m->g[s], d->rates ? d->elapsed[s] : 0);
	r->change = d->rates ? fabs(r->side[1].rate - r->side[0].rate)
			     : fabs((double)r->side[1].count - (double)r->side[0].count);
	return r;
}

/* The rows of a code table (codes, or details): A's entries with B's
 * match, then B's that A has not. */
static int push_codes(struct row_vec *rv, const struct diff *d, const struct guest_row *m, bool details)
{
	for (int s = 0; s < 2; s++) {
		const struct run_guest *g = m->g[s], *other = m->g[!s];
		const struct run_codes *set = g ? (details ? &g->details : &g->codes) : NULL;

		for (size_t i = 0; set && i < set->nr; i++) {
			const struct run_code *c = &set->v[i], *o = NULL;
			struct source src[2];
			struct diff_row *r;

			if (other)
				o = run_codes_find(details ? &other->details : &other->codes, c->class,
						   c->code, c->detail);
			if (s == 1 && o)
				continue;	/* A had it */
			src[s] = code_source(c);
			src[!s] = code_source(o);
			if (!(r = push(rv, d, m, src)))
				return -ENOMEM;
			r->level = details ? DIFF_DETAIL : DIFF_CODE;
			r->class = c->class;
			r->code = c->code;
			r->detail = c->detail;
			r->name = details ? c->detail_name : c->name;
		}
	}
	return 0;
}

static int push_classes(struct row_vec *rv, const struct diff *d, const struct guest_row *m)
{
	for (int c = 0; c < NR_CLASSES; c++) {
		struct source src[2] = { class_source(m->g[0], c), class_source(m->g[1], c) };
		struct diff_row *r;

		if (!src[0].count && !src[1].count && !src[0].lat_count && !src[1].lat_count)
			continue;
		if (!(r = push(rv, d, m, src)))
			return -ENOMEM;
		r->level = DIFF_CLASS;
		r->class = c;
		r->name = class_name(c);
	}
	return 0;
}

static int cmp_change(const struct diff_row *x, const struct diff_row *y)
{
	__u64 mx = x->side[0].count > x->side[1].count ? x->side[0].count : x->side[1].count;
	__u64 my = y->side[0].count > y->side[1].count ? y->side[0].count : y->side[1].count;

	if (x->change != y->change)
		return x->change < y->change ? 1 : -1;
	if (mx != my)
		return mx < my ? 1 : -1;
	if (x->code != y->code)
		return x->code < y->code ? -1 : 1;
	return x->detail < y->detail ? -1 : x->detail > y->detail;
}

/* Classes by change; codes by class, then change; details by class and
 * code, then change: the order they are shown in. */
static int by_place(const void *a, const void *b)
{
	const struct diff_row *x = a, *y = b;

	if (x->level != DIFF_CLASS && x->class != y->class)
		return x->class < y->class ? -1 : 1;
	if (x->level == DIFF_DETAIL && x->code != y->code)
		return x->code < y->code ? -1 : 1;
	return cmp_change(x, y);
}

/* Appends a copy of r to the guest's rows. */
static int show(struct diff_guest *dg, const struct diff_row *r)
{
	if (VEC_GROW(dg->rows, dg->cap, dg->nr + 1))
		return -ENOMEM;
	dg->rows[dg->nr++] = *r;
	dg->latency |= r->side[0].lat_count || r->side[1].lat_count;
	return 0;
}

/* The rows past the first top of rows[0..n), summed into one. */
static int show_rest(struct diff_guest *dg, const struct diff_row *rows, size_t n, size_t top)
{
	struct diff_row more;

	if (n <= top)
		return 0;
	more = rows[top];	/* its level, class and code */
	more.more = n - top;
	more.name = NULL;
	for (int s = 0; s < 2; s++) {
		struct diff_side *m = &more.side[s];
		bool rates = rows[top].side[s].rate >= 0;

		*m = (struct diff_side){ .rate = rates ? 0 : -1, .p50 = -1, .p99 = -1 };
		for (size_t i = top; i < n; i++) {
			m->count += rows[i].side[s].count;
			m->share += rows[i].side[s].share;
			if (rates)
				m->rate += rows[i].side[s].rate;
		}
	}
	return show(dg, &more);
}

/* The rows of v (sorted by place) that sit under parent, a class (or a
 * code, for details): how many, and the first at *first. */
static size_t under(const struct row_vec *v, const struct diff_row *parent, size_t *first)
{
	size_t i = 0, n = 0;

	while (i < v->nr && (v->v[i].class != parent->class ||
			     (parent->level == DIFF_CODE && v->v[i].code != parent->code)))
		i++;
	*first = i;
	while (i + n < v->nr && v->v[i + n].class == parent->class &&
	       (parent->level != DIFF_CODE || v->v[i + n].code == parent->code))
		n++;
	return n;
}

/* A guest's rows in the order shown: each class, biggest change first,
 * its codes under it and each code's details under the code, at most top
 * of each and the rest summed. */
static int order_rows(struct diff_guest *dg, struct row_vec *v, size_t top)
{
	const struct row_vec *codes = &v[DIFF_CODE], *details = &v[DIFF_DETAIL];

	for (int l = DIFF_CLASS; l <= DIFF_DETAIL; l++)
		if (v[l].nr)
			qsort(v[l].v, v[l].nr, sizeof(*v[l].v), by_place);
	for (size_t i = 0; i < v[DIFF_CLASS].nr; i++) {
		const struct diff_row *cls = &v[DIFF_CLASS].v[i];
		size_t first, n = under(codes, cls, &first);

		if (show(dg, cls))
			return -ENOMEM;
		for (size_t k = first; k < first + n && k < first + top; k++) {
			size_t dfirst, dn = under(details, &codes->v[k], &dfirst);

			if (show(dg, &codes->v[k]))
				return -ENOMEM;
			for (size_t j = dfirst; j < dfirst + dn && j < dfirst + top; j++)
				if (show(dg, &details->v[j]))
					return -ENOMEM;
			if (show_rest(dg, details->v + dfirst, dn, top))
				return -ENOMEM;
		}
		if (show_rest(dg, codes->v + first, n, top))
			return -ENOMEM;
	}
	return 0;
}

/* --fail-above: every code and detail row, listed or not. */
static void judge(struct diff_verdict *vd, const struct guest_row *m, const struct row_vec *v,
		  enum diff_figure fig, double limit)
{
	for (int l = DIFF_CODE; l <= DIFF_DETAIL; l++)
		for (size_t i = 0; i < v[l].nr; i++) {
			const struct diff_row *r = &v[l].v[i];
			double a, b, pct;

			if (!diff_figure(&r->side[0], fig, &a) || !diff_figure(&r->side[1], fig, &b))
				continue;
			pct = diff_percent(a, b);
			if (!(fabs(pct) > limit))
				continue;
			if (!vd->above++ || fabs(pct) > fabs(vd->worst_pct)) {
				vd->match = m;
				vd->worst = *r;
				vd->worst_pct = pct;
			}
		}
}

/* Where the guest's vCPU threads' time went, in each run that says. */
static void time_shares(struct diff_guest *dg, const struct guest_row *m)
{
	for (int s = 0; s < 2; s++) {
		const struct run_guest *g = m->g[s];

		dg->timed[s] = g && g->time_wall_ns;
		for (int c = 0; dg->timed[s] && c < NR_TIME_COLUMNS; c++) {
			dg->has_time[c] |= g->has_time[c];
			dg->time_share[s][c] = 100.0 * g->time_ns[c] / g->time_wall_ns;
		}
	}
}

static int build_guest(struct diff *d, struct diff_guest *dg, const struct guest_row *m, size_t top,
		       enum diff_figure fig, double limit)
{
	struct row_vec v[3] = {};
	int rc;

	dg->match = m;
	for (int s = 0; s < 2; s++) {
		struct source src = { .count = m->g[s] ? m->g[s]->total : 0 };

		side_of(&dg->total[s], &src, m->g[s], d->rates ? d->elapsed[s] : 0);
	}
	dg->change = d->rates ? fabs(dg->total[1].rate - dg->total[0].rate)
			      : fabs((double)dg->total[1].count - (double)dg->total[0].count);
	time_shares(dg, m);
	rc = push_classes(&v[DIFF_CLASS], d, m);
	if (!rc)
		rc = push_codes(&v[DIFF_CODE], d, m, false);
	if (!rc)
		rc = push_codes(&v[DIFF_DETAIL], d, m, true);
	if (!rc && limit >= 0)
		judge(&d->verdict, m, v, fig, limit);
	if (!rc)
		rc = order_rows(dg, v, top);
	for (int l = 0; l < 3; l++)
		free(v[l].v);
	return rc;
}

static int by_guest_change(const void *a, const void *b)
{
	const struct diff_guest *x = a, *y = b;
	int c;

	if (x->change != y->change)
		return x->change < y->change ? 1 : -1;
	c = strcmp(x->match->name, y->match->name);
	return c ? c : x->match->nth - y->match->nth;
}

int diff_build(struct diff *d, const struct runs *rs, const struct guest_map *maps, int nr_maps,
	       int top, enum diff_figure fail_on, double fail_above)
{
	memset(d, 0, sizeof(*d));
	d->rs = rs;
	for (int s = 0; s < 2; s++)
		d->elapsed[s] = run_elapsed(&rs->run[s].d);
	d->rates = d->elapsed[0] > 0 && d->elapsed[1] > 0;
	d->fail_on = fail_on;
	d->fail_above = fail_above;
	if (runs_match(rs, maps, nr_maps, &d->rows) ||
	    !(d->guests = calloc(d->rows.nr ? d->rows.nr : 1, sizeof(*d->guests))))
		return -ENOMEM;
	for (size_t i = 0; i < d->rows.nr; i++) {
		d->nr_guests++;
		if (build_guest(d, &d->guests[i], &d->rows.v[i], top, fail_on, fail_above))
			return -ENOMEM;
	}
	qsort(d->guests, d->nr_guests, sizeof(*d->guests), by_guest_change);
	return 0;
}

void diff_free(struct diff *d)
{
	for (size_t i = 0; i < d->nr_guests; i++)
		free(d->guests[i].rows);
	free(d->guests);
	guest_rows_free(&d->rows);
	memset(d, 0, sizeof(*d));
}

const char *diff_ratio_of(double a, double b, char *buf, size_t size)
{
	if (!a && !b)
		snprintf(buf, size, "-");
	else if (!a)
		snprintf(buf, size, "new");
	else if (!b)
		snprintf(buf, size, "gone");
	else
		snprintf(buf, size, "%.2fx", b / a);
	return buf;
}

const char *diff_ratio_text(const struct diff_row *r, enum diff_figure fig, char *buf, size_t size)
{
	double a, b;

	if (!diff_figure(&r->side[0], fig, &a) || !diff_figure(&r->side[1], fig, &b) ||
	    ((fig == FIGURE_P50 || fig == FIGURE_P99) && !r->side[0].lat_count && !r->side[1].lat_count)) {
		snprintf(buf, size, "%s", "");
		return buf;
	}
	return diff_ratio_of(a, b, buf, size);
}

const char *diff_count_delta(__u64 a, __u64 b, char *buf, size_t size)
{
	if (a == b)
		snprintf(buf, size, "0");
	else
		snprintf(buf, size, "%c%llu", b > a ? '+' : '-', (unsigned long long)(b > a ? b - a : a - b));
	return buf;
}

const char *diff_more_label(const struct diff_row *r, char *buf, size_t size)
{
	const char *what = r->level == DIFF_DETAIL ? "detail" : "code";

	snprintf(buf, size, "... %zu more %s%s", r->more, what, r->more == 1 ? "" : "s");
	return buf;
}

const char *diff_rates_note(const struct diff *d)
{
	if (d->rates)
		return "rates are traps over each run's length (the last elapsed_s of its series)";
	if (d->elapsed[0] <= 0 && d->elapsed[1] <= 0)
		return "counts only: neither run has a --csv-series file (give each after its --csv "
		       "file, or put NAME-series.csv beside NAME.csv)";
	return d->elapsed[0] <= 0 ? "counts only: run A has no --csv-series file (give it after A's "
				    "--csv file, or put it beside it as NAME-series.csv)"
				  : "counts only: run B has no --csv-series file (give it after B's "
				    "--csv file, or put it beside it as NAME-series.csv)";
}

/* v with decimals digits and a unit, or "-" when below 0. */
static const char *value_text(double v, int decimals, const char *unit, char *buf, size_t size)
{
	if (v < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.*f%s", decimals, v, unit);
	return buf;
}

const char *diff_rate_text(double rate, char *buf, size_t size)
{
	return value_text(rate, 1, "", buf, size);
}

const char *diff_pct_text(double pct, char *buf, size_t size)
{
	return value_text(pct, 2, "%", buf, size);
}

const char *diff_ns_text(const struct diff_side *s, double ns, char *buf, size_t size)
{
	if (s->lat_count && ns >= 0)
		return format_ns((__u64)(ns + 0.5), buf, size);
	snprintf(buf, size, "-");
	return buf;
}
