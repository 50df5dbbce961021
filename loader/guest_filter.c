// SPDX-License-Identifier: GPL-2.0
/* -g NAME: guests chosen by name, in user space (BPF only knows pids). */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include "guest_filter.h"

bool guest_name_matches(const char *name, const char *const *globs, int nr_globs)
{
	if (!nr_globs)
		return true;
	for (int i = 0; i < nr_globs; i++)
		if (!fnmatch(globs[i], name, 0))
			return true;
	return false;
}

static bool pid_chosen(const struct stats *dst, __u32 pid)
{
	for (size_t i = 0; i < dst->nr_guests; i++)
		if (dst->guests[i].pid == pid)
			return true;
	return false;
}

int stats_select(struct stats *dst, const struct stats *src, const char *const *globs,
		 int nr_globs)
{
	memset(dst, 0, sizeof(*dst));
	dst->ncpus = src->ncpus;
	dst->insns = src->insns;	/* shared: reports pick the chosen guests' */
	memcpy(dst->drops, src->drops, sizeof(dst->drops));
	/* one spare slot each, so that empty arrays are still allocations */
	dst->guests = malloc((src->nr_guests + 1) * sizeof(*dst->guests));
	dst->threads = malloc((src->nr_threads + 1) * sizeof(*dst->threads));
	dst->rows = malloc((src->nr_rows + 1) * sizeof(*dst->rows));
	if (!dst->guests || !dst->threads || !dst->rows) {
		stats_free(dst);
		return -ENOMEM;
	}
	for (size_t i = 0; i < src->nr_guests; i++)
		if (guest_name_matches(src->guests[i].name, globs, nr_globs))
			dst->guests[dst->nr_guests++] = src->guests[i];
	for (size_t i = 0; i < src->nr_threads; i++)
		if (pid_chosen(dst, src->threads[i].pid))
			dst->threads[dst->nr_threads++] = src->threads[i];
	for (size_t i = 0; i < src->nr_rows; i++)
		if (pid_chosen(dst, src->rows[i].key.tgid))
			dst->rows[dst->nr_rows++] = src->rows[i];
	dst->cap_guests = dst->nr_guests;
	dst->cap_threads = dst->nr_threads;
	dst->cap_rows = dst->nr_rows;
	return 0;
}
