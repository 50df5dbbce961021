/* SPDX-License-Identifier: GPL-2.0 */
#ifndef COMMAND_H
#define COMMAND_H

#include <stdbool.h>
#include <sys/types.h>

/* kvmprof -- COMMAND: the command, started held (forked, waiting) so that
 * tracing is attached before it runs, then let go; kvmprof is the
 * subreaper of its process tree, so guests its scripts start stay below
 * kvmprof when their starters exit. */
struct traced_command {
	pid_t pid;		/* 0: none */
	int go_fd;		/* written once to let it exec */
	int exec_fd;		/* its exec's errno comes back here (close-on-exec) */
	int pidfd;		/* readable when it exits; -1 where the kernel has no pidfd_open */
	bool exited;
	int status;		/* waitpid's */
	char *const *argv;
};

/* Forks the command, held before exec; -1 after one line. */
int command_prepare(struct traced_command *c, char *const *argv);
/* Lets it exec; -1 after one line (not found, not executable: exit 127). */
int command_start(struct traced_command *c);
/* Reaps it (and orphans of its tree) if it exited; true once it has. */
bool command_reap(struct traced_command *c);
/* The exit status kvmprof ends with, as perf stat: the command's, 128 +
 * the signal that killed it (said in one line). */
int command_exit_status(const struct traced_command *c);
/* Kills a command still held (an error before it ran). */
void command_abandon(struct traced_command *c);

#endif
