// SPDX-License-Identifier: GPL-2.0
/* CSV (RFC 4180) writers: the histograms, the time series, the instructions. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "model/counters.h"
#include "model/devices.h"
#include "model/guest_syms.h"
#include "model/rips.h"
#include "model/summary.h"
#include "model/insns.h"
#include "model/names.h"
#include "model/latency.h"
#include "present/csv_out.h"

void csv_field(FILE *f, const char *s)
{
	bool formula = *s && strchr(CSV_FORMULA_START, *s);

	if (!formula && !strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	if (formula)	/* OWASP: a spreadsheet takes it as text, not a formula */
		fputc('\'', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* pid,guest,vcpu,tid,class,code,code_name */
static void key_fields(FILE *f, const struct trap_table *s, const struct trap_row *row)
{
	char name[64];

	fprintf(f, "%u,", row->key.tgid);
	csv_field(f, s->guests[row->guest].name);
	if (row->vcpu >= 0)
		fprintf(f, ",%d,", row->vcpu);
	else
		fprintf(f, ",,");
	fprintf(f, "%u,%s,0x%llx,", row->key.tid, class_name(row->key.class),
		(unsigned long long)row->key.code);
	code_name(row->key.class, row->key.code, name, sizeof(name));
	csv_field(f, name);
}

/* ,detail,detail_name,device: appended after the older columns, so their
 * positions hold */
static void detail_fields(FILE *f, const struct trap_row *row)
{
	const char *device = trap_device(&row->key);
	char name[64];

	if (row->key.detail_flags) {
		exit_detail_name(row->key.detail_flags, row->key.detail, name, sizeof(name));
		fprintf(f, ",0x%llx,", (unsigned long long)row->key.detail_flags << 32 | row->key.detail);
		csv_field(f, name);
	} else {
		fprintf(f, ",,");
	}
	fputc(',', f);
	csv_field(f, device ? device : "");
}

/* The latency figures after those (issue 15): squares, quantiles,
 * deviation; then wall_ns, the vcpu_time rows' alone */
static void latency_fields(FILE *f, const struct trap_row *row)
{
	const struct trap_latency *l = &row->lat;

	if (!l->count) {
		fprintf(f, ",,,,,,,,,\r\n");
		return;
	}
	fprintf(f, ",%.0f,%.0f,%.0f,%.0f,%.0f,,,,\r\n", row->lat_sq, latency_quantile(l, 0.50),
		latency_quantile(l, 0.90), latency_quantile(l, 0.99), latency_stddev(l, row->lat_sq));
}

static void end_fields(FILE *f, const struct trap_row *row)
{
	detail_fields(f, row);
	latency_fields(f, row);
}

/* Class vcpu_time: a row per vCPU thread and state, its nanoseconds as the
 * count (the interval's in the series), its wall time last. */
static void time_rows(FILE *f, const struct trap_table *s, bool series, const char *prefix)
{
	enum time_column cols[NR_TIME_COLUMNS];
	int n = time_columns(s->time_flags, cols);

	for (size_t i = 0; (s->time_flags & TIME_ON) && i < s->nr_threads; i++) {
		const struct thread *t = &s->threads[i];
		const __u64 *ns = series ? t->time.interval : t->time.ns;
		__u64 wall = series ? t->time.interval_wall : t->time.wall;

		if (!t->time.seen || (series && !wall))
			continue;
		for (int c = 0; c < n; c++) {
			__u64 x = time_column_ns(cols[c], ns);

			fputs(prefix, f);
			fprintf(f, "%u,", t->pid);
			csv_field(f, s->guests[t->guest].name);
			if (t->vcpu >= 0)
				fprintf(f, ",%d,", t->vcpu);
			else
				fprintf(f, ",,");
			fprintf(f, "%u,vcpu_time,%d,%s,%llu", t->tid, cols[c], time_column_name(cols[c]),
				(unsigned long long)x);
			/* the series: rate_per_s is the share of the wall time, 0..1,
			 * then lat_count .. device empty; the histograms: lat_count ..
			 * lat_stddev_ns empty */
			if (series)
				fprintf(f, ",%.6f,,,,,,", wall ? (double)x / wall : 0);
			else
				fprintf(f, ",,,,,,,,,,,,,,,");
			if (series)
				fprintf(f, ",%llu\r\n", (unsigned long long)wall);
			else
				fprintf(f, ",%llu,,,\r\n", (unsigned long long)wall);
		}
	}
}

/* Class check: per guest and pair, kvmprof's count, and the range KVM's
 * counters allow (kvm_high empty: no upper bound), its verdict last. */
static void check_rows(FILE *f, const struct trap_table *s)
{
	static const char *const verdicts[] = { "equal", "within", "differs" };
	struct summary sum;

	if (!s->counters || !s->counters->readable || summary_build_all(&sum, s, ORDER_COUNT)) {
		if (s->counters && s->counters->readable)
			summary_free(&sum);
		return;
	}
	for (size_t i = 0; i < sum.nr_guests; i++) {
		const struct sum_guest *g = &sum.guests[i];

		for (size_t c = 0; c < g->nr_checks; c++) {
			const struct check_result *r = &g->checks[c];

			fprintf(f, "%u,", g->guest->pid);
			csv_field(f, g->guest->name);
			fprintf(f, ",,,check,%u,%s,%llu,,,,,,,,,,,,,,,,,%llu,", r->pair->stat, kvm_stat_name(r->pair->stat),
				(unsigned long long)r->kvmprof, (unsigned long long)r->kvm_low);
			if (r->kvm_high != ~0ULL)
				fprintf(f, "%llu", (unsigned long long)r->kvm_high);
			fprintf(f, ",%s\r\n", verdicts[r->verdict]);
		}
	}
	summary_free(&sum);
}

void csv_write_histograms(FILE *f, const struct trap_table *s)
{
	fprintf(f, "pid,guest,vcpu,tid,class,code,code_name,count,lat_count,lat_sum_ns,"
		   "lat_min_ns,lat_max_ns,bucket_lo_ns,bucket_hi_ns,bucket_count,detail,detail_name,device,"
		   "lat_sq_ns2,lat_p50_ns,lat_p90_ns,lat_p99_ns,lat_stddev_ns,wall_ns,kvm_low,kvm_high,verdict\r\n");
	for (size_t r = 0; r < s->nr_rows; r++) {
		const struct trap_row *row = &s->rows[r];
		const struct trap_latency *l = &row->lat;

		if (!l->count) {
			key_fields(f, s, row);
			fprintf(f, ",%llu,0,0,,,,,", (unsigned long long)row->count);
			end_fields(f, row);
			continue;
		}
		for (int i = 0; i < LAT_SLOTS; i++) {
			__u64 lo, hi;

			if (!l->slots[i])
				continue;
			slot_bounds(i, &lo, &hi);
			key_fields(f, s, row);
			fprintf(f, ",%llu,%llu,%llu,%llu,%llu,%llu,", (unsigned long long)row->count,
				(unsigned long long)l->count, (unsigned long long)l->sum_ns,
				(unsigned long long)l->min_ns, (unsigned long long)l->max_ns,
				(unsigned long long)lo);
			if (i == LAT_SLOTS - 1)
				fprintf(f, ",%llu", (unsigned long long)l->slots[i]);	/* open-ended */
			else
				fprintf(f, "%llu,%llu", (unsigned long long)hi,
					(unsigned long long)l->slots[i]);
			end_fields(f, row);
		}
	}
	time_rows(f, s, false, "");
	check_rows(f, s);
}

void csv_write_series_header(FILE *f)
{
	fprintf(f, "time_unix,elapsed_s,interval_s,pid,guest,vcpu,tid,class,code,code_name,"
		   "count,rate_per_s,lat_count,lat_sum_ns,lat_max_ns,detail,detail_name,device,wall_ns\r\n");
}

void csv_write_series(FILE *f, const struct trap_table *s, double elapsed_s, double interval_s)
{
	struct timeval tv;
	char prefix[96];

	gettimeofday(&tv, NULL);
	snprintf(prefix, sizeof(prefix), "%ld.%03ld,%.3f,%.3f,", (long)tv.tv_sec, (long)tv.tv_usec / 1000,
		 elapsed_s, interval_s);
	for (size_t r = 0; r < s->nr_rows; r++) {
		const struct trap_row *row = &s->rows[r];

		if (!row->interval && !row->interval_lat_count)
			continue;
		fputs(prefix, f);
		key_fields(f, s, row);
		fprintf(f, ",%llu,%.3f,%llu,%llu,%llu", (unsigned long long)row->interval,
			row->interval / interval_s, (unsigned long long)row->interval_lat_count,
			(unsigned long long)row->interval_lat_sum,
			(unsigned long long)row->interval_lat_max);
		detail_fields(f, row);
		fprintf(f, ",\r\n");
	}
	time_rows(f, s, true, prefix);
}

/* One row per guest and distinct instruction, failures apart (kind). */
void csv_write_insns(FILE *f, const struct trap_table *s)
{
	fprintf(f, "pid,guest,kind,mode,len,bytes,text,count,rip_first,rip_last,rip_ranges\r\n");
	for (size_t g = 0; g < s->nr_guests; g++) {
		for (int failed = 0; failed < 2; failed++) {
			size_t nr;
			struct insn_sum *sums = insn_sums(s->insns, s->guests[g].pid, failed, &nr);

			for (size_t i = 0; i < nr; i++) {
				const struct insn_sum *x = &sums[i];
				char hex[64], ranges[4096];
				__u64 first = failed ? x->last_rip : x->ranges[0].lo;
				__u64 last = failed ? x->last_rip : x->ranges[x->nr_ranges - 1].hi;

				fprintf(f, "%u,", s->guests[g].pid);
				csv_field(f, s->guests[g].name);
				insn_hex(&x->key, hex, sizeof(hex));
				fprintf(f, ",%s,%s,%u,%s,", failed ? "failed" : "insn",
					emulate_mode_name(x->key.mode), x->key.len, hex);
				csv_field(f, x->text);
				fprintf(f, ",%llu,", (unsigned long long)x->count);
				if (first != RIP_UNKNOWN)
					fprintf(f, "0x%llx", (unsigned long long)first);
				fputc(',', f);
				if (last != RIP_UNKNOWN)
					fprintf(f, "0x%llx", (unsigned long long)last);
				fputc(',', f);
				if (!failed) {
					insn_ranges_text(x, 0, ranges, sizeof(ranges));
					fputs(ranges, f);
				}
				fputs("\r\n", f);
			}
			insn_sums_free(sums, nr);
		}
	}
}

/* --csv-rips: a row per guest, exit reason (and detail) and guest address. */
void csv_write_rips(FILE *f, const struct trap_table *s)
{
	fprintf(f, "pid,guest,class,code,code_name,detail,detail_name,rip,symbol,count,kernel\r\n");
	for (size_t g = 0; s->rips && g < s->nr_guests; g++) {
		struct rip_sum *sums;
		size_t nr;

		if (rip_sums(s->rips, s->guests[g].pid, &sums, &nr))
			return;
		for (size_t i = 0; i < nr; i++) {
			const struct rip_sum *r = &sums[i];
			char name[128], detail[96] = "", sym[160];

			code_name(r->key.class, r->key.code, name, sizeof(name));
			if (r->key.detail_flags)
				exit_detail_name(r->key.detail_flags, r->key.detail, detail, sizeof(detail));
			for (size_t j = 0; j < r->nr; j++) {
				__u64 rip = r->rows[j]->key.rip;

				fprintf(f, "%u,", s->guests[g].pid);
				csv_field(f, s->guests[g].name);
				fprintf(f, ",%s,0x%llx,", class_name(r->key.class), (unsigned long long)r->key.code);
				csv_field(f, name);
				if (r->key.detail_flags)
					fprintf(f, ",0x%llx,", (unsigned long long)r->key.detail_flags << 32 | r->key.detail);
				else
					fprintf(f, ",,");
				csv_field(f, detail);
				fprintf(f, ",0x%llx,", (unsigned long long)rip);
				csv_field(f, guest_sym_name(r->syms, s->guests[g].pid, s->guests[g].name, rip, sym,
							    sizeof(sym)) ? sym : "");
				fprintf(f, ",%llu,%d\r\n", (unsigned long long)r->rows[j]->count, rip_is_kernel(rip));
			}
		}
		rip_sums_free(sums, nr);
	}
}
