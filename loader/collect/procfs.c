// SPDX-License-Identifier: GPL-2.0
/* Who a guest is: names and vCPU numbers from /proc. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "collect/procfs.h"

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

/* The last path element of a socket path, without ".sock". */
static void socket_name(const char *path, char *out, size_t size)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".sock"))
		n -= 5;
	escape_name(base, n, out, size);
}

/* The value of "--opt VALUE" or "--opt=VALUE" at arg, else NULL. */
static const char *option_value(const char *arg, const char *next, const char *end,
				const char *opt)
{
	size_t n = strlen(opt);

	if (strncmp(arg, opt, n))
		return NULL;
	if (arg[n] == '=')
		return arg + n + 1;
	if (!arg[n] && next < end)
		return next;
	return NULL;
}

static bool program_is(const char *argv0, const char *name)
{
	const char *base = strrchr(argv0, '/');

	return !strcmp(base ? base + 1 : argv0, name);
}

static bool cmdline_name(const char *cmdline, size_t len, char *out, size_t size)
{
	const char *end = cmdline + len, *arg = cmdline, *next, *v;
	bool crosvm, cloud_hypervisor;

	if (!len)
		return false;
	crosvm = program_is(cmdline, "crosvm");
	cloud_hypervisor = program_is(cmdline, "cloud-hypervisor");
	for (; arg < end; arg = next) {
		next = arg + strnlen(arg, end - arg) + 1;
		if (crosvm && (v = option_value(arg, next, end, "--name"))) {
			escape_name(v, strnlen(v, end - v), out, size);
			return true;
		}
		/* cloud-hypervisor has no name option: its API socket is named
		 * after the VM ("--api-socket path=/run/ch/web.sock" or a plain path) */
		if (cloud_hypervisor && (v = option_value(arg, next, end, "--api-socket"))) {
			char path[256];
			const char *p = strstr(v, "path=");

			p = p ? p + 5 : v;
			snprintf(path, sizeof(path), "%.*s", (int)strcspn(p, ","), p);
			if (!*path || !strncmp(v, "fd=", 3))
				continue;
			socket_name(path, out, size);
			return true;
		}
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

/* An empty name ("-name guest=") is no name: the next source is tried. */
bool name_from_cmdline(const char *cmdline, size_t len, char *out, size_t size)
{
	return cmdline_name(cmdline, len, out, size) && size && *out;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool name_from_cgroup(const char *cgroup, size_t len, char *out, size_t size)
{
	static const char prefix[] = "/machine-";
	const char *end = cgroup + len, *p = cgroup;

	/* libvirt's scope: machine-DRIVER\x2dID\x2dNAME.scope, systemd-escaped */
	while ((p = memmem(p, end - p, prefix, sizeof(prefix) - 1))) {
		char raw[GUEST_NAME_MAX * 2];
		const char *scope, *name;
		size_t n = 0;

		p += sizeof(prefix) - 1;
		scope = memmem(p, end - p, ".scope", 6);
		if (!scope || memchr(p, '/', scope - p) || memchr(p, '\n', scope - p))
			continue;
		name = memmem(p, scope - p, "\\x2d", 4);	/* after the driver */
		if (!name)
			continue;
		name += 4;
		while (name < scope && *name >= '0' && *name <= '9')	/* the domain id */
			name++;
		if (name == scope || scope - name < 5 || strncmp(name, "\\x2d", 4))
			continue;
		name += 4;
		for (; name < scope && n < sizeof(raw); name++) {
			int hi, lo;

			if (name[0] == '\\' && scope - name >= 4 && name[1] == 'x' &&
			    (hi = hex_digit(name[2])) >= 0 && (lo = hex_digit(name[3])) >= 0 &&
			    (hi || lo)) {
				raw[n++] = hi << 4 | lo;
				name += 3;
			} else {
				raw[n++] = *name;
			}
		}
		if (!n)
			continue;
		escape_name(raw, n, out, size);
		if (size && *out)	/* not a name of NUL bytes */
			return true;
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

bool guest_name(__u32 pid, const struct process_seen *seen, char *out, size_t size)
{
	char path[64], buf[8192];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	n = read_file(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		if (name_from_cmdline(buf, n + 1, out, size))
			return true;
	} else if (seen && seen->cmdline && name_from_cmdline(seen->cmdline, seen->cmdline_len, out, size)) {
		return true;	/* it exited before this read */
	}
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	n = read_file(path, buf, sizeof(buf) - 1);
	if (n > 0 && name_from_cgroup(buf, n, out, size))
		return true;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	n = read_file(path, buf, sizeof(buf) - 1);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0) {
		escape_name(buf, n, out, size);
		return true;
	}
	if (seen && seen->comm && *seen->comm) {
		escape_name(seen->comm, strnlen(seen->comm, 16), out, size);
		return true;
	}
	snprintf(out, size, "pid%u", pid);
	return false;
}

/* QEMU "CPU 3/KVM", cloud-hypervisor "vcpu3", crosvm "crosvm_vcpu3",
 * Firecracker "fc_vcpu 3". */
int vcpu_from_comm(const char *comm)
{
	static const char *const prefixes[] = { "vcpu", "crosvm_vcpu", "fc_vcpu " };
	unsigned int vcpu;
	char c;
	int end = 0;

	if (sscanf(comm, "CPU %u/KV%c", &vcpu, &c) == 2 && c == 'M' && vcpu < 0x7fffffff)
		return vcpu;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (strncmp(comm, prefixes[i], n) || comm[n] < '0' || comm[n] > '9')
			continue;
		if (sscanf(comm + n, "%u%n", &vcpu, &end) == 1 && (!comm[n + end] ||
		    comm[n + end] == '\n') && vcpu < 0x7fffffff)
			return vcpu;
	}
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

/* Field 22 of /proc/PID/stat, after the comm in parentheses (which may hold
 * spaces and parentheses itself): the 20th field after the closing one. */
__u64 start_time_from_stat(const char *stat, size_t len)
{
	const char *p = NULL, *end = stat + len;
	unsigned long long v = 0;
	int field = 2;

	for (const char *q = stat; q < end; q++)
		if (*q == ')')
			p = q;
	if (!p)
		return 0;
	for (p++; p < end && field < 22; p++)
		if (*p == ' ' && p + 1 < end && p[1] != ' ')
			field++;
	for (; field == 22 && p < end && *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	return v;
}

__u64 process_start_time(__u32 pid)
{
	char path[64], buf[1024];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	n = read_file(path, buf, sizeof(buf));
	return n > 0 ? start_time_from_stat(buf, n) : 0;
}

__u64 start_time_from_boottime(__u64 ns)
{
	long tck = sysconf(_SC_CLK_TCK);

	return tck > 0 ? ns / (1000000000ULL / tck) : 0;
}

__u64 thread_start_ns(__u32 pid, __u32 tid)
{
	char path[64], buf[1024];
	struct timespec boot, mono;
	long tck = sysconf(_SC_CLK_TCK);
	__u64 ticks, since_boot, gap;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/stat", pid, tid);
	n = read_file(path, buf, sizeof(buf));
	ticks = n > 0 ? start_time_from_stat(buf, n) : 0;
	if (!ticks || tck <= 0 || clock_gettime(CLOCK_BOOTTIME, &boot) || clock_gettime(CLOCK_MONOTONIC, &mono))
		return 0;
	/* the start is in CLOCK_BOOTTIME ticks; BPF's clock is CLOCK_MONOTONIC,
	 * behind it by the time the machine was suspended */
	since_boot = ticks * (1000000000ULL / tck);
	gap = (boot.tv_sec - mono.tv_sec) * 1000000000ULL + boot.tv_nsec - mono.tv_nsec;
	return since_boot > gap ? since_boot - gap : 0;
}

bool process_alive(__u32 pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

bool process_has_vm(__u32 pid)
{
	char path[64], link[64];
	struct dirent *d;
	bool found = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (d = readdir(dir))) {
		char fd_path[320];
		ssize_t n;

		snprintf(fd_path, sizeof(fd_path), "%s/%s", path, d->d_name);
		n = readlink(fd_path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found = !strcmp(link, "anon_inode:kvm-vm");
		}
	}
	closedir(dir);
	return found;
}

static int thread_vcpu(__u32 pid, __u32 tid, const char *comm)
{
	return comm ? vcpu_from_comm(comm) : vcpu_from_thread_name(pid, tid);
}

const struct table_source procfs_source = {
	.guest_name = guest_name, .start_time = process_start_time, .thread_vcpu = thread_vcpu,
	.thread_start_ns = thread_start_ns,
};
