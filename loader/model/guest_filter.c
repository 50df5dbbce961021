// SPDX-License-Identifier: GPL-2.0
/* -g NAME: guests chosen by name, in user space (BPF only knows pids). */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include "model/guest_filter.h"

bool guest_name_matches(const char *name, const char *const *globs, int nr_globs)
{
	if (!nr_globs)
		return true;
	for (int i = 0; i < nr_globs; i++)
		if (!fnmatch(globs[i], name, 0))
			return true;
	return false;
}

/* dst = the guests of src that keep() takes, with their threads and rows;
 * only thread `only` (index + 1) of them when it is not 0. */
static int select_where(struct trap_table *dst, const struct trap_table *src,
			bool (*keep)(const struct guest *g, const void *ctx), const void *ctx, size_t only)
{
	memset(dst, 0, sizeof(*dst));
	dst->source = src->source;
	dst->insns = src->insns;	/* shared: reports pick the chosen guests' */
	memcpy(dst->drops, src->drops, sizeof(dst->drops));
	dst->time_flags = src->time_flags;
	dst->counters = src->counters;
	dst->rips = src->rips;
	dst->run_start_ns = src->run_start_ns;
	dst->read_ns = src->read_ns;
	/* one spare slot each, so that empty arrays are still allocations */
	dst->guests = malloc((src->nr_guests + 1) * sizeof(*dst->guests));
	dst->threads = malloc((src->nr_threads + 1) * sizeof(*dst->threads));
	dst->rows = malloc((src->nr_rows + 1) * sizeof(*dst->rows));
	/* where each source guest and thread went: index + 1, 0 not chosen */
	size_t *guest_to = calloc(src->nr_guests + 1, sizeof(*guest_to));
	size_t *thread_to = calloc(src->nr_threads + 1, sizeof(*thread_to));

	if (!dst->guests || !dst->threads || !dst->rows || !guest_to || !thread_to) {
		free(guest_to);
		free(thread_to);
		table_free(dst);
		return -ENOMEM;
	}
	for (size_t i = 0; i < src->nr_guests; i++)
		if (keep(&src->guests[i], ctx)) {
			dst->guests[dst->nr_guests++] = src->guests[i];
			guest_to[i] = dst->nr_guests;
		}
	for (size_t i = 0; i < src->nr_threads; i++)
		if (guest_to[src->threads[i].guest] && (!only || i == only - 1)) {
			dst->threads[dst->nr_threads] = src->threads[i];
			dst->threads[dst->nr_threads++].guest = guest_to[src->threads[i].guest] - 1;
			thread_to[i] = dst->nr_threads;
		}
	for (size_t i = 0; i < src->nr_rows; i++)
		if (guest_to[src->rows[i].guest] && thread_to[src->rows[i].thread]) {
			struct trap_row *row = &dst->rows[dst->nr_rows++];

			*row = src->rows[i];
			row->guest = guest_to[row->guest] - 1;
			row->thread = thread_to[row->thread] - 1;
		}
	free(guest_to);
	free(thread_to);
	dst->cap_guests = dst->nr_guests;
	dst->cap_threads = dst->nr_threads;
	dst->cap_rows = dst->nr_rows;
	return 0;
}

struct globs {
	const char *const *globs;
	int nr;
};

static bool name_matches(const struct guest *g, const void *ctx)
{
	const struct globs *gl = ctx;

	return guest_name_matches(g->name, gl->globs, gl->nr);
}

int table_select(struct trap_table *dst, const struct trap_table *src, const char *const *globs,
		 int nr_globs)
{
	return select_where(dst, src, name_matches, &(struct globs){ globs, nr_globs }, 0);
}

static bool is_guest(const struct guest *g, const void *ctx)
{
	return g == ctx;
}

int table_select_thread(struct trap_table *dst, const struct trap_table *src, size_t thread)
{
	return select_where(dst, src, is_guest, &src->guests[src->threads[thread].guest], thread + 1);
}
