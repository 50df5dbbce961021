// SPDX-License-Identifier: GPL-2.0
/* Command line, with argp as in libbpf-tools. */
#include <argp.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "present/http.h"
#include "present/metrics.h"
#include "cli/options.h"
#include "model/classes.h"
#include "util/text.h"
#include "util/common.h"
#include "cli/version.h"

#define MAX_SECONDS (366.0 * 86400)

enum { OPT_CSV_SERIES = 1000, OPT_LIST_PROBES, OPT_USAGE, OPT_LISTEN, OPT_METRICS_NO_VCPU,
	OPT_METRICS_NO_CODE, OPT_METRICS_MAX_SERIES, OPT_METRICS_GRACE, OPT_JSON_SERIES, OPT_INSNS,
	OPT_CSV_INSNS, OPT_MAX_KEYS, OPT_MAX_GUEST_KEYS, OPT_PROM_FILE, OPT_NO_TIME, OPT_SORT,
	OPT_PER_VCPU, OPT_VCPU, OPT_TID, OPT_SLOW, OPT_SLOW_LOG, OPT_COUNTERS, OPT_SINCE_START, OPT_RIP,
	OPT_CSV_RIPS, OPT_GUEST_SYMS, OPT_GUEST_KASLR };

static const char doc[] =
"Profile KVM hypervisor traps per guest: exits, hypercalls, emulated\n"
"instructions, port I/O, MMIO, MSR, CPUID and trips to the VMM, with counts\n"
"and log2 latency histograms.\n"
"\v"
"EXAMPLES:\n"
"  kvmprof                      # all guests: a table a second, then a summary\n"
"  kvmprof -p 1234 -d 10        # one guest for 10 seconds\n"
"  kvmprof -g 'web*' -g db      # guests named web... and db\n"
"  kvmprof -b -d 5 > log.txt    # batch mode: plain tables, like top -b\n"
"  kvmprof -q -d 30 --csv h.csv # 30 s, no live table, histograms to CSV\n"
"  kvmprof --csv-series s.csv   # trap counts per interval, for plotting\n"
"  kvmprof -q -d 60 --csv h.csv --csv-series s.csv; kvmprof report h.csv s.csv -o r.html\n"
"                               # an HTML report of the run (see: kvmprof report --help)\n"
"  kvmprof --insns -p 1234      # which instructions KVM emulates, and where\n"
"  kvmprof --list-probes        # what each event would attach to here\n"
"  kvmprof -- ./start-vms.sh    # trace only the guests the command starts, until it exits\n"
"  kvmprof --attach tracepoint  # classic tracepoints only\n"
"  kvmprof --listen :9464       # Prometheus metrics at http://127.0.0.1:9464/metrics\n"
"  kvmprof -q --prom-file /var/lib/prometheus/node-exporter/kvmprof.prom\n"
"                               # the same metrics for node_exporter's textfile collector\n"
"\n"
"Exit status: 0 done, 1 could not trace or write output, 2 bad command line;\n"
"with -- COMMAND the command's (128 + N when signal N killed it), 127 when it\n"
"cannot be run.";

static const struct argp_option option_list[] = {
	{ "pid", 'p', "PID", 0, "Only this guest (VMM process id); repeatable", 0 },
	{ "guest", 'g', "NAME", 0, "Only guests whose name matches this shell glob; repeatable", 0 },
	{ "batch", 'b', NULL, 0, "Plain tables per interval even on a terminal (no live view)", 0 },
	{ "interval", 'i', "SECONDS", 0, "Refresh interval (default 1)", 0 },
	{ "duration", 'd', "SECONDS", 0, "Stop after this long (default: at Ctrl-C)", 0 },
	{ "csv", 'c', "FILE", 0, "Write the final histograms as CSV", 0 },
	{ "csv-series", OPT_CSV_SERIES, "FILE", 0, "Write per-interval counts as CSV", 0 },
	{ "json", 'j', "FILE", 0, "Write the final summary as JSON", 0 },
	{ "json-series", OPT_JSON_SERIES, "FILE", 0, "Write per-interval counts as JSON lines", 0 },
	{ "insns", OPT_INSNS, NULL, 0, "Emulated instructions in full, with their guest addresses "
	  "(costs a map update per emulated instruction)", 0 },
	{ "csv-insns", OPT_CSV_INSNS, "FILE", 0, "Write emulated instructions (--insns) and failed "
	  "emulations as CSV", 0 },
	{ "events", 'e', "CLASS[,CLASS...]", 0, "Trace these classes only (all, default, or +CLASS "
	  "for the default set and CLASS); see --list-probes", 0 },
	{ "attach", 'a', "MODE", 0, "auto (default), tracepoint, btf, fentry or kprobe", 0 },
	{ "top", 'n', "N", 0, "Codes shown per class (default 5)", 0 },
	{ "quiet", 'q', NULL, 0, "No per-interval tables, only the summary", 0 },
	{ "list-probes", OPT_LIST_PROBES, NULL, 0, "Print each event's attach method and exit", 0 },
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0, "Serve Prometheus metrics at /metrics (loopback "
	  "unless ADDR is given), beside the live view or tables (-q: neither)", 0 },
	{ "metrics-no-vcpu", OPT_METRICS_NO_VCPU, NULL, 0, "Metrics: sum over vCPUs (no vcpu label)", 0 },
	{ "metrics-no-code", OPT_METRICS_NO_CODE, NULL, 0, "Metrics: sum over codes (class only)", 0 },
	{ "metrics-max-series", OPT_METRICS_MAX_SERIES, "N", 0, "Metrics: at most N trap label sets, "
	  "more are folded (default 10000)", 0 },
	{ "metrics-grace", OPT_METRICS_GRACE, "SECONDS", 0, "Metrics: keep an ended guest this long "
	  "(default 300)", 0 },
	{ "max-keys", OPT_MAX_KEYS, "N", 0, "Room for N (guest, thread, class, code) keys in the "
	  "kernel's maps (default 16384)", 0 },
	{ "max-guest-keys", OPT_MAX_GUEST_KEYS, "N", 0, "At most N of them for one guest, so that "
	  "no guest can take the others' room (default a quarter of --max-keys)", 0 },
	{ "prom-file", OPT_PROM_FILE, "FILE", 0, "Write the Prometheus metrics to FILE, whole, every "
	  "interval (for node_exporter's textfile collector: a name ending in .prom)", 0 },
	{ "no-time", OPT_NO_TIME, NULL, 0, "No vCPU time accounting (leaves the context-switch "
	  "program out)", 0 },
	{ "sort", OPT_SORT, "KEY", 0, "Order codes by count (default), total (time), mean or max", 0 },
	{ "per-vcpu", OPT_PER_VCPU, NULL, 0, "The summary's classes and codes per vCPU thread too", 0 },
	{ "vcpu", OPT_VCPU, "N", 0, "Only vCPU N (by the thread's name, as QEMU's \"CPU N/KVM\")", 0 },
	{ "tid", OPT_TID, "TID", 0, "Only this vCPU thread; repeatable", 0 },
	{ "slow", OPT_SLOW, "DURATION", 0, "Log every exit and VMM trip longer than DURATION "
	  "(e.g. 500us, 10ms, 1s) as a JSON line", 0 },
	{ "slow-log", OPT_SLOW_LOG, "FILE", 0, "Where --slow writes (default stderr)", 0 },
	{ "rip", OPT_RIP, NULL, 0, "Exits by guest address (x86 RIP, arm64 PC): which guest code traps", 0 },
	{ "csv-rips", OPT_CSV_RIPS, "FILE", 0, "Write --rip's addresses per guest and exit reason as CSV", 0 },
	{ "guest-syms", OPT_GUEST_SYMS, "GUEST=FILE", 0, "Name --rip's addresses with a guest kernel's "
	  "System.map or a copy of its /proc/kallsyms; GUEST a name glob or pid; repeatable", 0 },
	{ "guest-kaslr", OPT_GUEST_KASLR, "GUEST=OFFSET", 0, "The guest kernel's KASLR offset for its "
	  "System.map (_text in its /proc/kallsyms minus _text in System.map), hex", 0 },
	{ "counters", OPT_COUNTERS, NULL, 0, "KVM's own counters per guest and vCPU, nothing traced "
	  "(no program on any event)", 0 },
	{ "since-start", OPT_SINCE_START, NULL, 0, "--counters: counts since each VM was made, not since "
	  "kvmprof started", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's messages", 0 },
	{ "version", 'V', NULL, 0, "Print the version and exit", -1 },
	{ "help", 'h', NULL, 0, "Show this help", -1 },
	{ "usage", OPT_USAGE, NULL, 0, "Show a short usage message", -1 },
	{},
};

struct parse_state {
	struct options *opts;
	const char *bad_arg;	/* what argp stopped at, for the error line */
	bool helped;
	bool failed;
};

static const char *const attach_names[] = {
	[ATTACH_AUTO] = "auto", [ATTACH_TRACEPOINT] = "tracepoint", [ATTACH_BTF] = "btf",
	[ATTACH_FENTRY] = "fentry", [ATTACH_KPROBE] = "kprobe",
};

const char *attach_mode_name(enum attach_mode mode)
{
	return attach_names[mode];
}

static const char *const order_names[NR_CODE_ORDERS] = {
	[ORDER_COUNT] = "count", [ORDER_TOTAL] = "total", [ORDER_MEAN] = "mean", [ORDER_MAX] = "max",
};

const char *code_order_name(enum code_order k)
{
	return order_names[k];
}

/* One line, the arguments in it escaped as guest names are: an argument
 * holding ESC or a newline cannot move the terminal or break the line. */
static int fail(struct parse_state *ps, const char *fmt, ...)
{
	char msg[1024], shown[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	escape_text(msg, shown, sizeof(shown));
	fprintf(stderr, "kvmprof: %s\n", shown);
	ps->failed = true;
	return EINVAL;
}

/* Plain decimal: digits, one point, an exponent; no blanks, signs, hex,
 * inf or nan, which strtod would take. */
static bool decimal(const char *arg, bool fraction)
{
	const char *p = arg;

	while (isdigit((unsigned char)*p))
		p++;
	if (fraction && *p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (fraction && p > arg && (*p == 'e' || *p == 'E')) {
		p += p[1] == '-' || p[1] == '+' ? 2 : 1;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return p > arg && !*p && (isdigit((unsigned char)arg[0]) || arg[0] == '.');
}

static bool parse_seconds(const char *arg, double *out)
{
	char *end;
	double v;

	if (!decimal(arg, true))
		return false;
	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v <= 0 || v > MAX_SECONDS)
		return false;
	*out = v;
	return true;
}

/* A duration: a plain decimal with a unit, ns, us, ms or s. */
static bool parse_duration_ns(const char *arg, __u64 *out)
{
	static const struct { const char *unit; double ns; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
	};
	char num[64];
	size_t len = strlen(arg), n;

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		size_t ul = strlen(units[i].unit);
		double v;

		if (len <= ul || strcmp(arg + len - ul, units[i].unit) || (n = len - ul) >= sizeof(num))
			continue;
		memcpy(num, arg, n);
		num[n] = '\0';
		if (!isdigit((unsigned char)num[n - 1]) && num[n - 1] != '.')
			continue;	/* "1ms" is not 1m + "s" */
		if (!decimal(num, true))
			return false;
		v = strtod(num, NULL) * units[i].ns;
		if (!isfinite(v) || v < 1 || v > MAX_SECONDS * 1e9)
			return false;
		*out = (__u64)v;
		return true;
	}
	return false;
}

static bool parse_long(const char *arg, long min, long max, long *out)
{
	char *end;
	long v;

	if (!decimal(arg, false))
		return false;
	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Options that only set a flag or name a file. */
#define FLAG(key, field) { key, false, offsetof(struct options, field) }
#define PATH(key, field) { key, true, offsetof(struct options, field) }
static const struct simple_option {
	int key;
	bool is_path;	/* a const char * in struct options, else a bool */
	size_t offset;
} simple_options[] = {
	FLAG('b', batch), PATH('c', csv_path), PATH(OPT_CSV_SERIES, csv_series_path),
	PATH('j', json_path), PATH(OPT_JSON_SERIES, json_series_path), FLAG(OPT_INSNS, insns),
	PATH(OPT_CSV_INSNS, csv_insns_path), FLAG('q', quiet), FLAG('v', verbose),
	FLAG(OPT_LIST_PROBES, list_probes), FLAG(OPT_METRICS_NO_VCPU, metrics_no_vcpu),
	FLAG(OPT_METRICS_NO_CODE, metrics_no_code), PATH(OPT_PROM_FILE, prom_path),
	FLAG(OPT_NO_TIME, no_time), FLAG(OPT_PER_VCPU, per_vcpu), PATH(OPT_SLOW_LOG, slow_log_path),
	FLAG(OPT_COUNTERS, counters), FLAG(OPT_SINCE_START, since_start), FLAG(OPT_RIP, rips),
	PATH(OPT_CSV_RIPS, csv_rips_path),
};

/* True when key is one of simple_options (then it is set). */
static bool set_simple_option(struct options *o, int key, char *arg)
{
	for (size_t i = 0; i < ARRAY_SIZE(simple_options); i++) {
		const struct simple_option *so = &simple_options[i];
		char *field = (char *)o + so->offset;

		if (so->key != key)
			continue;
		if (so->is_path)
			*(const char **)field = arg;
		else
			*(bool *)field = true;
		return true;
	}
	return false;
}

static int parse_attach(struct parse_state *ps, const char *arg)
{
	int i;

	for (i = 0; i <= ATTACH_KPROBE; i++)
		if (!strcmp(arg, attach_names[i]))
			break;
	if (i > ATTACH_KPROBE)
		return fail(ps, "invalid attach mode '%s': expected auto, tracepoint, btf, fentry or kprobe", arg);
	ps->opts->attach = i;
	return 0;
}

/* -e CLASS[,CLASS...]: names, "all", "default", "+NAME" (the default set
 * and NAME).  A bit per class in *mask; one line on a bad one. */
static int parse_classes(struct parse_state *ps, const char *arg, unsigned long *mask)
{
	char copy[256], *save, *tok;

	snprintf(copy, sizeof(copy), "%s", arg);
	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool add = *tok == '+';
		int c = class_from_name(tok + add);

		if (!strcmp(tok, "all")) {
			for (c = 0; c < NR_CLASSES; c++)
				*mask |= class_of_this_arch(c) && !class_table[c].counters ? 1UL << c : 0;
			continue;
		}
		if (!strcmp(tok, "default")) {
			*mask |= classes_default();
			continue;
		}
		if (c < 0)
			return fail(ps, "invalid -e '%s': no class '%s' (see --list-probes, or kvmprof --help)",
				    arg, tok + add);
		if (!class_of_this_arch(c))
			return fail(ps, "invalid -e '%s': class %s is not traced on this architecture", arg,
				    tok + add);
		if (class_table[c].counters)
			return fail(ps, "invalid -e '%s': KVM's counters are --counters, not a class to trace", arg);
		*mask |= 1UL << c | (add ? classes_default() : 0);
	}
	if (!*mask)
		return fail(ps, "invalid -e '%s': no class chosen", arg);
	return 0;
}

/* -p PID and --tid TID, each up to MAX_PID_FILTER times. */
static error_t parse_id(struct parse_state *ps, int key, char *arg)
{
	struct options *o = ps->opts;
	bool pid = key == 'p';
	int *n = pid ? &o->nr_pids : &o->nr_tids;
	long v;

	if (!parse_long(arg, 1, 0x7fffffff, &v))
		return pid ? fail(ps, "invalid pid '%s': expected a process id > 0", arg) :
			     fail(ps, "invalid --tid '%s': expected a thread id > 0", arg);
	if (*n == MAX_PID_FILTER)
		return fail(ps, "too many %s options (at most %d)", pid ? "-p" : "--tid", MAX_PID_FILTER);
	if (pid)
		o->pids[(*n)++] = v;
	else
		o->tids[(*n)++] = v;
	return 0;
}

/* --guest-syms GUEST=FILE and --guest-kaslr GUEST=OFFSET (hex), kept in
 * order for the loader. */
static error_t parse_guest_file(struct parse_state *ps, int key, char *arg)
{
	struct options *o = ps->opts;
	const char *eq = strchr(arg, '=');
	const char **list = key == OPT_GUEST_SYMS ? o->guest_syms : o->guest_kaslr;
	int *n = key == OPT_GUEST_SYMS ? &o->nr_guest_syms : &o->nr_guest_kaslr;
	const char *opt = key == OPT_GUEST_SYMS ? "--guest-syms" : "--guest-kaslr";

	if (!eq || eq == arg || !eq[1])
		return fail(ps, "invalid %s '%s': expected GUEST=%s", opt, arg,
			    key == OPT_GUEST_SYMS ? "FILE" : "OFFSET");
	if (key == OPT_GUEST_KASLR) {
		char *end;

		errno = 0;
		strtoull(eq + 1, &end, 16);
		if (errno || *end || !isxdigit((unsigned char)eq[1]))
			return fail(ps, "invalid --guest-kaslr '%s': the offset is a hex number", arg);
	}
	if (*n == MAX_GUEST_SYMS)
		return fail(ps, "too many %s options (at most %d)", opt, MAX_GUEST_SYMS);
	list[(*n)++] = arg;
	return 0;
}

/* The options whose value is checked: 0, or EINVAL after one line;
 * ARGP_ERR_UNKNOWN for any other key. */
static error_t parse_value_option(struct parse_state *ps, int key, char *arg)
{
	struct options *o = ps->opts;
	char err[160];
	long v;

	switch (key) {
	case 'p':
	case OPT_TID:
		return parse_id(ps, key, arg);
	case 'g':
		if (!*arg)
			return fail(ps, "invalid guest name '': expected a name or a glob such as 'web*'");
		if (o->nr_guest_globs == MAX_GUEST_GLOBS)
			return fail(ps, "too many -g options (at most %d)", MAX_GUEST_GLOBS);
		o->guest_globs[o->nr_guest_globs++] = arg;
		return 0;
	case 'i':	/* the live view's shortest: shorter would busy-loop the reads */
		if (!parse_seconds(arg, &o->interval_s) || o->interval_s < MIN_INTERVAL_S)
			return fail(ps, "invalid interval '%s': expected seconds, at least %g", arg,
				    MIN_INTERVAL_S);
		return 0;
	case 'd':
		if (!parse_seconds(arg, &o->duration_s))
			return fail(ps, "invalid duration '%s': expected seconds > 0, at most a year", arg);
		return 0;
	case 'a':
		return parse_attach(ps, arg);
	case 'e':
		return parse_classes(ps, arg, &o->classes);
	case 'n':
		if (!parse_long(arg, 1, 1000, &v))
			return fail(ps, "invalid --top '%s': expected 1 to 1000", arg);
		o->top = v;
		return 0;
	case OPT_LISTEN:
		if (http_check_addr(arg, err, sizeof(err)))
			return fail(ps, "%s", err);
		o->listen = arg;
		return 0;
	case OPT_METRICS_MAX_SERIES:
		if (!parse_long(arg, 1, 1000000, &o->metrics_max_series))
			return fail(ps, "invalid --metrics-max-series '%s': expected 1 to 1000000", arg);
		return 0;
	case OPT_METRICS_GRACE:
		if (!parse_seconds(arg, &o->metrics_grace_s))
			return fail(ps, "invalid --metrics-grace '%s': expected seconds > 0", arg);
		return 0;
	case OPT_MAX_KEYS:
	case OPT_MAX_GUEST_KEYS: {
		long lo = key == OPT_MAX_KEYS ? 1024 : 1;

		if (!parse_long(arg, lo, MAX_KEYS_LIMIT, &v))
			return fail(ps, "invalid --%s '%s': expected %ld to %d", key == OPT_MAX_KEYS ?
				    "max-keys" : "max-guest-keys", arg, lo, MAX_KEYS_LIMIT);
		*(key == OPT_MAX_KEYS ? &o->max_keys : &o->max_guest_keys) = v;
		return 0;
	}
	case OPT_SORT:
		for (int k = 0; k < NR_CODE_ORDERS; k++)
			if (!strcmp(arg, order_names[k]))
				return o->sort = k, 0;
		return fail(ps, "invalid --sort '%s': expected count, total, mean or max", arg);
	case OPT_VCPU:
		if (!parse_long(arg, 0, 0x7fffffff, &v))
			return fail(ps, "invalid --vcpu '%s': expected a vCPU number >= 0", arg);
		o->vcpu = v;
		return 0;
	case OPT_GUEST_SYMS:
	case OPT_GUEST_KASLR:
		return parse_guest_file(ps, key, arg);
	case OPT_SLOW:
		if (!parse_duration_ns(arg, &o->slow_ns))
			return fail(ps, "invalid --slow '%s': expected a duration with its unit, "
				    "such as 500us, 10ms or 1s", arg);
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

/* Two outputs must not name one file: each against those before it, in
 * this order, with its own message. */
static int check_output_names(struct parse_state *ps)
{
	const struct options *o = ps->opts;
	const char *const paths[] = { o->csv_path, o->csv_series_path, o->json_path,
				      o->json_series_path, o->csv_insns_path, o->prom_path,
				      o->slow_log_path, o->csv_rips_path };
	static const char *const clash[] = {
		NULL, "--csv and --csv-series name the same file '%s'",
		"--json and a CSV option name the same file '%s'",
		"--json-series and another output name the same file '%s'",
		"--csv-insns and another output option name the same file '%s'",
		"--prom-file and another output option name the same file '%s'",
		"--slow-log and another output option name the same file '%s'",
		"--csv-rips and another output option name the same file '%s'",
	};

	for (size_t j = 1; j < ARRAY_SIZE(paths); j++)
		for (size_t i = 0; paths[j] && i < j; i++)
			if (paths[i] && !strcmp(paths[i], paths[j]))
				return fail(ps, clash[j], paths[j]);
	return 0;
}

/* What only the whole command line shows. */
static int check_options(struct parse_state *ps)
{
	const struct options *o = ps->opts;
	int err = check_output_names(ps);

	if (err)
		return err;
	if (o->max_guest_keys > o->max_keys)
		return fail(ps, "--max-guest-keys %ld is more than --max-keys %ld", o->max_guest_keys,
			    o->max_keys);
	if (o->list_probes && (o->csv_path || o->csv_series_path || o->json_path ||
			       o->json_series_path || o->csv_insns_path || o->prom_path ||
			       o->slow_log_path || o->csv_rips_path))
		return fail(ps, "--list-probes writes no files: drop --csv/--csv-series/--json/"
			    "--json-series/--csv-insns/--prom-file/--slow-log");
	if (o->slow_log_path && !o->slow_ns)
		return fail(ps, "--slow-log needs --slow DURATION");
	if ((o->csv_rips_path || o->nr_guest_syms) && !o->rips)
		return fail(ps, "--csv-rips and --guest-syms need --rip");
	if (o->nr_guest_kaslr && !o->nr_guest_syms)
		return fail(ps, "--guest-kaslr needs --guest-syms GUEST=FILE");
	if (o->since_start && !o->counters)
		return fail(ps, "--since-start needs --counters");
	if (o->counters && (o->classes || o->slow_ns || o->insns || o->nr_tids || o->vcpu >= 0 ||
			    o->attach != ATTACH_AUTO || o->rips))
		return fail(ps, "--counters traces nothing: drop -e, --slow, --insns, --rip, --tid, --vcpu and "
			    "--attach");
	if (o->command && o->nr_pids)
		return fail(ps, "-p and -- COMMAND: the command's process tree chooses the guests");
	if (o->command && o->list_probes)
		return fail(ps, "--list-probes runs no command: drop -- COMMAND");
	if (!o->listen && !o->prom_path && (o->metrics_no_vcpu || o->metrics_no_code ||
			   o->metrics_max_series != METRICS_DEFAULT_MAX_SERIES ||
			   o->metrics_grace_s != METRICS_DEFAULT_GRACE_S))
		return fail(ps, "--metrics-* options need --listen ADDR:PORT or --prom-file FILE");
	return 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct parse_state *ps = state->input;

	if (set_simple_option(ps->opts, key, arg))
		return 0;
	switch (key) {
	case 'h':
	case OPT_USAGE:
		argp_help(state->root_argp, stdout, key == 'h' ? ARGP_HELP_STD_HELP : ARGP_HELP_USAGE,
			  state->name);
		ps->helped = true;
		return 0;
	case 'V':
		printf("kvmprof %s\n", kvmprof_version);
		ps->helped = true;
		return 0;
	case ARGP_KEY_ARG:
		return fail(ps, "unexpected argument '%s' (see --help)", arg);
	case ARGP_KEY_ERROR:
		if (state->next > 0 && state->next <= state->argc)
			ps->bad_arg = state->argv[state->next - 1];
		return 0;
	case ARGP_KEY_END:
		return check_options(ps);
	}
	return parse_value_option(ps, key, arg);
}

int parse_options(int argc, char **argv, struct options *opts)
{
	static const struct argp argp = { option_list, parse_opt, "[-- COMMAND [ARGS...]]", doc, NULL,
					  NULL, NULL };
	struct parse_state ps = { .opts = opts };
	char **command = NULL;
	int err;

	/* -- COMMAND: what follows is the command's, never kvmprof's */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			command = argv + i + 1;
			argc = i;
			break;
		}
	if (command && !*command) {
		fprintf(stderr, "kvmprof: -- must be followed by a command to run\n");
		return EXIT_USAGE;
	}

	*opts = (struct options){ .interval_s = 1.0, .top = 5, .attach = ATTACH_AUTO,
				   .max_keys = MAX_TRAP_KEYS, .vcpu = -1,
				   .metrics_max_series = METRICS_DEFAULT_MAX_SERIES,
				   .metrics_grace_s = METRICS_DEFAULT_GRACE_S, .command = command };
	/* Our own one-line errors; argp would print two lines and exit 64. */
	err = argp_parse(&argp, argc, argv, ARGP_NO_EXIT | ARGP_NO_ERRS | ARGP_NO_HELP,
			 NULL, &ps);
	if (ps.failed)
		return EXIT_USAGE;
	if (!opts->max_guest_keys)
		opts->max_guest_keys = opts->max_keys / 4;
	if (err) {
		fprintf(stderr, "kvmprof: unrecognized option or missing value: '%s' (see --help)\n",
			ps.bad_arg ? ps.bad_arg : "?");
		return EXIT_USAGE;
	}
	return ps.helped ? -1 : 0;
}

/* ---- the offline commands: report, diff ---- */

/* What both commands parse alike: the inputs, -o, -n, help. */
struct sub_state {
	const char *name;	/* "report", "diff" */
	void *opts;
	const char **inputs;	/* the positional arguments go here */
	int *nr_inputs, max_inputs;
	const char *inputs_are;	/* what to give, for the error lines */
	const char **out_path;
	int *top;
	const char *bad_arg;
	bool helped, failed;
};

/* One line "kvmprof: NAME: ...", as fail() writes it. */
static int sub_fail(struct sub_state *ss, const char *fmt, ...)
{
	struct parse_state ps = {};
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ss->failed = true;
	return fail(&ps, "%s: %s", ss->name, msg);
}

/* At the end: inputs given, and -o neither empty nor one of them. */
static error_t sub_check_inputs(struct sub_state *ss)
{
	const char *out = *ss->out_path;

	if (!*ss->nr_inputs)
		return sub_fail(ss, "no input: give %s (see kvmprof %s --help)", ss->inputs_are, ss->name);
	if (out && !*out)
		return sub_fail(ss, "-o: empty file name");
	for (int i = 0; out && i < *ss->nr_inputs; i++)
		if (!strcmp(out, ss->inputs[i]))
			return sub_fail(ss, "-o %s would overwrite an input", out);
	return 0;
}

/* The keys both commands have; ARGP_ERR_UNKNOWN for the others. */
static error_t sub_common_key(struct sub_state *ss, int key, char *arg, struct argp_state *state)
{
	char name[32];
	long v;

	snprintf(name, sizeof(name), "kvmprof %s", ss->name);
	switch (key) {
	case 'o':
		*ss->out_path = arg;
		return 0;
	case 'n':
		if (!parse_long(arg, 1, 10000, &v))
			return sub_fail(ss, "invalid --top '%s': expected 1 to 10000", arg);
		*ss->top = v;
		return 0;
	case ARGP_KEY_ARG:
		if (*ss->nr_inputs == ss->max_inputs)
			return sub_fail(ss, "unexpected argument '%s': give %s", arg, ss->inputs_are);
		ss->inputs[(*ss->nr_inputs)++] = arg;
		return 0;
	case ARGP_KEY_END:
		return ss->helped ? 0 : sub_check_inputs(ss);
	case 'h':
	case OPT_USAGE:
		argp_help(state->root_argp, stdout, key == 'h' ? ARGP_HELP_STD_HELP : ARGP_HELP_USAGE, name);
		ss->helped = true;
		return 0;
	case ARGP_KEY_ERROR:
		if (state->next > 0 && state->next <= state->argc)
			ss->bad_arg = state->argv[state->next - 1];
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static error_t parse_sub_opt(int key, char *arg, struct argp_state *state)
{
	return sub_common_key(state->input, key, arg, state);
}

static int parse_sub(const struct argp *argp, int argc, char **argv, struct sub_state *ss)
{
	int err = argp_parse(argp, argc, argv, ARGP_NO_EXIT | ARGP_NO_ERRS | ARGP_NO_HELP, NULL, ss);

	if (ss->failed)
		return EXIT_USAGE;
	if (err) {
		fprintf(stderr, "kvmprof: %s: unrecognized option or missing value: '%s' (see "
			"kvmprof %s --help)\n", ss->name, ss->bad_arg ? ss->bad_arg : "?", ss->name);
		return EXIT_USAGE;
	}
	return ss->helped ? -1 : 0;
}

static const char report_doc[] =
"Write an HTML report of a finished run: per guest the trap mix over time,\n"
"latency histograms per class and the top codes.  CSV is the file kvmprof\n"
"wrote with --csv; SERIES is its --csv-series file (either order; without it\n"
"the file named like CSV with -series.csv in place of .csv is used if there).\n"
"Several runs (CSV [SERIES] CSV [SERIES]..., each series after its CSV, up\n"
"to 8 runs) are shown side by side: their guests, rates, shares, trap mix.\n"
"\v"
"EXAMPLE:\n"
"  kvmprof -q -d 60 --csv run.csv --csv-series run-series.csv\n"
"  kvmprof report run.csv -o run.html\n"
"  kvmprof report before.csv after.csv -o both.html\n"
"\n"
"Exit status: 0 written, 1 an input could not be read or is malformed, or the\n"
"report could not be written, 2 bad command line.";

static const struct argp_option report_option_list[] = {
	{ "output", 'o', "FILE", 0, "Write the report here (default: CSV with .html)", 0 },
	{ "top", 'n', "N", 0, "Codes listed per guest (default 15)", 0 },
	{ "help", 'h', NULL, 0, "Show this help", -1 },
	{ "usage", OPT_USAGE, NULL, 0, "Show a short usage message", -1 },
	{},
};

int parse_report_options(int argc, char **argv, struct report_options *opts)
{
	static const struct argp argp = { report_option_list, parse_sub_opt,
					  "CSV [SERIES] [CSV [SERIES]...]", report_doc, NULL, NULL, NULL };
	struct sub_state ss = { .name = "report", .opts = opts, .inputs = opts->inputs,
				.nr_inputs = &opts->nr_inputs, .max_inputs = MAX_REPORT_INPUTS,
				.inputs_are = "the --csv file of a run (at most 8 runs, each a CSV and "
					      "at most one SERIES file)",
				.out_path = &opts->out_path, .top = &opts->top };

	*opts = (struct report_options){ .top = 15 };
	return parse_sub(&argp, argc, argv, &ss);
}

enum { OPT_MAP = 2000, OPT_FAIL_ABOVE, OPT_FAIL_ON };

static const char diff_doc[] =
"Compare two finished runs: per guest (matched by name), class, code and\n"
"detail, the counts, rates, latency p50/p99 and shares of run A and run B,\n"
"with their ratio and difference, biggest changes first.  A and B are the\n"
"runs' --csv files, each optionally followed by its --csv-series file (else\n"
"the one beside it, named with -series.csv for .csv, if there); without a\n"
"series on both sides there are counts only.  A text table on stdout; -o\n"
"writes it as an HTML page too.  docs/diff.md has the details.\n"
"\v"
"EXAMPLES:\n"
"  kvmprof diff before.csv after.csv\n"
"  kvmprof diff before.csv after.csv -o diff.html --map web=web-2\n"
"  kvmprof diff before.csv after.csv --fail-above 20             # CI: counts\n"
"  kvmprof diff before.csv after.csv --fail-above 50 --fail-on p99\n"
"\n"
"Exit status: 0 done, 1 an input could not be read or is malformed, or the\n"
"page could not be written, 2 bad command line, 3 a figure changed by more\n"
"than --fail-above.";

static const struct argp_option diff_option_list[] = {
	{ "output", 'o', "FILE", 0, "Write the comparison as an HTML page too", 0 },
	{ "map", OPT_MAP, "A=B", 0, "Guest A of the first run is guest B of the second; repeatable", 0 },
	{ "fail-above", OPT_FAIL_ABOVE, "PERCENT", 0, "Exit 3 when a code's figure changed by more "
	  "than PERCENT (up or down)", 0 },
	{ "fail-on", OPT_FAIL_ON, "FIGURE", 0, "The figure --fail-above checks: count (default), "
	  "rate, p50 or p99", 0 },
	{ "top", 'n', "N", 0, "Codes listed per class, biggest changes first (default 20)", 0 },
	{ "help", 'h', NULL, 0, "Show this help", -1 },
	{ "usage", OPT_USAGE, NULL, 0, "Show a short usage message", -1 },
	{},
};

static const char *const figure_names[NR_FIGURES] = {
	[FIGURE_COUNT] = "count", [FIGURE_RATE] = "rate", [FIGURE_P50] = "p50", [FIGURE_P99] = "p99",
};

const char *diff_figure_name(enum diff_figure f)
{
	return f < NR_FIGURES ? figure_names[f] : NULL;
}

static int figure_of(const char *name)
{
	int f = 0;

	while (f < NR_FIGURES && strcmp(name, figure_names[f]))
		f++;
	return f < NR_FIGURES ? f : -1;
}

static error_t parse_diff_opt(int key, char *arg, struct argp_state *state)
{
	struct sub_state *ss = state->input;
	struct diff_options *o = ss->opts;
	char *end;
	int f;

	switch (key) {
	case OPT_MAP:
		if (!strchr(arg, '=') || arg[0] == '=' || arg[strlen(arg) - 1] == '=')
			return sub_fail(ss, "invalid --map '%s': expected A=B, two guest names", arg);
		if (o->nr_maps == MAX_DIFF_MAPS)
			return sub_fail(ss, "too many --map options (at most %d)", MAX_DIFF_MAPS);
		o->maps[o->nr_maps++] = arg;
		return 0;
	case OPT_FAIL_ABOVE:
		errno = 0;
		if (!decimal(arg, true) || (o->fail_above = strtod(arg, &end), errno || *end) ||
		    !isfinite(o->fail_above) || o->fail_above > 1e9)
			return sub_fail(ss, "invalid --fail-above '%s': expected a percentage, 0 to 1e9",
					arg);
		return 0;
	case OPT_FAIL_ON:
		if ((f = figure_of(arg)) < 0)
			return sub_fail(ss, "invalid --fail-on '%s': expected count, rate, p50 or p99", arg);
		o->fail_on = f;
		return 0;
	case ARGP_KEY_END:
		if (!ss->helped && o->fail_on != NR_FIGURES && o->fail_above < 0)
			return sub_fail(ss, "--fail-on needs --fail-above PERCENT");
		if (o->fail_on == NR_FIGURES)
			o->fail_on = FIGURE_COUNT;
		if (!ss->helped && o->nr_inputs == 1)
			return sub_fail(ss, "one input: give %s", ss->inputs_are);
		break;
	}
	return sub_common_key(ss, key, arg, state);
}

int parse_diff_options(int argc, char **argv, struct diff_options *opts)
{
	static const struct argp argp = { diff_option_list, parse_diff_opt,
					  "A.csv [A-SERIES] B.csv [B-SERIES]", diff_doc, NULL, NULL, NULL };
	struct sub_state ss = { .name = "diff", .opts = opts, .inputs = opts->inputs,
				.nr_inputs = &opts->nr_inputs, .max_inputs = MAX_DIFF_INPUTS,
				.inputs_are = "two runs' --csv files, A.csv [A-SERIES] B.csv [B-SERIES]",
				.out_path = &opts->out_path, .top = &opts->top };

	/* fail_on NR_FIGURES: not given (then count, if --fail-above is) */
	*opts = (struct diff_options){ .fail_above = -1, .fail_on = NR_FIGURES, .top = 20 };
	return parse_sub(&argp, argc, argv, &ss);
}
