/* SPDX-License-Identifier: GPL-2.0 */
#ifndef GUESTS_H
#define GUESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define GUEST_NAME_MAX 128

/* The guest name a VMM's command line carries (QEMU "-name guest=X,..." or
 * "-name X", Firecracker "--id X"), escaped; false when it carries none.
 * cmdline is /proc/PID/cmdline: NUL-separated arguments. */
bool name_from_cmdline(const char *cmdline, size_t len, char *out, size_t size);

/* Copies len bytes of in to out, NUL-terminated, with control bytes, DEL,
 * backslash and non-UTF-8-safe high bytes escaped as \xNN, so a name
 * cannot move a terminal's cursor or break a line-based file. */
void escape_name(const char *in, size_t len, char *out, size_t size);

/* The name to show for a guest: from its command line, else its comm, else
 * fallback_comm (NULL or the comm BPF saw, for a process already gone). */
void guest_name(__u32 pid, const char *fallback_comm, char *out, size_t size);

/* vCPU number of a thread named like QEMU's "CPU 3/KVM", or -1. */
int vcpu_from_comm(const char *comm);
int vcpu_from_thread_name(__u32 pid, __u32 tid);

bool process_alive(__u32 pid);

#endif
