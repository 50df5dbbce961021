// SPDX-License-Identifier: GPL-2.0
/* The version, in an object of its own: the Makefile passes it to this file
 * alone (-DKVMPROF_VERSION), so a new commit recompiles nothing else. */
#include "cli/version.h"

#ifndef KVMPROF_VERSION
#define KVMPROF_VERSION "unknown"
#endif

const char kvmprof_version[] = KVMPROF_VERSION;
