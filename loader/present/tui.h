/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TUI_H
#define TUI_H

#include <stdbool.h>
#include "cli/options.h"
#include "collect/probes.h"
#include "model/table.h"

/* The live top-style view (ncurses), drawn from a struct trap_table that the
 * main loop reads; it owns the terminal between tui_start and tui_stop. */
struct tui;

/* Takes over the terminal (stdin and stdout); NULL, after one line on
 * stderr, when it cannot.  opts->guest_globs filter the guests shown. */
struct tui *tui_start(const struct options *opts, const struct probe_plan *plan,
		      double interval_s);
/* From a stop signal's handler: ends a screen update the terminal blocks
 * (Ctrl-S); the view then draws no more. */
void tui_interrupt(void);
/* Gives the terminal back; the screen is as it was before tui_start. */
void tui_stop(struct tui *t);

/* The fd to poll for keys. */
int tui_input_fd(const struct tui *t);

/* Reads the waiting keys and acts on them (redrawing from s). */
void tui_handle_input(struct tui *t, struct trap_table *s, double elapsed_s);
/* The same between the parts of a read: the view shows the last read's
 * figures; c, which zeroes what the rows hold, waits for the read's end. */
void tui_handle_input_in_read(struct tui *t, struct trap_table *s, double elapsed_s);

/* After each read of the maps: rates over interval_s, then a redraw. */
void tui_update(struct tui *t, struct trap_table *s, double interval_s, double elapsed_s);
/* A redraw without new data (the clock, or a resize). */
void tui_draw(struct tui *t, struct trap_table *s, double elapsed_s);

bool tui_quit(const struct tui *t);	/* q was pressed */
bool tui_paused(const struct tui *t);	/* p: the loop stops reading the maps */
double tui_interval(const struct tui *t);	/* the refresh interval, + and - change it */

#endif
