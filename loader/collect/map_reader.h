/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MAP_READER_H
#define MAP_READER_H

#include <stdbool.h>
#include "model/table.h"

struct insn_table;

/* The fds of the maps and the read buffers, sized once.  An fd of -1 is a
 * map that is not read (insns_fd without --insns) or a step left out
 * (the start maps and the flush program, for table copies in tests). */
struct map_reader {
	int keys_fd, hot_fd, latency_fd, drops_fd, insns_fd, failed_fd;
	int rips_fd;		/* --rip: rip_counts; -1 off */
	int flush_fd;		/* the program that clears reclaimed keys' cache slots */
	int guest_made_fd, guest_freed_fd;	/* each guest's share of the keys */
	size_t max_keys;	/* the trap maps' room (--max-keys) */
	int ncpus;
	bool no_batch;		/* kernel without batch lookups: walk keys */
	void *keys, *values;	/* read buffers, sized for the largest map */
	/* the count table (bpf/kvmprof.h), mapped (map_reader_map_table):
	 * each slot's key and claim, each CPU's counts (CPU c's from
	 * c * table_slots) */
	struct trap_key *table_keys;
	__u64 *table_claims;
	__u64 *table_counts;
	__u32 table_bits;
	size_t table_slots;
	/* the row of each table slot at the last read, and of each entry of
	 * the last read of trap_latency: where a read looks first; ~0 none */
	__u32 *slot_rows, *latency_rows;
	/* the latency map's values at the last read, for the rows that had
	 * one (trap_row.map_lat) */
	struct trap_latency *map_lats;
	size_t nr_map_lats, cap_map_lats;
	__u64 *read_counts;	/* this read's sum of each row (read_count_of) */
	size_t cap_read_counts;
	unsigned long rows_of;	/* the table (its serial) slot_rows and latency_rows index */
	struct hot_slot *hot;	/* one slot on every CPU */
	struct hot_slot *snap[2];	/* all slots, twice: HOT_SLOTS * ncpus each */
	/* the thread table (bpf/kvmprof.h), mapped (map_reader_map_threads):
	 * THREAD_SLOTS records and claims; NULL: not read */
	struct vcpu_thread *threads;
	__u64 *thread_claims;
	__u64 reads;		/* read_traps calls: which rows this read's latency map had */
	/* called between the parts of a read where the tables hold still (the
	 * live view takes keys there: a host's read takes 100 ms); NULL none */
	void (*pause)(void *ctx);
	void *pause_ctx;
};

/* Calls m's pause, if it has one. */
void map_reader_pause(const struct map_reader *m);

/* The read buffers' bytes for max_keys keys on ncpus CPUs: room for the
 * latency map's read, and for the instruction and rip maps' where read
 * (their own sizes, whatever --max-keys). */
void map_reader_buffer_sizes(size_t max_keys, int ncpus, bool insns, bool rips, size_t *keys, size_t *values);

/* Buffers for ncpus possible CPUs and max_keys keys, every fd -1: the
 * caller sets them. */
int map_reader_init(struct map_reader *m, int ncpus, size_t max_keys);
void map_reader_free(struct map_reader *m);

struct bpf_map;
/* Sizes the count table's arrays (count_keys, count_claims, count_table)
 * for max_keys keys before the load: the bits for count_table_bits. */
__u32 map_table_size(struct bpf_map *keys, struct bpf_map *claims, struct bpf_map *counts, size_t max_keys);

/* Maps the count table's arrays (count_keys, count_claims, count_table),
 * sized for m's CPUs and keys; 0 or -errno. */
int map_reader_map_table(struct map_reader *m, int keys_fd, int claims_fd, int counts_fd);

/* Maps the thread table's arrays (vcpu_threads, thread_claims) and reads
 * the records from there; 0 or -errno. */
int map_reader_map_threads(struct map_reader *m, int threads_fd, int claims_fd);

/* The thread table's slot of thread tid's record, -1 none. */
long map_thread_find(const struct map_reader *m, __u32 tid);

/* The count table's slots holding key (up to TABLE_PROBES): their count. */
int map_table_find(const struct map_reader *m, const struct trap_key *key, size_t *slots);
/* The slot key would take, -1 none; key's events in every CPU's counts. */
long map_table_free_slot(const struct map_reader *m, const struct trap_key *key);
__u64 map_table_count(const struct map_reader *m, const struct trap_key *key);

struct rip_table;
/* Reads the maps into the tables (insns and rips may be NULL); 0 or -errno. */
int map_read(struct map_reader *m, struct trap_table *s, struct insn_table *insns, struct rip_table *rips);

/* Marks guests whose process is gone (or whose pid now belongs to a process
 * started later) as ended; deletes the map entries, cache slots and open
 * starts of guests that were already ended at the previous read (their last
 * events have been read by now), and retires them. */
void map_reclaim(struct map_reader *m, struct trap_table *s, struct insn_table *insns, struct rip_table *rips);

/* Walks a map's keys into keys/values (at most max entries, key_size and
 * value_size apart), skipping entries deleted under the walk: the count. */
long map_walk(int fd, void *keys, size_t key_size, void *values, size_t value_size, size_t max);

#endif
