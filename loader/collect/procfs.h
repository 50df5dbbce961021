/* SPDX-License-Identifier: GPL-2.0 */
#ifndef GUESTS_H
#define GUESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "model/table.h"	/* GUEST_NAME_MAX, struct table_source */

/* The guest name a VMM's command line carries (QEMU "-name guest=X,..." or
 * "-name X", Firecracker "--id X", crosvm "--name X", cloud-hypervisor the
 * file name of "--api-socket [path=]/run/X.sock" without ".sock"), escaped;
 * false when it carries none.  cmdline is /proc/PID/cmdline: NUL-separated
 * arguments. */
bool name_from_cmdline(const char *cmdline, size_t len, char *out, size_t size);

/* The libvirt domain name in /proc/PID/cgroup text: the systemd scope
 * "machine-qemu\x2d3\x2dNAME.scope" (any driver), unescaped, then escaped
 * as escape_name does; false when there is none. */
bool name_from_cgroup(const char *cgroup, size_t len, char *out, size_t size);

/* Copies len bytes of in to out, NUL-terminated, with control bytes, DEL,
 * backslash and non-UTF-8-safe high bytes escaped as \xNN, so a name
 * cannot move a terminal's cursor or break a line-based file. */
void escape_name(const char *in, size_t len, char *out, size_t size);

/* The name to show for a guest: from its command line, else the one BPF saw
 * (seen: NULL, or a process already gone), else its libvirt cgroup, else its
 * comm, else the comm BPF saw; false when none was there and out is "pidN". */
bool guest_name(__u32 pid, const struct process_seen *seen, char *out, size_t size);

/* vCPU number from a thread name: QEMU "CPU 3/KVM", cloud-hypervisor
 * "vcpu3", crosvm "crosvm_vcpu3", Firecracker "fc_vcpu 3"; else -1. */
int vcpu_from_comm(const char *comm);
int vcpu_from_thread_name(__u32 pid, __u32 tid);

bool process_alive(__u32 pid);
/* Does pid hold a KVM VM open?  That is what makes a process a guest. */
bool process_has_vm(__u32 pid);
/* When pid's process started (clock ticks after boot, /proc/PID/stat field
 * 22), 0 when there is none: a pid and its start time name one process. */
__u64 process_start_time(__u32 pid);
/* The same from the task's start_boottime (ns), as the kernel converts it
 * for /proc (nsec_to_clock_t): no /proc read. */
__u64 start_time_from_boottime(__u64 ns);
/* When thread tid of pid started, CLOCK_MONOTONIC ns (clock-tick
 * resolution); 0 when it is gone. */
__u64 thread_start_ns(__u32 pid, __u32 tid);
__u64 start_time_from_stat(const char *stat, size_t len);

/* The live table's source of names, start times and vCPU numbers. */
extern const struct table_source procfs_source;

#endif
