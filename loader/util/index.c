// SPDX-License-Identifier: GPL-2.0
/* The open-addressing hash index every table uses (util/index.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "util/index.h"

#define INDEX_MIN_SIZE 64

int index_init(struct index *ix, size_t size)
{
	ix->nr = 0;
	ix->slots = calloc(size, sizeof(*ix->slots));
	ix->size = ix->slots ? size : 0;
	return ix->slots ? 0 : -ENOMEM;
}

void index_free(struct index *ix)
{
	free(ix->slots);
	ix->slots = NULL;
	ix->size = ix->nr = 0;
}

/* Entry into the first empty slot of hash's probe sequence. */
static void put(size_t *slots, size_t size, size_t hash, size_t entry)
{
	size_t pos = hash & (size - 1);

	while (slots[pos])
		pos = (pos + 1) & (size - 1);
	slots[pos] = entry + 1;
}

static int rehash(struct index *ix, size_t size, index_hash_fn hash_of, const void *ctx)
{
	size_t *slots = calloc(size, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < ix->size; i++)
		if (ix->slots[i])
			put(slots, size, hash_of(ctx, ix->slots[i] - 1), ix->slots[i] - 1);
	free(ix->slots);
	ix->slots = slots;
	ix->size = size;
	return 0;
}

/* The size that holds nr entries under half full: at least INDEX_MIN_SIZE,
 * else doubling from the present one. */
static size_t size_for(const struct index *ix, size_t nr)
{
	size_t size = ix->size ? ix->size : INDEX_MIN_SIZE;

	while (nr * 2 > size)
		size *= 2;
	return size;
}

int index_reserve(struct index *ix, size_t nr, index_hash_fn hash_of, const void *ctx)
{
	size_t size = size_for(ix, nr);

	return size == ix->size ? 0 : rehash(ix, size, hash_of, ctx);
}

int index_add(struct index *ix, size_t hash, size_t entry, index_hash_fn hash_of, const void *ctx)
{
	if (index_reserve(ix, ix->nr + 1, hash_of, ctx))
		return -ENOMEM;
	put(ix->slots, ix->size, hash, entry);
	ix->nr++;
	return 0;
}

int index_refill(struct index *ix, size_t nr, index_hash_fn hash_of, const void *ctx)
{
	size_t size = nr ? size_for(ix, nr) : ix->size;

	if (size != ix->size) {
		index_free(ix);
		if (index_init(ix, size))
			return -ENOMEM;
	}
	if (ix->size)
		memset(ix->slots, 0, ix->size * sizeof(*ix->slots));
	for (size_t e = 0; e < nr; e++)
		put(ix->slots, ix->size, hash_of(ctx, e), e);
	ix->nr = nr;
	return 0;
}
