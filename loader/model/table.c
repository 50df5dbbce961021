// SPDX-License-Identifier: GPL-2.0
/* The in-memory table of traps: rows per (guest, thread, class, code),
 * guests and their threads, with totals that outlive the maps' entries.
 * Pure data: collect/map_reader.c fills it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "model/table.h"

#define ROUND_UP8(x) (((x) + 7) & ~(size_t)7)

int table_init(struct trap_table *s, const struct table_source *source)
{
	memset(s, 0, sizeof(*s));
	s->source = source;
	s->index_size = 1024;
	s->index = calloc(s->index_size, sizeof(*s->index));
	s->guest_index_size = s->thread_index_size = 64;
	s->guest_index = calloc(s->guest_index_size, sizeof(*s->guest_index));
	s->thread_index = calloc(s->thread_index_size, sizeof(*s->thread_index));
	if (!s->index || !s->guest_index || !s->thread_index)
		return -ENOMEM;
	return 0;
}

void table_free(struct trap_table *s)
{
	free(s->rows);
	free(s->index);
	free(s->guests);
	free(s->threads);
	free(s->guest_index);
	free(s->thread_index);
	memset(s, 0, sizeof(*s));
}

static size_t key_hash(const struct trap_key *k)
{
	__u64 h = 1469598103934665603ULL;
	const unsigned char *p = (const unsigned char *)k;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static int index_grow(struct trap_table *s)
{
	size_t size = s->index_size * 2, *index = calloc(size, sizeof(*index));

	if (!index)
		return -ENOMEM;
	for (size_t r = 0; r < s->nr_rows; r++) {
		size_t h = key_hash(&s->rows[r].key) & (size - 1);

		while (index[h])
			h = (h + 1) & (size - 1);
		index[h] = r + 1;
	}
	free(s->index);
	s->index = index;
	s->index_size = size;
	return 0;
}

/* Where pid (guests) or (pid, tid) (threads) starts its probe in an index.
 * A churning host meets tens of thousands of guests and threads: no linear
 * search per row. */
static size_t id_hash(__u32 pid, __u32 tid, size_t size)
{
	__u64 x = (__u64)pid << 32 | tid;

	/* murmur3's finalizer: every bit of pid and tid moves the low bits */
	x = (x ^ x >> 33) * 0xff51afd7ed558ccdULL;
	x = (x ^ x >> 33) * 0xc4ceb9fe1a85ec53ULL;
	return (x ^ x >> 33) & (size - 1);
}

/* Index of the live (not retired) guest of pid, or thread (pid, tid) of a
 * live guest, + 1; 0 when there is none.  Retired entries stay in the
 * index but never match. */
static size_t id_find(const struct trap_table *s, bool threads, const size_t *index, size_t size,
		      __u32 pid, __u32 tid)
{
	for (size_t h = id_hash(pid, tid, size); index[h]; h = (h + 1) & (size - 1)) {
		size_t i = index[h] - 1;

		if (threads ? s->threads[i].pid == pid && s->threads[i].tid == tid &&
			      !s->guests[s->threads[i].guest].retired :
			      s->guests[i].pid == pid && !s->guests[i].retired)
			return i + 1;
	}
	return 0;
}

/* The last retired guest of pid + 1, 0 when there is none. */
static size_t id_find_retired(const struct trap_table *s, const size_t *index, size_t size, __u32 pid)
{
	size_t last = 0;

	for (size_t h = id_hash(pid, 0, size); index[h]; h = (h + 1) & (size - 1))
		if (s->guests[index[h] - 1].pid == pid && index[h] > last)
			last = index[h];
	return last;
}

static void id_put(size_t *index, size_t size, __u32 pid, __u32 tid, size_t entry)
{
	size_t h = id_hash(pid, tid, size);

	while (index[h])
		h = (h + 1) & (size - 1);
	index[h] = entry;
}

/* Adds entry n (the last) to an index, growing it to stay under half full;
 * without memory the index goes and lookups are linear.  Guests and
 * threads are never removed, so no entry leaves an index. */
static void id_index_add(struct trap_table *s, bool threads, size_t **index, size_t *size, size_t n)
{
	if (*index && (n + 1) * 2 > *size) {
		free(*index);
		*index = calloc(*size * 2, sizeof(**index));
		*size *= 2;
		for (size_t i = 0; *index && i < n; i++)
			id_put(*index, *size, threads ? s->threads[i].pid : s->guests[i].pid,
			       threads ? s->threads[i].tid : 0, i + 1);
	}
	if (*index)
		id_put(*index, *size, threads ? s->threads[n].pid : s->guests[n].pid,
		       threads ? s->threads[n].tid : 0, n + 1);
}

/* The thread (pid, tid) of guest g (pid's live guest), created if need be. */
static struct thread *thread_of(struct trap_table *s, const struct guest *g, __u32 tid, const char *comm)
{
	__u32 pid = g->pid;
	struct thread *t;

	if (s->thread_index) {
		size_t i = id_find(s, true, s->thread_index, s->thread_index_size, pid, tid);

		if (i)
			return &s->threads[i - 1];
	} else {
		for (size_t i = 0; i < s->nr_threads; i++)
			if (s->threads[i].tid == tid && s->threads[i].pid == pid &&
			    !s->guests[s->threads[i].guest].retired)
				return &s->threads[i];
	}
	if (s->nr_threads == s->cap_threads) {
		size_t cap = s->cap_threads ? s->cap_threads * 2 : 64;

		t = realloc(s->threads, cap * sizeof(*t));
		if (!t)
			return NULL;
		s->threads = t;
		s->cap_threads = cap;
	}
	t = &s->threads[s->nr_threads++];
	t->pid = pid;
	t->tid = tid;
	t->guest = g - s->guests;
	t->vcpu = s->source ? s->source->thread_vcpu(pid, tid, comm) : -1;
	id_index_add(s, true, &s->thread_index, &s->thread_index_size, s->nr_threads - 1);
	return t;
}

/* The guest's name from the source (else the comm BPF saw, else "pidN");
 * false when it is "pidN". */
static bool name_guest(const struct trap_table *s, struct guest *g, const char *comm)
{
	if (s->source)
		return s->source->guest_name(g->pid, comm, g->name, sizeof(g->name));
	if (comm && *comm) {
		snprintf(g->name, sizeof(g->name), "%s", comm);
		return true;
	}
	snprintf(g->name, sizeof(g->name), "pid%u", g->pid);
	return false;
}

static struct guest *guest_of(struct trap_table *s, __u32 pid, const char *leader_comm)
{
	struct guest *g;

	if (s->guest_index) {
		size_t i = id_find(s, false, s->guest_index, s->guest_index_size, pid, 0);

		if (i)
			return &s->guests[i - 1];
	} else {
		for (size_t i = 0; i < s->nr_guests; i++)
			if (s->guests[i].pid == pid && !s->guests[i].retired)
				return &s->guests[i];
	}
	if (s->nr_guests == s->cap_guests) {
		size_t cap = s->cap_guests ? s->cap_guests * 2 : 16;

		g = realloc(s->guests, cap * sizeof(*g));
		if (!g)
			return NULL;
		s->guests = g;
		s->cap_guests = cap;
	}
	g = &s->guests[s->nr_guests++];
	memset(g, 0, sizeof(*g));
	g->pid = pid;
	g->id = s->nr_guests - 1;
	g->start_time = s->source ? s->source->start_time(pid) : 0;
	g->unnamed = !name_guest(s, g, leader_comm);
	id_index_add(s, false, &s->guest_index, &s->guest_index_size, s->nr_guests - 1);
	return g;
}

struct guest *table_guest(struct trap_table *s, __u32 pid)
{
	return guest_of(s, pid, NULL);
}

size_t table_rows_first(const struct trap_table *s, const struct guest *g)
{
	if (!s->guest_index)	/* a copy: every row */
		return 0;
	return g->first_row - 1;	/* 0 - 1: none */
}

size_t table_rows_next(const struct trap_table *s, size_t r)
{
	return s->guest_index ? s->rows[r].next_row - 1 : r + 1;
}

const struct guest *table_find_guest(const struct trap_table *s, __u32 pid)
{
	const struct guest *last = NULL;

	if (s->guest_index) {
		size_t i = id_find(s, false, s->guest_index, s->guest_index_size, pid, 0);

		if (!i)
			i = id_find_retired(s, s->guest_index, s->guest_index_size, pid);
		return i ? &s->guests[i - 1] : NULL;
	}
	for (size_t i = 0; i < s->nr_guests; i++)	/* a copy */
		if (s->guests[i].pid == pid && !(last = &s->guests[i])->retired)
			return last;
	return last;
}

void table_note_thread(struct trap_table *s, __u32 pid, __u32 tid, const char *comm,
		       const char *leader_comm)
{
	struct guest *g = guest_of(s, pid, leader_comm);

	if (!g)
		return;
	/* a map read met the guest before its ring buffer record, when its
	 * /proc was gone: the comm the record carries beats "pidN".  (A
	 * record for an ended guest is one of its last keys: it stays ended;
	 * a process that reuses the pid gets its own guest once this one's
	 * entries are deleted.) */
	if (g->unnamed && leader_comm && *leader_comm)
		g->unnamed = !name_guest(s, g, leader_comm);
	thread_of(s, g, tid, comm);
}

struct trap_row *table_row(struct trap_table *s, const struct trap_key *key, bool create)
{
	size_t h = key_hash(key) & (s->index_size - 1);
	struct trap_row *row;
	struct thread *t;
	struct guest *g;

	for (; s->index[h]; h = (h + 1) & (s->index_size - 1)) {
		row = &s->rows[s->index[h] - 1];
		if (!memcmp(&row->key, key, sizeof(*key)) && !s->guests[row->guest].retired)
			return row;
	}
	if (!create)
		return NULL;
	if (s->nr_rows == s->cap_rows) {
		size_t cap = s->cap_rows ? s->cap_rows * 2 : 256;

		row = realloc(s->rows, cap * sizeof(*row));
		if (!row)
			return NULL;
		s->rows = row;
		s->cap_rows = cap;
	}
	if ((s->nr_rows + 1) * 2 > s->index_size) {
		if (index_grow(s))
			return NULL;
		return table_row(s, key, true);
	}
	g = guest_of(s, key->tgid, NULL);
	t = g ? thread_of(s, g, key->tid, NULL) : NULL;
	if (!t)
		return NULL;
	row = &s->rows[s->nr_rows];
	memset(row, 0, sizeof(*row));
	row->key = *key;
	row->vcpu = t->vcpu;
	row->guest = g - s->guests;
	row->thread = t - s->threads;
	/* chained to its guest's rows */
	if (g->last_row)
		s->rows[g->last_row - 1].next_row = s->nr_rows + 1;
	else
		g->first_row = s->nr_rows + 1;
	g->last_row = s->nr_rows + 1;
	s->index[h] = ++s->nr_rows;
	return row;
}

__u64 table_total_drops(const struct trap_table *s)
{
	__u64 sum = 0;

	for (int d = 0; d < NR_DROPS; d++)
		sum += s->drops[d];
	return sum;
}
