// SPDX-License-Identifier: GPL-2.0
/* Text made safe for one line on a terminal. */
#include <stdio.h>
#include "util/text.h"

void escape_text(const char *in, char *out, size_t size)
{
	size_t o = 0;

	if (!size)
		return;
	for (; *in && o + 1 < size; in++) {
		unsigned char c = *in;

		if (c >= 0x20 && c != 0x7f) {
			out[o++] = c;
		} else if (o + 5 <= size) {
			snprintf(out + o, 5, "\\x%02x", c);
			o += 4;
		} else {
			break;
		}
	}
	out[o] = '\0';
}
