/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VEC_H
#define VEC_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VEC_MIN_CAP 16

/* Makes room for need items in the array *items_ptr points to (a pointer
 * to any object type), of *cap items of item_size bytes: the capacity
 * doubles (from VEC_MIN_CAP) until it holds need.  0, or -ENOMEM with the
 * array and *cap as they were. */
static inline int vec_grow(void *items_ptr, size_t *cap, size_t need, size_t item_size)
{
	size_t n = *cap ? *cap : VEC_MIN_CAP;
	void *items;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	if (n > SIZE_MAX / item_size)
		return -ENOMEM;
	memcpy(&items, items_ptr, sizeof(items));	/* no aliasing of T * as void * */
	items = realloc(items, n * item_size);
	if (!items)
		return -ENOMEM;
	memcpy(items_ptr, &items, sizeof(items));
	*cap = n;
	return 0;
}

/* vec_grow on an array variable: VEC_GROW(t->rows, t->cap, t->nr + 1). */
#define VEC_GROW(items, cap, need) vec_grow(&(items), &(cap), (need), sizeof(*(items)))

#endif
