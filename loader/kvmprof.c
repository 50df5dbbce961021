// SPDX-License-Identifier: GPL-2.0
/* kvmprof: why do guests trap into the hypervisor?  Loads the BPF programs,
 * reads their maps every interval, prints tables and a final summary. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kvmprof.skel.h"
#include "present/csv_out.h"
#include "present/json_out.h"
#include "model/guest_filter.h"
#include "collect/procfs.h"
#include "offline/html_report.h"
#include "present/http.h"
#include "model/insns.h"
#include "present/metrics.h"
#include "cli/options.h"
#include "util/outfile.h"
#include "collect/probes.h"
#include "collect/record_btf.h"
#include "present/text.h"
#include "model/stats.h"
#include "present/tui.h"

/* How to get KVM's tracepoints: a module on x86, built in on arm64, where
 * it only starts when the kernel was booted at EL2. */
#ifdef __aarch64__
#define KVM_LOAD_HINT "(arm64: KVM needs the kernel booted at EL2; dmesg says \"Hyp mode initialized\" when it is)"
#else
#define KVM_LOAD_HINT "(modprobe kvm_intel or kvm_amd)"
#endif

static volatile sig_atomic_t exiting, rotate;
/* --listen: the /metrics server, polled while waiting between reads */
static struct http_server *http;
static struct metrics metrics;

static void on_signal(int sig)
{
	exiting = sig;
}

/* SIGHUP with --csv-series or --json-series: start a new part of the
 * series (see README) */
static void on_hangup(int sig)
{
	rotate = 1;
}

static bool verbose;
/* The program libbpf last warned about ("prog 'NAME': ..."), for the load
 * failure's one line. */
static char refused_prog[64];

/* libbpf's warnings always (a failed load says why), its info and debug
 * output with -v, as libbpf-tools do. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char msg[512];
	const char *p;

	if (level != LIBBPF_WARN && !verbose)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, args);
	if (level == LIBBPF_WARN && (p = strstr(msg, "prog '")) && sscanf(p, "prog '%63[^']'", refused_prog) != 1)
		refused_prog[0] = '\0';
	return fputs(msg, stderr);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int on_new_thread(void *ctx, void *data, size_t size)
{
	const struct new_thread *nt = data;

	char comm[17] = {}, leader[17] = {};

	if (size < sizeof(*nt))
		return 0;
	memcpy(comm, nt->comm, 16);
	memcpy(leader, nt->leader_comm, 16);
	stats_note_thread(ctx, nt->tgid, nt->tid, comm, leader);
	return 0;
}

/* Waits until the monotonic time t or a signal, learning new guests and
 * threads as they appear.  With the live view it also takes keys, and
 * returns early on one that quits, pauses or changes the interval. */
static void wait_until(struct ring_buffer *rb, struct tui *tui, struct stats *s, double start,
		       double t)
{
	double left;

	while (!exiting && !rotate && !(tui && tui_quit(tui)) && (left = t - now_s()) > 0) {
		struct pollfd fds[2] = {
			{ .fd = ring_buffer__epoll_fd(rb), .events = POLLIN },
			{ .fd = tui ? tui_input_fd(tui) : -1, .events = POLLIN },
		};
		double interval;
		bool paused;
		int n;

		if (http) {
			if (http_wait(http, ring_buffer__epoll_fd(rb), left) < 0)
				break;
			ring_buffer__consume(rb);
			continue;
		}
		if (!tui) {
			if (ring_buffer__poll(rb, (int)(left * 1000) + 1) == -EINTR)
				break;
			continue;
		}
		n = poll(fds, 2, (int)(left * 1000) + 1);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && fds[0].revents)
			ring_buffer__consume(rb);
		if (n > 0 && fds[1].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			exiting = SIGHUP;	/* the terminal is gone: keys never come */
			break;
		}
		if (n > 0 && !fds[1].revents)
			continue;
		/* keys, or a signal such as SIGWINCH: the view reads what came */
		interval = tui_interval(tui);
		paused = tui_paused(tui);
		tui_handle_input(tui, s, now_s() - start);
		if (tui_quit(tui) || interval != tui_interval(tui) || paused != tui_paused(tui))
			break;
	}
}

/* Does pid hold a KVM VM open?  That is what makes a process a guest. */
static bool is_vmm(pid_t pid)
{
	char path[64], link[64];
	struct dirent *d;
	bool found = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (d = readdir(dir))) {
		char fd_path[320];
		ssize_t n;

		snprintf(fd_path, sizeof(fd_path), "%s/%s", path, d->d_name);
		n = readlink(fd_path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found = !strcmp(link, "anon_inode:kvm-vm");
		}
	}
	closedir(dir);
	return found;
}

static int check_environment(const struct options *opts)
{
	char path[128];

	if (geteuid() != 0) {
		fprintf(stderr, "kvmprof: must run as root (loading BPF programs needs CAP_BPF and "
			"CAP_PERFMON): try sudo kvmprof\n");
		return -1;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, "kvmprof: this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): "
			"a kernel built with CONFIG_DEBUG_INFO_BTF=y is needed\n");
		return -1;
	}
	if (!tracefs_events())
		return -1;
	snprintf(path, sizeof(path), "%s/kvm", tracefs_events());
	if (access(path, R_OK)) {
		fprintf(stderr, "kvmprof: no KVM tracepoints in this kernel: load KVM first "
			KVM_LOAD_HINT "\n");
		return -1;
	}
	for (int i = 0; i < opts->nr_pids; i++) {
		if (!process_alive(opts->pids[i])) {
			fprintf(stderr, "kvmprof: -p %d: no such process\n", opts->pids[i]);
			return -1;
		}
		if (!is_vmm(opts->pids[i])) {
			fprintf(stderr, "kvmprof: -p %d: not a KVM guest (it has no VM open)\n",
				opts->pids[i]);
			return -1;
		}
	}
	if ((opts->csv_path && check_output_path(opts->csv_path, "--csv")) ||
	    (opts->csv_series_path && check_output_path(opts->csv_series_path, "--csv-series")) ||
	    (opts->json_path && check_output_path(opts->json_path, "--json")) ||
	    (opts->json_series_path && check_output_path(opts->json_series_path, "--json-series")) ||
	    (opts->csv_insns_path && check_output_path(opts->csv_insns_path, "--csv-insns")))
		return -1;
	return 0;
}

/* Is any KVM event traced?  An empty events/kvm folder (KVM's tracepoints
 * gone) would otherwise give a run that counts nothing and says nothing. */
static bool traces_kvm(const struct probe_plan *plan)
{
	for (int ev = 0; ev < NR_EVENTS; ev++)
		if (ev != EV_SYS_ENTER_IOCTL && plan->method[ev] != METHOD_NONE)
			return true;
	return false;
}

/* The skeleton's link slot of prog: links stored there are destroyed with
 * the skeleton. */
static struct bpf_link **skeleton_link(void *ctx, const struct bpf_program *prog)
{
	struct bpf_object_skeleton *s = ((struct kvmprof_bpf *)ctx)->skeleton;

	for (int i = 0; i < s->prog_cnt; i++)
		if (*s->progs[i].prog == prog)
			return s->progs[i].link;
	return NULL;
}

/* The load's one line: which program the kernel refused, for which event. */
static void load_failed(const struct probe_plan *plan, const struct options *opts, int err)
{
	char what[160];
	const char *event = *refused_prog ? plan_program_event(plan, refused_prog, what, sizeof(what)) : NULL;

	fprintf(stderr, "kvmprof: %s%s%sthe kernel refused BPF program %s%s%s%s: %s (the verifier's "
		"reason is above%s)\n", opts->attach == ATTACH_AUTO ? "" : "--attach ",
		opts->attach == ATTACH_AUTO ? "" : attach_mode_name(opts->attach),
		opts->attach == ATTACH_AUTO ? "" : ": ", *refused_prog ? refused_prog : "(unknown)",
		event ? " (" : "", event ? event : "", event ? ")" : "", strerror(-err),
		opts->verbose ? "" : "; -v shows libbpf's whole log");
}

/* What the tables, summary and files show: every guest, or with -g a copy
 * holding the guests whose names match. */
static struct stats *reported(struct stats *all, struct stats *chosen, const struct options *opts)
{
	if (!opts->nr_guest_globs)
		return all;
	stats_free(chosen);
	if (stats_select(chosen, all, opts->guest_globs, opts->nr_guest_globs))
		fprintf(stderr, "kvmprof: out of memory choosing the -g guests\n");
	return chosen;
}

struct metrics_ctx {
	struct stats *all, *chosen;
	const struct options *opts;
};

/* A scrape: the counts of the last read, as the tables would show them. */
static int render_metrics(void *ctx, char **body, size_t *len)
{
	struct metrics_ctx *mc = ctx;

	return metrics_render(&metrics, reported(mc->all, mc->chosen, mc->opts), now_s(), body, len);
}

/* SIGHUP: the series rows so far become FILE, renamed into place whole
 * (replacing FILE: a rotation moves the previous part away first), and the
 * next rows go to a new part with its own header, which becomes FILE at the
 * next SIGHUP or at the end. */
static int rotate_series(struct outfile *series, const char *path, bool csv)
{
	int err = series->f ? outfile_commit(series) : 0;

	if (outfile_open(series, path))
		return -1;
	if (csv)
		csv_write_series_header(series->f);
	return err;
}

static int write_outputs(const struct options *opts, struct stats *s, double elapsed)
{
	struct outfile o;
	int ret = 0;

	if (opts->csv_path) {
		if (outfile_open(&o, opts->csv_path))
			ret = -1;
		else {
			csv_write_histograms(o.f, s);
			ret |= outfile_commit(&o);
		}
	}
	if (opts->json_path) {
		if (outfile_open(&o, opts->json_path))
			ret = -1;
		else {
			json_write_summary(o.f, s, elapsed);
			ret |= outfile_commit(&o);
		}
	}
	if (opts->csv_insns_path) {
		if (outfile_open(&o, opts->csv_insns_path))
			ret = -1;
		else {
			csv_write_insns(o.f, s);
			ret |= outfile_commit(&o);
		}
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct options opts;
	struct probe_plan plan;
	struct kvmprof_bpf *skel = NULL;
	struct outfile series = {}, jseries = {};	/* --csv-series, --json-series */
	struct stats stats, chosen = {};
	struct insn_table insns = {};
	struct ring_buffer *rb = NULL;
	struct tui *tui = NULL;
	struct metrics_ctx mctx = { &stats, &chosen, &opts };
	int counts_fd, hot_fd, latency_fd, drops_fd, insns_fd, failed_fd, err, rc = EXIT_OK;
	double start, next, end, last, interval;
	bool want_tui, series_failed = false;
	__u8 one = 1;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	char record_btf_path[64];
	int record_btf_fd = -1;

	if (argc > 1 && !strcmp(argv[1], "report"))	/* a finished run's files as HTML */
		return report_command(argc - 1, argv + 1);
	err = parse_options(argc, argv, &opts);
	if (err)
		return err < 0 ? EXIT_OK : err;
	verbose = opts.verbose;
	libbpf_set_print(libbpf_print);

	if (check_environment(&opts))
		return EXIT_RUNTIME;
	if (plan_probes(opts.attach, &plan))
		return EXIT_RUNTIME;
	if (opts.list_probes) {
		print_plan(stdout, &plan);
		return EXIT_OK;
	}
	if (!traces_kvm(&plan)) {
		fprintf(stderr, "kvmprof: no KVM tracepoints in this kernel: load KVM first "
			KVM_LOAD_HINT "\n");
		return EXIT_RUNTIME;
	}
	if (opts.listen) {	/* bound first: a taken port fails before any BPF work */
		metrics_init(&metrics, opts.metrics_no_vcpu, opts.metrics_no_code,
			     opts.metrics_max_series, opts.metrics_grace_s);
		http = http_listen(opts.listen, render_metrics, &mctx);
		if (!http)
			return EXIT_RUNTIME;
	}

	if (record_btf_build(&plan, tracefs_events(), record_btf_path, sizeof(record_btf_path),
			     &record_btf_fd))
		goto fail;
	open_opts.btf_custom_path = record_btf_fd >= 0 ? record_btf_path : NULL;
	skel = kvmprof_bpf__open_opts(&open_opts);
	if (!skel) {
		fprintf(stderr, "kvmprof: cannot open the BPF object: %s\n", strerror(errno));
		goto fail;
	}
	skel->rodata->filter_pids = opts.nr_pids > 0;
	skel->rodata->emul_insns = opts.insns;
	if (!opts.insns)	/* never written: no memory for it */
		bpf_map__set_max_entries(skel->maps.insn_counts, 1);
	if (apply_plan(skel->obj, &plan))
		goto fail;
	bpf_program__set_autoload(skel->progs.flush_hot, true);	/* run, never attached */
	err = kvmprof_bpf__load(skel);
	if (err) {
		load_failed(&plan, &opts, err);
		goto fail;
	}
	if (record_btf_fd >= 0) {
		close(record_btf_fd);
		record_btf_fd = -1;
	}
	for (int i = 0; i < opts.nr_pids; i++) {
		__u32 pid = opts.pids[i];

		err = bpf_map__update_elem(skel->maps.pid_filter, &pid, sizeof(pid), &one, sizeof(one), 0);
		if (err) {	/* else -p would trace nothing, silently */
			fprintf(stderr, "kvmprof: cannot set the -p %u filter: %s\n", pid, strerror(-err));
			goto fail;
		}
	}
	if (attach_plan(skel->obj, &plan, opts.attach, skeleton_link, skel))
		goto fail;
	print_plan_line(stderr, &plan);
	if (http)
		fprintf(stderr, "kvmprof: serving metrics at http://%s/metrics\n", http_address(http));

	counts_fd = bpf_map__fd(skel->maps.trap_counts);
	hot_fd = bpf_map__fd(skel->maps.hot_counts);
	latency_fd = bpf_map__fd(skel->maps.trap_latency);
	drops_fd = bpf_map__fd(skel->maps.drops);
	insns_fd = opts.insns ? bpf_map__fd(skel->maps.insn_counts) : -1;
	failed_fd = bpf_map__fd(skel->maps.failed_insns);
	if (stats_init(&stats, libbpf_num_possible_cpus()) ||
	    insns_init(&insns, libbpf_num_possible_cpus())) {
		fprintf(stderr, "kvmprof: out of memory\n");
		goto fail;
	}
	stats.insns = &insns;
	stats.exit_starts_fd = bpf_map__fd(skel->maps.exit_starts);
	stats.vmm_starts_fd = bpf_map__fd(skel->maps.vmm_starts);
	stats.flush_fd = bpf_program__fd(skel->progs.flush_hot);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.new_threads), on_new_thread, &stats, NULL);
	if (!rb) {
		fprintf(stderr, "kvmprof: cannot set up the ring buffer: %s\n", strerror(errno));
		goto fail;
	}
	if (opts.csv_series_path) {
		if (outfile_open(&series, opts.csv_series_path))
			goto fail;
		csv_write_series_header(series.f);
	}
	if (opts.json_series_path && outfile_open(&jseries, opts.json_series_path))
		goto fail;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, on_signal);
	want_tui = !opts.quiet && !opts.batch && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	/* SIGHUP rotates the series as kvm_stat's log mode reopens its log; in
	 * the live view it is the terminal hanging up: stop as at SIGTERM (so
	 * files are written), unless it was ignored from the start (nohup) */
	if ((series.f || jseries.f) && !want_tui)
		signal(SIGHUP, on_hangup);
	else if (signal(SIGHUP, on_signal) == SIG_IGN)
		signal(SIGHUP, SIG_IGN);
	if (opts.duration_s)
		fprintf(stderr, "kvmprof: tracing KVM traps for %g s; Ctrl-C to stop sooner.\n",
			opts.duration_s);
	else
		fprintf(stderr, "kvmprof: tracing KVM traps; Ctrl-C to stop.\n");
	/* the live view on a terminal (after our signal handlers, which ncurses
	 * then leaves alone); plain tables otherwise */
	if (want_tui)
		tui = tui_start(&opts, &plan, opts.interval_s);
	start = last = now_s();
	end = opts.duration_s ? start + opts.duration_s : 0;
	interval = opts.interval_s;
	for (next = start + interval; !exiting && !(tui && tui_quit(tui));) {
		double t;

		if (end && next > end)
			next = end;
		wait_until(rb, tui, &stats, start, next);
		t = now_s();
		if ((exiting || (tui && tui_quit(tui))) && t < next)
			break;	/* a signal or q: the final read below does this interval */
		if (tui && t < next) {	/* + or - changed the interval, or p */
			interval = tui_interval(tui);
			next = last + interval;
			continue;
		}
		if (tui && tui_paused(tui)) {	/* the maps wait; the next read covers the pause */
			tui_draw(tui, &stats, t - start);
			if (end && t >= end)
				break;
			next = t + interval;
			continue;
		}
		/* new guests' records first, also when reads leave no time to
		 * wait: their names come while their processes exist */
		ring_buffer__consume(rb);
		err = stats_read(&stats, counts_fd, hot_fd, latency_fd, drops_fd);
		if (!err)
			err = insns_read(&insns, insns_fd, failed_fd);
		if (err)
			fprintf(stderr, "kvmprof: reading the maps failed: %s\n", strerror(-err));
		if (tui)
			tui_update(tui, &stats, t - last, t - start);
		else if (!opts.quiet)
			report_interval(stdout, reported(&stats, &chosen, &opts), t - last, t - start);
		if (series.f)
			csv_write_series(series.f, reported(&stats, &chosen, &opts), t - start, t - last);
		if (jseries.f)
			json_write_series(jseries.f, reported(&stats, &chosen, &opts), t - start, t - last);
		if (rotate) {	/* after this read: the part ends at the signal */
			rotate = 0;
			if (opts.csv_series_path && rotate_series(&series, opts.csv_series_path, true))
				series_failed = true;
			if (opts.json_series_path && rotate_series(&jseries, opts.json_series_path, false))
				series_failed = true;
		}
		insns_reclaim(&insns, insns_fd, failed_fd, &stats);
		stats_reclaim(&stats, counts_fd, latency_fd);
		last = t;
		if (end && t >= end)
			break;
		if (t >= next)	/* not a read cut short by SIGHUP */
			next += interval;
		if (next <= t)	/* after a pause or a slow read */
			next = t + interval;
	}
	tui_stop(tui);	/* the summary goes to the normal screen */

	/* the final read: events up to now, including a cut-short interval;
	 * detached first, so no count is moving between cache and hash */
	{
		double t;
		struct stats *shown;

		kvmprof_bpf__detach(skel);
		ring_buffer__consume(rb);
		err = stats_read(&stats, counts_fd, hot_fd, latency_fd, drops_fd);
		if (!err)
			err = insns_read(&insns, insns_fd, failed_fd);
		if (err)
			fprintf(stderr, "kvmprof: reading the maps failed: %s\n", strerror(-err));
		/* the interval ends after the read, so it is never empty; events
		 * in even a short last interval go to the series (they are in the
		 * totals) */
		t = now_s();
		shown = reported(&stats, &chosen, &opts);
		if (series.f)
			csv_write_series(series.f, shown, t - start, t - last);
		if (jseries.f)
			json_write_series(jseries.f, shown, t - start, t - last);
		signal(SIGPIPE, SIG_IGN);
		report_summary(stdout, shown, t - start, opts.top);
		if (write_outputs(&opts, shown, t - start))
			rc = EXIT_RUNTIME;
		if (series.f && outfile_commit(&series))
			series_failed = true;
		if (jseries.f && outfile_commit(&jseries))
			series_failed = true;
		if (series_failed)
			rc = EXIT_RUNTIME;
	}
	ring_buffer__free(rb);
	http_close(http);
	metrics_free(&metrics);
	stats_free(&chosen);
	stats_free(&stats);
	insns_free(&insns);
	kvmprof_bpf__destroy(skel);
	return rc;
fail:
	if (record_btf_fd >= 0)
		close(record_btf_fd);
	insns_free(&insns);
	http_close(http);
	metrics_free(&metrics);
	ring_buffer__free(rb);
	outfile_abort(&series);
	outfile_abort(&jseries);
	kvmprof_bpf__destroy(skel);
	return EXIT_RUNTIME;
}
