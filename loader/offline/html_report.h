/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HTML_REPORT_H
#define HTML_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "offline/run_data.h"

/* Text for HTML, in element content or a double-quoted attribute: & < > " '
 * as entities, control, DEL and non-ASCII bytes as \xNN (as kvmprof shows
 * names everywhere), so no input can open a tag or leave an attribute. */
void html_text(FILE *f, const char *s);

/* The report: one self-contained page (inline CSS and SVG, no script, no
 * link out).  hist_path and series_path (may be NULL) are shown as its
 * sources; top: codes listed per guest. */
void html_write_report(FILE *f, struct run_data *d, const char *hist_path,
		       const char *series_path, int top);

struct runs;
/* Several runs side by side (offline/html_runs.c): 0, or -ENOMEM (the page
 * says so). */
int html_write_runs(FILE *f, const struct runs *rs);

#define HTML_MAX_SECTIONS 100	/* guests with their own section; all are in the tables */

/* The pieces the pages share (the report, runs side by side, the diff). */
/* The head, the style (and css, a page's own rules, if not NULL) and
 * <h1>title</h1>; html_page_end closes the page with "Written by
 * <code>by</code>." and a hint. */
void html_page_start(FILE *f, const char *title, const char *css);
void html_page_end(FILE *f, const char *by, const char *hint);
/* A class's colour swatch; the legend of the classes used. */
void html_swatch(FILE *f, int class);
void html_legend(FILE *f, const bool used[NR_CLASSES]);
/* An axis from 0 to *top in about ticks steps of 1, 2 or 5 times a power
 * of ten. */
void html_nice_axis(double max, int ticks, double *top, double *step);
/* Axes, grid and tick labels of a chart whose plot area is (x0, y0, w, h)
 * with y running from 0 to top. */
void html_y_axis(FILE *f, double x0, double y0, double w, double h, double top, double step,
		 const char *label);


#endif
