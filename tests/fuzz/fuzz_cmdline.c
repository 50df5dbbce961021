// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: guest names from a VMM's command line (any bytes, as a tenant
 * controls them) and their escaping.  A name must come out NUL-terminated,
 * inside its buffer, with no control or high byte, and unescape to what the
 * command line held. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "collect/procfs.h"

/* Terminal-safe: printable ASCII only, backslashes only as \xNN. */
static size_t check_escaped(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n == size)
		abort();	/* not terminated inside the buffer */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c < 0x20 || c >= 0x7f)
			abort();
		if (c == '\\' && (s[i + 1] != 'x' || !s[i + 2] || !s[i + 3]))
			abort();
	}
	return n;
}

static int hex(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* escape_name's output read back must be a prefix of its input. */
static void check_round_trip(const char *in, size_t len, const char *out)
{
	size_t i = 0;

	for (; *out; i++) {
		unsigned char c = *out;

		if (c == '\\') {
			c = hex(out[2]) << 4 | hex(out[3]);
			out += 4;
		} else {
			out++;
		}
		if (i >= len || (unsigned char)in[i] != c)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *cmdline = malloc(len + 1), out[GUEST_NAME_MAX], tiny[6];
	size_t n;

	if (!cmdline)
		return 0;
	memcpy(cmdline, data, len);
	cmdline[len] = '\0';	/* as guest_name reads /proc/PID/cmdline */
	/* a name found is never empty: an empty one falls back to the comm */
	if (name_from_cmdline(cmdline, len + 1, out, sizeof(out)) && !check_escaped(out, sizeof(out)))
		abort();
	if (name_from_cmdline(cmdline, len + 1, tiny, sizeof(tiny)) && !check_escaped(tiny, sizeof(tiny)))
		abort();

	escape_name(cmdline, len, out, sizeof(out));
	n = check_escaped(out, sizeof(out));
	check_round_trip(cmdline, len, out);
	/* nothing is cut unless the buffer is full: at most 4 bytes short */
	if (strnlen(cmdline, len) > 0 && n == 0)
		abort();
	escape_name(cmdline, len, tiny, sizeof(tiny));
	check_escaped(tiny, sizeof(tiny));
	escape_name(cmdline, len, out, 0);	/* no room at all: writes nothing */
	free(cmdline);
	return 0;
}
