// SPDX-License-Identifier: GPL-2.0
/* The class table every view reads. */
#include <string.h>
#include "model/classes.h"

/* Colours: Tableau 10, and one more for arm64's fault class. */
const struct class_desc class_table[NR_CLASSES] = {
	[CLASS_EXIT] = { .name = "exit", .column = "EXIT", .latency = "exit->entry",
			 .color = "#4e79a7", .x86 = true, .arm64 = true },
	[CLASS_HYPERCALL] = { .name = "hypercall", .column = "HCALL", .color = "#f28e2b",
			      .x86 = true, .arm64 = true },
	[CLASS_EMULATE] = { .name = "emulate", .column = "EMUL", .color = "#e15759", .x86 = true },
	[CLASS_PIO] = { .name = "pio", .column = "PIO", .color = "#76b7b2", .x86 = true },
	[CLASS_MMIO] = { .name = "mmio", .column = "MMIO", .color = "#59a14f", .x86 = true,
			 .arm64 = true },
	[CLASS_USERSPACE] = { .name = "userspace", .column = "VMM", .latency = "time in VMM",
			      .color = "#edc948", .x86 = true, .arm64 = true },
	[CLASS_MSR] = { .name = "msr", .column = "MSR", .color = "#b07aa1", .x86 = true },
	[CLASS_CPUID] = { .name = "cpuid", .column = "CPUID", .color = "#ff9da7", .x86 = true },
	[CLASS_WFX] = { .name = "wfx", .column = "WFX", .color = "#9c755f", .arm64 = true },
	[CLASS_SYSREG] = { .name = "sysreg", .column = "SYSREG", .color = "#bab0ac", .arm64 = true },
	[CLASS_FAULT] = { .name = "fault", .column = "FAULT", .color = "#17becf", .arm64 = true },
};

const char *class_name(unsigned int class)
{
	return class < NR_CLASSES ? class_table[class].name : NULL;
}

int class_from_name(const char *name)
{
	for (int i = 0; i < NR_CLASSES; i++)
		if (!strcmp(name, class_table[i].name))
			return i;
	return -1;
}

bool class_traced_here(unsigned int class)
{
	if (class >= NR_CLASSES)
		return false;
#if defined(__aarch64__)
	return class_table[class].arm64;
#else
	return class_table[class].x86;
#endif
}

const char *class_latency_label(unsigned int class)
{
	return class < NR_CLASSES ? class_table[class].latency : NULL;
}

char class_sort_key(unsigned int class)
{
	char key = '1';

	if (!class_traced_here(class))
		return 0;
	for (unsigned int c = 0; c < class; c++)
		key += class_traced_here(c);
	return key;
}

int class_of_sort_key(int key)
{
	for (int c = 0; c < NR_CLASSES; c++)
		if (class_sort_key(c) && class_sort_key(c) == key)
			return c;
	return -1;
}
