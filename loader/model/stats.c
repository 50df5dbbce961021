// SPDX-License-Identifier: GPL-2.0
/* Reading the BPF maps into a table that keeps totals for ended guests. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "model/latency.h"
#include "model/stats.h"

#define ROUND_UP8(x) (((x) + 7) & ~(size_t)7)

int stats_init(struct stats *s, int ncpus)
{
	memset(s, 0, sizeof(*s));
	s->ncpus = ncpus;
	s->index_size = 1024;
	s->index = calloc(s->index_size, sizeof(*s->index));
	s->guest_index_size = s->thread_index_size = 64;
	s->guest_index = calloc(s->guest_index_size, sizeof(*s->guest_index));
	s->thread_index = calloc(s->thread_index_size, sizeof(*s->thread_index));
	/* per-CPU values are the largest; one buffer fits either map */
	s->keys = calloc(MAX_TRAP_KEYS, sizeof(struct trap_key));
	s->values = calloc(MAX_TRAP_KEYS, ROUND_UP8(sizeof(struct trap_count)) * ncpus +
				  sizeof(struct trap_latency));
	s->hot = calloc(ncpus, sizeof(*s->hot));
	s->snap[0] = calloc(HOT_SLOTS * ncpus, sizeof(*s->snap[0]));
	s->snap[1] = calloc(HOT_SLOTS * ncpus, sizeof(*s->snap[1]));
	s->exit_starts_fd = s->vmm_starts_fd = s->flush_fd = -1;
	if (!s->index || !s->keys || !s->values || !s->hot || !s->guest_index || !s->thread_index ||
	    !s->snap[0] || !s->snap[1])
		return -ENOMEM;
	return 0;
}

void stats_free(struct stats *s)
{
	free(s->rows);
	free(s->index);
	free(s->guests);
	free(s->threads);
	free(s->guest_index);
	free(s->thread_index);
	free(s->keys);
	free(s->values);
	free(s->hot);
	free(s->snap[0]);
	free(s->snap[1]);
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

static int index_grow(struct stats *s)
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
static size_t id_find(const struct stats *s, bool threads, const size_t *index, size_t size,
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
static size_t id_find_retired(const struct stats *s, const size_t *index, size_t size, __u32 pid)
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
static void id_index_add(struct stats *s, bool threads, size_t **index, size_t *size, size_t n)
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
static struct thread *thread_of(struct stats *s, const struct guest *g, __u32 tid, const char *comm)
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
	t->vcpu = comm ? vcpu_from_comm(comm) : vcpu_from_thread_name(pid, tid);
	id_index_add(s, true, &s->thread_index, &s->thread_index_size, s->nr_threads - 1);
	return t;
}

static struct guest *guest_of(struct stats *s, __u32 pid, const char *leader_comm)
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
	g->start_time = process_start_time(pid);
	g->unnamed = !guest_name(pid, leader_comm, g->name, sizeof(g->name));
	id_index_add(s, false, &s->guest_index, &s->guest_index_size, s->nr_guests - 1);
	return g;
}

struct guest *stats_guest(struct stats *s, __u32 pid)
{
	return guest_of(s, pid, NULL);
}

size_t stats_rows_first(const struct stats *s, const struct guest *g)
{
	if (!s->guest_index)	/* a copy: every row */
		return 0;
	return g->first_row - 1;	/* 0 - 1: none */
}

size_t stats_rows_next(const struct stats *s, size_t r)
{
	return s->guest_index ? s->rows[r].next_row - 1 : r + 1;
}

const struct guest *stats_find_guest(const struct stats *s, __u32 pid)
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

void stats_note_thread(struct stats *s, __u32 pid, __u32 tid, const char *comm,
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
		g->unnamed = !guest_name(g->pid, leader_comm, g->name, sizeof(g->name));
	thread_of(s, g, tid, comm);
}

struct trap_row *stats_row(struct stats *s, const struct trap_key *key, bool create)
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
		return stats_row(s, key, true);
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

long map_walk(int fd, void *keys, size_t key_size, void *values, size_t value_size, size_t max)
{
	void *prev = NULL, *key;
	long n;

	for (n = 0; n < (long)max; n++) {
		key = (char *)keys + n * key_size;
		if (bpf_map_get_next_key(fd, prev, key))
			break;
		if (bpf_map_lookup_elem(fd, key, (char *)values + n * value_size))
			n--;	/* deleted under us */
		else
			prev = key;
	}
	return n;
}

/* Fetches every entry of a map into s->keys/s->values; returns the count or
 * -errno.  Batch lookups where the kernel has them, else a key walk. */
static long read_map(struct stats *s, int fd, size_t value_size)
{
	__u32 batch = 0, n;
	long total = 0;
	int err;

	while (!s->no_batch) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		n = MAX_TRAP_KEYS - total;
		if (!n)
			return total;
		err = bpf_map_lookup_batch(fd, total ? &batch : NULL, &batch,
					   (char *)s->keys + total * sizeof(struct trap_key),
					   (char *)s->values + total * value_size, &n, &opts);
		total += n;
		if (!err)
			continue;
		if (errno == ENOENT)
			return total;
		if (total || (errno != EINVAL && errno != ENOTSUP && errno != EOPNOTSUPP))
			return -errno;
		s->no_batch = true;	/* older kernel: walk the keys instead */
	}
	return map_walk(fd, s->keys, sizeof(struct trap_key), s->values, value_size, MAX_TRAP_KEYS);
}

/* Adds the per-CPU cache slots' counts to the rows of their keys.  Slots of
 * guests whose entries were reclaimed were counted before: skipped. */
static void add_hot_slots(struct stats *s, int hot_fd)
{
	for (__u32 i = 0; i < HOT_SLOTS; i++) {
		if (bpf_map_lookup_elem(hot_fd, &i, s->hot))
			continue;
		for (int c = 0; c < s->ncpus; c++) {
			struct trap_row *row;

			if (!s->hot[c].count)
				continue;
			row = stats_row(s, &s->hot[c].key, false);
			if (row && !s->guests[row->guest].reclaimed)
				row->read_count += s->hot[c].count;
		}
	}
}

static bool dying(const struct guest *g)
{
	return g->ended && !g->reclaimed;
}

static void snapshot_slots(const struct stats *s, int hot_fd, struct hot_slot *snap)
{
	memset(snap, 0, HOT_SLOTS * s->ncpus * sizeof(*snap));
	for (__u32 i = 0; i < HOT_SLOTS; i++)
		bpf_map_lookup_elem(hot_fd, &i, snap + i * s->ncpus);
}

/* The last read of the guests whose entries the next stats_reclaim deletes
 * (ended, not yet reclaimed).  A cache slot of theirs that another key takes
 * while the maps are read moves its events to the hash after the hash was
 * read: the read misses them, and with the entries deleted no later read
 * finds them.  Their slots can only empty now, so: all slots, their hash
 * entries, all slots again; when none of their slots changed in between,
 * nothing moved and hash plus slots is their exact count. */
static void read_dying(struct stats *s, int counts_fd, int hot_fd)
{
	struct trap_count per_cpu[s->ncpus];
	bool any = false;

	for (size_t i = 0; i < s->nr_guests && !any; i++)
		any = dying(&s->guests[i]);
	for (int attempt = 0; any && attempt < 5; attempt++) {
		bool stable = true;

		snapshot_slots(s, hot_fd, s->snap[0]);
		for (size_t i = 0; i < s->nr_guests; i++) {
			if (!dying(&s->guests[i]))
				continue;
			for (size_t r = s->guests[i].first_row; r; r = s->rows[r - 1].next_row) {
				struct trap_row *row = &s->rows[r - 1];

				row->read_count = 0;
				memset(per_cpu, 0, sizeof(per_cpu));
				if (bpf_map_lookup_elem(counts_fd, &row->key, per_cpu))
					continue;
				for (int c = 0; c < s->ncpus; c++)
					row->read_count += per_cpu[c].count;
			}
		}
		snapshot_slots(s, hot_fd, s->snap[1]);
		for (int k = 0; k < HOT_SLOTS * s->ncpus; k++) {
			const struct hot_slot *a = &s->snap[0][k], *b = &s->snap[1][k];
			struct trap_row *row;

			if (!a->count || !memcmp(a, b, sizeof(*a)))
				continue;
			row = stats_row(s, &a->key, false);
			if (row && dying(&s->guests[row->guest]))
				stable = false;
		}
		for (int k = 0; stable && k < HOT_SLOTS * s->ncpus; k++) {
			const struct hot_slot *b = &s->snap[1][k];
			struct trap_row *row;

			if (!b->count || !(row = stats_row(s, &b->key, false)) ||
			    !dying(&s->guests[row->guest]))
				continue;
			row->read_count += b->count;
		}
		for (size_t i = 0; i < s->nr_guests; i++) {
			if (!dying(&s->guests[i]))
				continue;
			for (size_t r = s->guests[i].first_row; r; r = s->rows[r - 1].next_row) {
				struct trap_row *row = &s->rows[r - 1];

				if (stable && row->read_count > row->map_count) {
					__u64 late = row->read_count - row->map_count;

					row->interval += late;
					row->count += late;
					row->map_count = row->read_count;
				}
				row->read_count = 0;
			}
		}
		if (stable)
			return;
	}
}

int stats_read(struct stats *s, int counts_fd, int hot_fd, int latency_fd, int drops_fd)
{
	size_t count_size = ROUND_UP8(sizeof(struct trap_count)) * s->ncpus;
	struct trap_latency delta;
	struct trap_row *row;
	long n;

	for (size_t r = 0; r < s->nr_rows; r++) {
		s->rows[r].interval = 0;
		s->rows[r].interval_lat_count = s->rows[r].interval_lat_sum = 0;
		s->rows[r].interval_lat_max = 0;
	}

	n = read_map(s, counts_fd, count_size);
	if (n < 0)
		return n;
	for (long i = 0; i < n; i++) {
		const struct trap_count *per_cpu = (void *)((char *)s->values + i * count_size);
		__u64 sum = 0;

		for (int c = 0; c < s->ncpus; c++)
			sum += per_cpu[c].count;
		row = stats_row(s, (struct trap_key *)s->keys + i, true);
		if (!row)
			return -ENOMEM;
		row->read_count = sum;
	}
	/* hash first, then the slots: an event moving between them in between
	 * is missed by this read, never counted twice */
	add_hot_slots(s, hot_fd);
	for (size_t r = 0; r < s->nr_rows; r++) {
		row = &s->rows[r];
		if (row->read_count > row->map_count) {
			row->interval = row->read_count - row->map_count;
			row->count += row->interval;
			row->map_count = row->read_count;
		}
		row->read_count = 0;
	}
	read_dying(s, counts_fd, hot_fd);

	n = read_map(s, latency_fd, sizeof(struct trap_latency));
	if (n < 0)
		return n;
	for (long i = 0; i < n; i++) {
		const struct trap_latency *lat = (struct trap_latency *)s->values + i;

		row = stats_row(s, (struct trap_key *)s->keys + i, true);
		if (!row)
			return -ENOMEM;
		latency_delta(&delta, lat, &row->map_lat);
		latency_add(&row->lat, &delta);
		row->interval_lat_count = delta.count;
		row->interval_lat_sum = delta.sum_ns;
		row->interval_lat_max = latency_delta_max(lat, &row->map_lat, &delta);
		row->map_lat = *lat;
		if (lat->vcpu != VCPU_UNKNOWN)
			s->threads[row->thread].vcpu = lat->vcpu;
	}
	/* vCPU numbers learnt from exits apply to all of the thread's rows */
	for (size_t r = 0; r < s->nr_rows; r++)
		s->rows[r].vcpu = s->threads[s->rows[r].thread].vcpu;

	for (__u32 d = 0; d < NR_DROPS; d++) {
		__u64 per_cpu[s->ncpus], sum = 0;

		/* defined for valgrind, which does not know the kernel fills
		 * one value per possible CPU */
		memset(per_cpu, 0, sizeof(per_cpu));
		if (bpf_map_lookup_elem(drops_fd, &d, per_cpu))
			continue;
		for (int c = 0; c < s->ncpus; c++)
			sum += per_cpu[c];
		s->drops[d] = sum;
	}
	return 0;
}

/* Is g's process still there: its pid alive and started when g's was?  A
 * guest first seen after its process was gone (start time 0) is not. */
static bool guest_alive(const struct guest *g)
{
	return g->start_time && process_start_time(g->pid) == g->start_time;
}

/* Deletes thread tid's open start in a start map if guest pid left it. */
static void delete_start(int fd, __u32 pid, __u32 tid)
{
	struct trap_start start;

	if (fd >= 0 && !bpf_map_lookup_elem(fd, &tid, &start) && start.tgid == pid)
		bpf_map_delete_elem(fd, &tid);
}

/* Runs the flush program on every CPU: each clears its cache slots whose
 * key has no trap_counts entry any more (all read before the delete), so
 * a new process making the same key never adds to an old guest's count. */
static void flush_hot_slots(const struct stats *s)
{
	for (int c = 0; s->flush_fd >= 0 && c < s->ncpus; c++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = c);
		__u64 args[4] = {};

		opts.ctx_in = args;
		opts.ctx_size_in = sizeof(args);
		bpf_prog_test_run_opts(s->flush_fd, &opts);	/* offline CPUs fail: no slots */
	}
}

void stats_reclaim(struct stats *s, int counts_fd, int latency_fd)
{
	bool any = false;

	for (size_t i = 0; i < s->nr_guests; i++)
		any |= s->guests[i].ended && !s->guests[i].reclaimed;
	/* one pass over the rows for all of them, not one per guest */
	for (size_t r = 0; any && r < s->nr_rows; r++) {
		struct trap_row *row = &s->rows[r];
		struct guest *g = &s->guests[row->guest];

		if (!g->ended || g->reclaimed)
			continue;
		bpf_map_delete_elem(counts_fd, &row->key);
		bpf_map_delete_elem(latency_fd, &row->key);
		row->map_count = 0;
		memset(&row->map_lat, 0, sizeof(row->map_lat));
	}
	/* a dead thread's open exit or VMM trip: a new thread with its id in
	 * the same pid would close it */
	for (size_t i = 0; any && i < s->nr_threads; i++) {
		struct thread *t = &s->threads[i];
		struct guest *g = &s->guests[t->guest];

		if (!g->ended || g->reclaimed)
			continue;
		delete_start(s->exit_starts_fd, t->pid, t->tid);
		delete_start(s->vmm_starts_fd, t->pid, t->tid);
	}
	if (any)
		flush_hot_slots(s);
	/* those found ended now are reclaimed at the next read; the reclaimed
	 * retire: their pid may come back as another process */
	for (size_t i = 0; i < s->nr_guests; i++) {
		struct guest *g = &s->guests[i];

		if (g->ended)
			g->reclaimed = g->retired = true;
		else
			g->ended = !guest_alive(g);
	}
}

__u64 stats_total_drops(const struct stats *s)
{
	__u64 sum = 0;

	for (int d = 0; d < NR_DROPS; d++)
		sum += s->drops[d];
	return sum;
}
