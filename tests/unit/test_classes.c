// SPDX-License-Identifier: GPL-2.0
/* The class table: what every view reads, and the live view's sort keys. */
#include <string.h>
#include "unit.h"
#include "model/classes.h"
#if defined(__aarch64__)
#define HOST_IS_ARM64 1
#else
#define HOST_IS_ARM64 0
#endif

/* Every class has what every view reads, and the live view's sort keys are
 * distinct, one per class traced here. */
static void test_class_table(void)
{
	char seen[NR_CLASSES + 1] = "";
	int traced = 0;

	for (int c = 0; c < NR_CLASSES; c++) {
		const struct class_desc *d = &class_table[c];

		CHECK(d->name && d->column && d->color && (d->x86 || d->arm64), "class %d complete", c);
		CHECK(!!class_sort_key(c) == class_traced_here(c), "class %d: a key iff traced here", c);
		if (!class_sort_key(c))
			continue;
		CHECK(!strchr(seen, class_sort_key(c)), "class %d: key %c taken", c, class_sort_key(c));
		CHECK(class_of_sort_key(class_sort_key(c)) == c, "class %d: key round trip", c);
		seen[traced++] = class_sort_key(c);
	}
	CHECK(traced == (HOST_IS_ARM64 ? 7 : 8), "%d classes traced here", traced);
	CHECK(class_of_sort_key('0') == -1 && class_of_sort_key('q') == -1, "no class for other keys");
}

void unit_classes(void)
{
	test_class_table();
}
