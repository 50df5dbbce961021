// SPDX-License-Identifier: GPL-2.0
/* kvmprof: why do guests trap into the hypervisor?  The commands, and the
 * run: a session (collect/session.c) read every interval into the views
 * (live view, batch tables, /metrics) and the outputs (present/outputs.c).
 * docs/ARCHITECTURE.md has the data flow. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/options.h"
#include "collect/command.h"
#include "collect/privileges.h"
#include "collect/session.h"
#include "model/classes.h"
#include "model/names.h"
#include "offline/report_cmd.h"
#include "present/http.h"
#include "present/metrics.h"
#include "present/outputs.h"
#include "present/text.h"
#include "present/tui.h"
#include "util/async_out.h"
#include "util/common.h"

static volatile sig_atomic_t exiting, rotate, stop_signals;

struct run {
	struct options opts;
	struct session session;
	struct outputs outputs;
	struct tui *tui;		/* the live view, or NULL: batch tables or -q */
	struct http_server *http;	/* --listen */
	struct metrics metrics;
	struct traced_command cmd;		/* -- COMMAND */
	double start, last, interval;	/* monotonic seconds */
	bool drop_said[NR_DROPS];	/* the line on stderr, once per reason */
};

static void on_signal(int sig)
{
	exiting = sig;
	stop_signals++;
	tui_interrupt();
}

/* -- COMMAND: its exit wakes the poll loop */
static void on_child(int sig)
{
}

/* SIGHUP with a series and no live view: start new parts (docs/outputs.md) */
static void on_hangup(int sig)
{
	rotate = 1;
}

/* Without SA_RESTART: a signal ends any wait or blocked write at once. */
static void set_signals(const struct run *r, bool tui)
{
	struct sigaction stop = { .sa_handler = on_signal }, hup = { .sa_handler = on_hangup }, old;

	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGPIPE, &stop, NULL);
	if (r->cmd.pid)
		sigaction(SIGCHLD, &(struct sigaction){ .sa_handler = on_child }, NULL);
	/* SIGHUP rotates the series as kvm_stat's log mode reopens its log; in
	 * the live view it is the terminal hanging up: stop as at SIGTERM (so
	 * files are written), unless it was ignored from the start (nohup) */
	sigaction(SIGHUP, outputs_have_series(&r->outputs) && !tui ? &hup : &stop, &old);
	if (old.sa_handler == SIG_IGN && (tui || !outputs_have_series(&r->outputs)))
		signal(SIGHUP, SIG_IGN);
}

static bool stopping(struct run *r)
{
	return exiting || (r->tui && tui_quit(r->tui)) || command_reap(&r->cmd);
}

/* A scrape: the counts of the last read, as the tables would show them. */
static int render_metrics(void *ctx, char **body, size_t *len)
{
	struct run *r = ctx;

	return metrics_render(&r->metrics, outputs_shown(&r->outputs, &r->session.table), now_s(), body, len);
}

/* --listen binds first: a taken port fails before any BPF work. */
static int start_exporter(struct run *r)
{
	if (!r->opts.listen)
		return 0;
	metrics_init(&r->metrics, r->opts.metrics_no_vcpu, r->opts.metrics_no_code,
		     r->opts.metrics_max_series, r->opts.metrics_grace_s);
	r->http = http_listen(r->opts.listen, render_metrics, r);
	return r->http ? 0 : -1;
}

/* Keys, or a signal such as SIGWINCH: the view reads what came.  True when
 * the wait must end: q, p, or another interval. */
static bool take_keys(struct run *r)
{
	double interval = tui_interval(r->tui);
	bool paused = tui_paused(r->tui);

	tui_handle_input(r->tui, &r->session.table, now_s() - r->start);
	return tui_quit(r->tui) || interval != tui_interval(r->tui) || paused != tui_paused(r->tui);
}

/* Does the terminal's poll say it is gone (keys never come)? */
static bool terminal_gone(short revents)
{
	return revents & (POLLHUP | POLLERR | POLLNVAL);
}

/* The one poll loop: until the monotonic time `until` or a signal, it takes
 * new guests from the ring buffer, keys from the terminal and scrapes from
 * the /metrics clients. */
static void wait_until(struct run *r, double until)
{
	double now;

	while (!stopping(r) && !rotate && (now = now_s()) < until) {
		struct pollfd fds[3 + HTTP_MAX_FDS] = {
			{ .fd = session_ring_fd(&r->session), .events = POLLIN },
			{ .fd = r->tui ? tui_input_fd(r->tui) : -1, .events = POLLIN },
			{ .fd = r->cmd.pid && !r->cmd.exited ? r->cmd.pidfd : -1, .events = POLLIN },
		};
		double deadline = until;
		int n = 3 + (r->http ? http_poll_fds(r->http, fds + 3, &deadline) : 0);
		int ready = poll(fds, n, (int)((deadline - now) * 1000) + 1);

		if (ready < 0 && errno != EINTR)
			break;
		if (ready > 0 && fds[0].revents)
			session_consume(&r->session);
		if (ready > 0 && r->http)
			http_serve(r->http, fds + 3, n - 3);
		if (!r->tui || (ready > 0 && !fds[1].revents))
			continue;
		if (ready > 0 && terminal_gone(fds[1].revents)) {
			exiting = SIGHUP;
			break;
		}
		if (take_keys(r))
			break;
	}
}

/* Between the parts of a read: the keys that came are taken now, not after
 * the read (a host of 1000 guests reads for about 100 ms). */
static void keys_during_read(void *ctx)
{
	struct run *r = ctx;
	struct pollfd fd = { .fd = r->tui ? tui_input_fd(r->tui) : -1, .events = POLLIN };

	if (poll(&fd, 1, 0) <= 0)
		return;
	if (terminal_gone(fd.revents))
		exiting = SIGHUP;
	else if (fd.revents & POLLIN && !exiting)
		tui_handle_input_in_read(r->tui, &r->session.table, now_s() - r->start);
}

/* The first drop of each reason, as it happens: what to raise.  The live
 * view has the count on its status line and the summary the same lines. */
static void say_drops(struct run *r)
{
	char advice[256];

	for (unsigned int d = 0; !r->tui && d < NR_DROPS; d++) {
		if (!r->session.table.drops[d] || r->drop_said[d])
			continue;
		r->drop_said[d] = true;
		drop_reason_advice(d, r->opts.max_keys, r->opts.max_guest_keys, advice, sizeof(advice));
		fprintf(stderr, "kvmprof: dropping events (%s): %s\n", drop_reason_name(d), advice);
	}
}

/* One read of the maps into the views and the outputs, written once for
 * every interval and the last.  The last is read detached, so no count
 * moves between cache slot and hash, and its interval ends after the read,
 * so it is never empty. */
static void read_once(struct run *r, double t, bool final)
{
	const struct trap_table *shown;

	session_read(&r->session, final);
	if (final)
		t = now_s();
	shown = outputs_shown(&r->outputs, &r->session.table);
	if (!final)
		say_drops(r);
	if (!final && r->tui)
		tui_update(r->tui, &r->session.table, t - r->last, t - r->start);
	else if (!final && !r->opts.quiet)
		report_interval(stdout, shown, t - r->last, t - r->start, r->opts.sort);
	outputs_interval(&r->outputs, shown, t - r->start, t - r->last);
	if (!final && rotate) {		/* after this read: the part ends at the signal */
		rotate = 0;
		outputs_rotate(&r->outputs);
	}
	if (!final)
		session_reclaim(&r->session);
	r->last = t;
}

/* -- COMMAND: a stop signal (SIGINT from the terminal reaches both) goes
 * to the command too, and the run traces on while it ends, for at most
 * COMMAND_GRACE_S or until a second signal. */
#define COMMAND_GRACE_S 10.0
static void let_command_end(struct run *r)
{
	double until = now_s() + COMMAND_GRACE_S;
	int seen = stop_signals;

	if (!r->cmd.pid || command_reap(&r->cmd) || !exiting)
		return;
	kill(r->cmd.pid, exiting == SIGHUP ? SIGHUP : exiting == SIGINT ? SIGINT : SIGTERM);
	exiting = 0;
	while (!command_reap(&r->cmd) && stop_signals == seen && now_s() < until) {
		wait_until(r, now_s() + 0.1 < until ? now_s() + 0.1 : until);
		if (exiting)
			break;
	}
}

/* Reads every interval until the end of -d, a signal or q; a read cut
 * short by a signal or q is left to the final read. */
static void run_loop(struct run *r)
{
	double end = r->opts.duration_s ? r->start + r->opts.duration_s : 0, next, t;

	for (next = r->start + r->interval; !stopping(r);) {
		if (end && next > end)
			next = end;
		wait_until(r, next);
		t = now_s();
		if (stopping(r) && t < next)
			break;
		if (r->tui && t < next) {	/* + or - changed the interval, or p */
			r->interval = tui_interval(r->tui);
			next = r->last + r->interval;
			continue;
		}
		if (r->tui && tui_paused(r->tui)) {	/* the maps wait; the next read covers the pause */
			tui_draw(r->tui, &r->session.table, t - r->start);
			if (end && t >= end)
				break;
			next = t + r->interval;
			continue;
		}
		read_once(r, t, false);
		if (end && t >= end)
			break;
		if (r->tui && tui_interval(r->tui) != r->interval) {	/* + or - during the read */
			r->interval = tui_interval(r->tui);
			next = t;
		}
		if (t >= next)	/* not a read cut short by SIGHUP */
			next += r->interval;
		if (next <= t)	/* after a pause or a slow read */
			next = t + r->interval;
	}
}

/* The lines a run starts with, then the live view on a terminal (after
 * the signal handlers, which ncurses then leaves alone). */
static void start_views(struct run *r)
{
	bool want_tui = !r->opts.quiet && !r->opts.batch && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);

	print_plan_line(stderr, &r->session.plan);
	if (r->http && !strncmp(http_address(r->http), "unix:", 5))
		fprintf(stderr, "kvmprof: serving metrics on the socket %s (GET /metrics)\n",
			http_address(r->http) + 5);
	else if (r->http)
		fprintf(stderr, "kvmprof: serving metrics at http://%s/metrics\n", http_address(r->http));
	if (r->opts.duration_s)
		fprintf(stderr, "kvmprof: tracing KVM traps for %g s; Ctrl-C to stop sooner.\n",
			r->opts.duration_s);
	else if (r->cmd.pid)
		fprintf(stderr, "kvmprof: tracing the guests of the command until it exits; Ctrl-C stops both.\n");
	else
		fprintf(stderr, "kvmprof: tracing KVM traps; Ctrl-C to stop.\n");
	set_signals(r, want_tui);
	if (want_tui)
		r->tui = tui_start(&r->opts, &r->session.plan, r->opts.interval_s);
	if (r->tui) {
		r->session.reader.pause = keys_during_read;
		r->session.reader.pause_ctx = r;
	}
	if (!r->tui)	/* tables and the summary through a thread: a stalled reader cannot block */
		async_stdout_start();
	r->start = r->last = now_s();
	r->interval = r->opts.interval_s;
}

/* --guest-syms GUEST=FILE and --guest-kaslr GUEST=OFFSET, read before any
 * tracing: -1 after one line. */
static int load_guest_syms(struct run *r)
{
	for (int i = 0; i < r->opts.nr_guest_syms; i++) {
		char *arg = (char *)r->opts.guest_syms[i], *eq = strchr(arg, '=');

		*eq = '\0';	/* GUEST, FILE: argv's own storage */
		if (guest_syms_load(&r->session.syms, arg, eq + 1))
			return -1;
	}
	for (int i = 0; i < r->opts.nr_guest_kaslr; i++) {
		char *arg = (char *)r->opts.guest_kaslr[i], *eq = strchr(arg, '=');

		*eq = '\0';
		if (guest_syms_kaslr(&r->session.syms, arg, strtoull(eq + 1, NULL, 16)))
			return -1;
	}
	return 0;
}

static int trace_command(int argc, char **argv)
{
	struct run r = {};
	int err, rc = EXIT_RUNTIME;
	size_t unwritten;

	err = parse_options(argc, argv, &r.opts);
	if (err)
		return err < 0 ? EXIT_OK : err;
	session_set_verbose(r.opts.verbose);
	/* every view and the plan read the choice; --counters shows KVM's alone */
	classes_choose(r.opts.counters ? 1UL << CLASS_COUNTER : r.opts.classes);
	signal(SIGXFSZ, SIG_IGN);	/* ulimit -f: a write fails (EFBIG) in one line instead */
	if (session_check(&r.opts) || outputs_init(&r.outputs, &r.opts) || session_plan(&r.session, &r.opts))
		goto cleanup;
	if (r.opts.list_probes) {
		print_plan(stdout, &r.session.plan);
		rc = EXIT_OK;
		goto cleanup;
	}
	if (load_guest_syms(&r))
		goto cleanup;
	r.session.on_slow = outputs_slow;
	r.session.slow_ctx = &r.outputs;
	if (r.opts.command && command_prepare(&r.cmd, r.opts.command))
		goto cleanup;
	r.session.tree_root = r.cmd.pid ? getpid() : 0;
	if (start_exporter(&r) || session_start(&r.session, &r.opts) ||
	    outputs_open(&r.outputs) || drop_privileges(outputs_have_files(&r.outputs), r.session.reader.keys_fd))
		goto cleanup;
	start_views(&r);
	if (r.cmd.pid && command_start(&r.cmd)) {
		rc = 127;
		goto cleanup;
	}
	run_loop(&r);
	let_command_end(&r);
	if (r.tui) {	/* the summary goes to the normal screen */
		r.session.reader.pause = NULL;
		tui_stop(r.tui);
		r.tui = NULL;
		async_stdout_start();
	}
	read_once(&r, 0, true);
	rc = outputs_final(&r.outputs, outputs_shown(&r.outputs, &r.session.table), r.last - r.start);
	unwritten = async_stdout_drain(&stop_signals, 2.0);
	/* said where it can be: stderr is often the same stopped terminal */
	if (unwritten && poll(&(struct pollfd){ .fd = STDERR_FILENO, .events = POLLOUT }, 1, 0) == 1)
		fprintf(stderr, "kvmprof: stdout is not being read: %zu bytes of tables and summary not "
			"written (the files are)\n", unwritten);
	if (r.cmd.pid && !r.cmd.exited)
		fprintf(stderr, "kvmprof: the command (pid %d) is still running\n", r.cmd.pid);
	else if (r.cmd.pid && rc == EXIT_OK)	/* as perf stat: the command's status */
		rc = command_exit_status(&r.cmd);
cleanup:
	command_abandon(&r.cmd);
	tui_stop(r.tui);
	outputs_close(&r.outputs);
	http_close(r.http);
	metrics_free(&r.metrics);
	session_close(&r.session);
	return rc;
}

/* As bpftool's: the first word picks a command; tracing is the default. */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);	/* argv[0] is the command's name */
} commands[] = {
	{ "report", report_command },	/* a finished run's files as HTML */
	{ "diff", diff_command },	/* two runs compared */
};

int main(int argc, char **argv)
{
	for (size_t i = 0; argc > 1 && i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	return trace_command(argc, argv);
}
