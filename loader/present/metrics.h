/* SPDX-License-Identifier: GPL-2.0 */
#ifndef METRICS_H
#define METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include "model/table.h"
#include "util/index.h"

#define METRICS_DEFAULT_MAX_SERIES 10000
#define METRICS_DEFAULT_GRACE_S 300.0

/* What /metrics shows and how much of it: the label sets admitted so far
 * stay admitted (so every exposed counter only goes up); past the cap new
 * label sets are folded into kvmprof_traps_folded_total. */
struct metrics {
	bool no_vcpu, no_code;	/* aggregate these labels away */
	size_t max_series;	/* label sets of kvmprof_traps_total */
	double grace_s;		/* an ended guest stays this long */
	struct series_slot *slots;	/* admitted or folded keys, as first seen */
	size_t nr_slots, cap_slots, admitted;
	struct index slot_index;	/* slots by key */
	struct ended_guest *ended;	/* when each guest was first seen ended */
	size_t nr_ended, cap_ended;
	__u64 folded_series;	/* label sets ever folded */
	__u64 folded_base;	/* folded traps of guests already dropped */
};

void metrics_init(struct metrics *m, bool no_vcpu, bool no_code, size_t max_series,
		  double grace_s);
void metrics_free(struct metrics *m);

/* The Prometheus text exposition (format 0.0.4) of s at monotonic time
 * now_s, in a malloc'd buffer.  Returns 0 or -ENOMEM. */
int metrics_render(struct metrics *m, const struct trap_table *s, double now_s, char **buf,
		   size_t *len);

/* A label value escaped per the format: \ " and newline. */
void metrics_escape(const char *in, char *out, size_t size);

#endif
