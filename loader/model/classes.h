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
	bool optional;		/* not in the default set: -e chooses it */
	bool counters;		/* KVM's own counters: --counters alone shows it, never -e */
};

extern const struct class_desc class_table[NR_CLASSES];

/* "exit", "hypercall", ... ; NULL past NR_CLASSES. */
const char *class_name(unsigned int class);
/* Class index of a name, or -1. */
int class_from_name(const char *name);
/* Is the class traced in this run: this build's architecture has it and
 * it is chosen (-e; by default the classes that are not optional)? */
bool class_traced_here(unsigned int class);
/* Does this build's architecture have the class at all? */
bool class_of_this_arch(unsigned int class);
/* -e: the classes a run traces, a bit per class (0: the default set). */
void classes_choose(unsigned long mask);
/* The chosen classes that have an event attached in this kernel (the
 * session sets it from the plan); the outputs say which are not. */
void classes_attached(unsigned long mask);
bool class_attached(unsigned int class);
/* Why a class of this architecture is not traced: "not chosen (-e)",
 * "no event for it in this kernel"; NULL when it is. */
const char *class_untraced_why(unsigned int class);
unsigned long classes_default(void);
/* What its latency histogram measures, NULL when it has none. */
const char *class_latency_label(unsigned int class);
/* The live view's key that sorts by the class's rate: '1' ... '9', '0' in
 * table order over the classes traced here; 0 for the others (s cycles
 * through every sort). */
char class_sort_key(unsigned int class);
/* The class a sort key picks, -1 for none. */
int class_of_sort_key(int key);

#endif
