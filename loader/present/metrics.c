// SPDX-License-Identifier: GPL-2.0
/* The Prometheus text exposition of the stats: trap counters and latency
 * histograms per guest, with bounded cardinality. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "present/metrics.h"
#include "model/names.h"
#include "model/latency.h"
#include "util/index.h"
#include "util/vec.h"

#define VCPU_AGGREGATED (-2)
/* Histogram bounds: le = 2^k - 1 ns, the inclusive top of log2 slot k-1
 * (samples are whole ns), for k in [FIRST_LE, LAT_SLOTS); the last slot is
 * open, so it only reaches +Inf.  Below 255 ns only slot noise. */
#define FIRST_LE 8

struct series_key {
	__u32 pid;
	__s32 vcpu;	/* -1 unknown, VCPU_AGGREGATED with --metrics-no-vcpu */
	__u32 class;
	__u32 pad;
	__u64 code;	/* 0 with --metrics-no-code */
};

/* A label set seen: admitted, or folded away for good. */
struct series_slot {
	struct series_key key;
	bool admitted;
	unsigned int gen;	/* the render that last filled idx */
	size_t idx;		/* into that render's series */
};

struct ended_guest {
	size_t guest;	/* its id */
	double since;
	bool dropped;
};

struct series {
	struct series_key key;
	__u64 count;
	struct trap_latency lat;
};

static unsigned int render_gen;

void metrics_init(struct metrics *m, bool no_vcpu, bool no_code, size_t max_series,
		  double grace_s)
{
	*m = (struct metrics){ .no_vcpu = no_vcpu, .no_code = no_code, .max_series = max_series,
			       .grace_s = grace_s };
}

void metrics_free(struct metrics *m)
{
	free(m->slots);
	free(m->ended);
	index_free(&m->slot_index);
	m->slots = NULL;
	m->ended = NULL;
	m->nr_slots = m->cap_slots = 0;
}

void metrics_escape(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; *in && o + 3 < size; in++) {
		if (*in == '\\' || *in == '"' || *in == '\n') {
			out[o++] = '\\';
			out[o++] = *in == '\n' ? 'n' : *in;
		} else {
			out[o++] = *in;
		}
	}
	if (size)
		out[o] = '\0';
}

static size_t key_hash(const struct series_key *k)
{
	return hash_bytes(k, sizeof(*k), 0);	/* pad is 0 */
}

static size_t slot_hash(const void *m, size_t i)
{
	return key_hash(&((const struct metrics *)m)->slots[i].key);
}

/* The slot of key k, whose hash is h, or NULL. */
static struct series_slot *slot_find(const struct metrics *m, const struct series_key *k, size_t h)
{
	size_t pos;

	for (size_t i = index_first(&m->slot_index, h, &pos); i != INDEX_NONE;
	     i = index_next(&m->slot_index, &pos))
		if (!memcmp(&m->slots[i].key, k, sizeof(*k)))
			return &m->slots[i];
	return NULL;
}

/* Leaves out the keys of guest pid, which frees their place under the cap. */
static void slots_drop(struct metrics *m, __u32 pid)
{
	size_t n = 0;

	m->admitted = 0;
	for (size_t i = 0; i < m->nr_slots; i++) {
		if (m->slots[i].key.pid == pid)
			continue;
		m->slots[n++] = m->slots[i];
		m->admitted += m->slots[i].admitted;
	}
	m->nr_slots = n;
	index_refill(&m->slot_index, n, slot_hash, m);	/* fewer: no memory needed */
}

static struct series_key row_key(const struct metrics *m, const struct trap_row *row)
{
	return (struct series_key){
		.pid = row->key.tgid,
		.vcpu = m->no_vcpu ? VCPU_AGGREGATED : row->vcpu,
		.class = row->key.class,
		.code = m->no_code ? 0 : row->key.code,
	};
}

/* The key's slot, added (admitted while under the cap, else folded) when
 * new; NULL when out of memory. */
static struct series_slot *slot_of(struct metrics *m, const struct series_key *k)
{
	size_t h = key_hash(k);
	struct series_slot *slot = slot_find(m, k, h);

	if (slot)
		return slot;
	if (VEC_GROW(m->slots, m->cap_slots, m->nr_slots + 1) ||
	    index_add(&m->slot_index, h, m->nr_slots, slot_hash, m))
		return NULL;
	slot = &m->slots[m->nr_slots++];
	*slot = (struct series_slot){ .key = *k, .admitted = m->admitted < m->max_series };
	if (slot->admitted)
		m->admitted++;
	else
		m->folded_series++;
	return slot;
}

static struct ended_guest *ended_of(const struct metrics *m, size_t id)
{
	for (size_t i = 0; i < m->nr_ended; i++)
		if (m->ended[i].guest == id)
			return &m->ended[i];
	return NULL;
}

/* Notes when guests end; a guest ended longer than the grace period, or
 * whose pid a newer guest has (its labels would be the same), is dropped:
 * its folded traps move to folded_base, its keys leave the table. */
static int update_ended(struct metrics *m, struct trap_table *s, double now)
{
	for (size_t i = 0; i < s->nr_guests; i++) {
		const struct guest *g = &s->guests[i];
		struct ended_guest *e = ended_of(m, g->id);

		if (!g->ended)
			continue;
		if (!e) {
			if (VEC_GROW(m->ended, m->cap_ended, m->nr_ended + 1))
				return -ENOMEM;
			e = &m->ended[m->nr_ended++];
			*e = (struct ended_guest){ .guest = g->id, .since = now };
		}
		if (e->dropped || (now - e->since < m->grace_s && table_find_guest(s, g->pid) == g))
			continue;
		for (size_t r = 0; r < s->nr_rows; r++) {
			const struct trap_row *row = &s->rows[r];
			struct series_key k;
			struct series_slot *slot;

			if (row->guest != i || !m->nr_slots)
				continue;
			k = row_key(m, row);
			slot = slot_find(m, &k, key_hash(&k));
			if (slot && !slot->admitted)
				m->folded_base += row->count;
		}
		slots_drop(m, g->pid);
		e->dropped = true;
	}
	return 0;
}

static bool dropped(const struct metrics *m, const struct guest *g)
{
	struct ended_guest *e = g->ended ? ended_of(m, g->id) : NULL;

	return e && e->dropped;
}

static int cmp_series(const void *a, const void *b)
{
	const struct series_key *x = &((const struct series *)a)->key;
	const struct series_key *y = &((const struct series *)b)->key;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->class != y->class)
		return x->class < y->class ? -1 : 1;
	if (x->code != y->code)
		return x->code < y->code ? -1 : 1;
	return x->vcpu < y->vcpu ? -1 : x->vcpu > y->vcpu;
}

static void put_labels(FILE *f, const struct metrics *m, struct trap_table *s,
		       const struct series_key *k, bool with_class)
{
	char name[GUEST_NAME_MAX * 2], code[128], esc[256];
	const struct guest *g = table_find_guest(s, k->pid);

	metrics_escape(g ? g->name : "", name, sizeof(name));
	fprintf(f, "pid=\"%u\",guest=\"%s\"", k->pid, name);
	if (k->vcpu >= 0)
		fprintf(f, ",vcpu=\"%d\"", k->vcpu);
	else if (k->vcpu == -1)
		fprintf(f, ",vcpu=\"unknown\"");
	if (with_class)
		fprintf(f, ",class=\"%s\"", class_name(k->class));
	if (!m->no_code) {
		code_name(k->class, k->code, code, sizeof(code));
		metrics_escape(code, esc, sizeof(esc));
		fprintf(f, ",code=\"0x%llx\",code_name=\"%s\"", (unsigned long long)k->code, esc);
	}
}

static void put_histogram(FILE *f, const struct metrics *m, struct trap_table *s, const char *family,
			  const char *help, __u32 class, const struct series *v, size_t n)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", family, help, family);
	for (size_t i = 0; i < n; i++) {
		const struct trap_latency *lat = &v[i].lat;
		__u64 cum = 0, all = 0;

		if (v[i].key.class != class)
			continue;
		for (int j = 0; j < LAT_SLOTS; j++)
			all += lat->slots[j];
		if (!all)
			continue;
		for (int k = 0; k < LAT_SLOTS; k++) {
			if (k)
				cum += lat->slots[k - 1];
			if (k < FIRST_LE)
				continue;
			fprintf(f, "%s_bucket{", family);
			put_labels(f, m, s, &v[i].key, false);
			fprintf(f, ",le=\"%.10g\"} %llu\n", ((1ULL << k) - 1) / 1e9,
				(unsigned long long)cum);
		}
		fprintf(f, "%s_bucket{", family);
		put_labels(f, m, s, &v[i].key, false);
		fprintf(f, ",le=\"+Inf\"} %llu\n%s_sum{", (unsigned long long)all, family);
		put_labels(f, m, s, &v[i].key, false);
		fprintf(f, "} %.9f\n%s_count{", lat->sum_ns / 1e9, family);
		put_labels(f, m, s, &v[i].key, false);
		/* the slots, not lat->count: a read racing an update could
		 * otherwise show a count above the +Inf bucket */
		fprintf(f, "} %llu\n", (unsigned long long)all);
	}
}

/* The admitted series of this render, summed over the rows that share a
 * label set, in v (room for a series per row); folded_now: the traps of
 * folded label sets.  0, or -ENOMEM. */
static int sum_series(struct metrics *m, const struct trap_table *s, struct series *v, size_t *nr,
		      __u64 *folded_now)
{
	size_t n = 0;

	render_gen++;
	for (size_t r = 0; r < s->nr_rows; r++) {
		const struct trap_row *row = &s->rows[r];
		struct series_key k;
		struct series_slot *slot;

		if (row->key.class >= NR_CLASSES || dropped(m, &s->guests[row->guest]))
			continue;
		k = row_key(m, row);
		slot = slot_of(m, &k);
		if (!slot)
			return -ENOMEM;
		if (!slot->admitted) {
			*folded_now += row->count;
			continue;
		}
		if (slot->gen != render_gen) {
			slot->gen = render_gen;
			slot->idx = n;
			v[n++].key = k;
		}
		v[slot->idx].count += row->count;
		latency_add(&v[slot->idx].lat, &row->lat);
	}
	*nr = n;
	return 0;
}

/* One vCPU's time: its threads' summed (a thread-per-run VMM has many). */
struct vcpu_time_series {
	__u32 pid;
	int vcpu;	/* -1 unknown, -2 summed (--metrics-no-vcpu) */
	__u64 ns[NR_TIME_STATES];
};

static int cmp_vcpu_time(const void *a, const void *b)
{
	const struct vcpu_time_series *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->vcpu < y->vcpu ? -1 : x->vcpu > y->vcpu;
}

/* kvmprof_vcpu_seconds_total{state}: where each vCPU's wall time went; guest
 * and exit as one state, in_kvm_run, where they are not told apart. */
static int put_vcpu_time(FILE *f, const struct metrics *m, struct trap_table *s)
{
	struct vcpu_time_series *v = calloc(s->nr_threads + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->nr_threads; i++) {
		const struct thread *t = &s->threads[i];

		if (!t->time.seen || dropped(m, &s->guests[t->guest]))
			continue;
		v[n].pid = t->pid;
		v[n].vcpu = m->no_vcpu ? -2 : t->vcpu;
		memcpy(v[n++].ns, t->time.ns, sizeof(t->time.ns));
	}
	qsort(v, n, sizeof(*v), cmp_vcpu_time);
	fprintf(f, "# HELP kvmprof_vcpu_seconds_total Wall time of the vCPU threads by state: guest, exit "
		"(or in_kvm_run where they are not told apart), vmm, halted, preempted, outside.\n"
		"# TYPE kvmprof_vcpu_seconds_total counter\n");
	for (size_t i = 0, e; i < n; i = e) {
		__u64 ns[NR_TIME_STATES] = {};
		struct series_key k = { .pid = v[i].pid, .vcpu = v[i].vcpu };

		for (e = i; e < n && !cmp_vcpu_time(&v[e], &v[i]); e++)
			for (int st = 0; st < NR_TIME_STATES; st++)
				ns[st] += v[e].ns[st];
		for (int st = TIME_OUTSIDE; st < NR_TIME_STATES; st++) {
			bool folded = !(s->time_flags & TIME_SPLIT_GUEST);
			__u64 x = ns[st];

			if (folded && st == TIME_EXIT)
				continue;
			if (folded && st == TIME_GUEST)
				x += ns[TIME_EXIT];
			fprintf(f, "kvmprof_vcpu_seconds_total{");
			put_labels(f, &(struct metrics){ .no_code = true }, s, &k, false);
			fprintf(f, ",state=\"%s\"} %.9f\n", folded && st == TIME_GUEST ? "in_kvm_run" :
				time_state_name(st), x / 1e9);
		}
	}
	free(v);
	return 0;
}

/* What is not per series: folded traps, drops, guests. */
static void put_totals(FILE *f, const struct metrics *m, const struct trap_table *s,
		       __u64 folded_now)
{
	size_t live = 0, ended = 0;

	fprintf(f, "# HELP kvmprof_traps_folded_total Traps of label sets folded away by --metrics-max-series.\n"
		"# TYPE kvmprof_traps_folded_total counter\n"
		"kvmprof_traps_folded_total %llu\n"
		"# HELP kvmprof_metrics_folded_series_total Label sets folded away by --metrics-max-series.\n"
		"# TYPE kvmprof_metrics_folded_series_total counter\n"
		"kvmprof_metrics_folded_series_total %llu\n",
		(unsigned long long)(m->folded_base + folded_now),
		(unsigned long long)m->folded_series);
	fprintf(f, "# HELP kvmprof_dropped_events_total Events lost because a BPF map was full.\n"
		"# TYPE kvmprof_dropped_events_total counter\n");
	for (int d = 0; d < NR_DROPS; d++)
		fprintf(f, "kvmprof_dropped_events_total{reason=\"%s\"} %llu\n", drop_reason_name(d),
			(unsigned long long)s->drops[d]);
	for (size_t i = 0; i < s->nr_guests; i++) {
		if (!s->guests[i].ended)
			live++;
		else if (!dropped(m, &s->guests[i]))
			ended++;
	}
	fprintf(f, "# HELP kvmprof_guests Guests shown: live, or ended within the grace period.\n"
		"# TYPE kvmprof_guests gauge\n"
		"kvmprof_guests{state=\"live\"} %zu\nkvmprof_guests{state=\"ended\"} %zu\n",
		live, ended);
	fprintf(f, "# HELP kvmprof_class_traced 1 when the class is traced, 0 when not (not chosen with "
		"-e, or no event for it in this kernel).\n# TYPE kvmprof_class_traced gauge\n");
	for (int c = 0; c < NR_CLASSES; c++)	/* KVM's counters only where --counters shows them */
		if (class_of_this_arch(c) && (!class_table[c].counters || class_traced_here(c)))
			fprintf(f, "kvmprof_class_traced{class=\"%s\"} %d\n", class_name(c),
				!class_untraced_why(c));
}

int metrics_render(struct metrics *m, const struct trap_table *cs, double now_s, char **buf,
		   size_t *len)
{
	struct trap_table *s = (struct trap_table *)cs;	/* table_guest only looks */
	struct series *v = calloc(s->nr_rows ? s->nr_rows : 1, sizeof(*v));
	__u64 folded_now = 0;
	size_t n;
	FILE *f;

	*buf = NULL;
	if (!v || update_ended(m, s, now_s) || sum_series(m, s, v, &n, &folded_now)) {
		free(v);
		return -ENOMEM;
	}
	qsort(v, n, sizeof(*v), cmp_series);

	f = open_memstream(buf, len);
	if (!f) {
		free(v);
		return -ENOMEM;
	}
	fprintf(f, "# HELP kvmprof_traps_total KVM traps per guest, vCPU, class and code since kvmprof started.\n"
		"# TYPE kvmprof_traps_total counter\n");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "kvmprof_traps_total{");
		put_labels(f, m, s, &v[i].key, true);
		fprintf(f, "} %llu\n", (unsigned long long)v[i].count);
	}
	put_histogram(f, m, s, "kvmprof_exit_latency_seconds",
		      "Time from a VM exit to the next entry, per exit reason.", CLASS_EXIT, v, n);
	put_histogram(f, m, s, "kvmprof_vmm_time_seconds",
		      "Time a vCPU spends in its VMM, from a userspace exit to the next KVM_RUN.",
		      CLASS_USERSPACE, v, n);
	put_totals(f, m, s, folded_now);
	free(v);
	if ((s->time_flags & TIME_ON) && put_vcpu_time(f, m, s)) {
		fclose(f);
		free(*buf);
		*buf = NULL;
		return -ENOMEM;
	}
	if (fclose(f) || !*buf) {
		free(*buf);
		*buf = NULL;
		return -ENOMEM;
	}
	return 0;
}
