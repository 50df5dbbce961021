#!/usr/bin/env bash
# make vmtest: the real-kernel test bed.  Boots Debian's stock kernels under
# QEMU with nested SVM (tests/vm/run.sh), one after the other, and runs
# tests/vm/inside.sh in each: exact exit counts by SVM reason, exact hypercall
# counts, the attach modes that kernel can run agreeing, the others refused.
# Fails loudly if a kernel cannot be fetched or booted.
#   VMTEST_KERNELS  the boots, KERNEL:CPU words (default: all four below)
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s kvmprof tests/guestload tests/irqload
# nestload, the nested-SVM guest of tests/vm/events.sh, built here (the bed's alone)
cc -O2 -Wall -o tests/vm/nestload tests/vm/nestload.c -lpthread
# 6.1 without nested paging (MMIO faults are #PF intercepts) and with it
# (NPF); 5.10 (Debian 11) and 6.12 (Debian 13) with it
boots=${VMTEST_KERNELS:-6.1:qemu64,+svm 6.1:qemu64,+svm,+npt 5.10:qemu64,+svm,+npt 6.12:qemu64,+svm,+npt}
rc=0 passed=0 failed=0 summary=
for b in $boots; do
	k=${b%%:*} cpu=${b#*:}
	tag="$k, -cpu $cpu"
	echo "=== vmtest: kernel $k, -cpu $cpu"
	start=$(date +%s)
	out=$(VM_KERNEL=$k VM_CPU=$cpu tests/vm/run.sh --timeout "${VMTEST_TIMEOUT:-600}" tests/vm/inside.sh \
		kvmprof tests/guestload tests/irqload tests/vm/checks.sh tests/vm/events.sh tests/vm/nestload 2>&1) || rc=1
	secs=$(( $(date +%s) - start ))
	# every line the VM's checks print says which kernel it came from
	printf '%s\n' "$out" | sed -e 's/^vmtest:/vmtest ('"$tag"'):/' -e 's/^FAIL:/FAIL ('"$tag"'):/' \
		-e 's/^verified:/verified ('"$tag"'):/' -e 's/^KNOWN:/KNOWN ('"$tag"'):/'
	line=$(printf '%s\n' "$out" | grep -E '^vmtest: [0-9]+ passed' | tail -n 1 || true)
	if [ -z "$line" ]; then
		echo "vmtest ($tag): no result from the VM"
		failed=$((failed + 1)) summary="$summary
vmtest ($tag): no result (${secs}s)"
		continue
	fi
	p=$(sed -E 's/^vmtest: ([0-9]+) passed.*/\1/' <<<"$line") f=$(sed -E 's/.*passed, ([0-9]+) failed.*/\1/' <<<"$line")
	passed=$((passed + p)) failed=$((failed + f))
	summary="$summary
vmtest ($tag): $p passed, $f failed (${secs}s)"
done
echo "--- vmtest per kernel:$summary"
echo "vmtest: $passed passed, $failed failed"
[ $rc -eq 0 ] && [ $failed -eq 0 ]
