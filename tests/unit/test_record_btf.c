// SPDX-License-Identifier: GPL-2.0
/* Record types from tracefs format files, against the kernel's own BTF. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "unit.h"
#include "collect/record_btf.h"

static void test_record_fields(void)
{
	static const char format[] =
		"name: kvm_emulate_insn\nID: 85\nformat:\n"
		"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
		"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
		"\tfield:__u64 rip;\toffset:8;\tsize:8;\tsigned:0;\n"
		"\tfield:__u8 insn[15];\toffset:21;\tsize:15;\tsigned:0;\n"
		"\tfield:int errno;\toffset:40;\tsize:4;\tsigned:1;\n"
		"\tfield:__data_loc char[] name;\toffset:44;\tsize:4;\tsigned:1;\n\n"
		"print fmt: \"%llx\", REC->rip\n";
	struct record_field f[MAX_RECORD_FIELDS];
	int n = record_fields_parse(format, f, MAX_RECORD_FIELDS);

	CHECK(n == 3, "got %d fields", n);
	if (n == 3) {
		CHECK_STR(f[0].name, "rip");
		CHECK(f[0].offset == 8 && f[0].size == 8 && !f[0].count && !f[0].is_signed, "rip");
		CHECK_STR(f[1].name, "insn");
		CHECK(f[1].offset == 21 && f[1].size == 15 && f[1].count == 15, "insn[15]");
		CHECK(f[2].offset == 40 && f[2].is_signed, "errno");
	}
	CHECK(record_fields_parse("\tfield:int x;\toffset:zz;\n", f, MAX_RECORD_FIELDS) == -1,
	      "a malformed field line is refused");
	CHECK(record_fields_parse("\tfield:u32 a[3];\toffset:8;\tsize:10;\tsigned:0;\n", f,
				  MAX_RECORD_FIELDS) == -1, "an array whose size is not a multiple");
}

/* The record types built from this kernel's tracefs format files put every
 * field where the kernel's own BTF (trace_event_raw_NAME) has it. */
static void test_record_btf_matches_kernel(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf(), *kvm = NULL, *built;
	const char *dir = "/sys/kernel/tracing/events/kvm";
	DIR *d = opendir(dir);
	struct dirent *e;
	int compared = 0, wrong = 0;

	CHECK(vmlinux && d, "kernel BTF and %s", dir);
	if (!vmlinux || !d)
		goto out;
	if (!access("/sys/kernel/btf/kvm", R_OK))
		kvm = btf__load_module_btf("kvm", vmlinux);
	built = btf__new_empty();	/* alone: a name search must find the built type */
	while ((e = readdir(d))) {
		struct record_field f[MAX_RECORD_FIELDS];
		char path[512], name[300], *text = NULL;
		size_t len = 0;
		FILE *fp;
		int n, want, got;

		snprintf(path, sizeof(path), "%s/%s/format", dir, e->d_name);
		snprintf(name, sizeof(name), "trace_event_raw_%s", e->d_name);
		want = btf__find_by_name_kind(vmlinux, name, BTF_KIND_STRUCT);
		if (want <= 0 && kvm)
			want = btf__find_by_name_kind(kvm, name, BTF_KIND_STRUCT);
		if (want <= 0 || !(fp = fopen(path, "r")))
			continue;
		n = getdelim(&text, &len, '\0', fp) > 0 ? record_fields_parse(text, f, MAX_RECORD_FIELDS) : -1;
		fclose(fp);
		free(text);
		if (n < 0 || record_btf_add(built, e->d_name, f, n)) {
			wrong++;
			fprintf(stderr, "  %s: cannot build its record type\n", e->d_name);
			continue;
		}
		got = btf__find_by_name_kind(built, name, BTF_KIND_STRUCT);
		for (int i = 0; i < n; i++) {
			const struct btf *kb = want < (int)btf__type_cnt(vmlinux) ? vmlinux : kvm;
			const struct btf_type *kt = btf__type_by_id(kb, want), *bt = btf__type_by_id(built, got);
			const struct btf_member *km = btf_members(kt), *bm = btf_members(bt);
			bool found = false;

			for (int j = 0; j < btf_vlen(kt); j++) {
				if (strcmp(btf__name_by_offset(kb, km[j].name_off), f[i].name))
					continue;
				found = km[j].offset == bm[i].offset;
			}
			if (!found && ++wrong)
				fprintf(stderr, "  %s.%s: offset differs from the kernel's BTF\n", e->d_name,
					f[i].name);
		}
		compared++;
	}
	CHECK(compared >= 10 && !wrong, "%d records compared, %d fields wrong", compared, wrong);
	btf__free(built);
	btf__free(kvm);
out:
	if (d)
		closedir(d);
	btf__free(vmlinux);
}

void unit_record_btf(void)
{
	test_record_fields();
	test_record_btf_matches_kernel();
}
