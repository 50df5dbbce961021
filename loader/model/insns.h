/* SPDX-License-Identifier: GPL-2.0 */
#ifndef INSNS_H
#define INSNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "kvmprof.h"
#include "util/index.h"

/* Emulated instructions in full (--insns) and failed emulations, read from
 * insn_counts and failed_insns into totals that outlive ended guests. */
struct insn_row {
	struct insn_key key;	/* failed rows: rip 0, last_rip has it */
	__u64 count;		/* since start */
	__u64 interval;		/* added by the last read */
	__u64 map_count;	/* the map's value at the last read */
	__u64 last_rip;		/* failed rows */
	bool failed;
};

struct insn_table {
	struct insn_row *rows;
	size_t nr, cap;
	struct index index;	/* rows by key and failed */
};

/* One distinct instruction of a guest (bytes, length, mode), over all its
 * addresses: the ranges of adjacent addresses it ran at, lowest first. */
struct insn_range {
	__u64 lo, hi;	/* first and last address (RIP_UNKNOWN: not known) */
};

struct insn_sum {
	struct insn_key key;	/* rip: the lowest address */
	bool failed;
	__u64 count, interval;
	__u64 last_rip;		/* failed */
	struct insn_range *ranges;
	size_t nr_ranges;
	char text[96];		/* "out dx, al", or "undecodable" */
};

int insns_init(struct insn_table *t);
void insns_free(struct insn_table *t);
/* The row of key (a failure's when failed), made if new; NULL without memory. */
struct insn_row *insn_row_of(struct insn_table *t, const struct insn_key *key, bool failed);

/* Guest pid's instructions (failed false) or failures (true), most
 * frequent first; the caller frees with insn_sums_free. */
struct insn_sum *insn_sums(const struct insn_table *t, __u32 pid, bool failed, size_t *nr);
void insn_sums_free(struct insn_sum *sums, size_t nr);

/* The instruction as capstone reads it in the key's mode at address rip
 * (relative branches show their target): "mov byte ptr [0x1000], al";
 * "undecodable" when capstone cannot read the bytes as one instruction. */
void insn_text(const struct insn_key *key, __u64 rip, char *buf, size_t size);
/* "26 a2 00 00" */
void insn_hex(const struct insn_key *key, char *buf, size_t size);
/* "0x1000-0x1008 0x1010", or "?" when unknown; at most max ranges, then
 * " +N more" (max 0: all). */
void insn_ranges_text(const struct insn_sum *s, size_t max, char *buf, size_t size);

#endif
