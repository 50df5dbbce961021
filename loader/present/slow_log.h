/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLOW_LOG_H
#define SLOW_LOG_H

#include <stdio.h>
#include "kvmprof.h"
#include "model/table.h"

/* --slow: one JSON line per slow exit or VMM trip: wall-clock time, guest,
 * pid, vCPU, tid, class, code and name, detail and device, the guest's RIP
 * where the event has it, and the duration. */
void slow_log_line(FILE *f, struct trap_table *table, const struct slow_trap *t);

#endif
