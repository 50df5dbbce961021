// SPDX-License-Identifier: GPL-2.0
/* The --slow log's lines. */
#include <stdio.h>
#include <time.h>
#include "model/devices.h"
#include "model/names.h"
#include "present/slow_log.h"
#include "util/json_writer.h"

/* end_ns (CLOCK_MONOTONIC) as UTC, ISO 8601 with microseconds. */
static void wall_clock(__u64 end_ns, char *buf, size_t size)
{
	struct timespec mono, real;
	long long real_ns;
	time_t sec;
	struct tm tm;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	real_ns = real.tv_sec * 1000000000LL + real.tv_nsec -
		  (mono.tv_sec * 1000000000LL + mono.tv_nsec - (long long)end_ns);
	sec = real_ns / 1000000000LL;
	gmtime_r(&sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, real_ns % 1000000000LL / 1000);
}

void slow_log_line(FILE *f, struct trap_table *table, const struct slow_trap *t)
{
	struct trap_key key = { .tgid = t->tgid, .tid = t->tid, .class = t->class,
				.detail_flags = t->detail_flags, .detail = t->detail, .code = t->code };
	const struct guest *g;
	struct thread *th;
	struct json_writer w;
	char when[64], name[160], detail[96], rip[24];
	const char *device = trap_device(&key);
	int vcpu;

	table_note_thread(table, t->tgid, t->tid, NULL, NULL);	/* named while it exists */
	g = table_find_guest(table, t->tgid);
	th = table_thread(table, t->tgid, t->tid);
	vcpu = t->vcpu != VCPU_UNKNOWN ? (int)t->vcpu : th ? th->vcpu : -1;
	wall_clock(t->end_ns, when, sizeof(when));
	code_name(t->class, t->code, name, sizeof(name));
	exit_detail_name(t->detail_flags, t->detail, detail, sizeof(detail));
	jw_init(&w, f);
	jw_object(&w);
	jw_string_field(&w, "time", when);
	jw_string_field(&w, "guest", g ? g->name : "?");
	jw_uint_field(&w, "pid", t->tgid);
	jw_name(&w, "vcpu");
	if (vcpu >= 0)
		jw_uint(&w, vcpu);
	else
		jw_null(&w);
	jw_uint_field(&w, "tid", t->tid);
	jw_string_field(&w, "class", class_name(t->class));
	jw_uint_field(&w, "code", t->code);
	jw_string_field(&w, "name", name);
	jw_name(&w, "detail");
	if (*detail)
		jw_string(&w, detail);
	else
		jw_null(&w);
	jw_name(&w, "device");
	if (device)
		jw_string(&w, device);
	else
		jw_null(&w);
	jw_name(&w, "rip");
	if (t->rip != RIP_UNKNOWN) {
		snprintf(rip, sizeof(rip), "0x%llx", (unsigned long long)t->rip);
		jw_string(&w, rip);
	} else {
		jw_null(&w);
	}
	jw_uint_field(&w, "duration_ns", t->duration_ns);
	jw_end_object(&w);
	fputc('\n', f);
}
