// SPDX-License-Identifier: GPL-2.0
/* The map reader: reads the BPF maps into the trap table and the
 * instruction table (the count tables from their mapping, batch lookups
 * where the kernel has them, the per-CPU cache slots, the exact last read of
 * dying guests), and deletes the
 * entries of ended guests.  Everything that touches the maps' fds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collect/map_reader.h"
#include "collect/procfs.h"
#include "model/insns.h"
#include "model/latency.h"
#include "model/rips.h"

#define ROUND_UP8(x) (((x) + 7) & ~(size_t)7)
#define MAX2(a, b) ((a) > (b) ? (a) : (b))

void map_reader_buffer_sizes(size_t max_keys, int ncpus, bool insns, bool rips, size_t *keys, size_t *values)
{
	*keys = max_keys * sizeof(struct trap_key);
	*values = max_keys * sizeof(struct trap_latency);
	if (insns) {
		*keys = MAX2(*keys, MAX_INSN_KEYS * sizeof(struct insn_key));
		*values = MAX2(*values, MAX_INSN_KEYS * ROUND_UP8(sizeof(struct insn_count)) * ncpus);
	}
	if (rips) {
		*keys = MAX2(*keys, MAX_RIP_KEYS * sizeof(struct rip_key));
		*values = MAX2(*values, MAX_RIP_KEYS * 8UL * ncpus);
	}
}

int map_reader_init(struct map_reader *m, int ncpus, size_t max_keys)
{
	size_t key_bytes, value_bytes;

	*m = (struct map_reader){ .ncpus = ncpus, .keys_fd = -1, .hot_fd = -1, .latency_fd = -1,
				  .drops_fd = -1, .insns_fd = -1, .failed_fd = -1,
				  .rips_fd = -1, .flush_fd = -1,
				  .guest_made_fd = -1, .guest_freed_fd = -1, .max_keys = max_keys,
				  .table_bits = count_table_bits_for(max_keys) };
	m->table_slots = (size_t)1 << m->table_bits;
	/* one buffer for every map's read (their pages are touched only by
	 * the maps read) */
	map_reader_buffer_sizes(max_keys, ncpus, true, true, &key_bytes, &value_bytes);
	m->keys = calloc(1, key_bytes);
	m->values = calloc(1, value_bytes);
	m->slot_rows = malloc(m->table_slots * sizeof(*m->slot_rows));
	m->latency_rows = malloc(max_keys * sizeof(*m->latency_rows));
	m->hot = calloc(ncpus, sizeof(*m->hot));
	m->snap[0] = calloc(HOT_SLOTS * ncpus, sizeof(*m->snap[0]));
	m->snap[1] = calloc(HOT_SLOTS * ncpus, sizeof(*m->snap[1]));
	/* slot_rows and latency_rows are set to none by the first read */
	if (!m->keys || !m->values || !m->slot_rows || !m->latency_rows || !m->hot || !m->snap[0] ||
	    !m->snap[1])
		return -ENOMEM;
	return 0;
}

__u32 map_table_size(struct bpf_map *keys, struct bpf_map *claims, struct bpf_map *counts, size_t max_keys)
{
	__u32 bits = count_table_bits_for(max_keys);

	bpf_map__set_max_entries(keys, 1U << bits);
	bpf_map__set_max_entries(claims, 1U << bits);
	bpf_map__set_max_entries(counts, libbpf_num_possible_cpus() << bits);
	return bits;
}

static size_t pages(size_t bytes)
{
	size_t page = getpagesize();

	return (bytes + page - 1) / page * page;
}

static void *map_array(int fd, size_t bytes)
{
	void *p = mmap(NULL, pages(bytes), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

int map_reader_map_table(struct map_reader *m, int keys_fd, int claims_fd, int counts_fd)
{
	m->table_keys = map_array(keys_fd, m->table_slots * sizeof(*m->table_keys));
	m->table_claims = map_array(claims_fd, m->table_slots * sizeof(*m->table_claims));
	m->table_counts = map_array(counts_fd, m->ncpus * m->table_slots * sizeof(*m->table_counts));
	return m->table_keys && m->table_claims && m->table_counts ? 0 : -errno;
}

int map_reader_map_threads(struct map_reader *m, int threads_fd, int claims_fd)
{
	m->threads = map_array(threads_fd, THREAD_SLOTS * sizeof(*m->threads));
	m->thread_claims = map_array(claims_fd, THREAD_SLOTS * sizeof(*m->thread_claims));
	return m->threads && m->thread_claims ? 0 : -errno;
}

long map_thread_find(const struct map_reader *m, __u32 tid)
{
	for (__u32 i = 0; m->threads && tid && i < THREAD_PROBES; i++) {
		__u32 at = thread_probe(tid, i), t = __atomic_load_n(&m->threads[at].tid, __ATOMIC_ACQUIRE);

		if (!t)
			return -1;
		if (t == tid)
			return at;
	}
	return -1;
}

int map_table_find(const struct map_reader *m, const struct trap_key *key, size_t *slots)
{
	int n = 0;
	__u32 home = table_home(key, m->table_bits);

	for (__u32 i = 0; m->table_keys && i < TABLE_PROBES; i++) {
		size_t at = table_probe(home, i, m->table_bits);

		if (!memcmp(&m->table_keys[at], key, sizeof(*key)))
			slots[n++] = at;
	}
	return n;
}

long map_table_free_slot(const struct map_reader *m, const struct trap_key *key)
{
	__u32 home = table_home(key, m->table_bits);

	for (__u32 i = 0; m->table_keys && i < TABLE_PROBES; i++) {
		size_t at = table_probe(home, i, m->table_bits);
		__u32 tgid = m->table_keys[at].tgid;

		if ((!tgid || tgid == TABLE_TOMBSTONE) && !m->table_claims[at])
			return at;
	}
	return -1;
}

__u64 map_table_count(const struct map_reader *m, const struct trap_key *key)
{
	size_t slots[TABLE_PROBES];
	int n = map_table_find(m, key, slots);
	__u64 sum = 0;

	for (int i = 0; i < n; i++)
		for (int c = 0; c < m->ncpus; c++)
			sum += m->table_counts[c * m->table_slots + slots[i]];
	return sum;
}

void map_reader_free(struct map_reader *m)
{
	if (m->table_keys)
		munmap(m->table_keys, pages(m->table_slots * sizeof(*m->table_keys)));
	if (m->table_claims)
		munmap(m->table_claims, pages(m->table_slots * sizeof(*m->table_claims)));
	if (m->table_counts)
		munmap(m->table_counts, pages(m->ncpus * m->table_slots * sizeof(*m->table_counts)));
	free(m->keys);
	free(m->values);
	free(m->slot_rows);
	free(m->map_lats);
	free(m->read_counts);
	free(m->latency_rows);
	free(m->hot);
	free(m->snap[0]);
	free(m->snap[1]);
	if (m->threads)
		munmap(m->threads, pages(THREAD_SLOTS * sizeof(*m->threads)));
	if (m->thread_claims)
		munmap(m->thread_claims, pages(THREAD_SLOTS * sizeof(*m->thread_claims)));
	memset(m, 0, sizeof(*m));
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

void map_reader_pause(const struct map_reader *m)
{
	if (m->pause)
		m->pause(m->pause_ctx);
}

/* Entries a batch lookup asks for when the read may pause between them:
 * a few ms of copying each. */
#define PAUSED_BATCH 4096

/* A trap map's entries (up to --max-keys) into m->keys/m->values; the count
 * or -errno.  Batch lookups where the kernel has them, in pieces with
 * map_reader_pause() between them; else a key walk. */
static long read_map(struct map_reader *m, int fd, size_t value_size)
{
	const size_t key_size = sizeof(struct trap_key), max = m->max_keys;
	__u32 batch = 0, n;
	long total = 0;
	int err;

	while (!m->no_batch) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		n = max - total;
		if (!n)
			return total;
		if (m->pause && n > PAUSED_BATCH)
			n = PAUSED_BATCH;
		if (total)
			map_reader_pause(m);
		err = bpf_map_lookup_batch(fd, total ? &batch : NULL, &batch,
					   (char *)m->keys + total * key_size,
					   (char *)m->values + total * value_size, &n, &opts);
		total += n;
		if (!err)
			continue;
		if (errno == ENOENT)
			return total;
		if (total || (errno != EINVAL && errno != ENOTSUP && errno != EOPNOTSUPP))
			return -errno;
		m->no_batch = true;	/* older kernel: walk the keys instead */
	}
	return map_walk(fd, m->keys, key_size, m->values, value_size, max);
}

/* An entry of a reclaimed thread: a new thread of the process has its id. */
static void revive_thread(struct trap_table *s, const struct trap_row *row)
{
	struct thread *t = &s->threads[row->thread];

	if (t->reclaimed && !s->guests[row->guest].ended)
		t->ended = t->reclaimed = false;
}

/* Row r's sum in this read, where the reads add it up: beside the rows,
 * dense (the table's places meet rows in no order, and 8 bytes a row stay
 * in the cache where the rows do not); all 0 between reads.  NULL when out
 * of memory. */
static __u64 *read_count_of(struct map_reader *m, size_t r)
{
	if (r >= m->cap_read_counts) {
		size_t cap = m->cap_read_counts ? m->cap_read_counts : 4096;
		__u64 *p;

		while (cap <= r)
			cap *= 2;
		p = realloc(m->read_counts, cap * sizeof(*p));
		if (!p)
			return NULL;
		memset(p + m->cap_read_counts, 0, (cap - m->cap_read_counts) * sizeof(*p));
		m->read_counts = p;
		m->cap_read_counts = cap;
	}
	return &m->read_counts[r];
}

/* Adds the per-CPU cache slots' counts to the rows of their keys, made if
 * need be.  Slots of guests whose entries were reclaimed were counted
 * before: skipped. */
static void add_hot_slots(struct map_reader *m, struct trap_table *s)
{
	for (__u32 i = 0; i < HOT_SLOTS; i++) {
		if (bpf_map_lookup_elem(m->hot_fd, &i, m->hot))
			continue;
		for (int c = 0; c < m->ncpus; c++) {
			struct trap_row *row;
			__u64 *sum;

			if (!m->hot[c].count)
				continue;
			/* a key new since the last read may be in no table yet */
			row = table_row(s, &m->hot[c].key, true);
			if (!row || s->guests[row->guest].reclaimed || !(sum = read_count_of(m, row - s->rows)))
				continue;
			*sum += m->hot[c].count;
			revive_thread(s, row);
		}
	}
}

/* Are row's entries deleted at the next reclaim: its guest or its thread
 * ended at the last one? */
static bool dying(const struct trap_table *s, const struct trap_row *row)
{
	const struct guest *g = &s->guests[row->guest];
	const struct thread *t = &s->threads[row->thread];

	return (g->ended && !g->reclaimed) || (t->ended && !t->reclaimed);
}

static bool any_dying(const struct trap_table *s)
{
	for (size_t i = 0; i < s->nr_guests; i++)
		if (s->guests[i].ended && !s->guests[i].reclaimed)
			return true;
	for (size_t i = 0; i < s->nr_threads; i++)
		if (s->threads[i].ended && !s->threads[i].reclaimed)
			return true;
	return false;
}

static void snapshot_slots(const struct map_reader *m, struct hot_slot *snap)
{
	memset(snap, 0, HOT_SLOTS * m->ncpus * sizeof(*snap));
	for (__u32 i = 0; i < HOT_SLOTS; i++)
		bpf_map_lookup_elem(m->hot_fd, &i, snap + i * m->ncpus);
}

/* The last read of the rows whose entries the next map_reclaim deletes
 * (their guest or thread ended).  A cache slot of theirs that another key
 * takes while the maps are read moves its events to the table after the
 * table was read: the read misses them, and with the entries deleted no
 * later read finds them.  Their slots can only empty now, so: all slots,
 * their table slots, all slots again; when none of their slots changed in
 * between, nothing moved and table plus slots is their exact count. */
static void read_dying(struct map_reader *m, struct trap_table *s)
{
	bool any = any_dying(s);

	for (int attempt = 0; any && attempt < 5; attempt++) {
		bool stable = true;

		snapshot_slots(m, m->snap[0]);
		for (size_t r = 0; r < s->nr_rows; r++) {
			struct trap_row *row = &s->rows[r];

			if (dying(s, row) && read_count_of(m, r))
				m->read_counts[r] = map_table_count(m, &row->key);
		}
		snapshot_slots(m, m->snap[1]);
		for (int k = 0; k < HOT_SLOTS * m->ncpus; k++) {
			const struct hot_slot *a = &m->snap[0][k], *b = &m->snap[1][k];
			struct trap_row *row;

			if (!a->count || !memcmp(a, b, sizeof(*a)))
				continue;
			row = table_row(s, &a->key, false);
			if (row && dying(s, row))
				stable = false;
		}
		for (int k = 0; stable && k < HOT_SLOTS * m->ncpus; k++) {
			const struct hot_slot *b = &m->snap[1][k];
			struct trap_row *row;

			if (!b->count || !(row = table_row(s, &b->key, false)) || !dying(s, row) ||
			    !read_count_of(m, row - s->rows))
				continue;
			m->read_counts[row - s->rows] += b->count;
		}
		for (size_t r = 0; r < s->nr_rows; r++) {
			struct trap_row *row = &s->rows[r];
			__u64 *sum = read_count_of(m, r);

			if (!dying(s, row) || !sum)
				continue;
			if (stable && *sum > row->map_count) {
				__u64 late = *sum - row->map_count;

				row->interval += late;
				row->count += late;
				row->map_count = *sum;
			}
			*sum = 0;
		}
		if (stable)
			return;
	}
}

/* The row of key, made if need be, at the i-th entry of a hash map's read.
 * Its entries come in the same order from read to read while no key comes
 * or goes, so the row the last read found there is tried first: one
 * compare of the key instead of a probe of the rows' index. */
static struct trap_row *row_at(struct trap_table *s, const struct trap_key *key, __u32 *last_rows, size_t i)
{
	size_t r = last_rows[i];
	struct trap_row *row;

	if (r < s->nr_rows && !memcmp(&s->rows[r].key, key, sizeof(*key)) && !s->guests[s->rows[r].guest].retired)
		return &s->rows[r];
	row = table_row(s, key, true);
	if (row)
		last_rows[i] = row - s->rows;
	return row;
}

/* The row of the key in table place at, made if need be.  A slot keeps
 * its key until the loader tombstones it, which forgets the slot's row:
 * the row found there is the key's, with no look at the row. */
static struct trap_row *slot_row(struct map_reader *m, struct trap_table *s, const struct trap_key *key, size_t at)
{
	struct trap_row *row;

	if (m->slot_rows[at] < s->nr_rows)
		return &s->rows[m->slot_rows[at]];
	row = table_row(s, key, true);
	if (row)
		m->slot_rows[at] = row - s->rows;
	return row;
}

/* Adds the count table to this read's sums of the rows of its keys: the
 * memory the programs count in, no copy.  A slot's tgid is read before the
 * rest of its key and its counts: it is written last. */
static int read_table(struct map_reader *m, struct trap_table *s)
{
	for (size_t i = 0; i < m->table_slots; i++) {
		__u32 tgid = __atomic_load_n(&m->table_keys[i].tgid, __ATOMIC_ACQUIRE);
		struct trap_key key;
		struct trap_row *row;
		__u64 n = 0, *sum;

		if (!tgid || tgid == TABLE_TOMBSTONE)
			continue;
		for (int c = 0; c < m->ncpus; c++)
			n += m->table_counts[c * m->table_slots + i];
		if (!n)
			continue;
		key = m->table_keys[i];
		key.tgid = tgid;
		row = slot_row(m, s, &key, i);
		if (!row || !(sum = read_count_of(m, row - s->rows)))
			return -ENOMEM;
		*sum += n;
	}
	return 0;
}

/* The latency map's value at the last read for row (the reader keeps them:
 * most rows have none); NULL when out of memory. */
static struct trap_latency *last_latency(struct map_reader *m, struct trap_row *row)
{
	if (!row->map_lat) {
		if (m->nr_map_lats == m->cap_map_lats) {
			size_t cap = m->cap_map_lats ? 2 * m->cap_map_lats : 1024;
			struct trap_latency *p = realloc(m->map_lats, cap * sizeof(*p));

			if (!p)
				return NULL;
			m->map_lats = p;
			m->cap_map_lats = cap;
		}
		memset(&m->map_lats[m->nr_map_lats], 0, sizeof(*m->map_lats));
		row->map_lat = ++m->nr_map_lats;
	}
	return &m->map_lats[row->map_lat - 1];
}

static int read_traps(struct map_reader *m, struct trap_table *s)
{
	struct trap_latency delta;
	struct trap_row *row;
	long n;

	m->reads++;
	if (m->rows_of != s->serial) {	/* the places' rows are another table's (tests read several) */
		memset(m->slot_rows, 0xff, m->table_slots * sizeof(*m->slot_rows));
		memset(m->latency_rows, 0xff, m->max_keys * sizeof(*m->latency_rows));
		m->rows_of = s->serial;
	}
	n = read_table(m, s);
	if (n < 0)
		return n;
	/* the table first, then the slots: an event moving between them in between
	 * is missed by this read, never counted twice */
	add_hot_slots(m, s);

	map_reader_pause(m);
	n = read_map(m, m->latency_fd, sizeof(struct trap_latency));
	if (n < 0)
		return n;
	for (long i = 0; i < n; i++) {
		const struct trap_latency *lat = (struct trap_latency *)m->values + i;
		struct trap_latency *last;

		row = row_at(s, (struct trap_key *)m->keys + i, m->latency_rows, i);
		if (!row || !(last = last_latency(m, row)))
			return -ENOMEM;
		latency_delta(&delta, lat, last);
		latency_add(&row->lat, &delta);
		row->lat_sq += latency_sq_delta(lat, last);
		row->interval_lat_count = delta.count;
		row->interval_lat_sum = delta.sum_ns;
		row->interval_lat_max = latency_delta_max(lat, last, &delta);
		row->lat_read = m->reads;
		*last = *lat;
		if (lat->vcpu != VCPU_UNKNOWN)
			s->threads[row->thread].vcpu = lat->vcpu;
	}
	/* One pass over the rows (a host's rows miss the cache): the counts'
	 * interval, no latency interval for a row not in the latency map this
	 * read, and the vCPU numbers learnt from exits for all of a thread's
	 * rows */
	if (s->nr_rows && !read_count_of(m, s->nr_rows - 1))
		return -ENOMEM;
	for (size_t r = 0; r < s->nr_rows; r++) {
		__u64 sum = m->read_counts[r];

		row = &s->rows[r];
		row->interval = 0;
		if (sum > row->map_count) {
			row->interval = sum - row->map_count;
			row->count += row->interval;
			row->map_count = sum;
		}
		if (sum) {
			m->read_counts[r] = 0;
			revive_thread(s, row);
		}
		if (row->lat_read != m->reads)
			row->interval_lat_count = row->interval_lat_sum = row->interval_lat_max = 0;
		row->vcpu = s->threads[row->thread].vcpu;
	}
	map_reader_pause(m);
	/* after the pass: it adds to the interval */
	read_dying(m, s);

	for (__u32 d = 0; d < NR_DROPS; d++) {
		__u64 per_cpu[m->ncpus], sum = 0;

		/* defined for valgrind, which does not know the kernel fills
		 * one value per possible CPU */
		memset(per_cpu, 0, sizeof(per_cpu));
		if (bpf_map_lookup_elem(m->drops_fd, &d, per_cpu))
			continue;
		for (int c = 0; c < m->ncpus; c++)
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

/* Deletes thread tid's record if guest pid left it (read for the last
 * time by now): the protocol beside thread_record() in bpf/aggregate.bpf.h. */
static void delete_thread_record(struct map_reader *m, __u32 pid, __u32 tid)
{
	long at = map_thread_find(m, tid);
	struct vcpu_thread *v;

	if (at < 0 || m->threads[at].tgid != pid)
		return;
	v = &m->threads[at];
	__atomic_store_n(&v->tid, THREAD_TOMBSTONE, __ATOMIC_RELEASE);
	memset((char *)v + sizeof(v->tid), 0, sizeof(*v) - sizeof(v->tid));
	__atomic_store_n(&m->thread_claims[at], 0, __ATOMIC_RELEASE);
}

/* Runs the flush program on every CPU: each clears its cache slots whose
 * key has no trap_keys entry any more (all read before the delete), so
 * a new process making the same key never adds to an old guest's count. */
static void flush_hot_slots(const struct map_reader *m)
{
	for (int c = 0; m->flush_fd >= 0 && c < m->ncpus; c++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = c);
		__u64 args[4] = {};

		opts.ctx_in = args;
		opts.ctx_size_in = sizeof(args);
		bpf_prog_test_run_opts(m->flush_fd, &opts);	/* offline CPUs fail: no slots */
	}
}

/* Did this read find thread t's time record live?  Its end is set at the
 * thread's last switch: so the thread, and its process, are there. */
static bool record_live(const struct thread *t, __u64 read_ns)
{
	return t->time.seen && read_ns && t->time.read_at == read_ns && !t->time.end_ns;
}

/* Is thread tid of pid still there?  A tid reused within one interval by
 * another thread of the same process counts on as this one.  A vCPU
 * thread's live record says so without /proc (a host's thousands). */
static bool thread_alive(const struct thread *t, __u64 read_ns)
{
	char path[64];

	if (record_live(t, read_ns))
		return true;
	snprintf(path, sizeof(path), "/proc/%u/task/%u", t->pid, t->tid);
	return !access(path, F_OK);
}

/* Gives guest g's deleted entries back to its share; a retiring guest's
 * share goes with it. */
static void update_share(struct map_reader *m, const struct guest *g, bool retiring)
{
	if (retiring) {
		bpf_map_delete_elem(m->guest_made_fd, &g->pid);
		bpf_map_delete_elem(m->guest_freed_fd, &g->pid);
	} else if (g->keys_freed) {
		bpf_map_update_elem(m->guest_freed_fd, &g->pid, &g->keys_freed, BPF_ANY);
	}
}

static void reclaim_traps(struct map_reader *m, struct trap_table *s)
{
	bool any = any_dying(s);

	/* one pass over the rows for all of them, not one per guest */
	for (size_t r = 0; any && r < s->nr_rows; r++) {
		struct trap_row *row = &s->rows[r];

		if (!dying(s, row))
			continue;
		if (!bpf_map_delete_elem(m->keys_fd, &row->key))
			s->guests[row->guest].keys_freed++;
		bpf_map_delete_elem(m->latency_fd, &row->key);
		row->map_count = 0;
		if (row->map_lat)
			memset(&m->map_lats[row->map_lat - 1], 0, sizeof(*m->map_lats));
	}
	/* a dead thread's record: a new thread with its id in the same pid
	 * would close its open exit or VMM trip */
	for (size_t i = 0; any && i < s->nr_threads; i++) {
		struct thread *t = &s->threads[i];
		struct guest *g = &s->guests[t->guest];

		if ((!g->ended || g->reclaimed) && (!t->ended || t->reclaimed))
			continue;
		delete_thread_record(m, t->pid, t->tid);
	}
	if (any)
		flush_hot_slots(m);
	/* then their table slots, which no hot slot adds to any more: the key
	 * tombstoned, its counts 0, then the slot free */
	for (size_t r = 0; any && m->table_keys && r < s->nr_rows; r++) {
		const struct trap_row *row = &s->rows[r];
		size_t slots[TABLE_PROBES];
		int n;

		if (!dying(s, row))
			continue;
		n = map_table_find(m, &row->key, slots);
		for (int i = 0; i < n; i++) {
			size_t at = slots[i];

			m->slot_rows[at] = ~0U;
			__atomic_store_n(&m->table_keys[at].tgid, TABLE_TOMBSTONE, __ATOMIC_RELEASE);
			for (int c = 0; c < m->ncpus; c++)
				m->table_counts[c * m->table_slots + at] = 0;
			__atomic_store_n(&m->table_claims[at], 0, __ATOMIC_RELEASE);
		}
	}
	/* a guest with a live vCPU thread is alive, its pid not yet another
	 * process's: no /proc read for each of a host's guests each read */
	for (size_t i = 0; i < s->nr_threads; i++)
		if (record_live(&s->threads[i], s->read_ns))
			s->guests[s->threads[i].guest].alive_at = s->read_ns;
	/* those found ended now are reclaimed at the next read; the reclaimed
	 * retire: their pid may come back as another process */
	for (size_t i = 0; i < s->nr_guests; i++) {
		struct guest *g = &s->guests[i];

		if (any && !g->retired)
			update_share(m, g, g->ended);
		if (g->ended)
			g->reclaimed = g->retired = true;
		else
			g->ended = !(s->read_ns && g->alive_at == s->read_ns) && !guest_alive(g);
	}
	for (size_t i = 0; i < s->nr_threads; i++) {
		struct thread *t = &s->threads[i];

		if (t->ended)
			t->reclaimed = true;
		else if (!s->guests[t->guest].ended)
			t->ended = !thread_alive(t, s->read_ns);
	}
}


/* A map value that moved from map_count to now: what it adds. */
static void add_count(struct insn_row *r, __u64 now)
{
	if (now < r->map_count)	/* deleted and made again */
		r->map_count = 0;
	r->interval = now - r->map_count;
	r->count += r->interval;
	r->map_count = now;
}

/* --insns counts (when on) and failed emulations into t. */
static int read_insns(struct map_reader *m, struct insn_table *t)
{
	size_t count_size = ROUND_UP8(sizeof(struct insn_count)) * m->ncpus;
	long n;

	for (size_t i = 0; i < t->nr; i++)
		t->rows[i].interval = 0;
	if (m->insns_fd >= 0) {
		/* a key walk: these maps are small and change little */
		n = map_walk(m->insns_fd, m->keys, sizeof(struct insn_key), m->values, count_size,
			     MAX_INSN_KEYS);
		for (long i = 0; i < n; i++) {
			const struct insn_count *per_cpu = (void *)((char *)m->values + i * count_size);
			struct insn_row *r = insn_row_of(t, (struct insn_key *)m->keys + i, false);
			__u64 sum = 0;

			if (!r)
				return -ENOMEM;
			for (int c = 0; c < m->ncpus; c++)
				sum += per_cpu[c].count;
			add_count(r, sum);
		}
	}
	n = map_walk(m->failed_fd, m->keys, sizeof(struct insn_key), m->values, sizeof(struct failed_insn),
		     MAX_FAILED_KEYS);
	for (long i = 0; i < n; i++) {
		const struct failed_insn *f = (struct failed_insn *)m->values + i;
		struct insn_row *r = insn_row_of(t, (struct insn_key *)m->keys + i, true);

		if (!r)
			return -ENOMEM;
		add_count(r, f->count);
		r->last_rip = f->last_rip;
	}
	return 0;
}

/* The instructions of the guests reclaim_traps deletes next (ended, their
 * last events read), in one pass; before it. */
static void reclaim_insns(struct map_reader *m, struct insn_table *t, const struct trap_table *s)
{
	bool any = false;

	for (size_t g = 0; g < s->nr_guests; g++)
		any |= s->guests[g].ended && !s->guests[g].reclaimed;
	for (size_t i = 0; any && i < t->nr; i++) {
		struct insn_row *r = &t->rows[i];
		const struct guest *g = table_find_guest(s, r->key.tgid);

		if (!g || !g->ended || g->reclaimed)
			continue;
		if (r->failed)
			bpf_map_delete_elem(m->failed_fd, &r->key);
		else if (m->insns_fd >= 0)
			bpf_map_delete_elem(m->insns_fd, &r->key);
		r->map_count = 0;
	}
}


/* Each vCPU thread's time from its record (vcpu_time.h). */
static int read_times(struct map_reader *m, struct trap_table *s)
{
	struct timespec ts;
	__u64 now;

	if (!m->threads || !(s->time_flags & TIME_ON))
		return 0;
	/* the clock before the records: an open segment then ends no later
	 * than the truth (taken after, a reader held up between the two would
	 * count its delay in the thread's state of the copy) */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	for (size_t i = 0; i < THREAD_SLOTS; i++) {	/* no pause between the clock and the records */
		__u32 tid = __atomic_load_n(&m->threads[i].tid, __ATOMIC_ACQUIRE);
		struct vcpu_thread rec;
		struct thread *t;

		if (!tid || tid == THREAD_TOMBSTONE)
			continue;
		rec = m->threads[i];
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		/* a record started afresh while copied: the next read takes it */
		if (__atomic_load_n(&m->threads[i].tid, __ATOMIC_RELAXED) != tid || !rec.tgid)
			continue;
		t = table_thread(s, rec.tgid, tid);
		if (!t)
			return -ENOMEM;
		if (t->vcpu < 0 && rec.vcpu >= 0)
			t->vcpu = rec.vcpu;
		thread_time_update(&t->time, &rec, s->run_start_ns, now);
		if ((s->time_flags & TIME_ENTRIES) && t->time.entered)
			s->time_flags |= TIME_SPLIT_GUEST;
	}
	/* threads whose record is gone (reclaimed, or lost to the LRU) keep
	 * their totals and add nothing */
	for (size_t i = 0; i < s->nr_threads; i++) {
		struct thread_time *tt = &s->threads[i].time;

		if (tt->seen && tt->read_at != now) {
			memset(tt->interval, 0, sizeof(tt->interval));
			tt->interval_wall = 0;
		}
	}
	s->read_ns = now;
	return 0;
}

/* --rip: the per-CPU counts of each (guest, reason, address). */
static int read_rips(struct map_reader *m, struct rip_table *t)
{
	size_t count_size = ROUND_UP8(sizeof(__u64)) * m->ncpus;
	long n;

	if (m->rips_fd < 0 || !t)
		return 0;
	n = map_walk(m->rips_fd, m->keys, sizeof(struct rip_key), m->values, count_size, MAX_RIP_KEYS);
	for (long i = 0; i < n; i++) {
		const __u64 *per_cpu = (void *)((char *)m->values + i * count_size);
		struct rip_row *r = rip_row_of(t, (struct rip_key *)m->keys + i);
		__u64 sum = 0;

		if (!r)
			return -ENOMEM;
		for (int c = 0; c < m->ncpus; c++)
			sum += per_cpu[c];
		if (sum < r->map_count)	/* deleted and made again */
			r->map_count = 0;
		r->count += sum - r->map_count;
		r->map_count = sum;
	}
	return 0;
}

/* The addresses of the guests reclaim_traps deletes next, before it. */
static void reclaim_rips(struct map_reader *m, struct rip_table *t, const struct trap_table *s)
{
	for (size_t i = 0; m->rips_fd >= 0 && t && i < t->nr; i++) {
		struct rip_row *r = &t->rows[i];
		const struct guest *g = table_find_guest(s, r->key.tgid);

		if (!g || !g->ended || g->reclaimed)
			continue;
		bpf_map_delete_elem(m->rips_fd, &r->key);
		r->map_count = 0;
	}
}

int map_read(struct map_reader *m, struct trap_table *s, struct insn_table *insns, struct rip_table *rips)
{
	int err = read_traps(m, s);

	map_reader_pause(m);
	if (!err)
		err = read_times(m, s);
	map_reader_pause(m);
	if (!err)
		err = read_rips(m, rips);
	return err || !insns ? err : read_insns(m, insns);
}

void map_reclaim(struct map_reader *m, struct trap_table *s, struct insn_table *insns, struct rip_table *rips)
{
	if (insns)
		reclaim_insns(m, insns, s);
	reclaim_rips(m, rips, s);
	reclaim_traps(m, s);
}
