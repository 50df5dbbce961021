// SPDX-License-Identifier: GPL-2.0
/* Guest kernel symbols from System.map or a kallsyms copy (--guest-syms). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/guest_syms.h"
#include "util/text.h"
#include "util/vec.h"

/* The longest gap from a symbol to an address it still names: past it
 * (module space, vmalloc, a guest user address) nothing is claimed. */
#define MAX_SYM_SPAN (1 << 20)

static int by_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* One line line of path: "ADDR TYPE NAME [module]", as both formats are. */
static int parse_line(struct guest_symfile *f, size_t *cap, char *line, unsigned long nr)
{
	char *end, type, name[256], shown[512];
	unsigned long long addr;

	errno = 0;
	addr = strtoull(line, &end, 16);
	if (end == line || errno || *end != ' ' || sscanf(end, " %c %255s", &type, name) != 2) {
		escape_text(line, shown, sizeof(shown));
		fprintf(stderr, "kvmprof: --guest-syms %s:%lu: not a System.map or kallsyms line: '%.60s'\n",
			f->path, nr, shown);
		return -1;
	}
	if (!strcmp(name, "_etext"))
		f->text_end = addr;
	else if (!strcmp(name, "_sinittext"))
		f->init_start = addr;
	else if (!strcmp(name, "_einittext"))
		f->init_end = addr;
	if (type != 't' && type != 'T' && type != 'w' && type != 'W')
		return 0;	/* code only: data, absolute symbols and the like name no rip */
	if (VEC_GROW(f->syms, *cap, f->nr + 1) || !(f->syms[f->nr].name = strdup(name))) {
		fprintf(stderr, "kvmprof: --guest-syms %s: out of memory\n", f->path);
		return -1;
	}
	f->syms[f->nr++].addr = addr;
	return 0;
}

int guest_syms_load(struct guest_syms *g, const char *guest, const char *path)
{
	struct guest_symfile *f;
	char line[1024];
	unsigned long nr = 0;
	size_t cap = 0;
	FILE *in;

	f = realloc(g->files, (g->nr + 1) * sizeof(*g->files));
	if (!f)
		return -1;
	g->files = f;
	f = &g->files[g->nr];
	*f = (struct guest_symfile){ .guest = guest, .path = path };
	in = fopen(path, "r");
	if (!in) {
		fprintf(stderr, "kvmprof: --guest-syms %s: %s\n", path, strerror(errno));
		return -1;
	}
	g->nr++;	/* freed with the others from here on */
	while (fgets(line, sizeof(line), in)) {
		nr++;
		line[strcspn(line, "\n")] = '\0';
		if (*line && parse_line(f, &cap, line, nr)) {
			fclose(in);
			return -1;
		}
	}
	fclose(in);
	if (!f->nr) {
		fprintf(stderr, "kvmprof: --guest-syms %s: no code symbols in it\n", path);
		return -1;
	}
	qsort(f->syms, f->nr, sizeof(*f->syms), by_addr);
	return 0;
}

int guest_syms_kaslr(struct guest_syms *g, const char *guest, __u64 offset)
{
	bool any = false;

	for (size_t i = 0; i < g->nr; i++)
		if (!strcmp(g->files[i].guest, guest)) {
			g->files[i].kaslr = offset;
			any = true;
		}
	if (!any)
		fprintf(stderr, "kvmprof: --guest-kaslr %s: no --guest-syms %s=FILE before it\n", guest, guest);
	return any ? 0 : -1;
}

void guest_syms_free(struct guest_syms *g)
{
	for (size_t i = 0; i < g->nr; i++) {
		for (size_t j = 0; j < g->files[i].nr; j++)
			free(g->files[i].syms[j].name);
		free(g->files[i].syms);
	}
	free(g->files);
	memset(g, 0, sizeof(*g));
}

static bool file_is_guests(const struct guest_symfile *f, __u32 pid, const char *name)
{
	char digits[16];

	snprintf(digits, sizeof(digits), "%u", pid);
	return !strcmp(f->guest, digits) || (name && !fnmatch(f->guest, name, 0));
}

bool guest_sym_name(const struct guest_syms *g, __u32 pid, const char *name, __u64 rip, char *buf,
		    size_t size)
{
	for (size_t i = 0; g && i < g->nr; i++) {
		const struct guest_symfile *f = &g->files[i];
		__u64 addr = rip - f->kaslr;
		size_t lo = 0, hi = f->nr;

		if (!file_is_guests(f, pid, name))
			continue;
		if (!f->nr || addr < f->syms[0].addr ||
		    (f->text_end && addr >= f->text_end && !(addr >= f->init_start && addr < f->init_end)))
			return false;
		while (hi - lo > 1) {	/* the last symbol at or below addr */
			size_t mid = (lo + hi) / 2;

			if (f->syms[mid].addr <= addr)
				lo = mid;
			else
				hi = mid;
		}
		if (addr - f->syms[lo].addr > MAX_SYM_SPAN)
			return false;
		snprintf(buf, size, "%s+0x%llx", f->syms[lo].name, (unsigned long long)(addr - f->syms[lo].addr));
		return true;
	}
	return false;
}
