// SPDX-License-Identifier: GPL-2.0
/* The trap table: late names, tens of thousands of guests, reused pids. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "unit.h"
#include "collect/map_reader.h"
#include "collect/procfs.h"
#include "model/guest_filter.h"
#include "model/summary.h"

/* A guest first met in the maps after its process was gone is "pidN" until
 * its ring buffer record brings the comm BPF saw. */
static void test_late_guest_name(void)
{
	struct trap_key key = { .tgid = 4194303, .tid = 4194303, .class = CLASS_PIO, .code = 1 };
	struct trap_table s;

	if (table_init(&s, &procfs_source)) {
		CHECK(0, "table_init");
		return;
	}
	CHECK(table_row(&s, &key, true) != NULL, "row for a gone guest");
	CHECK_STR(table_guest(&s, key.tgid)->name, "pid4194303");
	table_note_thread(&s, key.tgid, key.tid, "CPU 0/KVM", &(struct process_seen){ .comm = "qemu-web" });
	CHECK_STR(table_guest(&s, key.tgid)->name, "qemu-web");
	table_note_thread(&s, key.tgid, key.tid, "CPU 0/KVM", &(struct process_seen){ .comm = "other" });	/* named: kept */
	CHECK_STR(table_guest(&s, key.tgid)->name, "qemu-web");
	table_free(&s);
}

/* A guest gone before the loader read /proc is named from the command line
 * BPF copied, before its comm; without one, by its comm. */
static void test_gone_guest_cmdline(void)
{
	static const char cmdline[] = "qemu-system-x86_64\0-name\0guest=web-1,debug-threads=on\0-m\0512";
	struct process_seen seen = { .comm = "qemu-system-x86", .cmdline = cmdline, .cmdline_len = sizeof(cmdline) };
	struct trap_table s;

	if (table_init(&s, &procfs_source)) {
		CHECK(0, "table_init");
		return;
	}
	table_note_thread(&s, 4194301, 4194301, "CPU 0/KVM", &seen);
	CHECK_STR(table_guest(&s, 4194301)->name, "web-1");
	seen.cmdline_len = 0;
	table_note_thread(&s, 4194302, 4194302, "CPU 0/KVM", &seen);
	CHECK_STR(table_guest(&s, 4194302)->name, "qemu-system-x86");
	table_free(&s);
}

/* Tens of thousands of guests and threads, as on a churning host: each
 * found again by its pid and tid (the indexes grow), none made twice, and
 * in linear time: a quadratic search took minutes here. */
static void test_many_guests(void)
{
	struct timespec t0, t1;
	struct trap_table s;
	size_t nr;
	int wrong = 0;

	if (table_init(&s, &procfs_source)) {
		CHECK(0, "table_init");
		return;
	}
	for (__u32 i = 0; i < 5000; i++) {
		struct trap_key key = { .tgid = 4000000 + i / 2, .tid = 4100000 + i, .class = CLASS_PIO };

		wrong += !table_row(&s, &key, true);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (__u32 i = 0; i < 200000; i++)	/* guests and threads without rows */
		table_note_thread(&s, 4200000 + i / 2, 4300000 + i, "CPU 0/KVM", &(struct process_seen){ .comm = "vm" });
	for (__u32 i = 0; i < 200000; i++)
		wrong += table_guest(&s, 4200000 + i / 2)->pid != 4200000 + i / 2;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec < 10, "200000 threads took %ld s", (long)(t1.tv_sec - t0.tv_sec));
	for (__u32 i = 0; i < 5000; i++) {
		struct trap_key key = { .tgid = 4000000 + i / 2, .tid = 4100000 + i, .class = CLASS_PIO };

		wrong += table_guest(&s, key.tgid)->pid != key.tgid || !table_row(&s, &key, false);
	}
	CHECK(!wrong, "%d guests or rows not found again", wrong);
	CHECK_U64(s.nr_guests, 2500 + 100000);
	CHECK_U64(s.nr_threads, 5000 + 200000);
	CHECK_U64(s.nr_rows, 5000);
	/* a guest's codes come from its own chain of rows */
	nr = 0;
	for (size_t r = table_rows_first(&s, table_find_guest(&s, 4000007)); r < s.nr_rows;
	     r = table_rows_next(&s, r))
		nr += s.rows[r].key.tgid == 4000007 ? 1 : 100;
	CHECK_U64(nr, 2);
	CHECK_U64(table_rows_first(&s, table_find_guest(&s, 4000007)), 14);
	{
		struct summary sum;
		size_t gi = table_find_guest(&s, 4000007) - s.guests;

		CHECK(!summary_build(&sum, &s, NULL, ORDER_COUNT) && !summary_detail(&sum, &s, NULL, gi), "summary");
		CHECK_U64(sum.guests[gi].nr_codes, 1);
		summary_free(&sum);
	}
	table_free(&s);
}

/* A pid that comes back as another process after its guest's entries were
 * reclaimed: a new guest with its own rows, threads, name and totals, and
 * the old one keeps its own, in the summary, the CSV, the JSON and -g. */
static void test_pid_reuse(void)
{
	static const char *const second[] = { "second" };
	const __u32 pid = 0x7ffffff2;	/* cannot exist: map_reclaim finds it gone */
	struct trap_key key = { .tgid = pid, .tid = pid, .class = CLASS_PIO, .code = 0x3f8 };
	struct trap_table s, chosen;
	struct map_reader no_maps;	/* every fd -1 */
	const struct guest *g;
	struct trap_row *row;
	char *text, want[160];

	if (table_init(&s, &procfs_source) || map_reader_init(&no_maps, 1, 1024)) {
		CHECK(0, "table_init");
		return;
	}
	table_note_thread(&s, pid, pid, "CPU 0/KVM", &(struct process_seen){ .comm = "first" });
	table_row(&s, &key, true)->count = 9;
	map_reclaim(&no_maps, &s, NULL, NULL);	/* found gone: ended */
	CHECK(s.guests[0].ended && !s.guests[0].retired, "ended, not yet retired");
	map_reclaim(&no_maps, &s, NULL, NULL);	/* its entries deleted: retired */
	CHECK(s.guests[0].ended && s.guests[0].retired, "then retired");
	/* the same pid and thread id again, another process (met in the maps
	 * first, then its ring buffer record names it) */
	row = table_row(&s, &key, true);
	CHECK(row && row->count == 0, "the same key starts a new row");
	if (!row)
		return;
	row->count = 4;
	table_note_thread(&s, pid, pid, "CPU 1/KVM", &(struct process_seen){ .comm = "second" });
	g = table_find_guest(&s, pid);
	CHECK(s.nr_guests == 2 && g == &s.guests[1] && !g->ended, "a second, live guest");
	CHECK_STR(g->name, "second");
	CHECK_STR(s.guests[0].name, "first");
	CHECK(s.nr_threads == 2 && row->vcpu == -1 && s.rows[0].vcpu == 0, "threads apart");
	CHECK(s.rows[0].count == 9 && s.nr_rows == 2, "the old row keeps 9");
	text = capture(summary_of, &s);
	snprintf(want, sizeof(want), "Guest %u \"first\" (ended): 1 vCPU thread, 9 traps", pid);
	CHECK(strstr(text, want), "summary: %s in %s", want, text);
	snprintf(want, sizeof(want), "Guest %u \"second\": 1 vCPU thread, 4 traps", pid);
	CHECK(strstr(text, want), "summary: %s", want);
	free(text);
	text = capture(json_of, &s);
	CHECK(strstr(text, "\"name\":\"first\",\"ended\":true,\"vcpu_threads\":1,\"total\":9,") &&
	      strstr(text, "\"name\":\"second\",\"ended\":false,\"vcpu_threads\":1,\"total\":4,"),
	      "JSON: two guests apart: %s", text);
	free(text);
	text = capture(csv_histograms_of, &s);
	snprintf(want, sizeof(want), "%u,first,0,%u,pio,0x3f8,in 0x3f8,9,", pid, pid);
	CHECK(strstr(text, want), "CSV: %s in %s", want, text);
	snprintf(want, sizeof(want), "%u,second,,%u,pio,0x3f8,in 0x3f8,4,", pid, pid);
	CHECK(strstr(text, want), "CSV: %s", want);
	free(text);
	CHECK(table_select(&chosen, &s, second, 1) == 0 && chosen.nr_guests == 1 &&
	      chosen.nr_rows == 1 && chosen.nr_threads == 1 && chosen.rows[0].count == 4,
	      "-g second: the new guest alone");
	text = capture(summary_of, &chosen);
	CHECK(strstr(text, "\"second\": 1 vCPU thread, 4 traps") && !strstr(text, "first"),
	      "-g summary: %s", text);
	free(text);
	table_free(&chosen);
	table_free(&s);
	map_reader_free(&no_maps);
}

void unit_table(void)
{
	test_late_guest_name();
	test_gone_guest_cmdline();
	test_many_guests();
	test_pid_reuse();
}
