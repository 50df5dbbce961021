/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RIPS_H
#define RIPS_H

#include <stdbool.h>
#include <stddef.h>
#include "kvmprof.h"
#include "util/index.h"

struct guest_syms;

/* --rip: per guest, exit reason and detail, the guest addresses the exits
 * came from (rip_counts), in totals that outlive ended guests. */
struct rip_row {
	struct rip_key key;
	__u64 count;		/* since start */
	__u64 map_count;	/* the map's value at the last read */
};

struct rip_table {
	struct rip_row *rows;
	size_t nr, cap;
	struct index index;
	const struct guest_syms *syms;	/* --guest-syms; NULL none */
};

int rips_init(struct rip_table *t);
void rips_free(struct rip_table *t);
/* The row of key, made if new; NULL without memory. */
struct rip_row *rip_row_of(struct rip_table *t, const struct rip_key *key);

/* Is a guest address in the guest kernel's half?  x86-64 canonical upper
 * half, arm64 TTBR1 (both: bit 63 set); 32-bit guests' addresses never are. */
static inline bool rip_is_kernel(__u64 rip)
{
	return rip >> 63;
}

/* One reason's (class, code, detail) addresses for a guest, most first. */
struct rip_sum {
	struct rip_key key;	/* rip 0 */
	__u64 total, kernel;	/* all its exits with an address; in the kernel half */
	const struct rip_row **rows;
	size_t nr;
	const struct guest_syms *syms;	/* the table's, to name the addresses */
};
/* Guest pid's reasons, most exits first, into *out (the caller frees it
 * with rip_sums_free); 0 or -ENOMEM. */
int rip_sums(const struct rip_table *t, __u32 pid, struct rip_sum **out, size_t *nr);
void rip_sums_free(struct rip_sum *sums, size_t nr);

#endif
