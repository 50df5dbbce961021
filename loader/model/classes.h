/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CLASSES_H
#define CLASSES_H

#include <stdbool.h>
#include "kvmprof.h"

/* One class of trap: everything every view needs to know of it.  A new
 * class is an entry here (classes.c) plus its BPF program and its event
 * in collect/probes.c. */
struct class_desc {
	const char *name;	/* "pio": CSV, JSON, metrics label, report */
	const char *column;	/* "PIO": the tables' column title */
	const char *latency;	/* what its latency histogram measures; NULL: it has none */
	const char *color;	/* the HTML report's */
	bool x86, arm64;	/* the architectures that have it */
};

extern const struct class_desc class_table[NR_CLASSES];

/* "exit", "hypercall", ... ; NULL past NR_CLASSES. */
const char *class_name(unsigned int class);
/* Class index of a name, or -1. */
int class_from_name(const char *name);
/* Can this build's architecture see the class at all? */
bool class_traced_here(unsigned int class);
/* What its latency histogram measures, NULL when it has none. */
const char *class_latency_label(unsigned int class);
/* The live view's key that sorts by the class's rate: '1', '2', ... in
 * table order over the classes traced here; 0 for the others. */
char class_sort_key(unsigned int class);
/* The class a sort key picks, -1 for none. */
int class_of_sort_key(int key);

#endif
