// SPDX-License-Identifier: GPL-2.0
/* kvmprof -- COMMAND: the command's life beside the run, as perf stat runs
 * its workload: forked before tracing starts, exec'd once it is attached,
 * its exit ending the run and giving the run its status. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "collect/command.h"
#include "util/text.h"

/* The command's name for messages, escaped as arguments are. */
static const char *shown_name(const struct traced_command *c, char *buf, size_t size)
{
	escape_text(c->argv[0], buf, size);
	return buf;
}

int command_prepare(struct traced_command *c, char *const *argv)
{
	int go[2], exec_err[2];

	*c = (struct traced_command){ .go_fd = -1, .exec_fd = -1, .pidfd = -1, .argv = argv };
	/* orphans of its tree come to kvmprof, not init: still in the tree,
	 * and reaped here */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (pipe2(go, O_CLOEXEC) || pipe2(exec_err, O_CLOEXEC)) {
		fprintf(stderr, "kvmprof: cannot start the command: %s\n", strerror(errno));
		return -1;
	}
	c->pid = fork();
	if (c->pid < 0) {
		fprintf(stderr, "kvmprof: cannot start the command: %s\n", strerror(errno));
		return -1;
	}
	if (!c->pid) {
		char byte;
		int err;

		close(go[1]);
		close(exec_err[0]);
		/* held until tracing is attached; kvmprof gone (EOF): never run */
		if (read(go[0], &byte, 1) != 1)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGXFSZ, SIG_DFL);
		execvp(argv[0], argv);
		err = errno;
		if (write(exec_err[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(exec_err[1]);
	c->go_fd = go[1];
	c->exec_fd = exec_err[0];
	c->pidfd = syscall(SYS_pidfd_open, c->pid, 0);
	return 0;
}

int command_start(struct traced_command *c)
{
	char name[256];
	int err = 0;
	ssize_t n;

	if (write(c->go_fd, "g", 1) != 1) {
		fprintf(stderr, "kvmprof: cannot start the command: %s\n", strerror(errno));
		return -1;
	}
	close(c->go_fd);
	c->go_fd = -1;
	/* EOF: the exec closed the pipe (it ran); else its errno */
	n = read(c->exec_fd, &err, sizeof(err));
	close(c->exec_fd);
	c->exec_fd = -1;
	if (n == sizeof(err)) {
		fprintf(stderr, "kvmprof: %s: %s\n", shown_name(c, name, sizeof(name)), strerror(err));
		waitpid(c->pid, &c->status, 0);
		c->exited = true;
		return -1;
	}
	return 0;
}

bool command_reap(struct traced_command *c)
{
	int status;
	pid_t p;

	if (!c->pid)
		return false;
	/* the command, and any orphan of its tree that came to kvmprof */
	while ((p = waitpid(-1, &status, WNOHANG)) > 0)
		if (p == c->pid) {
			c->status = status;
			c->exited = true;
		}
	return c->exited;
}

int command_exit_status(const struct traced_command *c)
{
	char name[256];

	if (WIFEXITED(c->status))
		return WEXITSTATUS(c->status);
	if (WIFSIGNALED(c->status)) {
		fprintf(stderr, "kvmprof: %s was killed by signal %d (%s)\n", shown_name(c, name, sizeof(name)),
			WTERMSIG(c->status), strsignal(WTERMSIG(c->status)));
		return 128 + WTERMSIG(c->status);
	}
	return 1;
}

void command_abandon(struct traced_command *c)
{
	if (!c->pid || c->exited)
		return;
	if (c->go_fd >= 0) {	/* held: closing the pipe ends it before it runs */
		close(c->go_fd);
		c->go_fd = -1;
		waitpid(c->pid, NULL, 0);
		c->exited = true;
	}
	if (c->exec_fd >= 0)
		close(c->exec_fd);
	if (c->pidfd >= 0)
		close(c->pidfd);
}
