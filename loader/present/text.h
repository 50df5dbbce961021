/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TEXT_H
#define TEXT_H

#include <stdio.h>
#include "cli/options.h"
#include "model/table.h"

/* The batch table of one interval (-b, or stdout not a terminal). */
void report_interval(FILE *out, const struct trap_table *s, double interval_s, double elapsed_s,
		     enum code_order order);
/* The summary at the end: per guest its details (present/lines.h), at
 * most top codes per class. */
/* How the summary shows codes: at most top per class (0 all), in order,
 * and with per_vcpu each vCPU thread's too. */
struct summary_view {
	int top;
	enum code_order order;
	bool per_vcpu;
	long max_keys, max_guest_keys;	/* the map sizes, for the drops' advice */
};
void report_summary(FILE *out, const struct trap_table *s, double elapsed_s, const struct summary_view *sv);

#endif
