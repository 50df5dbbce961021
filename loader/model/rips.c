// SPDX-License-Identifier: GPL-2.0
/* --rip: exits by guest address, totals per guest and reason. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "model/rips.h"
#include "util/vec.h"

int rips_init(struct rip_table *t)
{
	memset(t, 0, sizeof(*t));
	return index_init(&t->index, 256);
}

void rips_free(struct rip_table *t)
{
	free(t->rows);
	index_free(&t->index);
	memset(t, 0, sizeof(*t));
}

static size_t row_hash(const void *t, size_t r)
{
	return hash_bytes(&((const struct rip_table *)t)->rows[r].key, sizeof(struct rip_key), 0);
}

struct rip_row *rip_row_of(struct rip_table *t, const struct rip_key *k)
{
	size_t h = hash_bytes(k, sizeof(*k), 0), pos;

	for (size_t i = index_first(&t->index, h, &pos); i != INDEX_NONE; i = index_next(&t->index, &pos))
		if (!memcmp(&t->rows[i].key, k, sizeof(*k)))
			return &t->rows[i];
	if (VEC_GROW(t->rows, t->cap, t->nr + 1) || index_add(&t->index, h, t->nr, row_hash, t))
		return NULL;
	memset(&t->rows[t->nr], 0, sizeof(t->rows[0]));
	t->rows[t->nr].key = *k;
	return &t->rows[t->nr++];
}

static bool same_reason(const struct rip_key *a, const struct rip_key *b)
{
	return a->class == b->class && a->code == b->code && a->detail_flags == b->detail_flags &&
	       a->detail == b->detail;
}

static int by_count(const void *x, const void *y)
{
	const struct rip_row *a = *(const struct rip_row *const *)x, *b = *(const struct rip_row *const *)y;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return a->key.rip < b->key.rip ? -1 : a->key.rip > b->key.rip;
}

static int by_total(const void *x, const void *y)
{
	const struct rip_sum *a = x, *b = y;

	if (a->total != b->total)
		return a->total > b->total ? -1 : 1;
	return a->key.code < b->key.code ? -1 : a->key.code > b->key.code;
}

int rip_sums(const struct rip_table *t, __u32 pid, struct rip_sum **out, size_t *nr)
{
	struct rip_sum *sums = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	*nr = 0;
	for (size_t i = 0; i < t->nr; i++) {
		const struct rip_row *r = &t->rows[i];
		struct rip_sum *s = NULL;

		if (r->key.tgid != pid || !r->count)
			continue;
		for (size_t j = 0; j < n && !s; j++)
			if (same_reason(&sums[j].key, &r->key))
				s = &sums[j];
		if (!s) {
			if (VEC_GROW(sums, cap, n + 1))
				goto fail;
			s = &sums[n++];
			memset(s, 0, sizeof(*s));
			s->key = r->key;
			s->key.rip = 0;
			s->syms = t->syms;
		}
		s->rows = realloc(s->rows, (s->nr + 1) * sizeof(*s->rows));
		if (!s->rows)
			goto fail;
		s->rows[s->nr++] = r;
		s->total += r->count;
		s->kernel += rip_is_kernel(r->key.rip) ? r->count : 0;
	}
	for (size_t j = 0; j < n; j++)
		qsort(sums[j].rows, sums[j].nr, sizeof(*sums[j].rows), by_count);
	qsort(sums, n, sizeof(*sums), by_total);
	*out = sums;
	*nr = n;
	return 0;
fail:
	rip_sums_free(sums, n);
	return -ENOMEM;
}

void rip_sums_free(struct rip_sum *sums, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(sums[i].rows);
	free(sums);
}
