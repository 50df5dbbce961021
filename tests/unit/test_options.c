// SPDX-License-Identifier: GPL-2.0
/* The command line: every option, its defaults, and the values refused. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "cli/options.h"

static int parse(const char *line, struct options *o)
{
	char copy[512], *argv[32];
	int argc = 0;

	snprintf(copy, sizeof(copy), "kvmprof %s", line);
	for (char *tok = strtok(copy, " "); tok && argc < 31; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return parse_options(argc, argv, o);
}

static void test_options(void)
{
	static const char *const bad[] = {
		"-i 0", "-i -1", "-i abc", "-i 1e99", "-d 1e99", "-d 0", "-p 0", "-p notapid",
		"-p -5", "--attach nope", "--bogus", "-i", "extra", "-n 0",
		"--csv a.csv --csv-series a.csv", "--list-probes --csv x.csv", "--json a --csv a",
		"--csv-insns a --csv a", "--csv-insns a --json a", "--list-probes --csv-insns x",
		"--csv-insns", "--slow 10", "--slow -1ms", "--slow 1x", "--slow ms", "--slow 0ns",
		"--slow-log s.log", "--sort size", "--vcpu -1", "--tid 0", "--slow 1ms --slow-log a --csv a",
	};
	struct options o;
	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	CHECK(parse("", &o) == 0, "no options");
	CHECK(o.interval_s == 1.0 && o.duration_s == 0 && o.attach == ATTACH_AUTO && o.top == 5,
	      "defaults");
	CHECK(parse("-p 12 -p 34 -i 0.5 -d 10 --csv h.csv --csv-series s.csv -j j.json "
		    "--attach tracepoint -q -v -n 3", &o) == 0, "all options");
	CHECK(o.nr_pids == 2 && o.pids[0] == 12 && o.pids[1] == 34, "pids");
	CHECK(o.interval_s == 0.5 && o.duration_s == 10, "times");
	CHECK_STR(o.csv_path, "h.csv");
	CHECK_STR(o.csv_series_path, "s.csv");
	CHECK_STR(o.json_path, "j.json");
	CHECK(o.attach == ATTACH_TRACEPOINT && o.quiet && o.verbose && o.top == 3, "flags");
	CHECK(!o.batch && o.nr_guest_globs == 0, "no -b, no -g by default");
	CHECK(!o.insns && !o.csv_insns_path, "no --insns by default");
	CHECK(parse("--insns --csv-insns i.csv", &o) == 0 && o.insns, "--insns");
	CHECK_STR(o.csv_insns_path, "i.csv");
	CHECK(parse("-g web -g db* --guest=x?y -b", &o) == 0, "-g and -b");
	CHECK(o.nr_guest_globs == 3 && o.batch, "three globs and batch");
	CHECK_STR(o.guest_globs[1], "db*");
	CHECK_STR(o.guest_globs[2], "x?y");
	CHECK(parse("--batch", &o) == 0 && o.batch, "--batch");
	CHECK(parse("", &o) == 0 && o.vcpu == -1 && !o.slow_ns && o.sort == ORDER_COUNT && !o.no_time,
	      "no filters, no slow log, codes by count, time on by default");
	CHECK(parse("--slow 1.5ms --slow-log s.log --sort mean --vcpu 3 --tid 7 --tid 9 --per-vcpu "
		    "--no-time", &o) == 0, "issue 15's options");
	CHECK_U64(o.slow_ns, 1500000);
	CHECK_STR(o.slow_log_path, "s.log");
	CHECK(o.sort == ORDER_MEAN && o.vcpu == 3 && o.nr_tids == 2 && o.tids[1] == 9 && o.per_vcpu &&
	      o.no_time, "--sort, --vcpu, --tid, --per-vcpu, --no-time");
	CHECK(parse("--slow 250us", &o) == 0 && o.slow_ns == 250000, "us");
	CHECK(parse("--slow 2s", &o) == 0 && o.slow_ns == 2000000000ULL, "s");
	CHECK(parse("--slow 800ns", &o) == 0 && o.slow_ns == 800, "ns");
	CHECK(parse("--attach btf", &o) == 0 && o.attach == ATTACH_BTF, "btf");
	CHECK(parse("--attach=kprobe", &o) == 0 && o.attach == ATTACH_KPROBE, "kprobe");
	CHECK(parse("-a fentry", &o) == 0 && o.attach == ATTACH_FENTRY, "fentry");
	dup2(null, 2);	/* the one-line errors are the point, not the output here */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i], &o);

		dup2(saved, 2);
		CHECK(rc == EXIT_USAGE, "'%s' gives %d, want %d", bad[i], rc, EXIT_USAGE);
		dup2(null, 2);
	}
	dup2(saved, 2);
	close(null);
	close(saved);
}

void unit_options(void)
{
	test_options();
}
