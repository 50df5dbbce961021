#!/usr/bin/env bash
# make bench-bed: bench/program_cost.sh in the x86 test bed (Debian 6.1 under
# QEMU, nested SVM with NPT), the one place kvm_exit and kvm_entry fire, so
# the exit path is measured too.  Emulation inflates every absolute figure
# there; the ratios to the empty programs on the same events hold.  Writes
# bench/results/<date>-programs-bed.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s kvmprof tests/guestload bench/floor
csv=bench/results/$(date +%Y-%m-%d-%H%M)-programs-bed.csv
out=$(mktemp)
trap 'rm -f "$out" "$out.sh"' EXIT
cat >"$out.sh" <<'IN'
#!/bin/bash
cd / && CSV=/tmp/programs.csv SCALE=${SCALE:-20} ROUNDS=${ROUNDS:-3} bench/program_cost.sh && echo "=== csv" && cat /tmp/programs.csv
IN
VM_KERNEL=6.1 VM_CPU=${VM_CPU:-qemu64,+svm,+npt} tests/vm/run.sh --timeout 900 "$out.sh" \
	kvmprof tests/guestload bench/floor bench/program_cost.sh /bin/bash "$(command -v bpftool || echo /usr/sbin/bpftool)" | tee "$out"
mkdir -p bench/results
sed -n '/^=== csv$/,$p' "$out" | tail -n +2 >"$csv"
echo "results: $csv"
