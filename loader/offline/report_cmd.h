/* SPDX-License-Identifier: GPL-2.0 */
#ifndef REPORT_CMD_H
#define REPORT_CMD_H

/* `kvmprof report ...` (argv[0] is "report"): the exit status. */
int report_command(int argc, char **argv);

#endif
