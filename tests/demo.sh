#!/usr/bin/env bash
# make demo: three bundled guests with different trap mixes, profiled live
# by kvmprof for a few seconds, then its summary.  Real KVM guests through
# /dev/kvm (tests/guestload), for hosts where no VM runs.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${DEMO_SECONDS:-6}
[ -e /dev/kvm ] || { echo "demo: /dev/kvm is missing: load KVM (modprobe kvm_intel or kvm_amd)" >&2; exit 1; }
run_for=$((secs + 2))
pids=()
tests/guestload -c 2 --pio 40 --mmio-read 10 --mmio-write 10 --cpuid 20 --hlt 4 --emulate 2000 \
	--sleep-us 50 --repeat 1000000000 --duration $run_for -name guest=web,debug-threads=on >/dev/null & pids+=($!)
tests/guestload --cpuid 200 --msr-read 50 --msr-write 20 --emulate 500 \
	--repeat 1000000000 --duration $run_for -name db >/dev/null & pids+=($!)
tests/guestload --pio 5 --mmio-write 30 --sleep-us 200 \
	--repeat 1000000000 --duration $run_for -name guest=build >/dev/null & pids+=($!)
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
sleep 0.5
./kvmprof -i 2 -d "$secs" -n 4
wait "${pids[@]}"
