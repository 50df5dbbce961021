/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VERSION_H
#define VERSION_H

/* kvmprof's version: `git describe` of the build, or the package's
 * (Makefile VERSION, compiled into version.c alone). */
extern const char kvmprof_version[];

#endif
