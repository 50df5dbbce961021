// SPDX-License-Identifier: GPL-2.0
/* Who a guest is: names and vCPU numbers from /proc. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "guests.h"

void escape_name(const char *in, size_t len, char *out, size_t size)
{
	size_t o = 0;

	if (!size)
		return;
	for (size_t i = 0; i < len && in[i]; i++) {
		unsigned char c = in[i];
		char esc[5];
		size_t n = 1;

		/* control bytes, DEL, backslash and all high bytes (C1 controls
		 * such as 0x9b CSI hide among them) are escaped */
		if (c < 0x20 || c >= 0x7f || c == '\\')
			n = snprintf(esc, sizeof(esc), "\\x%02x", c);
		else
			esc[0] = c;
		if (o + n >= size)
			break;
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o] = '\0';
}

/* QEMU's option syntax: elements split at ',', ",," is a literal comma;
 * "guest=NAME" names the guest, as does a first element without '='. */
static bool qemu_name(const char *arg, char *out, size_t size)
{
	char elem[GUEST_NAME_MAX * 2];
	bool found = false;

	for (int idx = 0; *arg; idx++) {
		size_t n = 0;
		char *eq;

		for (; *arg && !(arg[0] == ',' && arg[1] != ','); arg++) {
			if (arg[0] == ',')
				arg++;
			if (n < sizeof(elem) - 1)
				elem[n++] = *arg;
		}
		elem[n] = '\0';
		if (*arg)
			arg++;
		eq = memchr(elem, '=', n);
		if (eq && eq - elem == 5 && !strncmp(elem, "guest", 5)) {
			escape_name(eq + 1, n - 6, out, size);
			return true;
		}
		if (!eq && idx == 0) {
			escape_name(elem, n, out, size);
			found = true;
		}
	}
	return found;
}

bool name_from_cmdline(const char *cmdline, size_t len, char *out, size_t size)
{
	const char *end = cmdline + len, *arg = cmdline, *next;

	for (; arg < end; arg = next) {
		next = arg + strnlen(arg, end - arg) + 1;
		if (next >= end)
			break;
		if ((!strcmp(arg, "-name") || !strcmp(arg, "--name")) && qemu_name(next, out, size))
			return true;
		if (!strcmp(arg, "--id")) {	/* Firecracker */
			escape_name(next, strnlen(next, end - next), out, size);
			return true;
		}
	}
	return false;
}

static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -1;
	while ((size_t)total < size && (n = read(fd, buf + total, size - total)) > 0)
		total += n;
	close(fd);
	return total;
}

void guest_name(__u32 pid, const char *fallback_comm, char *out, size_t size)
{
	char path[64], buf[8192];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	n = read_file(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		if (name_from_cmdline(buf, n + 1, out, size))
			return;
	}
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	n = read_file(path, buf, sizeof(buf) - 1);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0) {
		escape_name(buf, n, out, size);
		return;
	}
	if (fallback_comm && *fallback_comm)
		escape_name(fallback_comm, strnlen(fallback_comm, 16), out, size);
	else
		snprintf(out, size, "pid%u", pid);
}

int vcpu_from_comm(const char *comm)
{
	unsigned int vcpu;
	char c;

	if (sscanf(comm, "CPU %u/KV%c", &vcpu, &c) == 2 && c == 'M' && vcpu < 0x7fffffff)
		return vcpu;
	return -1;
}

int vcpu_from_thread_name(__u32 pid, __u32 tid)
{
	char path[64], buf[32];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", pid, tid);
	n = read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return vcpu_from_comm(buf);
}

bool process_alive(__u32 pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}
