/* SPDX-License-Identifier: GPL-2.0 */
#ifndef STATS_H
#define STATS_H

#include <stdbool.h>
#include <stddef.h>
#include "kvmprof.h"
#include "collect/procfs.h"

struct insn_table;

/* One (guest, thread, class, code), accumulated in user space so that
 * totals outlive the map entries of guests that ended. */
struct trap_row {
	struct trap_key key;
	__u64 count;		/* since start */
	__u64 interval;		/* added by the last read */
	__u64 map_count;	/* the highest count the maps showed (a cache slot
				 * moving to the hash can hide a few for a read) */
	__u64 read_count;	/* scratch: this read's sum */
	struct trap_latency lat;	/* since start */
	struct trap_latency map_lat;	/* the map's value at the last read */
	__u64 interval_lat_count;
	__u64 interval_lat_sum;
	__u64 interval_lat_max;
	int vcpu;		/* -1: not known */
	size_t guest;		/* its guest and thread: indexes in guests and threads */
	size_t thread;
	size_t next_row;	/* its guest's next row: index + 1, 0 for the last */
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
};

struct thread {
	__u32 pid, tid;
	int vcpu;
	size_t guest;		/* index in guests */
};

struct stats {
	struct trap_row *rows;
	size_t nr_rows, cap_rows;
	size_t *index;		/* open addressing over rows: row + 1, 0 is empty */
	size_t index_size;
	struct guest *guests;
	size_t nr_guests, cap_guests;
	struct thread *threads;
	size_t nr_threads, cap_threads;
	/* open addressing over guests by pid and threads by (pid, tid): entry
	 * + 1, 0 is empty; NULL (a stats_select copy) means a linear search */
	size_t *guest_index, *thread_index;
	size_t guest_index_size, thread_index_size;
	__u64 drops[NR_DROPS];
	int ncpus;
	bool no_batch;		/* kernel without batch lookups: walk keys */
	void *keys, *values;	/* read buffers, sized once */
	struct hot_slot *hot;	/* per-CPU cache slots, sized once */
	const struct insn_table *insns;	/* emulated instructions in full and
					 * failures, owned by the caller; NULL none */
	struct hot_slot *snap[2];	/* all slots, twice: HOT_SLOTS * ncpus each */
	/* for stats_reclaim, -1 when absent: the per-thread start maps, and
	 * the program that clears the cache slots of deleted keys */
	int exit_starts_fd, vmm_starts_fd, flush_fd;
};

int stats_init(struct stats *s, int ncpus);
void stats_free(struct stats *s);

/* Reads the maps and updates every row; returns 0 or -errno. */
int stats_read(struct stats *s, int counts_fd, int hot_fd, int latency_fd, int drops_fd);

/* Marks guests whose process is gone (or whose pid now belongs to a process
 * started later) as ended; deletes the map entries, cache slots and open
 * starts of guests that were already ended at the previous read (their last
 * events have been read by now), and retires them. */
void stats_reclaim(struct stats *s, int counts_fd, int latency_fd);

/* Learns a guest and one of its threads while they exist: names from /proc,
 * else from the comms BPF saw (either may be NULL). */
void stats_note_thread(struct stats *s, __u32 pid, __u32 tid, const char *comm,
		       const char *leader_comm);
/* The row of a map key: its live (not retired) guest's. */
struct trap_row *stats_row(struct stats *s, const struct trap_key *key, bool create);
/* The live guest of pid, created if need be. */
struct guest *stats_guest(struct stats *s, __u32 pid);
/* The live guest of pid, else the last retired one, else NULL: never creates. */
const struct guest *stats_find_guest(const struct stats *s, __u32 pid);
/* Walks g's rows, so that a summary of many guests reads each row once:
 * for (r = stats_rows_first(s, g); r < s->nr_rows; r = stats_rows_next(s, r)).
 * A -g copy, whose rows moved, walks all rows: the caller checks
 * rows[r].guest == g - s->guests. */
size_t stats_rows_first(const struct stats *s, const struct guest *g);
size_t stats_rows_next(const struct stats *s, size_t r);
__u64 stats_total_drops(const struct stats *s);

/* Walks a map's keys into keys/values (at most max entries, key_size and
 * value_size apart), skipping entries deleted under the walk: the count. */
long map_walk(int fd, void *keys, size_t key_size, void *values, size_t value_size, size_t max);

#endif
