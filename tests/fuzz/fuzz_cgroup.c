// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: libvirt guest names from /proc/PID/cgroup text (systemd's
 * \xNN escapes undone, then escaped for the terminal).  The input is not
 * NUL-terminated, as guest_name passes it: reading past it is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "collect/procfs.h"

static void check_escaped(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n == size || n == 0)
		abort();	/* unterminated, or "found" an empty name */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *text = malloc(len ? len : 1), out[GUEST_NAME_MAX], tiny[6];

	if (!text)
		return 0;
	memcpy(text, data, len);
	if (name_from_cgroup(text, len, out, sizeof(out)))
		check_escaped(out, sizeof(out));
	if (name_from_cgroup(text, len, tiny, sizeof(tiny)) && strnlen(tiny, sizeof(tiny)) == sizeof(tiny))
		abort();
	free(text);
	return 0;
}
