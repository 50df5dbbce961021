/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TEXT_UTIL_H
#define TEXT_UTIL_H

#include <stddef.h>

/* in, with control bytes and DEL as \xNN, for a message line: a command
 * line argument or a file's field holding ESC or a newline cannot move the
 * terminal's cursor or break the line.  out is NUL-terminated. */
void escape_text(const char *in, char *out, size_t size);

#endif
