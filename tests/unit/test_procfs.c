// SPDX-License-Identifier: GPL-2.0
/* /proc: guest names from command lines and cgroups, vCPU threads, start times. */
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "collect/procfs.h"

static void test_guest_names(void)
{
	static const char qemu[] = "qemu-system-x86_64\0-m\0512\0-name\0guest=web,debug-threads=on\0";
	static const char qemu_plain[] = "qemu\0-name\0db01\0-m\0256\0";
	static const char qemu_process[] = "qemu\0-name\0vm1,process=qemu:vm1\0";
	static const char qemu_commas[] = "qemu\0-name\0guest=a,,b,debug-threads=on\0";
	static const char firecracker[] = "firecracker\0--api-sock\0/tmp/s\0--id\0fc-7\0";
	static const char none[] = "guestload\0-g\0002\0";
	static const char hostile[] = "qemu\0-name\0guest=x\x1b[2J\"q\",\n\\end\0";
	static const char crosvm[] = "/usr/bin/crosvm\0run\0--name\0android,1\0--cpus\0002\0vmlinux\0";
	static const char crosvm_eq[] = "crosvm\0run\0--name=cvd-2\0";
	static const char crosvm_none[] = "crosvm\0run\0--cpus\0004\0vmlinux\0";
	static const char ch_path[] = "cloud-hypervisor\0--api-socket\0path=/run/ch/web.sock\0";
	static const char ch_plain[] = "/opt/cloud-hypervisor\0--kernel\0k\0--api-socket=/tmp/db\x1b[1m.sock\0";
	static const char ch_fd[] = "cloud-hypervisor\0--api-socket\0fd=3\0";
	static const char cg_v2[] = "0::/machine.slice/machine-qemu\\x2d3\\x2dweb\\x2d01.scope/libvirt/emulator\n";
	static const char cg_v1[] = "12:pids:/\n4:memory:/machine.slice/machine-qemu\\x2d17\\x2ddb.scope\n";
	static const char cg_hostile[] = "0::/machine.slice/machine-qemu\\x2d1\\x2da\\x1b[2J\\x0a,\"b\\x5cx2.scope\n";
	static const char cg_ch[] = "0::/machine.slice/machine-ch\\x2d2\\x2dfast.scope\n";
	static const char cg_none[] = "0::/user.slice/user-0.slice/session-1.scope\n";
	static const char cg_noid[] = "0::/machine.slice/machine-qemu\\x2dweb.scope\n";
	static const char cg_empty[] = "0::/machine.slice/machine-qemu\\x2d3\\x2d.scope\n";
	char out[GUEST_NAME_MAX];

	CHECK(name_from_cmdline(qemu, sizeof(qemu), out, sizeof(out)), "qemu guest=");
	CHECK_STR(out, "web");
	CHECK(name_from_cmdline(qemu_plain, sizeof(qemu_plain), out, sizeof(out)), "qemu plain");
	CHECK_STR(out, "db01");
	CHECK(name_from_cmdline(qemu_process, sizeof(qemu_process), out, sizeof(out)), "qemu first elem");
	CHECK_STR(out, "vm1");
	CHECK(name_from_cmdline(qemu_commas, sizeof(qemu_commas), out, sizeof(out)), "qemu ,,");
	CHECK_STR(out, "a,b");
	CHECK(name_from_cmdline(firecracker, sizeof(firecracker), out, sizeof(out)), "firecracker");
	CHECK_STR(out, "fc-7");
	CHECK(!name_from_cmdline(none, sizeof(none), out, sizeof(out)), "no name");
	/* -name as the last argument, with no value, must not read past the end */
	CHECK(!name_from_cmdline("qemu\0-name\0", 11, out, sizeof(out)), "dangling -name");
	/* an empty name is no name: the cgroup or comm is used instead */
	CHECK(!name_from_cmdline("qemu\0-name\0guest=\0", 19, out, sizeof(out)), "empty -name guest=");
	CHECK(!name_from_cmdline("crosvm\0--name=\0", 16, out, sizeof(out)), "empty crosvm --name=");
	CHECK(!name_from_cgroup("0::/machine-lxc\\x2d1\\x2d\0x.scope\n", 34, out, sizeof(out)),
	      "cgroup name of a NUL byte");
	CHECK(name_from_cmdline(hostile, sizeof(hostile), out, sizeof(out)), "hostile");
	CHECK_STR(out, "x\\x1b[2J\"q\"");	/* stops at the unescaped comma */

	CHECK(name_from_cmdline(crosvm, sizeof(crosvm), out, sizeof(out)), "crosvm --name");
	CHECK_STR(out, "android,1");
	CHECK(name_from_cmdline(crosvm_eq, sizeof(crosvm_eq), out, sizeof(out)), "crosvm --name=");
	CHECK_STR(out, "cvd-2");
	CHECK(!name_from_cmdline(crosvm_none, sizeof(crosvm_none), out, sizeof(out)), "crosvm unnamed");
	CHECK(name_from_cmdline(ch_path, sizeof(ch_path), out, sizeof(out)), "ch path=");
	CHECK_STR(out, "web");
	CHECK(name_from_cmdline(ch_plain, sizeof(ch_plain), out, sizeof(out)), "ch plain path");
	CHECK_STR(out, "db\\x1b[1m");
	CHECK(!name_from_cmdline(ch_fd, sizeof(ch_fd), out, sizeof(out)), "ch fd= has no name");
	CHECK(!name_from_cmdline("", 0, out, sizeof(out)), "empty command line");

	CHECK(name_from_cgroup(cg_v2, strlen(cg_v2), out, sizeof(out)), "libvirt cgroup v2");
	CHECK_STR(out, "web-01");
	CHECK(name_from_cgroup(cg_v1, strlen(cg_v1), out, sizeof(out)), "libvirt cgroup v1");
	CHECK_STR(out, "db");
	CHECK(name_from_cgroup(cg_hostile, strlen(cg_hostile), out, sizeof(out)), "hostile cgroup");
	CHECK_STR(out, "a\\x1b[2J\\x0a,\"b\\x5cx2");
	CHECK(name_from_cgroup(cg_ch, strlen(cg_ch), out, sizeof(out)), "libvirt ch driver");
	CHECK_STR(out, "fast");
	CHECK(!name_from_cgroup(cg_none, strlen(cg_none), out, sizeof(out)), "no machine scope");
	CHECK(!name_from_cgroup(cg_noid, strlen(cg_noid), out, sizeof(out)), "scope without id");
	CHECK(!name_from_cgroup(cg_empty, strlen(cg_empty), out, sizeof(out)), "scope without name");

	CHECK(vcpu_from_comm("CPU 3/KVM") == 3, "qemu vcpu thread");
	CHECK(vcpu_from_comm("vcpu12") == 12, "cloud-hypervisor vcpu thread");
	CHECK(vcpu_from_comm("crosvm_vcpu1") == 1, "crosvm vcpu thread");
	CHECK(vcpu_from_comm("fc_vcpu 0\n") == 0, "firecracker vcpu thread");
	CHECK(vcpu_from_comm("vcpu") == -1 && vcpu_from_comm("vcpu1x") == -1 &&
	      vcpu_from_comm("worker") == -1 && vcpu_from_comm("CPU 1/TCG") == -1, "not vcpu threads");

	escape_name("a\x1b]0;t\x07\n\\\xc3\xa9", 11, out, sizeof(out));
	CHECK_STR(out, "a\\x1b]0;t\\x07\\x0a\\x5c\\xc3\\xa9");
	escape_name("abcdef", 6, out, 4);	/* truncates, never overflows */
	CHECK_STR(out, "abc");
	escape_name("ab\x01", 3, out, 5);	/* an escape that does not fit is dropped whole */
	CHECK_STR(out, "ab");
}

/* /proc/PID/stat's start time, after a comm holding spaces and parentheses */
static void test_start_time(void)
{
	static const char stat[] = "4242 (a) (b c) S 1 2 3 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 "
				   "1322618 3133440 363\n";

	CHECK_U64(start_time_from_stat(stat, sizeof(stat) - 1), 1322618);
	CHECK_U64(start_time_from_stat("4242 (x", 7), 0);
	CHECK_U64(start_time_from_stat("4242 (x) S 1 2", 14), 0);
	CHECK(process_start_time(getpid()) > 0 &&
	      process_start_time(getpid()) == process_start_time(getpid()), "our own start time");
	CHECK_U64(process_start_time(0x7ffffff3), 0);
}

void unit_procfs(void)
{
	test_guest_names();
	test_start_time();
}
