// SPDX-License-Identifier: GPL-2.0
/* The attach plans against both architectures' BPF objects. */
#include <string.h>
#include <bpf/libbpf.h>
#include "unit.h"
#include "collect/probes.h"

struct program_walk {
	struct bpf_object *obj;
	int pairs, missing;
	char seen[64][64];
	int nr_seen;
};

static void check_program(void *ctx, const char *event, const char *method, const char *program)
{
	struct program_walk *w = ctx;

	w->pairs++;
	if (!bpf_object__find_program_by_name(w->obj, program)) {
		w->missing++;
		fprintf(stderr, "  %s as %s: no program %s\n", event, method, program);
	}
	if (w->nr_seen < 64)
		snprintf(w->seen[w->nr_seen++], 64, "%s", program);
}

/* Every (event, attach method, function) pair either architecture's plan
 * table can choose names a program of that architecture's BPF object, and
 * every program of the object is one of them (or the loader's own). */
static void test_plan_programs(void)
{
	static const char *const objects[NR_PROBE_ARCHES] = {
		[PROBE_ARCH_X86] = ".output/kvmprof-x86.bpf.o",
		[PROBE_ARCH_ARM64] = ".output/kvmprof-arm64.bpf.o",
	};

	for (int arch = 0; arch < NR_PROBE_ARCHES; arch++) {
		struct program_walk w = { .obj = bpf_object__open_file(objects[arch], NULL) };
		struct bpf_program *prog;
		int unplanned = 0;

		CHECK(w.obj, "cannot open %s", objects[arch]);
		if (!w.obj)
			continue;
		probe_each_program(arch, check_program, &w);
		CHECK(w.pairs >= (arch == PROBE_ARCH_X86 ? 30 : 20) && w.missing == 0,
		      "%s: %d of %d planned programs missing", objects[arch], w.missing, w.pairs);
		bpf_object__for_each_program(prog, w.obj) {
			const char *name = bpf_program__name(prog);
			bool planned = !strcmp(name, "flush_hot");

			for (int i = 0; i < w.nr_seen && !planned; i++)
				planned = !strcmp(w.seen[i], name);
			if (!planned && ++unplanned)
				fprintf(stderr, "  %s: program %s is in no plan\n", objects[arch], name);
		}
		CHECK(unplanned == 0, "%s: %d programs no plan can choose", objects[arch], unplanned);
		bpf_object__close(w.obj);
	}
}

void unit_probes(void)
{
	test_plan_programs();
}
