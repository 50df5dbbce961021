/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RECORD_BTF_H
#define RECORD_BTF_H

#include <stddef.h>

struct btf;
struct probe_plan;

/* One field of a tracepoint record, as tracefs's format file lists it. */
struct record_field {
	char name[64];
	unsigned int offset, size;	/* bytes */
	unsigned int count;		/* array elements, 0 for a scalar */
	int is_signed;
};

#define MAX_RECORD_FIELDS 32

/* Parses a tracefs format file's text: the event's own fields (not the
 * common_ ones, not __data_loc strings) into fields.  Returns how many, or
 * -1 when a field line is malformed. */
int record_fields_parse(const char *text, struct record_field *fields, int max);

/* Adds struct trace_event_raw_EVENT with fields to btf, each field an
 * integer (or array of integers) of its size and signedness at its offset,
 * as CO-RE needs it to relocate the programs' reads.  0 or -errno. */
int record_btf_add(struct btf *btf, const char *event, const struct record_field *fields, int n);

/* For the classic tracepoints the plan reads from tracefs, a BTF file of
 * vmlinux's types plus their record types, for libbpf's btf_custom_path:
 * its path in path (a memfd of this process, no file on disk) and the fd
 * to close after load; -1 when none is needed.  Returns 0, or -1 after
 * one line naming the event. */
int record_btf_build(const struct probe_plan *plan, const char *events_dir, char *path,
		     size_t size, int *fd);

#endif
