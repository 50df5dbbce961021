// SPDX-License-Identifier: GPL-2.0
/* Dropping the capabilities the run no longer needs (libcap). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <bpf/bpf.h>
#include "collect/privileges.h"

/* Is cap in the process's permitted set now?  A service's bounding set
 * may lack it: keeping it would then fail (EPERM). */
static bool permitted(cap_value_t cap)
{
	cap_t now = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;

	if (now)
		cap_get_flag(now, cap, CAP_PERMITTED, &v);
	cap_free(now);
	return v == CAP_SET;
}

/* Can this process still use a BPF fd?  Linux before 6.5 refuses every
 * bpf() command, even on an fd it holds, without CAP_BPF or CAP_SYS_ADMIN
 * while kernel.unprivileged_bpf_disabled is set (Debian's default). */
static bool bpf_fd_usable(int bpf_fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return !bpf_obj_get_info_by_fd(bpf_fd, &info, &len) || errno != EPERM;
}

/* The effective and permitted sets become keep[0..n_eff) and keep[0..n_perm). */
static int set_caps(const cap_value_t *keep, int n_eff, int n_perm)
{
	cap_t caps = cap_init();	/* every set empty */
	int err = 0;

	if (!caps || (n_eff && cap_set_flag(caps, CAP_EFFECTIVE, n_eff, keep, CAP_SET)) ||
	    (n_perm && cap_set_flag(caps, CAP_PERMITTED, n_perm, keep, CAP_SET)) || cap_set_proc(caps))
		err = errno;
	cap_free(caps);
	return err;
}

int drop_privileges(bool keep_files, int bpf_fd)
{
	cap_value_t keep[2];
	int n = 0, err;

	if (keep_files && permitted(CAP_DAC_OVERRIDE))
		keep[n++] = CAP_DAC_OVERRIDE;
	keep[n] = CAP_BPF;
	if (!permitted(CAP_BPF))
		err = set_caps(keep, n, n);
	/* CAP_BPF still permitted but no longer effective: if the kernel then
	 * refuses the maps (before 6.5), it stays, and only it */
	else if (!(err = set_caps(keep, n, n + 1)))
		err = bpf_fd_usable(bpf_fd) ? set_caps(keep, n, n) : set_caps(keep, n + 1, n + 1);
	/* nor regain them through an exec of something set-uid */
	if (!err && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		err = errno;
	if (err) {
		fprintf(stderr, "kvmprof: cannot drop the capabilities the run no longer needs: %s\n",
			strerror(err));
		return -1;
	}
	return 0;
}
