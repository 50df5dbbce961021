/* SPDX-License-Identifier: GPL-2.0 */
#ifndef INDEX_H
#define INDEX_H

#include <stddef.h>
#include <linux/types.h>

/* One open-addressing hash index over entries kept elsewhere (an array):
 * a slot holds entry + 1, 0 is empty; linear probing; it grows to stay
 * under half full, so a lookup is O(1).  Entries are never removed one by
 * one (index_refill starts over).  The index knows no keys: the caller
 * hashes and compares, probing with index_first/index_next:
 *
 *	size_t pos;
 *
 *	for (size_t e = index_first(ix, h, &pos); e != INDEX_NONE; e = index_next(ix, &pos))
 *		if (same_key(&entries[e], key))
 *			return &entries[e];
 *
 * An index without slots (size 0) finds nothing. */
struct index {
	size_t *slots;
	size_t size;	/* a power of two, or 0 */
	size_t nr;	/* entries */
};

#define INDEX_NONE ((size_t)-1)

/* An entry's hash, for rehashing as the index grows. */
typedef size_t (*index_hash_fn)(const void *ctx, size_t entry);

/* size: a power of two.  0, or -ENOMEM (then it has no slots). */
int index_init(struct index *ix, size_t size);
void index_free(struct index *ix);

/* Grows the index, if need be, so that it holds nr entries in all while
 * under half full (from no slots to at least 64), rehashing the entries it
 * has with hash_of(ctx, entry).  0, or -ENOMEM with the index as it was. */
int index_reserve(struct index *ix, size_t nr, index_hash_fn hash_of, const void *ctx);

/* Adds entry, whose key the caller has found missing, under hash, after
 * index_reserve for one more: 0, or -ENOMEM with the index as it was (never
 * after a reserve for it). */
int index_add(struct index *ix, size_t hash, size_t entry, index_hash_fn hash_of, const void *ctx);

/* Empties the index and adds entries 0 to nr - 1 again (the caller moved
 * or dropped some), growing if need be.  0, or -ENOMEM (then it is empty). */
int index_refill(struct index *ix, size_t nr, index_hash_fn hash_of, const void *ctx);

/* The first entry that may have the key of hash, or INDEX_NONE. */
static inline size_t index_first(const struct index *ix, size_t hash, size_t *pos)
{
	if (!ix->size)
		return INDEX_NONE;
	*pos = hash & (ix->size - 1);
	return ix->slots[*pos] - 1;	/* an empty slot: 0 - 1 */
}

/* The next one after *pos, or INDEX_NONE. */
static inline size_t index_next(const struct index *ix, size_t *pos)
{
	*pos = (*pos + 1) & (ix->size - 1);
	return ix->slots[*pos] - 1;
}

/* FNV-1a over size bytes (keys without padding, or zeroed first). */
static inline size_t hash_bytes(const void *p, size_t size, __u64 seed)
{
	__u64 h = 14695981039346656037ULL ^ seed;	/* the offset basis */
	const unsigned char *b = p;

	for (size_t i = 0; i < size; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

/* murmur3's 64-bit finalizer: every bit of x moves the low bits. */
static inline size_t hash_u64(__u64 x)
{
	x = (x ^ x >> 33) * 0xff51afd7ed558ccdULL;
	x = (x ^ x >> 33) * 0xc4ceb9fe1a85ec53ULL;
	return x ^ x >> 33;
}

/* A process (tid 0) or a thread. */
static inline size_t hash_pid_tid(__u32 pid, __u32 tid)
{
	return hash_u64((__u64)pid << 32 | tid);
}

#endif
