#!/usr/bin/env bash
# make vmtest-arm64: the arm64 real-kernel test bed.  Cross-builds kvmprof-arm64
# and tests/guestload_arm64, boots Debian's stock arm64 kernel under
# qemu-system-aarch64 with KVM at EL2 (tests/vm-arm64/run.sh) and runs
# tests/vm-arm64/inside.sh there: exact exit counts by ESR class, HVCs by
# immediate and function id, WFIs, system registers, faults, MMIO, and the
# attach modes agreeing.  Fails loudly if the kernel cannot be fetched or booted.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s deps-arm64
make -s ARCH=arm64
rc=0
out=$(tests/vm-arm64/run.sh --timeout "${VMTEST_TIMEOUT:-600}" tests/vm-arm64/inside.sh \
	kvmprof-arm64 tests/guestload_arm64 tests/vm/checks.sh 2>&1) || rc=1
printf '%s\n' "$out"
line=$(printf '%s\n' "$out" | grep -E '^vmtest-arm64: [0-9]+ passed' | tail -n 1)
[ -n "$line" ] || { echo "vmtest-arm64: 0 passed, 1 failed (no result from the VM)"; exit 1; }
[ $rc -eq 0 ]
