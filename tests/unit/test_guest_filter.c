// SPDX-License-Identifier: GPL-2.0
/* -g: guest name globs and the table of the chosen guests. */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "collect/procfs.h"
#include "model/guest_filter.h"

/* -g: the reports see only the chosen guests, their threads and rows. */
static void test_guest_filter(void)
{
	static const char *const web[] = { "web*" }, *const two[] = { "db", "w?b-1" };
	static const char *const none[] = { "nothing*" };
	/* pids that cannot exist, so names come from the comms given */
	const __u32 pid_web = 0x7ffffff0, pid_db = 0x7ffffff1;
	struct trap_key key = { .class = CLASS_PIO, .code = 0x3f8 };
	struct trap_table s, chosen;
	char *text;

	CHECK(guest_name_matches("web-1", NULL, 0), "no globs: every guest");
	CHECK(guest_name_matches("web-1", web, 1), "web* matches web-1");
	CHECK(!guest_name_matches("db", web, 1), "web* does not match db");
	CHECK(guest_name_matches("web-1", two, 2) && guest_name_matches("db", two, 2), "either glob");
	CHECK(!guest_name_matches("db2", two, 2), "globs match whole names");

	CHECK(table_init(&s, &procfs_source) == 0, "table_init");
	table_note_thread(&s, pid_web, pid_web + 1, "CPU 0/KVM", &(struct process_seen){ .comm = "web-1" });
	table_note_thread(&s, pid_db, pid_db + 1, "CPU 0/KVM", &(struct process_seen){ .comm = "db" });
	for (int i = 0; i < 3; i++) {
		key.tgid = i == 2 ? pid_db : pid_web;
		key.tid = key.tgid + 1;
		key.code = 0x3f8 + i;
		table_row(&s, &key, true)->count = 10 + i;
	}
	CHECK_STR(s.guests[0].name, "web-1");
	CHECK(table_select(&chosen, &s, web, 1) == 0, "select web*");
	CHECK(chosen.nr_guests == 1 && chosen.guests[0].pid == pid_web, "one guest chosen");
	CHECK(chosen.nr_threads == 1 && chosen.nr_rows == 2, "its thread and rows: %zu %zu",
	      chosen.nr_threads, chosen.nr_rows);
	text = capture(summary_of, &chosen);
	CHECK(strstr(text, "\"web-1\"") && !strstr(text, "\"db\"") && strstr(text, "21 traps"),
	      "the summary holds web-1 only: %s", text);
	free(text);
	table_free(&chosen);
	CHECK(table_select(&chosen, &s, none, 1) == 0 && chosen.nr_guests == 0 &&
	      chosen.nr_rows == 0, "a glob matching nothing leaves nothing");
	text = capture(summary_of, &chosen);
	CHECK(strstr(text, "No KVM traps seen."), "empty summary");
	free(text);
	table_free(&chosen);
	CHECK(s.nr_guests == 2 && s.nr_rows == 3, "the source is untouched");
	table_free(&s);
}

void unit_guest_filter(void)
{
	test_guest_filter();
}
