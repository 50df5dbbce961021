/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TABLE_H
#define TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include "kvmprof.h"
#include "util/index.h"
#include "model/vcpu_time.h"

#define GUEST_NAME_MAX 128

struct insn_table;
struct kvm_counters;
struct rip_table;

/* One (guest, thread, class, code), accumulated in user space so that
 * totals outlive the map entries of guests that ended. */
struct trap_row {
	/* what every read's pass over the rows touches, first: two cache lines */
	struct trap_key key;
	__u64 count;		/* since start */
	__u64 interval;		/* added by the last read */
	__u64 map_count;	/* the highest count the maps showed (a hot slot
				 * moving to the table can hide a few for a read) */
	__u64 interval_lat_count;
	__u64 interval_lat_sum;
	__u64 interval_lat_max;
	__u64 lat_read;		/* the read that set them (the map reader's count) */
	int vcpu;		/* -1: not known */
	__u32 map_lat;		/* the latency map's value at the last read: index + 1
				 * in the map reader's map_lats, 0 none yet */
	size_t guest;		/* its guest and thread: indexes in guests and threads */
	size_t thread;
	size_t next_row;	/* its guest's next row: index + 1, 0 for the last */
	double lat_sq;			/* the samples' squares since start, ns^2 */
	struct trap_latency lat;	/* since start (its sum_sq_* unused: lat_sq) */
};

/* A guest is a process, not a pid: pid and start time (/proc/PID/stat).
 * Once an ended guest's map entries are deleted it is retired: lookups by
 * pid no longer find it or its rows and threads, so a new process that
 * reuses the pid (and thread ids) starts a guest of its own. */
struct guest {
	__u32 pid;
	size_t id;		/* its index in the full table, also in a -g copy */
	char name[GUEST_NAME_MAX];
	__u64 start_time;	/* clock ticks after boot; 0: gone when first seen */
	bool ended;		/* its process is gone; its rows keep their totals */
	bool reclaimed;		/* and its map entries were deleted */
	bool retired;		/* and it is only reported: the pid is free for another */
	bool unnamed;		/* named "pidN": no /proc and no comm seen yet */
	size_t first_row, last_row;	/* its rows, chained by next_row: index + 1, 0 none */
	__u64 keys_freed;	/* its trap_keys entries deleted: given back to its share */
	__u64 alive_at;		/* the read that found one of its vCPU threads live */
};

/* A vCPU thread.  One that ends while its process lives on is reclaimed
 * as an ended guest is: its rows keep their totals, its map entries go
 * (a VMM making each KVM_RUN from a fresh thread would fill the maps). */
struct thread {
	__u32 pid, tid;
	int vcpu;
	size_t guest;		/* index in guests */
	bool ended;		/* gone from /proc/PID/task */
	bool reclaimed;		/* and its map entries were deleted */
	struct thread_time time;	/* where its time went (vcpu_time.h) */
};

/* What BPF saw of a guest's process as it trapped (a new_thread record): its
 * names for when /proc is gone by the loader's read. */
struct process_seen {
	const char *comm;	/* the process's comm; NULL: none */
	const char *cmdline;	/* whole NUL-ended arguments; NULL: none */
	size_t cmdline_len;
};

/* Where the table learns what the maps do not say (collect/procfs.c's
 * procfs_source reads /proc).  Without one, a guest is named by the comm
 * BPF saw or "pidN", has start time 0, and threads have no vCPU number. */
struct table_source {
	/* pid's name (from seen, if any, when /proc has none); false if "pidN" */
	bool (*guest_name)(__u32 pid, const struct process_seen *seen, char *out, size_t size);
	__u64 (*start_time)(__u32 pid);	/* 0: no such process */
	int (*thread_vcpu)(__u32 pid, __u32 tid, const char *comm);	/* -1: unknown */
	__u64 (*thread_start_ns)(__u32 pid, __u32 tid);	/* CLOCK_MONOTONIC; 0: unknown */
};

struct trap_table {
	unsigned long serial;	/* this table_init's number: the map reader's caches name it */
	struct trap_row *rows;
	size_t nr_rows, cap_rows;
	struct index row_index;	/* rows by key */
	struct guest *guests;
	size_t nr_guests, cap_guests;
	struct thread *threads;
	size_t nr_threads, cap_threads;
	/* guests by pid and threads by (pid, tid); none (a table_select copy)
	 * means a linear search */
	struct index guest_index, thread_index;
	__u64 drops[NR_DROPS];
	const struct insn_table *insns;	/* emulated instructions in full and
					 * failures, owned by the caller; NULL none */
	const struct table_source *source;
	const struct rip_table *rips;	/* --rip's addresses (model/rips.h), owned by the caller; NULL off */
	const struct kvm_counters *counters;	/* KVM's own (model/counters.h), owned by the
						 * caller; NULL: none read */
	unsigned int time_flags;	/* TIME_* (vcpu_time.h); 0: no time accounting */
	__u64 run_start_ns, read_ns;	/* CLOCK_MONOTONIC: the run's start, the last read */
};

int table_init(struct trap_table *s, const struct table_source *source);
void table_free(struct trap_table *s);

/* Learns a guest and one of its threads while they exist: names from the
 * source, else from what BPF saw (the thread's comm, its process; either
 * may be NULL). */
void table_note_thread(struct trap_table *s, __u32 pid, __u32 tid, const char *comm,
		       const struct process_seen *seen);
/* The thread tid of pid's live guest, made if need be; NULL without memory. */
struct thread *table_thread(struct trap_table *s, __u32 pid, __u32 tid);
/* The row of a map key: its live (not retired) guest's. */
struct trap_row *table_row(struct trap_table *s, const struct trap_key *key, bool create);
/* The live guest of pid, created if need be. */
struct guest *table_guest(struct trap_table *s, __u32 pid);
/* The live guest of pid, else the last retired one, else NULL: never creates. */
const struct guest *table_find_guest(const struct trap_table *s, __u32 pid);
/* Walks g's rows, so that a summary of many guests reads each row once:
 * for (r = table_rows_first(s, g); r < s->nr_rows; r = table_rows_next(s, r)).
 * A -g copy, whose rows moved, walks all rows: the caller checks
 * rows[r].guest == g - s->guests. */
size_t table_rows_first(const struct trap_table *s, const struct guest *g);
size_t table_rows_next(const struct trap_table *s, size_t r);
__u64 table_total_drops(const struct trap_table *s);

#endif
