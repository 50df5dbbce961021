// SPDX-License-Identifier: GPL-2.0
/* The summary model: the table's rows summed per guest, class, code and
 * detail, device and thread, in the order the views show them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "model/classes.h"
#include "model/counters.h"
#include "model/devices.h"
#include "model/insns.h"
#include "model/latency.h"
#include "model/rips.h"
#include "model/summary.h"

/* Does the row's count add to its guest's traps?  KVM's counters
 * (--counters) overlap (exits holds io_exits ...): only exits do. */
static bool counts_as_traps(const struct trap_row *row)
{
	return row->key.class != CLASS_COUNTER || row->key.code == KSTAT_EXITS;
}

/* Row r's count since start, or since the baseline. */
static __u64 row_total(const struct baseline *b, const struct trap_table *s, size_t r)
{
	return s->rows[r].count - (b && r < b->nr ? b->count[r] : 0);
}

/* Row r's latency since start, or since the baseline: the maps keep one
 * maximum per key since start, so a maximum older than the baseline is
 * bounded by the highest bucket filled since; the minimum is not known. */
static void row_latency(const struct baseline *b, const struct trap_table *s, size_t r,
			struct trap_latency *out, double *sq)
{
	const struct trap_latency *now = &s->rows[r].lat;

	*sq = s->rows[r].lat_sq;
	if (!b || r >= b->nr || !b->lat[r].count) {
		*out = *now;
		return;
	}
	latency_delta(out, now, &b->lat[r]);
	out->max_ns = latency_delta_max(now, &b->lat[r], out);
	out->min_ns = 0;
	*sq -= b->lat_sq[r];
}

/* A row's figure in the last interval for the top code. */
static double interval_figure(const struct trap_row *row, enum code_order order)
{
	switch (order) {
	case ORDER_TOTAL: return row->interval_lat_sum;
	case ORDER_MEAN: return row->interval_lat_count ? (double)row->interval_lat_sum / row->interval_lat_count : 0;
	case ORDER_MAX: return row->interval_lat_max;
	default: return row->interval;
	}
}

int summary_build(struct summary *sum, const struct trap_table *s, const struct baseline *base,
		  enum code_order order)
{
	memset(sum, 0, sizeof(*sum));
	sum->order = order;
	sum->guests = calloc(s->nr_guests + 1, sizeof(*sum->guests));
	if (!sum->guests)
		return -ENOMEM;
	sum->nr_guests = s->nr_guests;
	sum->drops = table_total_drops(s);
	sum->time_flags = s->time_flags;
	sum->counters_why = s->counters && !s->counters->readable ? s->counters->why : NULL;
	for (size_t i = 0; i < s->nr_guests; i++) {
		sum->guests[i].guest = &s->guests[i];
		sum->live += !s->guests[i].ended;
	}
	for (size_t t = 0; t < s->nr_threads; t++) {
		sum->guests[s->threads[t].guest].vcpus++;
		time_sum_add(&sum->guests[s->threads[t].guest].time, &s->threads[t].time);
	}
	for (size_t r = 0; r < s->nr_rows; r++) {
		const struct trap_row *row = &s->rows[r];
		struct sum_guest *g = &sum->guests[row->guest];
		__u64 total = row_total(base, s, r);
		struct sum_class *c;
		struct trap_latency lat;
		double sq;

		if (row->key.class >= NR_CLASSES)
			continue;
		c = &g->classes[row->key.class];
		row_latency(base, s, r, &lat, &sq);
		if (!counts_as_traps(row))	/* the code shows it, not the totals */
			total = 0;
		c->lat_sq += sq;
		g->total += total;
		g->interval += row->interval;
		c->total += total;
		c->interval += row->interval;
		latency_add(&c->lat, &lat);
		c->int_lat_count += row->interval_lat_count;
		c->int_lat_sum += row->interval_lat_sum;
		if (row->interval_lat_max > c->int_lat_max)
			c->int_lat_max = row->interval_lat_max;
		if (interval_figure(row, order) > 0 &&
		    (!g->has_top || interval_figure(row, order) > interval_figure(&s->rows[g->top_row], order))) {
			g->has_top = true;
			g->top_row = r;
			g->top = row->key;
		}
		sum->total += total;
		sum->interval += row->interval;
	}
	return 0;
}

static int key_order(const struct trap_key *x, const struct trap_key *y)
{
	if (x->class != y->class)
		return x->class < y->class ? -1 : 1;
	if (x->code != y->code)
		return x->code < y->code ? -1 : 1;
	if (x->detail_flags != y->detail_flags)
		return x->detail_flags < y->detail_flags ? -1 : 1;
	return x->detail < y->detail ? -1 : x->detail > y->detail;
}

static int code_key_order(const void *a, const void *b)
{
	return key_order(&((const struct sum_code *)a)->key, &((const struct sum_code *)b)->key);
}

/* The figure --sort orders by, of count samples summing sum_ns, max max_ns. */
static double order_figure(enum code_order order, __u64 total, const struct trap_latency *l)
{
	switch (order) {
	case ORDER_TOTAL: return l->sum_ns;
	case ORDER_MEAN: return l->count ? (double)l->sum_ns / l->count : 0;
	case ORDER_MAX: return l->max_ns;
	default: return total;
	}
}

double group_order_figure(const struct sum_group *g, enum code_order order)
{
	return order_figure(order, g->total, &g->lat);
}

/* By class, a code by its details' figure (--sort: count, time, mean or
 * max), a detail by its own; qsort_r's argument: each code's group figure
 * and its own, by the code's index before sorting. */
struct order_ctx {
	const struct sum_code *codes;
	const double *group_total, *own;
	const __u64 *group_count;	/* ties (codes without a latency) by count */
};

static int code_order(const void *a, const void *b, void *arg)
{
	const struct order_ctx *o = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const struct sum_code *x = &o->codes[i], *y = &o->codes[j];

	if (x->key.class != y->key.class)
		return x->key.class < y->key.class ? -1 : 1;
	if (o->group_total[i] != o->group_total[j])
		return o->group_total[i] > o->group_total[j] ? -1 : 1;
	if (o->group_count[i] != o->group_count[j])
		return o->group_count[i] > o->group_count[j] ? -1 : 1;
	if (x->key.code != y->key.code)
		return x->key.code < y->key.code ? -1 : 1;
	if (o->own[i] != o->own[j])
		return o->own[i] > o->own[j] ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return key_order(&x->key, &y->key);
}

/* The guest's rows merged by (class, code, detail), sorted for showing. */
static int merge_codes(struct sum_guest *g, const struct trap_table *s, const struct baseline *base,
		       enum code_order by)
{
	size_t gi = g->guest - s->guests, n = 0, merged = 0, *order = NULL;
	struct sum_code *codes = NULL, *sorted = NULL;
	double *group_total = NULL, *own = NULL;
	__u64 *group_count = NULL;
	int err = -ENOMEM;

	for (size_t r = table_rows_first(s, g->guest); r < s->nr_rows; r = table_rows_next(s, r))
		n += s->rows[r].guest == gi;
	codes = calloc(n + 1, sizeof(*codes));
	if (!codes)
		goto out;
	n = 0;
	for (size_t r = table_rows_first(s, g->guest); r < s->nr_rows; r = table_rows_next(s, r)) {
		if (s->rows[r].guest != gi || s->rows[r].key.class >= NR_CLASSES)
			continue;
		codes[n].key = s->rows[r].key;
		codes[n].key.tgid = codes[n].key.tid = 0;
		codes[n].total = row_total(base, s, r);
		codes[n].interval = s->rows[r].interval;
		row_latency(base, s, r, &codes[n].lat, &codes[n].lat_sq);
		n++;
	}
	qsort(codes, n, sizeof(*codes), code_key_order);
	for (size_t i = 0; i < n; i++) {
		struct sum_code *m = &codes[merged ? merged - 1 : 0];

		if (merged && !code_key_order(m, &codes[i])) {
			m->total += codes[i].total;
			m->interval += codes[i].interval;
			latency_add(&m->lat, &codes[i].lat);
			m->lat_sq += codes[i].lat_sq;
		} else {
			codes[merged++] = codes[i];
		}
	}
	/* a code's details are adjacent now: their total orders the code */
	group_total = calloc(merged + 1, sizeof(*group_total));
	own = calloc(merged + 1, sizeof(*own));
	group_count = calloc(merged + 1, sizeof(*group_count));
	order = calloc(merged + 1, sizeof(*order));
	sorted = calloc(merged + 1, sizeof(*sorted));
	if (!group_total || !own || !group_count || !order || !sorted)
		goto out;
	for (size_t i = 0, e; i < merged; i = e) {
		struct trap_latency lat = {};
		__u64 total = 0;

		for (e = i; e < merged && codes[e].key.class == codes[i].key.class &&
			    codes[e].key.code == codes[i].key.code; e++) {
			total += codes[e].total;
			latency_add(&lat, &codes[e].lat);
			own[e] = order_figure(by, codes[e].total, &codes[e].lat);
		}
		for (size_t j = i; j < e; j++) {
			group_total[j] = order_figure(by, total, &lat);
			group_count[j] = total;
		}
	}
	for (size_t i = 0; i < merged; i++)
		order[i] = i;
	qsort_r(order, merged, sizeof(*order), code_order,
		&(struct order_ctx){ .codes = codes, .group_total = group_total, .own = own,
				     .group_count = group_count });
	for (size_t i = 0; i < merged; i++)
		sorted[i] = codes[order[i]];
	g->codes = sorted;
	g->nr_codes = merged;
	sorted = NULL;
	err = 0;
out:
	free(codes);
	free(sorted);
	free(order);
	free(group_total);
	free(own);
	free(group_count);
	return err;
}

static int make_groups(struct sum_guest *g)
{
	g->groups = calloc(g->nr_codes + 1, sizeof(*g->groups));
	if (!g->groups)
		return -ENOMEM;
	for (size_t k = 0, e; k < g->nr_codes; k = e) {
		struct sum_group *grp = &g->groups[g->nr_groups++];
		const struct sum_code *c = &g->codes[k];

		for (e = k; e < g->nr_codes && g->codes[e].key.class == c->key.class &&
			    g->codes[e].key.code == c->key.code; e++) {
			grp->total += g->codes[e].total;
			grp->interval += g->codes[e].interval;
			latency_add(&grp->lat, &g->codes[e].lat);
			grp->lat_sq += g->codes[e].lat_sq;
		}
		grp->first = k;
		grp->end = e;
		grp->details = e > k + 1 || c->key.detail_flags;
		grp->lat.vcpu = VCPU_UNKNOWN;
	}
	for (size_t k = 0; k < g->nr_groups; k++) {
		struct sum_class *c = &g->classes[g->codes[g->groups[k].first].key.class];

		if (c->end_group == 0)
			c->first_group = k;
		c->end_group = k + 1;
	}
	return 0;
}

static int device_order(const void *a, const void *b)
{
	const struct sum_device *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Per class, the devices its codes are about, summed. */
static int make_devices(struct sum_guest *g)
{
	g->devices = calloc(g->nr_codes + 1, sizeof(*g->devices));
	if (!g->devices)
		return -ENOMEM;
	for (int cl = 0; cl < NR_CLASSES; cl++) {
		struct sum_class *c = &g->classes[cl];
		size_t first = g->nr_devices;

		c->first_device = first;
		for (size_t k = c->first_group; k < c->end_group; k++) {
			for (size_t i = g->groups[k].first; i < g->groups[k].end; i++) {
				const char *name = trap_device(&g->codes[i].key);
				size_t d = first;

				if (!name && cl == CLASS_PAGEFAULT)	/* RAM beside the devices' MMIO */
					name = "RAM (no device)";
				if (!name)
					continue;
				while (d < g->nr_devices && strcmp(g->devices[d].name, name))
					d++;
				if (d == g->nr_devices)
					g->devices[g->nr_devices++] = (struct sum_device){ .name = name };
				g->devices[d].total += g->codes[i].total;
				g->devices[d].interval += g->codes[i].interval;
			}
		}
		qsort(g->devices + first, g->nr_devices - first, sizeof(*g->devices), device_order);
		c->end_device = g->nr_devices;
	}
	return 0;
}

static int thread_order(const void *a, const void *b)
{
	const struct sum_thread *x = a, *y = b;

	if (x->vcpu != y->vcpu)	/* unknown (-1) last */
		return (unsigned int)x->vcpu < (unsigned int)y->vcpu ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static int make_threads(struct sum_guest *g, const struct trap_table *s, const struct baseline *base)
{
	size_t gi = g->guest - s->guests;

	g->threads = calloc(g->vcpus + 1, sizeof(*g->threads));
	if (!g->threads)
		return -ENOMEM;
	for (size_t t = 0; t < s->nr_threads && g->nr_threads < (size_t)g->vcpus; t++) {
		struct sum_thread *th;

		if (s->threads[t].guest != gi)
			continue;
		th = &g->threads[g->nr_threads++];
		th->tid = s->threads[t].tid;
		th->vcpu = s->threads[t].vcpu;
		th->time = s->threads[t].time;
		for (size_t r = table_rows_first(s, g->guest); r < s->nr_rows; r = table_rows_next(s, r)) {
			if (s->rows[r].thread != t || s->rows[r].guest != gi || !counts_as_traps(&s->rows[r]))
				continue;
			th->total += row_total(base, s, r);
			th->interval += s->rows[r].interval;
		}
	}
	qsort(g->threads, g->nr_threads, sizeof(*g->threads), thread_order);
	return 0;
}

int summary_detail(struct summary *sum, const struct trap_table *s, const struct baseline *base, size_t i)
{
	struct sum_guest *g = &sum->guests[i];

	if (g->detailed)
		return 0;
	g->detailed = true;
	if (merge_codes(g, s, base, sum->order) || make_groups(g) || make_devices(g) || make_threads(g, s, base))
		return -ENOMEM;
	if (s->insns) {
		g->insns = insn_sums(s->insns, g->guest->pid, false, &g->nr_insns);
		g->failed = insn_sums(s->insns, g->guest->pid, true, &g->nr_failed);
	}
	if (s->rips && rip_sums(s->rips, g->guest->pid, &g->rips, &g->nr_rips))
		return -ENOMEM;
	/* the self-check, where the counters were read and something traced */
	if (s->counters && s->counters->readable && !class_traced_here(CLASS_COUNTER)) {
		g->checks = calloc(nr_check_pairs, sizeof(*g->checks));
		if (!g->checks)
			return -ENOMEM;
		g->nr_checks = counters_check(s->counters, s, g->guest, g->checks);
	}
	return 0;
}

int summary_build_all(struct summary *sum, const struct trap_table *s, enum code_order order)
{
	int err = summary_build(sum, s, NULL, order);

	for (size_t i = 0; !err && i < sum->nr_guests; i++)
		err = summary_detail(sum, s, NULL, i);
	return err;
}

void summary_free(struct summary *sum)
{
	for (size_t i = 0; sum->guests && i < sum->nr_guests; i++) {
		struct sum_guest *g = &sum->guests[i];

		free(g->codes);
		free(g->groups);
		free(g->devices);
		free(g->threads);
		free(g->checks);
		rip_sums_free(g->rips, g->nr_rips);
		insn_sums_free(g->insns, g->nr_insns);
		insn_sums_free(g->failed, g->nr_failed);
	}
	free(sum->guests);
	memset(sum, 0, sizeof(*sum));
}

int baseline_take(struct baseline *b, const struct trap_table *s, double at_s)
{
	__u64 *count = realloc(b->count, (s->nr_rows + 1) * sizeof(*count));
	struct trap_latency *lat;
	double *sq;

	if (!count)
		return -ENOMEM;
	b->count = count;
	lat = realloc(b->lat, (s->nr_rows + 1) * sizeof(*lat));
	if (!lat)
		return -ENOMEM;
	b->lat = lat;
	sq = realloc(b->lat_sq, (s->nr_rows + 1) * sizeof(*sq));
	if (!sq)
		return -ENOMEM;
	b->lat_sq = sq;
	for (size_t r = 0; r < s->nr_rows; r++) {
		count[r] = s->rows[r].count;
		lat[r] = s->rows[r].lat;
		sq[r] = s->rows[r].lat_sq;
	}
	b->nr = s->nr_rows;
	b->at_s = at_s > 0 ? at_s : 0.001;
	return 0;
}

void baseline_free(struct baseline *b)
{
	free(b->count);
	free(b->lat);
	free(b->lat_sq);
	memset(b, 0, sizeof(*b));
}
