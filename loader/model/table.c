// SPDX-License-Identifier: GPL-2.0
/* The in-memory table of traps: rows per (guest, thread, class, code),
 * guests and their threads, with totals that outlive the maps' entries.
 * Pure data: collect/map_reader.c fills it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "model/table.h"
#include "util/index.h"
#include "util/vec.h"

int table_init(struct trap_table *s, const struct table_source *source)
{
	static unsigned long tables;

	memset(s, 0, sizeof(*s));
	s->serial = ++tables;
	s->source = source;
	if (index_init(&s->row_index, 1024) || index_init(&s->guest_index, 64) ||
	    index_init(&s->thread_index, 64))
		return -ENOMEM;
	return 0;
}

void table_free(struct trap_table *s)
{
	free(s->rows);
	free(s->guests);
	free(s->threads);
	index_free(&s->row_index);
	index_free(&s->guest_index);
	index_free(&s->thread_index);
	memset(s, 0, sizeof(*s));
}

/* Three words through murmur3's finalizer: a byte-wise hash of the 24
 * bytes cost a read of a host's maps more than the lookup itself. */
static size_t key_hash(const struct trap_key *k)
{
	__u64 w[3];

	_Static_assert(sizeof(*k) == sizeof(w), "trap_key: three words, no padding");
	memcpy(w, k, sizeof(w));
	return hash_u64(w[0] ^ hash_u64(w[1] ^ hash_u64(w[2])));
}

static size_t row_hash(const void *s, size_t r)
{
	return key_hash(&((const struct trap_table *)s)->rows[r].key);
}

/* Guests by pid and threads by (pid, tid): a churning host meets tens of
 * thousands of them, so no linear search per row. */
static size_t guest_hash(const void *s, size_t g)
{
	return hash_pid_tid(((const struct trap_table *)s)->guests[g].pid, 0);
}

static size_t thread_hash(const void *s, size_t t)
{
	const struct thread *th = &((const struct trap_table *)s)->threads[t];

	return hash_pid_tid(th->pid, th->tid);
}

/* Retired guests, and the threads of retired guests, stay in the indexes
 * but never match. */
static bool is_live_guest(const struct trap_table *s, size_t g, __u32 pid)
{
	return s->guests[g].pid == pid && !s->guests[g].retired;
}

static bool is_live_thread(const struct trap_table *s, size_t t, __u32 pid, __u32 tid)
{
	return s->threads[t].pid == pid && s->threads[t].tid == tid &&
	       !s->guests[s->threads[t].guest].retired;
}

/* The live guest of pid, or NULL; without a guest index (a table_select
 * copy, or after running out of memory) by a linear search. */
static struct guest *live_guest(const struct trap_table *s, __u32 pid)
{
	const struct index *ix = &s->guest_index;
	size_t pos;

	if (!ix->size) {
		for (size_t i = 0; i < s->nr_guests; i++)
			if (is_live_guest(s, i, pid))
				return &s->guests[i];
		return NULL;
	}
	for (size_t i = index_first(ix, hash_pid_tid(pid, 0), &pos); i != INDEX_NONE;
	     i = index_next(ix, &pos))
		if (is_live_guest(s, i, pid))
			return &s->guests[i];
	return NULL;
}

/* The thread (pid, tid) of pid's live guest, or NULL; likewise. */
static struct thread *live_thread(const struct trap_table *s, __u32 pid, __u32 tid)
{
	const struct index *ix = &s->thread_index;
	size_t pos;

	if (!ix->size) {
		for (size_t i = 0; i < s->nr_threads; i++)
			if (is_live_thread(s, i, pid, tid))
				return &s->threads[i];
		return NULL;
	}
	for (size_t i = index_first(ix, hash_pid_tid(pid, tid), &pos); i != INDEX_NONE;
	     i = index_next(ix, &pos))
		if (is_live_thread(s, i, pid, tid))
			return &s->threads[i];
	return NULL;
}

/* Adds a new guest or thread to its index; without memory the index goes
 * and lookups are linear.  Guests and threads are never removed, so no
 * entry leaves an index. */
static void index_entry(struct trap_table *s, struct index *ix, size_t hash, size_t entry,
			index_hash_fn hash_of)
{
	if (ix->size && index_add(ix, hash, entry, hash_of, s))
		index_free(ix);
}

/* The thread (pid, tid) of guest g (pid's live guest), created if need be. */
static struct thread *thread_of(struct trap_table *s, const struct guest *g, __u32 tid, const char *comm)
{
	__u32 pid = g->pid;
	struct thread *t = live_thread(s, pid, tid);

	if (t)
		return t;
	if (VEC_GROW(s->threads, s->cap_threads, s->nr_threads + 1))
		return NULL;
	t = &s->threads[s->nr_threads++];
	*t = (struct thread){ .pid = pid, .tid = tid, .guest = g - s->guests };
	t->vcpu = s->source ? s->source->thread_vcpu(pid, tid, comm) : -1;
	if (s->source && s->source->thread_start_ns)
		t->time.start_ns = s->source->thread_start_ns(pid, tid);
	index_entry(s, &s->thread_index, hash_pid_tid(pid, tid), s->nr_threads - 1, thread_hash);
	return t;
}

/* The guest's name from the source (else the comm BPF saw, else "pidN");
 * false when it is "pidN". */
static bool name_guest(const struct trap_table *s, struct guest *g, const struct process_seen *seen)
{
	if (s->source)
		return s->source->guest_name(g->pid, seen, g->name, sizeof(g->name));
	if (seen && seen->comm && *seen->comm) {
		snprintf(g->name, sizeof(g->name), "%s", seen->comm);
		return true;
	}
	snprintf(g->name, sizeof(g->name), "pid%u", g->pid);
	return false;
}

static struct guest *guest_of(struct trap_table *s, __u32 pid, const struct process_seen *seen)
{
	struct guest *g = live_guest(s, pid);

	if (g)
		return g;
	if (VEC_GROW(s->guests, s->cap_guests, s->nr_guests + 1))
		return NULL;
	g = &s->guests[s->nr_guests++];
	memset(g, 0, sizeof(*g));
	g->pid = pid;
	g->id = s->nr_guests - 1;
	g->start_time = s->source ? s->source->start_time(pid) : 0;
	g->unnamed = !name_guest(s, g, seen);
	index_entry(s, &s->guest_index, hash_pid_tid(pid, 0), s->nr_guests - 1, guest_hash);
	return g;
}

struct guest *table_guest(struct trap_table *s, __u32 pid)
{
	return guest_of(s, pid, NULL);
}

size_t table_rows_first(const struct trap_table *s, const struct guest *g)
{
	if (!s->guest_index.size)	/* a copy: every row */
		return 0;
	return g->first_row - 1;	/* 0 - 1: none */
}

size_t table_rows_next(const struct trap_table *s, size_t r)
{
	return s->guest_index.size ? s->rows[r].next_row - 1 : r + 1;
}

const struct guest *table_find_guest(const struct trap_table *s, __u32 pid)
{
	const struct guest *last = live_guest(s, pid);
	const struct index *ix = &s->guest_index;
	size_t pos;

	if (last)
		return last;
	/* else the last retired one */
	if (!ix->size) {	/* a copy */
		for (size_t i = 0; i < s->nr_guests; i++)
			if (s->guests[i].pid == pid)
				last = &s->guests[i];
		return last;
	}
	for (size_t i = index_first(ix, hash_pid_tid(pid, 0), &pos); i != INDEX_NONE;
	     i = index_next(ix, &pos))
		if (s->guests[i].pid == pid && (!last || &s->guests[i] > last))
			last = &s->guests[i];
	return last;
}

void table_note_thread(struct trap_table *s, __u32 pid, __u32 tid, const char *comm,
		       const struct process_seen *seen)
{
	struct guest *g = guest_of(s, pid, seen);

	if (!g)
		return;
	/* a map read met the guest before its ring buffer record, when its
	 * /proc was gone: what the record carries beats "pidN".  (A
	 * record for an ended guest is one of its last keys: it stays ended;
	 * a process that reuses the pid gets its own guest once this one's
	 * entries are deleted.) */
	if (g->unnamed && seen)
		g->unnamed = !name_guest(s, g, seen);
	thread_of(s, g, tid, comm);
}

struct thread *table_thread(struct trap_table *s, __u32 pid, __u32 tid)
{
	struct guest *g = guest_of(s, pid, NULL);

	return g ? thread_of(s, g, tid, NULL) : NULL;
}

struct trap_row *table_row(struct trap_table *s, const struct trap_key *key, bool create)
{
	size_t h = key_hash(key), pos;
	struct trap_row *row;
	struct thread *t;
	struct guest *g;

	for (size_t r = index_first(&s->row_index, h, &pos); r != INDEX_NONE;
	     r = index_next(&s->row_index, &pos)) {
		row = &s->rows[r];
		if (!memcmp(&row->key, key, sizeof(*key)) && !s->guests[row->guest].retired)
			return row;
	}
	if (!create || VEC_GROW(s->rows, s->cap_rows, s->nr_rows + 1) ||
	    index_reserve(&s->row_index, s->nr_rows + 1, row_hash, s))
		return NULL;
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
	index_add(&s->row_index, h, s->nr_rows, row_hash, s);	/* reserved: cannot fail */
	return &s->rows[s->nr_rows++];
}

__u64 table_total_drops(const struct trap_table *s)
{
	__u64 sum = 0;

	for (int d = 0; d < NR_DROPS; d++)
		sum += s->drops[d];
	return sum;
}
