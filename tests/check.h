/* SPDX-License-Identifier: GPL-2.0 */
/* A minimal check harness: each CHECK counts, failures say where, and the
 * run ends with the "N passed, N failed" line test runners read. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>

/* A program of one file has its own counters; one of several files
 * (tests/unit/) defines CHECK_SHARED_COUNTERS before this in each and the
 * counters once. */
#ifdef CHECK_SHARED_COUNTERS
extern int checks_passed, checks_failed;
#else
static int checks_passed, checks_failed;
#endif

#define CHECK(cond, ...) do {							\
	if (cond) {								\
		checks_passed++;						\
	} else {								\
		checks_failed++;						\
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);	\
		fprintf(stderr, __VA_ARGS__);					\
		fputc('\n', stderr);						\
	}									\
} while (0)

#define CHECK_STR(got, want) do {						\
	const char *_g = (got), *_w = (want);					\
	CHECK(_g && !strcmp(_g, _w), "got \"%s\", want \"%s\"", _g ? _g : "(null)", _w); \
} while (0)

#define CHECK_U64(got, want) do {						\
	unsigned long long _g = (got), _w = (want);				\
	CHECK(_g == _w, "got %llu (0x%llx), want %llu (0x%llx)", _g, _g, _w, _w); \
} while (0)

static inline int check_report(const char *suite)
{
	printf("%s: %d passed, %d failed\n", suite, checks_passed, checks_failed);
	return checks_failed ? 1 : 0;
}

#endif
