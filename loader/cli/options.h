/* SPDX-License-Identifier: GPL-2.0 */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stdbool.h>
#include <sys/types.h>
#include "kvmprof.h"

#define MAX_GUEST_GLOBS 64
#define MIN_INTERVAL_S 0.1	/* the live view's shortest interval */

/* --sort: codes by count, total time, mean or longest */
enum code_order { ORDER_COUNT, ORDER_TOTAL, ORDER_MEAN, ORDER_MAX, NR_CODE_ORDERS };
const char *code_order_name(enum code_order k);

enum attach_mode { ATTACH_AUTO, ATTACH_TRACEPOINT, ATTACH_BTF, ATTACH_FENTRY, ATTACH_KPROBE };

/* Exit codes, documented in README. */
#define EXIT_OK 0
#define EXIT_RUNTIME 1	/* could not trace: permissions, kernel, BPF, output file */
#define EXIT_USAGE 2	/* bad command line */

struct options {
	double interval_s;
	double duration_s;	/* 0: until Ctrl-C */
	pid_t pids[MAX_PID_FILTER];
	int nr_pids;
	const char *guest_globs[MAX_GUEST_GLOBS];	/* -g: shell globs on guest names */
	int nr_guest_globs;
	const char *csv_path;
	const char *csv_series_path;
	const char *json_path;
	const char *json_series_path;	/* --json-series: JSON lines, one per interval */
	const char *csv_insns_path;	/* --csv-insns: instructions and failures */
	bool insns;		/* --insns: emulated instructions in full */
	enum attach_mode attach;
	int top;		/* codes listed per class */
	bool verbose;
	bool quiet;		/* no per-interval tables */
	bool batch;		/* plain tables even on a terminal */
	bool list_probes;
	const char *listen;	/* --listen ADDR:PORT: serve /metrics, no tables */
	const char *prom_path;	/* --prom-file: /metrics' text, rewritten every interval */
	bool metrics_no_vcpu, metrics_no_code;
	long metrics_max_series;
	unsigned long classes;	/* -e: a bit per class; 0 the default set */
	long max_keys;		/* --max-keys: the trap maps' room */
	long max_guest_keys;	/* --max-guest-keys: one guest's share of it */
	double metrics_grace_s;
	bool no_time;		/* --no-time: no vCPU time accounting (no sched_switch program) */
	enum code_order sort;	/* --sort: the order of codes in the summary and batch tables */
	bool per_vcpu;		/* --per-vcpu: each vCPU thread's classes and codes */
	int vcpu;		/* --vcpu N: only that vCPU; -1 all */
	__u32 tids[MAX_PID_FILTER];	/* --tid: only these threads */
	int nr_tids;
	__u64 slow_ns;		/* --slow: log exits and VMM trips longer; 0 off */
	const char *slow_log_path;	/* --slow-log: where (stderr without it) */
	char **command;		/* -- COMMAND [ARGS...]: NULL-terminated; NULL none */
	bool counters;		/* --counters: KVM's counters alone, nothing attached to any event */
	bool rips;		/* --rip: exits by guest address */
	const char *csv_rips_path;	/* --csv-rips FILE */
#define MAX_GUEST_SYMS 16
	const char *guest_syms[MAX_GUEST_SYMS];	/* --guest-syms GUEST=FILE, as given */
	int nr_guest_syms;
	const char *guest_kaslr[MAX_GUEST_SYMS];	/* --guest-kaslr GUEST=OFFSET, as given */
	int nr_guest_kaslr;
	bool since_start;	/* --since-start: --counters since each VM was made */
};

/* kvmprof report [-o FILE] [-n N] CSV [SERIES_CSV] [CSV [SERIES_CSV]...]:
 * each --csv file a run, its --csv-series file after it (offline/runs.h) */
#define MAX_REPORT_INPUTS 16
struct report_options {
	const char *inputs[MAX_REPORT_INPUTS];	/* --csv and --csv-series files */
	int nr_inputs;
	const char *out_path;	/* NULL: the first --csv file's name with .html */
	int top;		/* codes in each guest's table */
};

/* kvmprof diff A.csv [A-SERIES] B.csv [B-SERIES] [-o FILE] [--map A=B]...
 * [--fail-above PERCENT [--fail-on FIGURE]] [-n N] */
#define EXIT_ABOVE 3	/* kvmprof diff --fail-above: a figure changed more */
#define MAX_DIFF_INPUTS 4
#define MAX_DIFF_MAPS 64
enum diff_figure { FIGURE_COUNT, FIGURE_RATE, FIGURE_P50, FIGURE_P99, NR_FIGURES };
struct diff_options {
	const char *inputs[MAX_DIFF_INPUTS];
	int nr_inputs;
	const char *out_path;	/* -o: the HTML page; NULL: none */
	const char *maps[MAX_DIFF_MAPS];	/* --map A=B, as given */
	int nr_maps;
	double fail_above;	/* --fail-above PERCENT; < 0: none */
	enum diff_figure fail_on;
	int top;		/* codes (and details) listed per class */
};
/* "count", "rate", "p50", "p99" */
const char *diff_figure_name(enum diff_figure f);

/* Parses argv into opts.  Returns -1 when --help/--usage was printed (exit
 * 0), EXIT_USAGE after printing one line to stderr, else 0. */
int parse_options(int argc, char **argv, struct options *opts);
const char *attach_mode_name(enum attach_mode mode);
/* The same for `kvmprof report` (argv[0] is "report") and `kvmprof diff`. */
int parse_report_options(int argc, char **argv, struct report_options *opts);
int parse_diff_options(int argc, char **argv, struct diff_options *opts);

#endif
