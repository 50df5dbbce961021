/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CSV_H
#define CSV_H

#include <stdio.h>
#include "model/table.h"

/* A field as RFC 4180 wants it: quoted when it holds a comma, quote, CR
 * or LF, with quotes doubled.  A field a spreadsheet would run as a
 * formula (it starts with one of OWASP's = + - @ tab CR) is quoted with a '
 * first: "'=HYPERLINK(...)" is text; so is one that starts with a ', so
 * that csv_unformula() (offline/csv_read.h) can take exactly that ' off. */
#define CSV_FORMULA_START "=+-@\t\r'"
void csv_field(FILE *f, const char *s);

/* The final histograms: one row per guest/thread/class/code, and one per
 * non-empty latency bucket where the code has latencies. */
void csv_write_histograms(FILE *f, const struct trap_table *s);

/* The time series: a header, then per interval one row per key that had
 * traps in it, stamped with the time. */
void csv_write_series_header(FILE *f);
void csv_write_series(FILE *f, const struct trap_table *s, double elapsed_s, double interval_s);

/* --csv-insns: per guest its emulated instructions in full (--insns) and
 * its failed emulations, one row per distinct instruction (docs/outputs.md). */
void csv_write_insns(FILE *f, const struct trap_table *s);

/* --csv-rips: a row per guest, exit reason and guest address. */
void csv_write_rips(FILE *f, const struct trap_table *s);

#endif
