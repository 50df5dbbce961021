// SPDX-License-Identifier: GPL-2.0
/* The summary and the time series as JSON, through the streaming writer. */
#include <sys/time.h>
#include "model/classes.h"
#include "model/counters.h"
#include "model/devices.h"
#include "model/guest_syms.h"
#include "model/rips.h"
#include "model/insns.h"
#include "model/latency.h"
#include "model/names.h"
#include "model/summary.h"
#include "present/json_out.h"
#include "util/json_writer.h"

/* A count's latency: sq its samples' squares, class_ns the time of its
 * class (the share's whole). */
static void json_latency(struct json_writer *w, const char *name, const struct trap_latency *l, double sq,
			 __u64 class_ns)
{
	if (!l->count)
		return;
	jw_name(w, name);
	jw_object(w);
	jw_uint_field(w, "count", l->count);
	jw_uint_field(w, "sum_ns", l->sum_ns);
	jw_uint_field(w, "min_ns", l->min_ns);
	jw_uint_field(w, "max_ns", l->max_ns);
	jw_uint_field(w, "p50_ns", (__u64)latency_quantile(l, 0.50));
	jw_uint_field(w, "p90_ns", (__u64)latency_quantile(l, 0.90));
	jw_uint_field(w, "p99_ns", (__u64)latency_quantile(l, 0.99));
	jw_uint_field(w, "stddev_ns", (__u64)(latency_stddev(l, sq) + 0.5));
	jw_name(w, "share_of_class");
	jw_float(w, "%.6f", class_ns ? (double)l->sum_ns / class_ns : 0);
	jw_name(w, "log2_slots");
	jw_array(w);
	for (int i = 0; i < LAT_SLOTS; i++)
		jw_uint(w, l->slots[i]);
	jw_end_array(w);
	jw_end_object(w);
}

/* "detail" and "detail_name" where the key has one; "device" where known */
static void json_detail(struct json_writer *w, const struct trap_key *key, const char *name_field)
{
	const char *device = trap_device(key);
	char name[64];

	if (key->detail_flags && name_field) {
		exit_detail_name(key->detail_flags, key->detail, name, sizeof(name));
		jw_uint_field(w, "detail", (__u64)key->detail_flags << 32 | key->detail);
		jw_string_field(w, name_field, name);
	}
	if (device)
		jw_string_field(w, "device", device);
}

static void json_group(struct json_writer *w, const struct sum_guest *g, const struct sum_group *grp,
		       __u64 class_ns)
{
	const struct sum_code *c = &g->codes[grp->first];
	char name[64];

	code_name(c->key.class, c->key.code, name, sizeof(name));
	jw_object(w);
	jw_uint_field(w, "code", c->key.code);
	jw_string_field(w, "name", name);
	jw_uint_field(w, "count", grp->total);
	if (!grp->details)
		json_detail(w, &c->key, NULL);
	json_latency(w, "latency", &grp->lat, grp->lat_sq, class_ns);
	if (grp->details) {
		jw_name(w, "details");
		jw_array(w);
		for (size_t i = grp->first; i < grp->end; i++) {
			const struct sum_code *d = &g->codes[i];

			exit_detail_name(d->key.detail_flags, d->key.detail, name, sizeof(name));
			jw_object(w);
			jw_uint_field(w, "detail", (__u64)d->key.detail_flags << 32 | d->key.detail);
			jw_string_field(w, "name", name);
			json_detail(w, &d->key, NULL);
			jw_uint_field(w, "count", d->total);
			json_latency(w, "latency", &d->lat, d->lat_sq, class_ns);
			jw_end_object(w);
		}
		jw_end_array(w);
	}
	jw_end_object(w);
}

static void json_class(struct json_writer *w, const struct sum_guest *g, int cl)
{
	const struct sum_class *c = &g->classes[cl];

	jw_object(w);
	jw_string_field(w, "class", class_name(cl));
	jw_uint_field(w, "total", c->total);
	json_latency(w, "latency", &c->lat, c->lat_sq, c->lat.sum_ns);
	jw_name(w, "codes");
	jw_array(w);
	for (size_t i = c->first_group; i < c->end_group; i++)
		json_group(w, g, &g->groups[i], c->lat.sum_ns);
	jw_end_array(w);
	if (c->end_device > c->first_device) {
		jw_name(w, "devices");
		jw_array(w);
		for (size_t i = c->first_device; i < c->end_device; i++) {
			jw_object(w);
			jw_string_field(w, "name", g->devices[i].name);
			jw_uint_field(w, "count", g->devices[i].total);
			jw_end_object(w);
		}
		jw_end_array(w);
	}
	jw_end_object(w);
}

/* "insns" or "failed_insns": [{bytes, mode, len, text, count, ...}] */
static void json_insns(struct json_writer *w, const struct insn_sum *sums, size_t nr, bool failed)
{
	jw_name(w, failed ? "failed_insns" : "insns");
	jw_array(w);
	for (size_t i = 0; i < nr; i++) {
		const struct insn_sum *x = &sums[i];
		char hex[64];

		insn_hex(&x->key, hex, sizeof(hex));
		jw_object(w);
		jw_string_field(w, "bytes", hex);
		jw_string_field(w, "mode", emulate_mode_name(x->key.mode));
		jw_uint_field(w, "len", x->key.len);
		jw_string_field(w, "text", x->text);
		jw_uint_field(w, "count", x->count);
		if (failed) {
			jw_name(w, "last_rip");
			if (x->last_rip == RIP_UNKNOWN)
				jw_null(w);
			else
				jw_uint(w, x->last_rip);
		} else {
			jw_name(w, "rip_ranges");
			jw_array(w);
			for (size_t r = 0; r < x->nr_ranges; r++) {
				if (x->ranges[r].lo == RIP_UNKNOWN) {
					jw_null(w);
					continue;
				}
				jw_array(w);
				jw_uint(w, x->ranges[r].lo);
				jw_uint(w, x->ranges[r].hi);
				jw_end_array(w);
			}
			jw_end_array(w);
		}
		jw_end_object(w);
	}
	jw_end_array(w);
}

/* "traced": the classes traced, "not_traced": the others of this
 * architecture, each with why */
static void json_classes(struct json_writer *w)
{
	jw_name(w, "traced");
	jw_array(w);
	for (int c = 0; c < NR_CLASSES; c++)
		if (class_of_this_arch(c) && !class_untraced_why(c))
			jw_string(w, class_name(c));
	/* KVM's counters are --counters' alone, not a class to trace */
	jw_end_array(w);
	jw_name(w, "not_traced");
	jw_array(w);
	for (int c = 0; c < NR_CLASSES; c++) {
		if (!class_of_this_arch(c) || !class_untraced_why(c) || class_table[c].counters)
			continue;
		jw_object(w);
		jw_string_field(w, "class", class_name(c));
		jw_string_field(w, "why", class_untraced_why(c));
		jw_end_object(w);
	}
	jw_end_array(w);
}

/* "time": nanoseconds per state; guest and exit null where they are not
 * told apart (then in_kvm_run holds them), in_kvm_run always */
static void json_time(struct json_writer *w, const __u64 ns[NR_TIME_STATES], unsigned int flags)
{
	jw_name(w, "time");
	jw_object(w);
	for (int st = TIME_GUEST; st < NR_TIME_STATES; st++) {
		jw_name(w, time_state_name(st));
		if ((st == TIME_GUEST || st == TIME_EXIT) && !(flags & TIME_SPLIT_GUEST))
			jw_null(w);
		else
			jw_uint(w, ns[st]);
	}
	jw_uint_field(w, "outside", ns[TIME_OUTSIDE]);
	jw_uint_field(w, "in_kvm_run", ns[TIME_GUEST] + ns[TIME_EXIT]);
	jw_end_object(w);
}

/* "vcpus": one object per vCPU thread with a time record; interval: the
 * last read's time (the series) */
static void json_vcpus(struct json_writer *w, const struct trap_table *s, size_t guest, bool interval)
{
	jw_name(w, "vcpus");
	jw_array(w);
	for (size_t i = 0; i < s->nr_threads; i++) {
		const struct thread *t = &s->threads[i];

		if (t->guest != guest || !t->time.seen || (interval && !t->time.interval_wall))
			continue;
		jw_object(w);
		jw_uint_field(w, "tid", t->tid);
		jw_name(w, "vcpu");
		if (t->vcpu >= 0)
			jw_int(w, t->vcpu);
		else
			jw_null(w);
		json_time(w, interval ? t->time.interval : t->time.ns, s->time_flags);
		jw_uint_field(w, "wall", interval ? t->time.interval_wall : t->time.wall);
		jw_end_object(w);
	}
	jw_end_array(w);
}

/* "time_accounting": what this run could tell apart, or null when off */
static void json_time_accounting(struct json_writer *w, unsigned int flags)
{
	jw_name(w, "time_accounting");
	if (!(flags & TIME_ON)) {
		jw_null(w);
		return;
	}
	jw_object(w);
	jw_name(w, "guest_and_exit_apart");
	jw_bool(w, flags & TIME_SPLIT_GUEST);
	jw_name(w, "halt_polling_as_halted");
	jw_bool(w, flags & TIME_POLLING);
	jw_end_object(w);
}

/* "rips": per reason its guest addresses (at most RIPS_PER_REASON, most first) */
#define RIPS_PER_REASON 50
static void json_rips(struct json_writer *w, const struct sum_guest *g)
{
	if (!g->rips)
		return;
	jw_name(w, "rips");
	jw_array(w);
	for (size_t i = 0; i < g->nr_rips; i++) {
		const struct rip_sum *r = &g->rips[i];
		char name[128], sym[160];

		code_name(r->key.class, r->key.code, name, sizeof(name));
		jw_object(w);
		jw_string_field(w, "class", class_name(r->key.class));
		jw_uint_field(w, "code", r->key.code);
		jw_string_field(w, "name", name);
		json_detail(w, &(struct trap_key){ .class = r->key.class, .code = r->key.code,
						    .detail_flags = r->key.detail_flags, .detail = r->key.detail },
			    "detail_name");
		jw_uint_field(w, "total", r->total);
		jw_uint_field(w, "kernel", r->kernel);
		jw_name(w, "addresses");
		jw_array(w);
		for (size_t j = 0; j < r->nr && j < RIPS_PER_REASON; j++) {
			jw_object(w);
			jw_uint_field(w, "rip", r->rows[j]->key.rip);
			jw_name(w, "symbol");
			if (guest_sym_name(r->syms, g->guest->pid, g->guest->name, r->rows[j]->key.rip, sym,
					   sizeof(sym)))
				jw_string(w, sym);
			else
				jw_null(w);
			jw_uint_field(w, "count", r->rows[j]->count);
			jw_end_object(w);
		}
		jw_end_array(w);
		jw_end_object(w);
	}
	jw_end_array(w);
}

static const char *const verdict_names[] = {
	[CHECK_EQUAL] = "equal", [CHECK_WITHIN] = "within", [CHECK_DIFFERS] = "differs",
};

/* "check": the guest's counts against KVM's counters, a pair each */
static void json_checks(struct json_writer *w, const struct sum_guest *g)
{
	if (!g->checks)
		return;
	jw_name(w, "check");
	jw_array(w);
	for (size_t i = 0; i < g->nr_checks; i++) {
		const struct check_result *r = &g->checks[i];

		jw_object(w);
		jw_string_field(w, "pair", kvm_stat_name(r->pair->stat));
		jw_string_field(w, "class", class_name(r->pair->class));
		jw_uint_field(w, "kvmprof", r->kvmprof);
		jw_uint_field(w, "kvm_low", r->kvm_low);
		jw_name(w, "kvm_high");
		if (r->kvm_high == ~0ULL)
			jw_null(w);
		else
			jw_uint(w, r->kvm_high);
		jw_name(w, "equal");
		jw_bool(w, r->verdict == CHECK_EQUAL);
		jw_string_field(w, "verdict", verdict_names[r->verdict]);
		jw_name(w, "why");
		if (r->why)
			jw_string(w, r->why);
		else
			jw_null(w);
		jw_end_object(w);
	}
	jw_end_array(w);
}

/* "kvm_counters": were KVM's counters read, else why not */
static void json_counters(struct json_writer *w, const struct trap_table *s)
{
	jw_name(w, "kvm_counters");
	if (!s->counters) {
		jw_null(w);
		return;
	}
	jw_object(w);
	jw_name(w, "readable");
	jw_bool(w, s->counters->readable);
	jw_name(w, "why");
	if (s->counters->readable)
		jw_null(w);
	else
		jw_string(w, s->counters->why);
	jw_end_object(w);
}

static void json_drops(struct json_writer *w, const struct trap_table *s)
{
	jw_uint_field(w, "dropped", table_total_drops(s));
	jw_name(w, "dropped_by");
	jw_object(w);
	for (int d = 0; d < NR_DROPS; d++)
		jw_uint_field(w, drop_reason_name(d), s->drops[d]);
	jw_end_object(w);
}

void json_write_summary(FILE *f, const struct trap_table *s, double elapsed_s)
{
	struct json_writer w;
	struct summary sum;
	bool ok = !summary_build_all(&sum, s, ORDER_COUNT);

	jw_init(&w, f);
	jw_object(&w);
	jw_name(&w, "elapsed_s");
	jw_float(&w, "%.3f", elapsed_s);
	json_drops(&w, s);
	json_classes(&w);
	json_time_accounting(&w, s->time_flags);
	json_counters(&w, s);
	jw_name(&w, "guests");
	jw_array(&w);
	for (size_t i = 0; ok && i < sum.nr_guests; i++) {
		const struct sum_guest *g = &sum.guests[i];

		jw_object(&w);
		jw_uint_field(&w, "pid", g->guest->pid);
		jw_string_field(&w, "name", g->guest->name);
		jw_name(&w, "ended");
		jw_bool(&w, g->guest->ended);
		jw_uint_field(&w, "vcpu_threads", g->vcpus);
		jw_uint_field(&w, "total", g->total);
		if (s->time_flags & TIME_ON) {
			json_time(&w, g->time.ns, s->time_flags);
			jw_uint_field(&w, "wall", g->time.wall);
			json_vcpus(&w, s, g->guest - s->guests, false);
		}
		jw_name(&w, "classes");
		jw_array(&w);
		for (int c = 0; c < NR_CLASSES; c++)
			if (g->classes[c].total)
				json_class(&w, g, c);
		jw_end_array(&w);
		json_insns(&w, g->insns, g->nr_insns, false);
		json_insns(&w, g->failed, g->nr_failed, true);
		json_rips(&w, g);
		json_checks(&w, g);
		jw_end_object(&w);
	}
	jw_end_array(&w);
	jw_end_object(&w);
	fputc('\n', f);
	summary_free(&sum);
}

void json_write_series(FILE *f, const struct trap_table *s, double elapsed_s, double interval_s)
{
	struct json_writer w;
	struct timeval tv;
	char name[64];

	gettimeofday(&tv, NULL);
	jw_init(&w, f);
	jw_object(&w);
	jw_name(&w, "time_unix");
	jw_float(&w, "%.3f", tv.tv_sec + tv.tv_usec / 1000 / 1e3);
	jw_name(&w, "elapsed_s");
	jw_float(&w, "%.3f", elapsed_s);
	jw_name(&w, "interval_s");
	jw_float(&w, "%.3f", interval_s);
	jw_name(&w, "rows");
	jw_array(&w);
	for (size_t r = 0; r < s->nr_rows; r++) {
		const struct trap_row *row = &s->rows[r];

		if (!row->interval && !row->interval_lat_count)
			continue;
		jw_object(&w);
		jw_uint_field(&w, "pid", row->key.tgid);
		jw_string_field(&w, "guest", s->guests[row->guest].name);
		jw_name(&w, "vcpu");
		if (row->vcpu >= 0)
			jw_int(&w, row->vcpu);
		else
			jw_null(&w);
		jw_uint_field(&w, "tid", row->key.tid);
		jw_string_field(&w, "class", class_name(row->key.class));
		jw_uint_field(&w, "code", row->key.code);
		code_name(row->key.class, row->key.code, name, sizeof(name));
		jw_string_field(&w, "code_name", name);
		jw_uint_field(&w, "count", row->interval);
		jw_name(&w, "rate_per_s");
		jw_float(&w, "%.3f", row->interval / interval_s);
		jw_uint_field(&w, "lat_count", row->interval_lat_count);
		jw_uint_field(&w, "lat_sum_ns", row->interval_lat_sum);
		jw_uint_field(&w, "lat_max_ns", row->interval_lat_max);
		json_detail(&w, &row->key, "detail_name");
		jw_end_object(&w);
	}
	jw_end_array(&w);
	if (s->time_flags & TIME_ON) {	/* per guest, its vCPU threads' time in the interval */
		jw_name(&w, "time");
		jw_array(&w);
		for (size_t g = 0; g < s->nr_guests; g++) {
			jw_object(&w);
			jw_uint_field(&w, "pid", s->guests[g].pid);
			jw_string_field(&w, "guest", s->guests[g].name);
			json_vcpus(&w, s, g, true);
			jw_end_object(&w);
		}
		jw_end_array(&w);
	}
	jw_end_object(&w);
	fputc('\n', f);
}
