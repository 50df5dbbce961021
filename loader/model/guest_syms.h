/* SPDX-License-Identifier: GPL-2.0 */
#ifndef GUEST_SYMS_H
#define GUEST_SYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* --guest-syms GUEST=FILE: a guest kernel's symbols, from its System.map
 * (link-time addresses: with KASLR the guest's offset is needed,
 * --guest-kaslr GUEST=OFFSET, _text in the guest's /proc/kallsyms minus
 * _text in System.map) or from a copy of its /proc/kallsyms (the running
 * addresses: no offset).  GUEST is a name glob or a pid. */
struct sym {
	__u64 addr;
	char *name;
};

struct guest_symfile {
	const char *guest;	/* the glob or pid, as given */
	const char *path;
	__u64 kaslr;		/* added to every address of the file */
	struct sym *syms;	/* by address */
	size_t nr;
	__u64 text_end;		/* _etext where the file has it: nothing resolves past it, */
	__u64 init_start, init_end;	/* but the init text (_sinittext.._einittext): boot code */
};

struct guest_syms {
	struct guest_symfile *files;
	size_t nr;
};

/* Reads FILE for GUEST; -1 after one line naming the file and line. */
int guest_syms_load(struct guest_syms *g, const char *guest, const char *path);
/* --guest-kaslr GUEST=OFFSET for the files of GUEST given before. -1 after one line. */
int guest_syms_kaslr(struct guest_syms *g, const char *guest, __u64 offset);
void guest_syms_free(struct guest_syms *g);

/* "serial8250_tx_chars+0x3c" for rip in guest (pid, name); false when no
 * file is the guest's or rip lies outside its text. */
bool guest_sym_name(const struct guest_syms *g, __u32 pid, const char *name, __u64 rip, char *buf,
		    size_t size);

#endif
