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
	/* beyond traps: chosen with -e, they cost nothing otherwise */
	[CLASS_IRQ] = { .name = "irq", .column = "IRQ", .color = "#8c564b", .x86 = true, .arm64 = true,
			.optional = true },
	[CLASS_IPI] = { .name = "ipi", .column = "IPI", .color = "#e377c2", .x86 = true, .optional = true },
	[CLASS_PAGEFAULT] = { .name = "pagefault", .column = "PGFAULT", .color = "#7f7f7f", .x86 = true,
			      .optional = true },
	[CLASS_HALT] = { .name = "halt", .column = "HALT", .latency = "time waited", .color = "#bcbd22",
			 .x86 = true, .arm64 = true, .optional = true },
	[CLASS_NESTED] = { .name = "nested", .column = "NESTED", .color = "#aec7e8", .x86 = true,
			   .optional = true },
	/* --counters: KVM's statistics, no event traced */
	[CLASS_COUNTER] = { .name = "kvm", .column = "KVM", .latency = "KVM's halt histogram",
			    .color = "#ffbb78", .x86 = true, .arm64 = true, .optional = true, .counters = true },
};

/* -e's choice; 0 until classes_choose: the default set */
static unsigned long chosen;
/* those with an event attached; ~0 until the session says */
static unsigned long attached = ~0UL;

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

bool class_of_this_arch(unsigned int class)
{
	if (class >= NR_CLASSES)
		return false;
#if defined(__aarch64__)
	return class_table[class].arm64;
#else
	return class_table[class].x86;
#endif
}

unsigned long classes_default(void)
{
	unsigned long mask = 0;

	for (unsigned int c = 0; c < NR_CLASSES; c++)
		if (class_of_this_arch(c) && !class_table[c].optional)
			mask |= 1UL << c;
	return mask;
}

void classes_choose(unsigned long mask)
{
	chosen = mask;
}

bool class_traced_here(unsigned int class)
{
	return class_of_this_arch(class) && ((chosen ? chosen : classes_default()) >> class & 1);
}

const char *class_latency_label(unsigned int class)
{
	return class < NR_CLASSES ? class_table[class].latency : NULL;
}

char class_sort_key(unsigned int class)
{
	int n = 0;

	if (!class_traced_here(class))
		return 0;
	for (unsigned int c = 0; c < class; c++)
		n += class_traced_here(c);
	return n < 9 ? '1' + n : n == 9 ? '0' : 0;
}

int class_of_sort_key(int key)
{
	for (int c = 0; c < NR_CLASSES; c++)
		if (class_sort_key(c) && class_sort_key(c) == key)
			return c;
	return -1;
}

void classes_attached(unsigned long mask)
{
	attached = mask;
}

bool class_attached(unsigned int class)
{
	return class_traced_here(class) && (attached >> class & 1);
}

const char *class_untraced_why(unsigned int class)
{
	if (!class_traced_here(class))
		return "not chosen (-e)";
	return class_attached(class) ? NULL : "no event for it in this kernel";
}
