// SPDX-License-Identifier: GPL-2.0
/* CSV (RFC 4180) and JSON writers for the histograms and the time series. */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "model/devices.h"
#include "model/insns.h"
#include "model/names.h"
#include "present/text.h"
#include "present/csv_out.h"

void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* pid,guest,vcpu,tid,class,code,code_name */
static void key_fields(FILE *f, const struct stats *s, const struct trap_row *row)
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

/* ,detail,detail_name,device and the row's end: appended after the older
 * columns, so their positions hold */
static void end_fields(FILE *f, const struct trap_row *row)
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
	fprintf(f, "\r\n");
}

void csv_write_histograms(FILE *f, const struct stats *s)
{
	fprintf(f, "pid,guest,vcpu,tid,class,code,code_name,count,lat_count,lat_sum_ns,"
		   "lat_min_ns,lat_max_ns,bucket_lo_ns,bucket_hi_ns,bucket_count,detail,detail_name,device\r\n");
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
}

void csv_write_series_header(FILE *f)
{
	fprintf(f, "time_unix,elapsed_s,interval_s,pid,guest,vcpu,tid,class,code,code_name,"
		   "count,rate_per_s,lat_count,lat_sum_ns,lat_max_ns,detail,detail_name,device\r\n");
}

void csv_write_series(FILE *f, const struct stats *s, double elapsed_s, double interval_s)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	for (size_t r = 0; r < s->nr_rows; r++) {
		const struct trap_row *row = &s->rows[r];

		if (!row->interval && !row->interval_lat_count)
			continue;
		fprintf(f, "%ld.%03ld,%.3f,%.3f,", (long)tv.tv_sec, (long)tv.tv_usec / 1000,
			elapsed_s, interval_s);
		key_fields(f, s, row);
		fprintf(f, ",%llu,%.3f,%llu,%llu,%llu", (unsigned long long)row->interval,
			row->interval / interval_s, (unsigned long long)row->interval_lat_count,
			(unsigned long long)row->interval_lat_sum,
			(unsigned long long)row->interval_lat_max);
		end_fields(f, row);
	}
	fflush(f);
}

/* ,"detail":N,"detail_name":S where the key has one, ,"device":S where known */
static void json_key_detail(FILE *f, const struct trap_row *row)
{
	const char *device = trap_device(&row->key);
	char name[64];

	if (row->key.detail_flags) {
		exit_detail_name(row->key.detail_flags, row->key.detail, name, sizeof(name));
		fprintf(f, ",\"detail\":%llu,\"detail_name\":",
			(unsigned long long)row->key.detail_flags << 32 | row->key.detail);
		json_string(f, name);
	}
	if (device) {
		fprintf(f, ",\"device\":");
		json_string(f, device);
	}
}

void json_write_series(FILE *f, const struct stats *s, double elapsed_s, double interval_s)
{
	const char *sep = "";
	struct timeval tv;

	gettimeofday(&tv, NULL);
	fprintf(f, "{\"time_unix\":%ld.%03ld,\"elapsed_s\":%.3f,\"interval_s\":%.3f,\"rows\":[",
		(long)tv.tv_sec, (long)tv.tv_usec / 1000, elapsed_s, interval_s);
	for (size_t r = 0; r < s->nr_rows; r++) {
		const struct trap_row *row = &s->rows[r];
		const struct guest *g;
		char name[64];

		if (!row->interval && !row->interval_lat_count)
			continue;
		g = &s->guests[row->guest];
		fprintf(f, "%s{\"pid\":%u,\"guest\":", sep, row->key.tgid);
		json_string(f, g->name);
		if (row->vcpu >= 0)
			fprintf(f, ",\"vcpu\":%d", row->vcpu);
		else
			fprintf(f, ",\"vcpu\":null");
		code_name(row->key.class, row->key.code, name, sizeof(name));
		fprintf(f, ",\"tid\":%u,\"class\":\"%s\",\"code\":%llu,\"code_name\":", row->key.tid,
			class_name(row->key.class), (unsigned long long)row->key.code);
		json_string(f, name);
		fprintf(f, ",\"count\":%llu,\"rate_per_s\":%.3f,\"lat_count\":%llu,\"lat_sum_ns\":%llu,"
			   "\"lat_max_ns\":%llu", (unsigned long long)row->interval,
			row->interval / interval_s, (unsigned long long)row->interval_lat_count,
			(unsigned long long)row->interval_lat_sum,
			(unsigned long long)row->interval_lat_max);
		json_key_detail(f, row);
		fputc('}', f);
		sep = ",";
	}
	fprintf(f, "]}\n");
	fflush(f);
}

void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* One row per guest and distinct instruction, failures apart (kind). */
void csv_write_insns(FILE *f, const struct stats *s)
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

/* "insns" or "failed_insns": [{bytes, mode, len, text, count, ...}] */
static void json_insns(FILE *f, const struct stats *s, __u32 pid, bool failed)
{
	size_t nr;
	struct insn_sum *sums = insn_sums(s->insns, pid, failed, &nr);

	fprintf(f, ",\"%s\":[", failed ? "failed_insns" : "insns");
	for (size_t i = 0; i < nr; i++) {
		const struct insn_sum *x = &sums[i];
		char hex[64];

		insn_hex(&x->key, hex, sizeof(hex));
		fprintf(f, "%s{\"bytes\":\"%s\",\"mode\":\"%s\",\"len\":%u,\"text\":", i ? "," : "", hex,
			emulate_mode_name(x->key.mode), x->key.len);
		json_string(f, x->text);
		fprintf(f, ",\"count\":%llu", (unsigned long long)x->count);
		if (failed) {
			if (x->last_rip == RIP_UNKNOWN)
				fprintf(f, ",\"last_rip\":null}");
			else
				fprintf(f, ",\"last_rip\":%llu}", (unsigned long long)x->last_rip);
			continue;
		}
		fprintf(f, ",\"rip_ranges\":[");
		for (size_t r = 0; r < x->nr_ranges; r++) {
			if (x->ranges[r].lo == RIP_UNKNOWN)
				fprintf(f, "%snull", r ? "," : "");
			else
				fprintf(f, "%s[%llu,%llu]", r ? "," : "", (unsigned long long)x->ranges[r].lo,
					(unsigned long long)x->ranges[r].hi);
		}
		fprintf(f, "]}");
	}
	fputc(']', f);
	insn_sums_free(sums, nr);
}

static void json_latency(FILE *f, const struct trap_latency *l)
{
	fprintf(f, "{\"count\":%llu,\"sum_ns\":%llu,\"min_ns\":%llu,\"max_ns\":%llu,\"log2_slots\":[",
		(unsigned long long)l->count, (unsigned long long)l->sum_ns,
		(unsigned long long)l->min_ns, (unsigned long long)l->max_ns);
	for (int i = 0; i < LAT_SLOTS; i++)
		fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)l->slots[i]);
	fprintf(f, "]}");
}

static void json_device(FILE *f, const struct code_sum *c)
{
	struct trap_key key = { .class = c->class, .detail_flags = c->detail_flags,
				.detail = c->detail, .code = c->code };
	const char *device = trap_device(&key);

	if (device) {
		fprintf(f, ",\"device\":");
		json_string(f, device);
	}
}

/* One code: its total, and its details where it has them. */
static void json_code(FILE *f, const struct code_sum *codes, size_t k, size_t end, bool first)
{
	struct trap_latency lat = { .vcpu = VCPU_UNKNOWN };
	bool details = end > k + 1 || codes[k].detail_flags;
	char name[64];

	code_name(codes[k].class, codes[k].code, name, sizeof(name));
	fprintf(f, "%s{\"code\":%llu,\"name\":", first ? "" : ",", (unsigned long long)codes[k].code);
	json_string(f, name);
	fprintf(f, ",\"count\":%llu", (unsigned long long)codes[k].code_count);
	if (!details)
		json_device(f, &codes[k]);
	for (size_t i = k; i < end; i++)
		latency_add(&lat, &codes[i].lat);
	if (lat.count) {
		fprintf(f, ",\"latency\":");
		json_latency(f, &lat);
	}
	if (details) {
		fprintf(f, ",\"details\":[");
		for (size_t i = k; i < end; i++) {
			exit_detail_name(codes[i].detail_flags, codes[i].detail, name, sizeof(name));
			fprintf(f, "%s{\"detail\":%llu,\"name\":", i > k ? "," : "",
				(unsigned long long)codes[i].detail_flags << 32 | codes[i].detail);
			json_string(f, name);
			json_device(f, &codes[i]);
			fprintf(f, ",\"count\":%llu", (unsigned long long)codes[i].count);
			if (codes[i].lat.count) {
				fprintf(f, ",\"latency\":");
				json_latency(f, &codes[i].lat);
			}
			fputc('}', f);
		}
		fputc(']', f);
	}
	fputc('}', f);
}

void json_write_summary(FILE *f, struct stats *s, double elapsed_s)
{
	struct guest_sum *sums = sum_guests(s);

	fprintf(f, "{\"elapsed_s\":%.3f,\"dropped\":%llu,\"guests\":[", elapsed_s,
		(unsigned long long)stats_total_drops(s));
	for (size_t i = 0; sums && i < s->nr_guests; i++) {
		struct guest_sum *gs = &sums[i];
		size_t nr_codes, k = 0;
		struct code_sum *codes = sum_codes(s, gs->guest, &nr_codes);
		bool first_class = true;
		struct device_sum devs[MAX_DEVICE_SUMS];
		size_t first, nr_devs;

		fprintf(f, "%s{\"pid\":%u,\"name\":", i ? "," : "", gs->guest->pid);
		json_string(f, gs->guest->name);
		fprintf(f, ",\"ended\":%s,\"vcpu_threads\":%d,\"total\":%llu,\"classes\":[",
			gs->guest->ended ? "true" : "false", gs->vcpus, (unsigned long long)gs->total);
		for (int c = 0; c < NR_CLASSES; c++) {
			bool first_code = true;

			if (!gs->class_total[c])
				continue;
			fprintf(f, "%s{\"class\":\"%s\",\"total\":%llu,", first_class ? "" : ",",
				class_name(c), (unsigned long long)gs->class_total[c]);
			first_class = false;
			if (gs->class_lat[c].count) {
				fprintf(f, "\"latency\":");
				json_latency(f, &gs->class_lat[c]);
				fputc(',', f);
			}
			fprintf(f, "\"codes\":[");
			first = k;
			for (; k < nr_codes && codes[k].class == (__u32)c;) {
				size_t end = code_group_end(codes, nr_codes, k);

				json_code(f, codes, k, end, first_code);
				first_code = false;
				k = end;
			}
			fputc(']', f);
			nr_devs = sum_devices(codes, first, k, devs);
			if (nr_devs) {
				fprintf(f, ",\"devices\":[");
				for (size_t d = 0; d < nr_devs; d++) {
					fprintf(f, "%s{\"name\":", d ? "," : "");
					json_string(f, devs[d].name);
					fprintf(f, ",\"count\":%llu}", (unsigned long long)devs[d].count);
				}
				fputc(']', f);
			}
			fprintf(f, "}");
		}
		fputc(']', f);
		json_insns(f, s, gs->guest->pid, false);
		json_insns(f, s, gs->guest->pid, true);
		fputc('}', f);
		free(codes);
	}
	fprintf(f, "]}\n");
	free(sums);
}
