// SPDX-License-Identifier: GPL-2.0
/* Emulated instructions in full (--insns) and failed emulations: totals
 * per guest and instruction, grouped and named by capstone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <capstone/capstone.h>
#include "model/insns.h"

int insns_init(struct insn_table *t)
{
	memset(t, 0, sizeof(*t));
	t->index_size = 256;
	t->index = calloc(t->index_size, sizeof(*t->index));
	return t->index ? 0 : -ENOMEM;
}

void insns_free(struct insn_table *t)
{
	free(t->rows);
	free(t->index);
	memset(t, 0, sizeof(*t));
}

static size_t key_hash(const struct insn_key *k, bool failed)
{
	__u64 h = 1469598103934665603ULL ^ failed;
	const unsigned char *p = (const unsigned char *)k;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static size_t *slot_of(const struct insn_table *t, size_t *index, size_t size,
		       const struct insn_key *k, bool failed)
{
	size_t h = key_hash(k, failed) & (size - 1);

	for (; index[h]; h = (h + 1) & (size - 1)) {
		const struct insn_row *r = &t->rows[index[h] - 1];

		if (r->failed == failed && !memcmp(&r->key, k, sizeof(*k)))
			break;
	}
	return &index[h];
}

struct insn_row *insn_row_of(struct insn_table *t, const struct insn_key *k, bool failed)
{
	size_t *slot = slot_of(t, t->index, t->index_size, k, failed);
	struct insn_row *r;

	if (*slot)
		return &t->rows[*slot - 1];
	if ((t->nr + 1) * 2 > t->index_size) {	/* stay under half full */
		size_t size = t->index_size * 2, *index = calloc(size, sizeof(*index));

		if (!index)
			return NULL;
		for (size_t i = 0; i < t->nr; i++)
			*slot_of(t, index, size, &t->rows[i].key, t->rows[i].failed) = i + 1;
		free(t->index);
		t->index = index;
		t->index_size = size;
		slot = slot_of(t, t->index, t->index_size, k, failed);
	}
	if (t->nr == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 128;

		r = realloc(t->rows, cap * sizeof(*r));
		if (!r)
			return NULL;
		t->rows = r;
		t->cap = cap;
	}
	r = &t->rows[t->nr];
	memset(r, 0, sizeof(*r));
	r->key = *k;
	r->failed = failed;
	*slot = ++t->nr;
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
	static csh handles[3];
	static bool opened[3];
	const cs_mode modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
	int h = key->mode == 9 ? 2 : key->mode == 5 ? 1 : 0;	/* prot64, prot32, else 16-bit */
	size_t len = key->len < INSN_BYTES ? key->len : INSN_BYTES;
	cs_insn *insn;

	snprintf(buf, size, "undecodable");
	if (!opened[h]) {
		if (cs_open(CS_ARCH_X86, modes[h], &handles[h]) != CS_ERR_OK)
			return;
		opened[h] = true;
	}
	/* exactly the bytes the emulator took: more would let capstone read
	 * what it did not, fewer (a failed decode) leave it undecodable */
	if (cs_disasm(handles[h], key->bytes, len, rip == RIP_UNKNOWN ? 0 : rip, 1, &insn) != 1)
		return;
	if (insn->size == len)
		snprintf(buf, size, "%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "", insn->op_str);
	cs_free(insn, 1);
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
