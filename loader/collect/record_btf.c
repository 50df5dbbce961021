// SPDX-License-Identifier: GPL-2.0
/* Record types for classic tracepoints the kernel's BTF lacks.  A classic
 * tracepoint program reads its record through CO-RE as struct
 * trace_event_raw_NAME; those types come with the module that defines the
 * tracepoint, and KVM as a module before Linux 5.11 has no module BTF.  The
 * tracepoint ABI publishes each record's layout in tracefs's format file:
 * the types are built from it, so the same programs relocate everywhere and
 * nothing is hard-coded. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "collect/probes.h"
#include "collect/record_btf.h"

/* "\tfield:__u8 insn[15];\toffset:21;\tsize:15;\tsigned:0;" */
static int parse_field(const char *line, struct record_field *f)
{
	const char *decl = line + strlen("field:"), *semi = strchr(decl, ';'), *name, *bracket;
	size_t len;

	if (!semi || sscanf(semi, "; offset:%u; size:%u; signed:%d;", &f->offset, &f->size,
			    &f->is_signed) != 3 || !f->size)
		return -1;
	/* the declaration's last word is the name, with [N] for an array */
	for (name = semi; name > decl && name[-1] != ' ' && name[-1] != '\t'; name--)
		;
	bracket = memchr(name, '[', semi - name);
	len = (bracket ? bracket : semi) - name;
	if (!len || len >= sizeof(f->name))
		return -1;
	memcpy(f->name, name, len);
	f->name[len] = '\0';
	f->count = 0;
	if (bracket && sscanf(bracket, "[%u]", &f->count) != 1)
		return -1;
	return 0;
}

int record_fields_parse(const char *text, struct record_field *fields, int max)
{
	int n = 0;

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		struct record_field f;

		line += strspn(line, " \t");
		if (strncmp(line, "field:", 6))
			continue;
		/* strings (dynamic arrays) are no fixed field; common_ is struct trace_entry */
		if (!strncmp(line + 6, "__data_loc ", 11))
			continue;
		if (parse_field(line, &f))
			return -1;
		if (!strncmp(f.name, "common_", 7))
			continue;
		if (f.count && f.size % f.count)
			return -1;
		if (n == max)
			return -1;
		fields[n++] = f;
	}
	return n;
}

/* The id of an integer type of size bytes, added once per btf build. */
static int int_type(struct btf *btf, unsigned int size, int is_signed)
{
	char name[32];
	int id;

	if (size != 1 && size != 2 && size != 4 && size != 8 && size != 16)
		return -EINVAL;
	snprintf(name, sizeof(name), "kvmprof_%c%u", is_signed ? 's' : 'u', size * 8);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_INT);
	return id > 0 ? id : btf__add_int(btf, name, size, is_signed ? BTF_INT_SIGNED : 0);
}

int record_btf_add(struct btf *btf, const char *event, const struct record_field *fields, int n)
{
	int ids[MAX_RECORD_FIELDS], index_id = int_type(btf, 4, 0), err;
	unsigned int end = 0;
	char name[128];

	if (index_id < 0)
		return index_id;
	if (n > MAX_RECORD_FIELDS)
		return -E2BIG;
	/* the field types first: a struct's members follow it directly */
	for (int i = 0; i < n; i++) {
		const struct record_field *f = &fields[i];
		int elem = int_type(btf, f->count ? f->size / f->count : f->size, f->is_signed);

		if (elem < 0)
			return elem;
		ids[i] = f->count ? btf__add_array(btf, index_id, elem, f->count) : elem;
		if (ids[i] < 0)
			return ids[i];
		if (f->offset + f->size > end)
			end = f->offset + f->size;
	}
	snprintf(name, sizeof(name), "trace_event_raw_%s", event);
	err = btf__add_struct(btf, name, (end + 7) / 8 * 8);
	for (int i = 0; i < n && err >= 0; i++)
		err = btf__add_field(btf, fields[i].name, ids[i], fields[i].offset * 8, 0);
	return err < 0 ? err : 0;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	ssize_t got;

	if (!f)
		return NULL;
	got = getdelim(&text, &len, '\0', f);	/* the whole file: it holds no NUL */
	fclose(f);
	if (got < 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Adds the record type of one event from its format file. */
static int add_event(struct btf *btf, const char *events_dir, const char *event)
{
	struct record_field fields[MAX_RECORD_FIELDS];
	char path[256], *text;
	int n, err;

	snprintf(path, sizeof(path), "%s/kvm/%s/format", events_dir, event);
	text = read_text(path);
	if (!text) {
		fprintf(stderr, "kvmprof: cannot read %s for the record layout of %s: %s\n", path, event,
			strerror(errno));
		return -1;
	}
	n = record_fields_parse(text, fields, MAX_RECORD_FIELDS);
	free(text);
	if (n < 0) {
		fprintf(stderr, "kvmprof: %s: a field line kvmprof cannot read\n", path);
		return -1;
	}
	err = record_btf_add(btf, event, fields, n);
	if (err) {
		fprintf(stderr, "kvmprof: cannot describe the record of %s in BTF: %s\n", event,
			strerror(-err));
		return -1;
	}
	return 0;
}

int record_btf_build(const struct probe_plan *plan, const char *events_dir, char *path,
		     size_t size, int *fd)
{
	struct btf *btf = NULL;
	const void *raw;
	__u32 raw_size;
	int ret = -1;

	*fd = -1;
	for (int ev = 0; ev < NR_EVENTS; ev++) {
		if (!plan->record_from_tracefs[ev])
			continue;
		if (!btf) {
			btf = btf__load_vmlinux_btf();
			if (!btf) {
				fprintf(stderr, "kvmprof: cannot read the kernel's BTF: %s\n", strerror(errno));
				return -1;
			}
		}
		if (add_event(btf, events_dir, probe_event_name(ev)))
			goto out;
	}
	if (!btf)
		return 0;
	raw = btf__raw_data(btf, &raw_size);
	*fd = memfd_create("kvmprof-record-btf", MFD_CLOEXEC);
	if (!raw || *fd < 0 || write(*fd, raw, raw_size) != (ssize_t)raw_size) {
		fprintf(stderr, "kvmprof: cannot write the tracepoint record types: %s\n", strerror(errno));
		goto out;
	}
	snprintf(path, size, "/proc/self/fd/%d", *fd);
	ret = 0;
out:
	if (ret && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	btf__free(btf);
	return ret;
}
