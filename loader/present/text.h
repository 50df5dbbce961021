/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TEXT_H
#define TEXT_H

#include <stdio.h>
#include "model/table.h"

/* The batch table of one interval (-b, or stdout not a terminal). */
void report_interval(FILE *out, const struct trap_table *s, double interval_s, double elapsed_s);
/* The summary at the end: per guest its details (present/lines.h), at
 * most top codes per class. */
void report_summary(FILE *out, const struct trap_table *s, double elapsed_s, int top);

#endif
