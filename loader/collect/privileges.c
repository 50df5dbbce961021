// SPDX-License-Identifier: GPL-2.0
/* Dropping the capabilities the run no longer needs (libcap). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
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

int drop_privileges(bool keep_files)
{
	cap_value_t dac = CAP_DAC_OVERRIDE;
	cap_t caps = cap_init();	/* every set empty */
	int err = 0;

	keep_files = keep_files && permitted(dac);
	if (!caps ||
	    (keep_files && (cap_set_flag(caps, CAP_EFFECTIVE, 1, &dac, CAP_SET) ||
			    cap_set_flag(caps, CAP_PERMITTED, 1, &dac, CAP_SET))) ||
	    cap_set_proc(caps))
		err = errno;
	cap_free(caps);
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
