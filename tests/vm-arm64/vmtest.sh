#!/usr/bin/env bash
# make vmtest-arm64: the arm64 real-kernel test bed.  Cross-builds kvmprof-arm64
# and tests/guestload_arm64, boots Debian's stock arm64 kernels 5.10, 6.1 and
# 6.12 under qemu-system-aarch64 with KVM at EL2 (tests/vm-arm64/run.sh), one
# after the other, and runs tests/vm-arm64/inside.sh in each: exact exit counts
# by ESR class, HVCs by immediate and function id, WFIs, system registers,
# faults, MMIO, the attach modes that kernel can run agreeing, the others
# refused.  Fails loudly if a kernel cannot be fetched or booted.
#   VMTEST_KERNELS  the kernels (default "5.10 6.1 6.12")
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s deps-arm64
make -s ARCH=arm64
rc=0 passed=0 failed=0 summary=
for k in ${VMTEST_KERNELS:-5.10 6.1 6.12}; do
	echo "=== vmtest-arm64: kernel $k"
	start=$(date +%s)
	out=$(VM_KERNEL=$k tests/vm-arm64/run.sh --timeout "${VMTEST_TIMEOUT:-600}" tests/vm-arm64/inside.sh \
		kvmprof-arm64 tests/guestload_arm64 tests/vm/checks.sh tests/vm-arm64/events.sh 2>&1) || rc=1
	secs=$(( $(date +%s) - start ))
	# every line the VM's checks print says which kernel it came from
	printf '%s\n' "$out" | sed -e 's/^vmtest-arm64:/vmtest-arm64 ('"$k"'):/' -e 's/^FAIL:/FAIL ('"$k"'):/' \
		-e 's/^verified:/verified ('"$k"'):/'
	line=$(printf '%s\n' "$out" | grep -E '^vmtest-arm64: [0-9]+ passed' | tail -n 1 || true)
	if [ -z "$line" ]; then
		echo "vmtest-arm64 ($k): no result from the VM"
		failed=$((failed + 1)) summary="$summary
vmtest-arm64 ($k): no result (${secs}s)"
		continue
	fi
	p=$(sed -E 's/^vmtest-arm64: ([0-9]+) passed.*/\1/' <<<"$line") f=$(sed -E 's/.*passed, ([0-9]+) failed.*/\1/' <<<"$line")
	passed=$((passed + p)) failed=$((failed + f))
	summary="$summary
vmtest-arm64 ($k): $p passed, $f failed (${secs}s)"
done
echo "--- vmtest-arm64 per kernel:$summary"
echo "vmtest-arm64: $passed passed, $failed failed"
[ $rc -eq 0 ] && [ $failed -eq 0 ]
