#!/usr/bin/env bash
# make vmtest: the real-kernel test bed.  Boots Debian's stock kernel under
# QEMU with nested SVM (tests/vm/run.sh) and runs tests/vm/inside.sh there:
# exact exit counts by SVM reason, exact hypercall counts, and the four attach
# modes agreeing.  Fails loudly if the kernel cannot be fetched or booted.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s kvmprof tests/guestload
# once without nested paging (MMIO faults are #PF intercepts), once with (NPF)
rc=0 passed=0 failed=0
for cpu in qemu64,+svm qemu64,+svm,+npt; do
	echo "=== vmtest: -cpu $cpu"
	out=$(VM_CPU=$cpu tests/vm/run.sh --timeout "${VMTEST_TIMEOUT:-600}" tests/vm/inside.sh \
		kvmprof tests/guestload tests/vm/checks.sh 2>&1) || rc=1
	printf '%s\n' "$out" | sed 's/^vmtest:/vmtest (-cpu '"$cpu"'):/'
	line=$(printf '%s\n' "$out" | grep -E '^vmtest: [0-9]+ passed' | tail -n 1)
	[ -n "$line" ] || { echo "vmtest: no result from the VM with -cpu $cpu"; failed=$((failed + 1)); continue; }
	passed=$((passed + $(sed -E 's/^vmtest: ([0-9]+) passed.*/\1/' <<<"$line")))
	failed=$((failed + $(sed -E 's/.*passed, ([0-9]+) failed.*/\1/' <<<"$line")))
done
echo "vmtest: $passed passed, $failed failed"
[ $rc -eq 0 ] && [ $failed -eq 0 ]
