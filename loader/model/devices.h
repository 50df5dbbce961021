/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DEVICES_H
#define DEVICES_H

#include <linux/types.h>
#include "kvmprof.h"

/* The well-known PC device at an I/O port or a guest-physical address, e.g.
 * "serial COM1", "PCI config", "LAPIC"; NULL when the table has none.  x86
 * only: elsewhere both return NULL. */
const char *pio_device(__u16 port);
const char *mmio_device(__u64 gpa);
/* The device a trap key is about: pio and mmio codes, and the port of an
 * IO exit whose detail is known; NULL otherwise. */
const char *trap_device(const struct trap_key *key);

#endif
