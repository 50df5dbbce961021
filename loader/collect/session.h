/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SESSION_H
#define SESSION_H

#include <stdbool.h>
#include "cli/options.h"
#include "collect/kvm_stats.h"
#include "collect/map_reader.h"
#include "collect/probes.h"
#include "model/counters.h"
#include "model/guest_syms.h"
#include "model/insns.h"
#include "model/rips.h"
#include "model/table.h"

struct kvmprof_bpf;
struct ring_buffer;
struct slow_trap;

/* Everything that talks to the kernel for one run: the BPF skeleton (open,
 * load, attach, detach), the new-thread ring buffer, the map reader, and
 * the tables the reads fill.  Zero-initialised, session_close frees what
 * exists on every path. */
struct session {
	struct probe_plan plan;
	struct kvmprof_bpf *skel;
	struct ring_buffer *rb;
	struct map_reader reader;
	struct trap_table table;
	struct insn_table insns;
	struct rip_table rips;		/* --rip */
	struct guest_syms syms;		/* --guest-syms */
	struct kvm_stats stats;		/* KVM's counters, read around every read */
	struct kvm_counters counters;
	bool counters_mode;		/* --counters: nothing attached, the counters shown */
	bool insns_on;		/* --insns: instructions in full */
	/* --slow: each slow trap's record as it comes (set before session_start) */
	void (*on_slow)(void *ctx, struct trap_table *table, const struct slow_trap *t);
	void *slow_ctx;
	__u32 tree_root;	/* -- COMMAND: only processes below this one (set before session_start) */
	int record_btf_fd;	/* the tracepoint record types' memfd until load, else -1 or 0 */
};

/* libbpf's warnings always, its debug output with verbose. */
void session_set_verbose(bool verbose);
/* What the run needs of the machine before any work: root, BTF, tracefs,
 * KVM, the -p guests.  0, or -1 after one line. */
int session_check(const struct options *opts);
/* The attach plan for opts->attach; -1 after one line (session_check first). */
int session_plan(struct session *s, const struct options *opts);
/* Opens, loads and attaches the planned programs and readies the reads;
 * -1 after one line naming what failed. */
int session_start(struct session *s, const struct options *opts);
/* One read: the ring buffer's new guests first (their names come while
 * they exist), then the maps, between two reads of KVM's counters; final:
 * the programs are detached after the first (so no count moves between a
 * cache slot and the hash, and the counters bound the window).  0 or
 * -errno (printed). */
int session_read(struct session *s, bool final);
/* After the views have seen a read: the entries of ended guests go. */
void session_reclaim(struct session *s);
/* The ring buffer's fd to poll, and its records taken. */
int session_ring_fd(const struct session *s);
void session_consume(struct session *s);
void session_close(struct session *s);

#endif
