/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LIMITS_H
#define LIMITS_H

#include "cli/options.h"

/* The process's limits against what the run needs: open files (the soft
 * limit raised where the hard one allows) and the room its memory cgroup
 * leaves.  0, or -1 after one line naming the limit. */
int check_limits(const struct options *opts);
/* Bytes the run takes, about: its maps (charged to the memory cgroup),
 * the map reader's buffers, and the program with the kernel's BTF. */
unsigned long run_memory_estimate(const struct options *opts, int ncpus);

#endif
