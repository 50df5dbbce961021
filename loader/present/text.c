// SPDX-License-Identifier: GPL-2.0
/* Text output: the per-interval table and the final summary. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "model/devices.h"
#include "model/insns.h"
#include "model/names.h"
#include "present/text.h"

const char *format_ns(__u64 ns, char *buf, size_t size)
{
	if (ns < 1000)
		snprintf(buf, size, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, size, "%.2fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, size, "%.2fms", ns / 1e6);
	else
		snprintf(buf, size, "%.2fs", ns / 1e9);
	return buf;
}

void slot_bounds(int i, __u64 *lo, __u64 *hi)
{
	*lo = i ? 1ULL << i : 0;
	*hi = i == LAT_SLOTS - 1 ? ~0ULL : (1ULL << (i + 1)) - 1;
}

static void print_stars(FILE *out, __u64 val, __u64 max, int width)
{
	int stars = max ? (int)(val * width / max) : 0;

	for (int i = 0; i < width; i++)
		fputc(i < stars ? '*' : ' ', out);
	if (val > max)
		fputc('+', out);
}

void print_log2_hist(FILE *out, const __u64 *slots, int nr_slots, const char *unit)
{
	int first = -1, last = -1;
	__u64 max = 0;

	for (int i = 0; i < nr_slots; i++) {
		if (!slots[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (slots[i] > max)
			max = slots[i];
	}
	if (last < 0)
		return;
	fprintf(out, "%*s%-*s : count     distribution\n", 10, "", 14, unit);
	for (int i = first; i <= last; i++) {
		__u64 lo, hi;
		char range[48];

		slot_bounds(i, &lo, &hi);
		if (i == nr_slots - 1)
			snprintf(range, sizeof(range), "%llu -> inf", (unsigned long long)lo);
		else
			snprintf(range, sizeof(range), "%llu -> %llu", (unsigned long long)lo,
				 (unsigned long long)hi);
		fprintf(out, "%24s : %-9llu |", range, (unsigned long long)slots[i]);
		print_stars(out, slots[i], max, 40);
		fprintf(out, "|\n");
	}
}

struct guest_sum *sum_guests(struct stats *s)
{
	struct guest_sum *sums = calloc(s->nr_guests ? s->nr_guests : 1, sizeof(*sums));

	if (!sums)
		return NULL;
	for (size_t i = 0; i < s->nr_guests; i++)
		sums[i].guest = &s->guests[i];
	for (size_t t = 0; t < s->nr_threads; t++)
		sums[s->threads[t].guest].vcpus++;
	for (size_t r = 0; r < s->nr_rows; r++) {
		const struct trap_row *row = &s->rows[r];
		struct guest_sum *gs = &sums[row->guest];
		__u32 c = row->key.class;

		if (c >= NR_CLASSES)
			continue;
		gs->total += row->count;
		gs->interval += row->interval;
		gs->class_total[c] += row->count;
		gs->class_interval[c] += row->interval;
		latency_add(&gs->class_lat[c], &row->lat);
		gs->class_int_lat_count[c] += row->interval_lat_count;
		gs->class_int_lat_sum[c] += row->interval_lat_sum;
		if (row->interval_lat_max > gs->class_int_lat_max[c])
			gs->class_int_lat_max[c] = row->interval_lat_max;
		if (row->interval && (!gs->top || row->interval > gs->top->interval))
			gs->top = row;
	}
	return sums;
}

static int code_order(const void *a, const void *b)
{
	const struct code_sum *x = a, *y = b;

	if (x->class != y->class)
		return x->class < y->class ? -1 : 1;
	if (x->code_count != y->code_count)
		return x->code_count > y->code_count ? -1 : 1;
	if (x->code != y->code)
		return x->code < y->code ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->detail_flags != y->detail_flags)
		return x->detail_flags < y->detail_flags ? -1 : 1;
	return x->detail < y->detail ? -1 : x->detail > y->detail;
}

static int code_key_order(const void *a, const void *b)
{
	const struct code_sum *x = a, *y = b;

	if (x->class != y->class)
		return x->class < y->class ? -1 : 1;
	return x->code < y->code ? -1 : x->code > y->code;
}

size_t code_group_end(const struct code_sum *codes, size_t nr, size_t k)
{
	size_t e = k + 1;

	while (e < nr && codes[e].class == codes[k].class && codes[e].code == codes[k].code)
		e++;
	return e;
}

static int device_order(const void *a, const void *b)
{
	const struct device_sum *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

size_t sum_devices(const struct code_sum *codes, size_t k, size_t end, struct device_sum *out)
{
	size_t n = 0;

	for (; k < end; k++) {
		struct trap_key key = { .class = codes[k].class, .detail_flags = codes[k].detail_flags,
					.detail = codes[k].detail, .code = codes[k].code };
		const char *name = trap_device(&key);
		size_t i = 0;

		if (!name)
			continue;
		while (i < n && strcmp(out[i].name, name))
			i++;
		if (i == n) {
			if (n == MAX_DEVICE_SUMS)
				continue;	/* more than the tables hold: cannot happen */
			out[n++] = (struct device_sum){ .name = name };
		}
		out[i].count += codes[k].count;
		out[i].interval += codes[k].interval;
	}
	qsort(out, n, sizeof(*out), device_order);
	return n;
}

struct code_sum *sum_codes(const struct stats *s, const struct guest *g, size_t *nr)
{
	struct code_sum *codes = NULL;
	size_t n = 0, cap = 0, gi = g - s->guests;

	/* the guest's own rows: per guest, not all rows per guest */
	for (size_t r = stats_rows_first(s, g); r < s->nr_rows; r = stats_rows_next(s, r)) {
		const struct trap_row *row = &s->rows[r];
		struct code_sum *c = NULL;

		if (row->guest != gi)
			continue;
		for (size_t i = 0; i < n && !c; i++)
			if (codes[i].class == row->key.class && codes[i].code == row->key.code &&
			    codes[i].detail == row->key.detail &&
			    codes[i].detail_flags == row->key.detail_flags)
				c = &codes[i];
		if (!c) {
			if (n == cap) {
				struct code_sum *more = realloc(codes, (cap = cap ? cap * 2 : 32) * sizeof(*codes));

				if (!more) {
					free(codes);
					*nr = 0;
					return NULL;
				}
				codes = more;
			}
			c = &codes[n++];
			memset(c, 0, sizeof(*c));
			c->class = row->key.class;
			c->code = row->key.code;
			c->detail = row->key.detail;
			c->detail_flags = row->key.detail_flags;
			c->lat.vcpu = VCPU_UNKNOWN;
		}
		c->count += row->count;
		c->interval += row->interval;
		latency_add(&c->lat, &row->lat);
	}
	/* codes sort by the total of their details: group them, sum, sort */
	if (n)
		qsort(codes, n, sizeof(*codes), code_key_order);
	for (size_t i = 0, e; i < n; i = e) {
		__u64 sum = 0;

		for (e = i; e < n && codes[e].class == codes[i].class && codes[e].code == codes[i].code; e++)
			sum += codes[e].count;
		for (size_t j = i; j < e; j++)
			codes[j].code_count = sum;
	}
	if (n)
		qsort(codes, n, sizeof(*codes), code_order);
	*nr = n;
	return codes;
}

static void latency_cell(char *buf, size_t size, __u64 count, __u64 sum, __u64 max)
{
	char a[16], m[16];

	if (!count)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%s/%s", format_ns(sum / count, a, sizeof(a)),
			 format_ns(max, m, sizeof(m)));
}

void report_interval(FILE *out, struct stats *s, double interval_s, double elapsed_s)
{
	struct guest_sum *sums = sum_guests(s);
	__u64 all = 0;
	size_t live = 0;
	char now[16];
	time_t t = time(NULL);

	if (!sums)
		return;
	strftime(now, sizeof(now), "%H:%M:%S", localtime(&t));
	for (size_t i = 0; i < s->nr_guests; i++) {
		all += sums[i].interval;
		live += !sums[i].guest->ended;
	}
	fprintf(out, "%s  kvmprof  elapsed %.1fs  interval %.2fs  traps %.0f/s  guests %zu live, %zu ended"
		"  dropped %llu\n", now, elapsed_s, interval_s, all / interval_s, live,
		s->nr_guests - live, (unsigned long long)stats_total_drops(s));
	fprintf(out, "%-8s %-16s %5s %9s", "PID", "GUEST", "VCPUS", "TRAPS/s");
	for (int c = 0; c < NR_CLASSES; c++)	/* only the classes this architecture has */
		if (class_traced_here(c))
			fprintf(out, " %8s", class_table[c].column);
	fprintf(out, "  %-24s %-19s %-19s\n", "TOP CODE", "EXIT AVG/MAX", "VMM AVG/MAX");
	for (size_t i = 0; i < s->nr_guests; i++) {
		struct guest_sum *gs = &sums[i];
		char top[64] = "-", exit_lat[40], vmm_lat[40];

		if (gs->guest->ended && !gs->interval)
			continue;
		if (gs->top)
			trap_name_fit(gs->top->key.class, gs->top->key.code, gs->top->key.detail_flags,
				      gs->top->key.detail, top, sizeof(top), 24);
		latency_cell(exit_lat, sizeof(exit_lat), gs->class_int_lat_count[CLASS_EXIT],
			     gs->class_int_lat_sum[CLASS_EXIT], gs->class_int_lat_max[CLASS_EXIT]);
		latency_cell(vmm_lat, sizeof(vmm_lat), gs->class_int_lat_count[CLASS_USERSPACE],
			     gs->class_int_lat_sum[CLASS_USERSPACE], gs->class_int_lat_max[CLASS_USERSPACE]);
		fprintf(out, "%-8u %-16.16s %5d %9.0f", gs->guest->pid, gs->guest->name, gs->vcpus,
			gs->interval / interval_s);
		for (int c = 0; c < NR_CLASSES; c++)
			if (class_traced_here(c))
				fprintf(out, " %8.0f", gs->class_interval[c] / interval_s);
		fprintf(out, "  %-24.24s %-19s %-19s\n", top, exit_lat, vmm_lat);
	}
	fputc('\n', out);
	fflush(out);
	free(sums);
}

static void print_latency_cols(FILE *out, const struct trap_latency *lat)
{
	char a[16], b[16], c[16];

	if (!lat->count)
		return;
	fprintf(out, "  %9s %9s %9s", format_ns(lat->min_ns, a, sizeof(a)),
		format_ns(lat->sum_ns / lat->count, b, sizeof(b)), format_ns(lat->max_ns, c, sizeof(c)));
}

static void print_code_line(FILE *out, int indent, const char *name, __u64 count, __u64 class_total,
			    double elapsed_s, const struct trap_latency *lat)
{
	fprintf(out, "%*s%-*s %12llu %6.2f%% %12.1f", indent, "", 34 - indent, name,
		(unsigned long long)count, class_total ? 100.0 * count / class_total : 0,
		count / elapsed_s);
	if (lat)
		print_latency_cols(out, lat);
	fputc('\n', out);
}

/* One code: a line, or with details a line of its total and one per detail
 * (at most top, the rest summed). */
static void print_code_group(FILE *out, const struct code_sum *codes, size_t k, size_t end,
			     __u64 class_total, double elapsed_s, int top)
{
	const struct code_sum *c = &codes[k];
	struct trap_latency lat = { .vcpu = VCPU_UNKNOWN };
	char name[96];
	__u64 rest = 0;
	size_t rest_n = 0;

	if (end == k + 1 && !c->detail_flags) {
		trap_name(c->class, c->code, 0, 0, name, sizeof(name));
		print_code_line(out, 4, name, c->count, class_total, elapsed_s, &c->lat);
		return;
	}
	for (size_t i = k; i < end; i++)
		latency_add(&lat, &codes[i].lat);
	code_name(c->class, c->code, name, sizeof(name));
	print_code_line(out, 4, name, c->code_count, class_total, elapsed_s, &lat);
	for (size_t i = k; i < end; i++) {
		if ((int)(i - k) >= top) {
			rest += codes[i].count;
			rest_n++;
			continue;
		}
		if (codes[i].detail_flags) {
			struct trap_key key = { .class = codes[i].class, .detail_flags = codes[i].detail_flags,
						.detail = codes[i].detail, .code = codes[i].code };
			const char *device = trap_device(&key);
			size_t n;

			exit_detail_name(codes[i].detail_flags, codes[i].detail, name, sizeof(name));
			n = strlen(name);
			if (device)
				snprintf(name + n, sizeof(name) - n, " (%s)", device);
		} else {
			snprintf(name, sizeof(name), "(no detail)");
		}
		print_code_line(out, 6, name, codes[i].count, class_total, elapsed_s, &codes[i].lat);
	}
	if (rest_n) {
		snprintf(name, sizeof(name), "... %zu more", rest_n);
		print_code_line(out, 6, name, rest, class_total, elapsed_s, NULL);
	}
}

/* Per-device subtotals of a class's codes, where any has a device. */
static void print_devices(FILE *out, const struct code_sum *codes, size_t k, size_t end,
			  __u64 class_total, double elapsed_s)
{
	struct device_sum devs[MAX_DEVICE_SUMS];
	size_t n = sum_devices(codes, k, end, devs);
	char name[64];

	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "device %s", devs[i].name);
		print_code_line(out, 4, name, devs[i].count, class_total, elapsed_s, NULL);
	}
}

static void print_vcpus(FILE *out, const struct stats *s, const struct guest *g)
{
	size_t gi = g - s->guests;

	fprintf(out, "  vCPU threads:");
	for (size_t t = 0; t < s->nr_threads; t++) {
		const struct thread *th = &s->threads[t];
		__u64 sum = 0;

		if (th->guest != gi)
			continue;
		for (size_t r = stats_rows_first(s, g); r < s->nr_rows; r = stats_rows_next(s, r))
			if (s->rows[r].thread == t)
				sum += s->rows[r].count;
		if (th->vcpu >= 0)
			fprintf(out, "  vcpu%d (tid %u): %llu", th->vcpu, th->tid, (unsigned long long)sum);
		else
			fprintf(out, "  tid %u: %llu", th->tid, (unsigned long long)sum);
	}
	fputc('\n', out);
}

/* A guest's emulated instructions in full (--insns) or its failed
 * emulations: the top ones with bytes, mode, count and where they ran. */
static void print_insns(FILE *out, const struct stats *s, __u32 pid, bool failed, int top)
{
	size_t nr;
	struct insn_sum *sums = insn_sums(s->insns, pid, failed, &nr);
	__u64 total = 0;

	for (size_t i = 0; i < nr; i++)
		total += sums[i].count;
	if (!nr) {
		insn_sums_free(sums, nr);
		return;
	}
	fprintf(out, "  %s: %zu distinct, %llu in all\n", failed ? "Failed emulations" :
		"Emulated instructions", nr, (unsigned long long)total);
	fprintf(out, "    %-34s %-20s %-6s %12s  %s\n", "INSTRUCTION", "BYTES", "MODE", "COUNT",
		failed ? "LAST RIP (CS base + rip)" : "RIP (CS base + rip)");
	for (size_t i = 0; i < nr; i++) {
		char hex[64], where[160];

		if ((int)i == top) {
			fprintf(out, "    ... %zu more (see --csv-insns)\n", nr - i);
			break;
		}
		insn_hex(&sums[i].key, hex, sizeof(hex));
		if (!failed)
			insn_ranges_text(&sums[i], 4, where, sizeof(where));
		else if (sums[i].last_rip == RIP_UNKNOWN)
			snprintf(where, sizeof(where), "?");
		else
			snprintf(where, sizeof(where), "0x%llx", (unsigned long long)sums[i].last_rip);
		fprintf(out, "    %-34s %-20s %-6s %12llu  %s\n", sums[i].text, hex,
			emulate_mode_name(sums[i].key.mode), (unsigned long long)sums[i].count, where);
	}
	insn_sums_free(sums, nr);
}

void report_summary(FILE *out, struct stats *s, double elapsed_s, int top)
{
	struct guest_sum *sums = sum_guests(s);

	if (!sums)
		return;
	fprintf(out, "=== kvmprof summary: %.1f s, %zu guest%s, %llu dropped event%s ===\n",
		elapsed_s, s->nr_guests, s->nr_guests == 1 ? "" : "s",
		(unsigned long long)stats_total_drops(s), stats_total_drops(s) == 1 ? "" : "s");
	if (!s->nr_guests)
		fprintf(out, "No KVM traps seen.\n");
	for (size_t i = 0; i < s->nr_guests; i++) {
		struct guest_sum *gs = &sums[i];
		size_t nr_codes, k = 0;
		struct code_sum *codes = sum_codes(s, gs->guest, &nr_codes);

		fprintf(out, "\nGuest %u \"%s\"%s: %d vCPU thread%s, %llu traps, %.1f/s\n",
			gs->guest->pid, gs->guest->name, gs->guest->ended ? " (ended)" : "",
			gs->vcpus, gs->vcpus == 1 ? "" : "s", (unsigned long long)gs->total,
			gs->total / elapsed_s);
		print_vcpus(out, s, gs->guest);
		fprintf(out, "  %-32s %12s %7s %12s  %9s %9s %9s\n", "CLASS / CODE", "TOTAL", "%",
			"RATE/s", "MIN", "AVG", "MAX");
		for (int c = 0; c < NR_CLASSES; c++) {
			int shown = 0;

			if (!gs->class_total[c])
				continue;
			fprintf(out, "  %-32s %12llu %6.2f%% %12.1f", class_name(c),
				(unsigned long long)gs->class_total[c],
				100.0 * gs->class_total[c] / gs->total, gs->class_total[c] / elapsed_s);
			print_latency_cols(out, &gs->class_lat[c]);
			fputc('\n', out);
			size_t first = k;

			for (; k < nr_codes && codes[k].class == (__u32)c;) {
				size_t end = code_group_end(codes, nr_codes, k);

				if (shown++ == top) {
					size_t rest = 0;

					for (; k < nr_codes && codes[k].class == (__u32)c; k = code_group_end(codes, nr_codes, k))
						rest++;
					fprintf(out, "    ... %zu more code%s (see --csv)\n", rest,
						rest == 1 ? "" : "s");
					break;
				}
				print_code_group(out, codes, k, end, gs->class_total[c], elapsed_s, top);
				k = end;
			}
			print_devices(out, codes, first, k, gs->class_total[c], elapsed_s);
			if (gs->class_lat[c].count) {
				fprintf(out, "    %s latency, all codes:\n", class_latency_label(c));
				print_log2_hist(out, gs->class_lat[c].slots, LAT_SLOTS, "nsecs");
			}
		}
		free(codes);
		if (s->insns) {
			print_insns(out, s, gs->guest->pid, false, top);
			print_insns(out, s, gs->guest->pid, true, top);
		}
	}
	fflush(out);
	free(sums);
}
