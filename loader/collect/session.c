// SPDX-License-Identifier: GPL-2.0
/* The run's BPF side: checks, plan, skeleton, ring buffer, reads. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kvmprof.skel.h"
#include "collect/limits.h"
#include "collect/procfs.h"
#include "collect/record_btf.h"
#include "collect/session.h"
#include "model/classes.h"

/* How to get KVM's tracepoints: a module on x86, built in on arm64, where
 * it only starts when the kernel was booted at EL2. */
#ifdef __aarch64__
#define KVM_LOAD_HINT "(arm64: KVM needs the kernel booted at EL2; dmesg says \"Hyp mode initialized\" when it is)"
#else
#define KVM_LOAD_HINT "(modprobe kvm_intel or kvm_amd)"
#endif

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
	va_list copy;

	if (level != LIBBPF_WARN && !verbose)
		return 0;
	va_copy(copy, args);
	vsnprintf(msg, sizeof(msg), fmt, copy);
	va_end(copy);
	if (level == LIBBPF_WARN && (p = strstr(msg, "prog '")) &&
	    sscanf(p, "prog '%63[^']'", refused_prog) != 1)
		refused_prog[0] = '\0';
	/* whole: a verifier log is one message of many lines */
	return vfprintf(stderr, fmt, args);
}

void session_set_verbose(bool on)
{
	verbose = on;
	libbpf_set_print(libbpf_print);
}

int session_check(const struct options *opts)
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
	if (check_limits(opts) || !tracefs_events())
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
		if (!process_has_vm(opts->pids[i])) {
			fprintf(stderr, "kvmprof: -p %d: not a KVM guest (it has no VM open)\n",
				opts->pids[i]);
			return -1;
		}
	}
	return 0;
}

int session_plan(struct session *s, const struct options *opts)
{
	s->counters_mode = opts->counters;
	if (opts->counters) {	/* nothing on any event: an empty plan */
		memset(&s->plan, 0, sizeof(s->plan));
		classes_attached(1UL << CLASS_COUNTER);
		return 0;
	}
	if (plan_probes(opts->attach, !opts->no_time, &s->plan))
		return -1;
	classes_attached(plan_classes(&s->plan));
	/* an empty events/kvm folder (KVM's tracepoints gone) would otherwise
	 * give a run that counts nothing and says nothing */
	for (int ev = 0; ev < NR_EVENTS; ev++)
		if (ev != EV_SYS_ENTER_IOCTL && ev != EV_SCHED_SWITCH && s->plan.method[ev] != METHOD_NONE)
			return 0;
	fprintf(stderr, "kvmprof: no KVM tracepoints in this kernel: load KVM first " KVM_LOAD_HINT "\n");
	return -1;
}

/* The skeleton's link slot of prog: links stored there go with it. */
static struct bpf_link **skeleton_link(void *ctx, const struct bpf_program *prog)
{
	struct bpf_object_skeleton *sk = ((struct kvmprof_bpf *)ctx)->skeleton;

	for (int i = 0; i < sk->prog_cnt; i++)
		if (*sk->progs[i].prog == prog)
			return sk->progs[i].link;
	return NULL;
}

/* The load's one line: which program the kernel refused, for which event. */
static void load_failed(const struct probe_plan *plan, const struct options *opts, int err)
{
	char what[160];
	const char *event = *refused_prog ? plan_program_event(plan, refused_prog, what, sizeof(what)) : NULL;
	bool mode = opts->attach != ATTACH_AUTO;

	fprintf(stderr, "kvmprof: %s%s%sthe kernel refused BPF program %s%s%s%s: %s (the verifier's "
		"reason is above%s)\n", mode ? "--attach " : "", mode ? attach_mode_name(opts->attach) : "",
		mode ? ": " : "", *refused_prog ? refused_prog : "(unknown)", event ? " (" : "",
		event ? event : "", event ? ")" : "", strerror(-err),
		opts->verbose ? "" : "; -v shows libbpf's whole log");
}

/* Open, switches, planned programs, load: the tracepoint record types from
 * tracefs where no kernel BTF has them. */
static int load(struct session *s, const struct options *opts)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	char record_btf[64];
	int err;

	if (record_btf_build(&s->plan, tracefs_events(), record_btf, sizeof(record_btf), &s->record_btf_fd))
		return -1;
	open_opts.btf_custom_path = s->record_btf_fd >= 0 ? record_btf : NULL;
	s->skel = kvmprof_bpf__open_opts(&open_opts);
	if (!s->skel) {
		fprintf(stderr, "kvmprof: cannot open the BPF object: %s\n", strerror(errno));
		return -1;
	}
	s->skel->rodata->filter_pids = opts->nr_pids > 0;
	s->skel->rodata->emul_insns = opts->insns;
	s->skel->rodata->guest_key_limit = opts->max_guest_keys;
	s->skel->rodata->filter_tids = opts->nr_tids > 0;
	s->skel->rodata->filter_by_vcpu = opts->vcpu >= 0;
	s->skel->rodata->filter_vcpu = opts->vcpu;
	s->skel->rodata->slow_ns = opts->slow_ns;
	s->skel->rodata->count_rips = opts->rips;
	s->skel->rodata->tree_root = s->tree_root;
	s->skel->rodata->count_halt = class_traced_here(CLASS_HALT);
	bpf_map__set_max_entries(s->skel->maps.trap_keys, opts->max_keys);
	s->skel->rodata->count_table_bits = map_table_size(s->skel->maps.count_keys, s->skel->maps.count_claims,
							   s->skel->maps.count_table, opts->max_keys);
	bpf_map__set_max_entries(s->skel->maps.trap_latency, opts->max_keys);
	if (!opts->insns)	/* never written: no memory for it */
		bpf_map__set_max_entries(s->skel->maps.insn_counts, 1);
	if (!opts->slow_ns)
		bpf_map__set_max_entries(s->skel->maps.slow_traps, getpagesize());
	if (!opts->rips)
		bpf_map__set_max_entries(s->skel->maps.rip_counts, 1);
	if (apply_plan(s->skel->obj, &s->plan))
		return -1;
	bpf_program__set_autoload(s->skel->progs.flush_hot, true);	/* run, never attached */
	err = kvmprof_bpf__load(s->skel);
	if (err) {
		load_failed(&s->plan, opts, err);
		return -1;
	}
	close(s->record_btf_fd);
	s->record_btf_fd = -1;
	return 0;
}

/* -p and --tid: the guests and threads the programs count, set before
 * anything is attached */
static int set_filter(struct bpf_map *map, const char *option, const __u32 *ids, int n)
{
	__u8 one = 1;

	for (int i = 0; i < n; i++) {
		int err = bpf_map__update_elem(map, &ids[i], sizeof(ids[i]), &one, sizeof(one), 0);

		if (err) {	/* else the filter would trace nothing, silently */
			fprintf(stderr, "kvmprof: cannot set the %s %u filter: %s\n", option, ids[i],
				strerror(-err));
			return -1;
		}
	}
	return 0;
}

static int set_filters(struct session *s, const struct options *opts)
{
	__u32 pids[MAX_PID_FILTER];

	for (int i = 0; i < opts->nr_pids; i++)
		pids[i] = opts->pids[i];
	return set_filter(s->skel->maps.pid_filter, "-p", pids, opts->nr_pids) ||
	       set_filter(s->skel->maps.tid_filter, "--tid", opts->tids, opts->nr_tids) ? -1 : 0;
}

static int on_new_thread(void *ctx, void *data, size_t size)
{
	const struct new_thread *nt = data;
	char comm[17] = {}, leader[17] = {}, cmdline[SEEN_CMDLINE + 1] = {};
	struct process_seen seen = { .comm = leader, .cmdline = cmdline };
	size_t len;

	if (size < sizeof(*nt))
		return 0;
	memcpy(comm, nt->comm, 16);
	memcpy(leader, nt->leader_comm, 16);
	len = nt->cmdline_len < SEEN_CMDLINE ? nt->cmdline_len : SEEN_CMDLINE;
	memcpy(cmdline, nt->cmdline, len);
	/* whole arguments only: a cut one could be half a name */
	while (nt->cmdline_cut && len && cmdline[len - 1])
		len--;
	seen.cmdline_len = len;
	table_note_thread(ctx, nt->tgid, nt->tid, comm, &seen);
	return 0;
}

static int on_slow_trap(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;

	if (size >= sizeof(struct slow_trap) && s->on_slow)
		s->on_slow(s->slow_ctx, &s->table, data);
	return 0;
}

/* The reader's fds and the tables the reads fill. */
static int ready_reads(struct session *s, const struct options *opts)
{
	struct kvmprof_bpf *k = s->skel;
	struct map_reader *m = &s->reader;

	if (map_reader_init(m, libbpf_num_possible_cpus(), opts->max_keys) || table_init(&s->table, &procfs_source) ||
	    insns_init(&s->insns) || rips_init(&s->rips)) {
		fprintf(stderr, "kvmprof: out of memory\n");
		return -1;
	}
	m->keys_fd = bpf_map__fd(k->maps.trap_keys);
	if (map_reader_map_table(m, bpf_map__fd(k->maps.count_keys), bpf_map__fd(k->maps.count_claims),
				 bpf_map__fd(k->maps.count_table))) {
		fprintf(stderr, "kvmprof: cannot map the count table: %s\n", strerror(errno));
		return -1;
	}
	m->hot_fd = bpf_map__fd(k->maps.hot_counts);
	m->latency_fd = bpf_map__fd(k->maps.trap_latency);
	m->drops_fd = bpf_map__fd(k->maps.drops);
	m->insns_fd = opts->insns ? bpf_map__fd(k->maps.insn_counts) : -1;
	m->failed_fd = bpf_map__fd(k->maps.failed_insns);
	if (map_reader_map_threads(m, bpf_map__fd(k->maps.vcpu_threads), bpf_map__fd(k->maps.thread_claims))) {
		fprintf(stderr, "kvmprof: cannot map the thread table: %s\n", strerror(errno));
		return -1;
	}
	m->rips_fd = opts->rips ? bpf_map__fd(k->maps.rip_counts) : -1;
	m->flush_fd = bpf_program__fd(k->progs.flush_hot);
	m->guest_made_fd = bpf_map__fd(k->maps.guest_keys_made);
	m->guest_freed_fd = bpf_map__fd(k->maps.guest_keys_freed);
	s->table.insns = &s->insns;
	if (opts->rips) {
		s->table.rips = &s->rips;
		s->rips.syms = &s->syms;
	}
	/* guest and exit apart once some thread was seen entering (PVM has
	 * the tracepoints, and never fires them) */
	s->table.time_flags = plan_timed(&s->plan) ? TIME_ON | (plan_splits_guest(&s->plan) ? TIME_ENTRIES : 0) |
			      (plan_times_polling(&s->plan) ? TIME_POLLING : 0) : 0;
	s->rb = ring_buffer__new(bpf_map__fd(k->maps.new_threads), on_new_thread, &s->table, NULL);
	/* the new threads first: a slow trap's guest is named by then */
	if (!s->rb || (opts->slow_ns &&
		       ring_buffer__add(s->rb, bpf_map__fd(k->maps.slow_traps), on_slow_trap, s))) {
		fprintf(stderr, "kvmprof: cannot set up the ring buffer: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* A vCPU's process start, from what the iterator read of its task: one
 * /proc read less for each of a host's guests and pass. */
static __u64 vcpu_process_start(const struct vcpu_stats *r)
{
	return start_time_from_boottime(r->start_ns);
}

/* One pass of KVM's counters in phase; a failure (memory) says so once and
 * ends the counters. */
static void take_counters(struct session *s, enum counters_phase phase)
{
	int err;

	if (!s->counters.readable)
		return;
	err = kvm_stats_read(&s->stats);
	if (!err)
		err = counters_take(&s->counters, s->stats.recs, s->stats.nr, phase, vcpu_process_start);
	if (err) {
		s->counters.readable = false;
		snprintf(s->counters.why, sizeof(s->counters.why), "reading them failed: %s", strerror(-err));
		fprintf(stderr, "kvmprof: KVM's counters: %s\n", s->counters.why);
	}
}

/* KVM's counters: the iterator loaded while kvmprof still has its
 * capabilities; where it cannot be, one line says so (--counters has
 * nothing else to show: it stops there). */
static int open_counters(struct session *s, const struct options *opts)
{
	s->counters.since_start = opts->since_start;
	s->counters.readable = !kvm_stats_open(&s->stats);
	s->table.counters = &s->counters;
	if (s->counters.readable)
		return 0;
	snprintf(s->counters.why, sizeof(s->counters.why), "%s", s->stats.why);
	if (opts->counters) {
		fprintf(stderr, "kvmprof: --counters: KVM's counters cannot be read here: %s\n", s->stats.why);
		return -1;
	}
	fprintf(stderr, "kvmprof: no check against KVM's counters: %s\n", s->stats.why);
	return 0;
}

int session_start(struct session *s, const struct options *opts)
{
	struct timespec ts;
	int err;

	s->record_btf_fd = -1;
	s->insns_on = opts->insns;
	if (load(s, opts) || set_filters(s, opts) || ready_reads(s, opts) || open_counters(s, opts))
		return -1;
	take_counters(s, COUNTERS_BEFORE_ATTACH);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->table.run_start_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	err = attach_plan(s->skel->obj, &s->plan, opts->attach, skeleton_link, s->skel);
	take_counters(s, COUNTERS_AFTER_ATTACH);
	return err;
}

int session_read(struct session *s, bool final)
{
	int err;

	/* the floor of KVM's counts for this read: the last read's post pass
	 * (an iterator pass costs ~15 us a vCPU), a pass of its own at the end */
	if (final)
		take_counters(s, COUNTERS_PRE);
	else
		counters_pre_from_post(&s->counters);
	/* the last read detached (see session.h), the counters read on both
	 * sides of the detach: a window as tight as it can be */
	if (final && s->skel) {
		kvmprof_bpf__detach(s->skel);
		take_counters(s, COUNTERS_POST);
	}
	ring_buffer__consume(s->rb);
	err = map_read(&s->reader, &s->table, &s->insns, &s->rips);
	if (err)
		fprintf(stderr, "kvmprof: reading the maps failed: %s\n", strerror(-err));
	if (!final) {
		map_reader_pause(&s->reader);
		take_counters(s, COUNTERS_POST);
	}
	if (!err && s->counters_mode && s->counters.readable &&
	    (err = counters_to_rows(&s->counters, &s->table)))
		fprintf(stderr, "kvmprof: out of memory for KVM's counters\n");
	return err;
}

void session_reclaim(struct session *s)
{
	map_reclaim(&s->reader, &s->table, &s->insns, &s->rips);
}

int session_ring_fd(const struct session *s)
{
	return ring_buffer__epoll_fd(s->rb);
}

void session_consume(struct session *s)
{
	ring_buffer__consume(s->rb);
}

void session_close(struct session *s)
{
	ring_buffer__free(s->rb);
	insns_free(&s->insns);	/* each frees what exists: zeroed or half made */
	kvm_stats_close(&s->stats);
	counters_free(&s->counters);
	rips_free(&s->rips);
	guest_syms_free(&s->syms);
	table_free(&s->table);
	map_reader_free(&s->reader);
	kvmprof_bpf__destroy(s->skel);
	if (s->record_btf_fd > 0)
		close(s->record_btf_fd);
	s->skel = NULL;
	s->rb = NULL;
}
