/* SPDX-License-Identifier: GPL-2.0 */
#ifndef JSON_OUT_H
#define JSON_OUT_H

#include <stdio.h>
#include "model/table.h"

/* The summary as JSON (schema: docs/outputs.md). */
void json_write_summary(FILE *f, const struct trap_table *s, double elapsed_s);

/* The time series as JSON lines: one object per interval, holding the rows
 * --csv-series writes for it (an interval without traps has no rows). */
void json_write_series(FILE *f, const struct trap_table *s, double elapsed_s, double interval_s);

#endif
