/* SPDX-License-Identifier: GPL-2.0 */
#ifndef REPORT_CMD_H
#define REPORT_CMD_H

/* The offline commands, on a finished run's files: the exit status.
 * `kvmprof report ...` (argv[0] is "report"), report_cmd.c; */
int report_command(int argc, char **argv);
/* `kvmprof diff ...` (argv[0] is "diff"), diff_cmd.c. */
int diff_command(int argc, char **argv);

#endif
