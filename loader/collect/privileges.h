/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PRIVILEGES_H
#define PRIVILEGES_H

#include <stdbool.h>

/* Once the programs are loaded and attached and the sockets bound, the
 * run needs no capability: the maps, the ring buffer and the flush program
 * are used through their fds, and /proc's names and stat files are for
 * anyone.  Only writing the output files where root may, needs
 * CAP_DAC_OVERRIDE (keep_files).  Drops the rest from the effective,
 * permitted and inheritable sets, so no later code (the /metrics parser)
 * runs with root's power.  Linux before 6.5 refuses bpf() on any fd
 * without CAP_BPF (kernel.unprivileged_bpf_disabled): there CAP_BPF stays,
 * found by trying bpf_fd, one of the run's maps.  0, or -1 after one line. */
int drop_privileges(bool keep_files, int bpf_fd);

#endif
