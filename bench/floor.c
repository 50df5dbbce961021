// SPDX-License-Identifier: GPL-2.0
/* bench/floor [emulate|sched_switch]: attaches one of bench/floor.bpf.c's
 * empty programs (emulate by default), says so, and holds it until SIGINT
 * or SIGTERM. */
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

int main(int argc, char **argv)
{
	bool sched = argc > 1 && !strcmp(argv[1], "sched_switch");
	struct floor_bpf *skel = floor_bpf__open();

	if (argc > 1 && !sched && strcmp(argv[1], "emulate")) {
		fprintf(stderr, "usage: floor [emulate|sched_switch]\n");
		return 2;
	}
	if (skel) {
		bpf_program__set_autoload(skel->progs.floor_emulate_insn, !sched);
		bpf_program__set_autoload(skel->progs.floor_sched_switch, sched);
	}
	if (!skel || floor_bpf__load(skel) || floor_bpf__attach(skel)) {
		fprintf(stderr, "floor: could not load or attach the empty program\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "floor: attached\n");
	while (!stop)
		pause();
	floor_bpf__destroy(skel);
	return 0;
}
