// SPDX-License-Identifier: GPL-2.0
/* bench/floor [EVENT...|all|clock|state]: attaches bench/floor.bpf.c's
 * empty programs on the events named (emulate by default; "emulate" is
 * kvm_emulate_insn, "all" every one this kernel has), says so, and holds
 * them until SIGINT or SIGTERM.  "clock" and "state" attach every empty
 * program and that floor of the timed events; one at a time: the first
 * program on an event to read the clock pays more for it than the next. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

/* prog is "floor_EVENT", "clock_EVENT" or "state_EVENT" */
static bool chosen(const char *prog, int argc, char **argv)
{
	bool empty = !strncmp(prog, "floor_", 6);

	if (argc < 2)
		return !strcmp(prog, "floor_kvm_emulate_insn");
	for (int i = 1; i < argc; i++)
		if ((empty && (!strcmp(argv[i], "all") || !strcmp(prog + 6, argv[i]) ||
			       !strcmp(argv[i], "clock") || !strcmp(argv[i], "state") ||
			       (!strcmp(argv[i], "emulate") && !strcmp(prog, "floor_kvm_emulate_insn")))) ||
		    (!empty && !strncmp(prog, argv[i], 5) && strlen(argv[i]) == 5))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct floor_bpf *skel = floor_bpf__open();
	struct bpf_program *prog;
	int n = 0;

	if (!skel) {
		fprintf(stderr, "floor: could not open the empty programs\n");
		return 1;
	}
	bpf_object__for_each_program(prog, skel->obj) {
		bool on = chosen(bpf_program__name(prog), argc, argv);

		bpf_program__set_autoload(prog, on);
		n += on;
	}
	if (!n) {
		fprintf(stderr, "usage: floor [emulate|all|clock|state|EVENT...]\n");
		return 2;
	}
	if (floor_bpf__load(skel) || floor_bpf__attach(skel)) {
		fprintf(stderr, "floor: could not load or attach the empty programs\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "floor: attached %d\n", n);
	while (!stop)
		pause();
	floor_bpf__destroy(skel);
	return 0;
}
