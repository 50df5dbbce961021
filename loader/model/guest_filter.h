/* SPDX-License-Identifier: GPL-2.0 */
#ifndef GUEST_FILTER_H
#define GUEST_FILTER_H

#include <stdbool.h>
#include "model/table.h"

/* Does the guest's name (as shown, escaped) match one of the shell globs?
 * With no globs every guest does. */
bool guest_name_matches(const char *name, const char *const *globs, int nr_globs);

/* dst = the guests of src whose name matches, with only their threads and
 * rows: what -g NAME leaves for the tables, summary, CSV and JSON.  dst has
 * no row index (read it, do not add to it); free it with table_free.
 * Returns 0 or -ENOMEM. */
int table_select(struct trap_table *dst, const struct trap_table *src, const char *const *globs,
		 int nr_globs);

/* dst = thread (an index in src->threads) alone, with its guest and its
 * rows: --per-vcpu's tables.  0 or -ENOMEM. */
int table_select_thread(struct trap_table *dst, const struct trap_table *src, size_t thread);

#endif
