// SPDX-License-Identifier: GPL-2.0
/* What the run needs of the process's limits, checked before any work:
 * open files, and the memory its maps and buffers take, which a memory
 * cgroup would otherwise answer with the OOM killer and no word. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <bpf/libbpf.h>
#include "collect/limits.h"
#include "collect/map_reader.h"
#include "kvmprof.h"

#define NEEDED_FILES 128	/* maps, programs, links, BTF, ring buffer, outputs: ~60 */
/* the program, its libraries, the kernel's BTF parsed, the verifier's
 * states at load (the count and thread tables' probe loops in every counting
 * program) */
#define BASE_BYTES (39UL << 20)
#define HTAB_ELEM 64		/* a hash map element's own overhead, about */

/* Open files: the soft limit raised to what is needed where the hard one
 * allows. */
static int check_files(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur >= NEEDED_FILES)
		return 0;
	if (r.rlim_max >= NEEDED_FILES) {
		r.rlim_cur = NEEDED_FILES;
		return setrlimit(RLIMIT_NOFILE, &r) ? -1 : 0;
	}
	fprintf(stderr, "kvmprof: ulimit -n is %llu: kvmprof needs %d open files (its maps, programs "
		"and links); raise it\n", (unsigned long long)r.rlim_max, NEEDED_FILES);
	return -1;
}

unsigned long run_memory_estimate(const struct options *opts, int ncpus)
{
	unsigned long keys = opts->max_keys, cpu8 = 8UL * ncpus;
	unsigned long table_slots = 1UL << count_table_bits_for(keys);
	unsigned long maps = keys * (sizeof(struct trap_key) + HTAB_ELEM + 8) +
			     table_slots * (sizeof(struct trap_key) + 8 + cpu8) +
			     keys * (sizeof(struct trap_key) + HTAB_ELEM + sizeof(struct trap_latency)) +
			     THREAD_SLOTS * (sizeof(struct vcpu_thread) + 8) + VCPU_TID_WORDS * 8UL +
			     (opts->slow_ns ? 256UL << 10 : 0) +
			     (opts->insns ? MAX_INSN_KEYS * (sizeof(struct insn_key) + HTAB_ELEM + cpu8) : 0) +
			     MAX_FAILED_KEYS * (sizeof(struct insn_key) + HTAB_ELEM + sizeof(struct failed_insn)) +
			     2UL * MAX_GUESTS * (4 + HTAB_ELEM + 8) + (256UL << 10) +
			     HOT_SLOTS * ncpus * sizeof(struct hot_slot);
	size_t key_bytes, value_bytes;

	/* the read buffers' pages that this run's reads touch */
	map_reader_buffer_sizes(keys, ncpus, opts->insns, opts->rips, &key_bytes, &value_bytes);
	return BASE_BYTES + maps + key_bytes + value_bytes + table_slots * 4 +
	       3UL * HOT_SLOTS * ncpus * sizeof(struct hot_slot);
}

/* One memory cgroup's room: limit - usage, ~0 for none; v2 (memory.max,
 * memory.current) or v1 (memory.limit_in_bytes, memory.usage_in_bytes). */
static unsigned long cgroup_room(const char *dir, bool v2)
{
	char path[4300];
	unsigned long long limit = ~0ULL, used = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, v2 ? "memory.max" : "memory.limit_in_bytes");
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%llu", &limit) != 1)
			limit = ~0ULL;	/* "max" */
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, v2 ? "memory.current" : "memory.usage_in_bytes");
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%llu", &used) != 1)
			used = 0;
		fclose(f);
	}
	return limit > used ? (unsigned long)(limit - used) : 0;
}

/* The least room of this process's memory cgroup and its ancestors. */
static unsigned long memory_room(void)
{
	char line[4096], dir[4120];
	unsigned long room = ~0UL;
	FILE *f = fopen("/proc/self/cgroup", "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *path = strrchr(line, ':');
		bool v2 = !strncmp(line, "0::", 3);

		if (!path || (!v2 && !strstr(line, ":memory:")))
			continue;
		path[strcspn(path, "\n")] = '\0';
		snprintf(dir, sizeof(dir), "/sys/fs/cgroup%s%s", v2 ? "" : "/memory", path + 1);
		for (;;) {	/* a limit may sit on any ancestor */
			unsigned long r = cgroup_room(dir, v2);
			char *slash = strrchr(dir, '/');

			room = r < room ? r : room;
			if (!slash || slash - dir <= (v2 ? 14 : 21))	/* at the hierarchy's root */
				break;
			*slash = '\0';
		}
	}
	if (f)
		fclose(f);
	return room;
}

int check_limits(const struct options *opts)
{
	unsigned long need = run_memory_estimate(opts, libbpf_num_possible_cpus()), room;

	if (check_files())
		return -1;
	room = memory_room();
	if (room < need) {
		fprintf(stderr, "kvmprof: the memory cgroup leaves %lu MiB; kvmprof needs about %lu MiB "
			"(its maps and buffers; --max-keys makes them smaller)\n", room >> 20,
			(need >> 20) + 1);
		return -1;
	}
	return 0;
}
