/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ASYNC_OUT_H
#define ASYNC_OUT_H

#include <signal.h>
#include <stddef.h>

/* stdout through a writer thread: what the run prints is queued (up to a
 * bound, past it dropped and counted) and a thread writes it to fd 1, so a
 * reader that stops reading (a pipe nobody empties, a terminal stopped
 * with Ctrl-S) never blocks the loop, the signals or the files.  After
 * async_stdout_start() the stdio stream stdout is the queue. */
int async_stdout_start(void);
/* Waits until the queue reached fd 1 while it makes progress: it gives up
 * after stall_s seconds without a byte written, or when *signals moves
 * (another Ctrl-C).  Returns the bytes not written (queued or dropped), 0
 * when the reader closed its end (kvmprof -b | head -3). */
size_t async_stdout_drain(volatile sig_atomic_t *signals, double stall_s);

#endif
