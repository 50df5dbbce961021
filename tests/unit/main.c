// SPDX-License-Identifier: GPL-2.0
/* The unit tests of the loader's logic, a file per module; ends with the
 * "unit: N passed, N failed" line.  Runs from the repository's root (it
 * opens .output/kvmprof-ARCH.bpf.o). */
#include "unit.h"

int checks_passed, checks_failed;

int main(void)
{
	unit_probes();
	unit_classes();
	unit_record_btf();
	unit_names();
	unit_summary();
	unit_latency();
	unit_csv();
	unit_procfs();
	unit_guest_filter();
	unit_options();
	unit_table();
	unit_outfile();
	unit_insns();
	unit_util();
	unit_counters();
	return check_report("unit");
}
