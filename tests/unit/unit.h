/* SPDX-License-Identifier: GPL-2.0 */
/* The unit tests of the loader, a file per module (tests/unit/test_*.c):
 * each file's entry point, which main.c calls, and the helpers they share.
 * One pair of check counters for them all, defined in main.c. */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <linux/types.h>
#define CHECK_SHARED_COUNTERS
#include "../check.h"

void unit_probes(void);
void unit_classes(void);
void unit_record_btf(void);
void unit_names(void);
void unit_summary(void);
void unit_latency(void);
void unit_csv(void);
void unit_procfs(void);
void unit_guest_filter(void);
void unit_options(void);
void unit_table(void);
void unit_outfile(void);
void unit_insns(void);
void unit_util(void);
void unit_counters(void);

/* helpers.c */
char *capture(void (*fn)(FILE *, void *), void *arg);
const char *name_of(unsigned int class, __u64 code);
void summary_of(FILE *f, void *arg);
void json_of(FILE *f, void *arg);
void csv_histograms_of(FILE *f, void *arg);

#endif
