// SPDX-License-Identifier: GPL-2.0
/* Emulated instructions in full (--insns) and failed emulations: totals
 * per guest and instruction, grouped and named by capstone. */
#include <stdlib.h>
#include <string.h>
#include "model/insns.h"
#include "util/disasm.h"
#include "util/index.h"
#include "util/vec.h"

int insns_init(struct insn_table *t)
{
	memset(t, 0, sizeof(*t));
	return index_init(&t->index, 256);
}

void insns_free(struct insn_table *t)
{
	free(t->rows);
	index_free(&t->index);
	memset(t, 0, sizeof(*t));
}

static size_t key_hash(const struct insn_key *k, bool failed)
{
	return hash_bytes(k, sizeof(*k), failed);
}

static size_t row_hash(const void *t, size_t r)
{
	const struct insn_row *row = &((const struct insn_table *)t)->rows[r];

	return key_hash(&row->key, row->failed);
}

struct insn_row *insn_row_of(struct insn_table *t, const struct insn_key *k, bool failed)
{
	size_t h = key_hash(k, failed), pos;
	struct insn_row *r;

	for (size_t i = index_first(&t->index, h, &pos); i != INDEX_NONE;
	     i = index_next(&t->index, &pos)) {
		r = &t->rows[i];
		if (r->failed == failed && !memcmp(&r->key, k, sizeof(*k)))
			return r;
	}
	if (VEC_GROW(t->rows, t->cap, t->nr + 1) || index_add(&t->index, h, t->nr, row_hash, t))
		return NULL;
	r = &t->rows[t->nr++];
	memset(r, 0, sizeof(*r));
	r->key = *k;
	r->failed = failed;
	return r;
}

/* Same instruction: mode, length, bytes (not the address). */
static int same_insn(const struct insn_key *a, const struct insn_key *b)
{
	if (a->mode != b->mode)
		return a->mode < b->mode ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

static int by_insn_then_rip(const void *x, const void *y)
{
	const struct insn_row *a = *(const struct insn_row *const *)x;
	const struct insn_row *b = *(const struct insn_row *const *)y;
	int d = same_insn(&a->key, &b->key);

	if (d)
		return d;
	return a->key.rip < b->key.rip ? -1 : a->key.rip > b->key.rip;
}

static int by_count(const void *x, const void *y)
{
	const struct insn_sum *a = x, *b = y;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return same_insn(&a->key, &b->key);
}

void insn_sums_free(struct insn_sum *sums, size_t nr)
{
	for (size_t i = 0; sums && i < nr; i++)
		free(sums[i].ranges);
	free(sums);
}

struct insn_sum *insn_sums(const struct insn_table *t, __u32 pid, bool failed, size_t *nr)
{
	const struct insn_row **rows = calloc(t && t->nr ? t->nr : 1, sizeof(*rows));
	struct insn_sum *sums = calloc(t && t->nr ? t->nr : 1, sizeof(*sums));
	size_t n = 0, k = 0;

	*nr = 0;
	if (!rows || !sums) {
		free(rows);
		free(sums);
		return NULL;
	}
	for (size_t i = 0; t && i < t->nr; i++)
		if (t->rows[i].key.tgid == pid && t->rows[i].failed == failed && t->rows[i].count)
			rows[n++] = &t->rows[i];
	qsort(rows, n, sizeof(*rows), by_insn_then_rip);
	for (size_t i = 0; i < n; i++) {
		const struct insn_row *r = rows[i];
		struct insn_sum *s = k ? &sums[k - 1] : NULL;
		struct insn_range *last;

		if (!s || same_insn(&s->key, &r->key)) {	/* a new instruction */
			s = &sums[k++];
			s->key = r->key;
			s->failed = failed;
			s->ranges = calloc(n - i, sizeof(*s->ranges));
			if (!s->ranges) {
				insn_sums_free(sums, k);
				free(rows);
				return NULL;
			}
		}
		s->count += r->count;
		s->interval += r->interval;
		if (failed) {
			s->last_rip = r->last_rip;
			continue;
		}
		/* addresses in order: one range while each follows the last
		 * occurrence within its length (a run of the same instruction) */
		last = s->nr_ranges ? &s->ranges[s->nr_ranges - 1] : NULL;
		if (last && r->key.rip != RIP_UNKNOWN && last->hi != RIP_UNKNOWN &&
		    r->key.rip <= last->hi + r->key.len)
			last->hi = r->key.rip;
		else
			s->ranges[s->nr_ranges++] = (struct insn_range){ r->key.rip, r->key.rip };
	}
	free(rows);
	for (size_t i = 0; i < k; i++)
		insn_text(&sums[i].key, failed ? sums[i].last_rip : sums[i].key.rip, sums[i].text,
			  sizeof(sums[i].text));
	qsort(sums, k, sizeof(*sums), by_count);
	*nr = k;
	return sums;
}

void insn_text(const struct insn_key *key, __u64 rip, char *buf, size_t size)
{
	size_t len = key->len < INSN_BYTES ? key->len : INSN_BYTES;
	struct disasm_insn insn;

	/* exactly the bytes the emulator took: more would let capstone read
	 * what it did not, fewer (a failed decode) leave it undecodable */
	if (disasm_x86(key->mode, key->bytes, len, rip == RIP_UNKNOWN ? 0 : rip, &insn) &&
	    insn.size == len)
		snprintf(buf, size, "%s%s%s", insn.mnemonic, insn.op_str[0] ? " " : "", insn.op_str);
	else
		snprintf(buf, size, "undecodable");
}

void insn_hex(const struct insn_key *key, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < key->len && i < INSN_BYTES && o + 4 <= size; i++)
		o += snprintf(buf + o, size - o, "%s%02x", i ? " " : "", key->bytes[i]);
}

void insn_ranges_text(const struct insn_sum *s, size_t max, char *buf, size_t size)
{
	size_t o = 0, shown = max && s->nr_ranges > max ? max : s->nr_ranges;

	buf[0] = '\0';
	for (size_t i = 0; i < shown && o < size; i++) {
		const struct insn_range *r = &s->ranges[i];

		if (r->lo == RIP_UNKNOWN)
			o += snprintf(buf + o, size - o, "%s?", i ? " " : "");
		else if (r->lo == r->hi)
			o += snprintf(buf + o, size - o, "%s0x%llx", i ? " " : "", (unsigned long long)r->lo);
		else
			o += snprintf(buf + o, size - o, "%s0x%llx-0x%llx", i ? " " : "",
				      (unsigned long long)r->lo, (unsigned long long)r->hi);
	}
	if (shown < s->nr_ranges && o < size)
		snprintf(buf + o, size - o, " +%zu more", s->nr_ranges - shown);
}
