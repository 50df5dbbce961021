/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HTML_REPORT_H
#define HTML_REPORT_H

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


#endif
