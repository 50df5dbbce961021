#!/usr/bin/env bash
# Added cost per traced event on an emulation-bound guest: every guest
# instruction is one kvm:kvm_emulate_insn on these hosts.  Runs the same
# guest with no tracer and under each tracer, interleaved, ROUNDS times, and
# prints the median ns per instruction and the added ns per event.
# Tracers: TRACERS="label=command;label=command" (default: kvmprof's modes).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5} secs=${SECONDS_PER_RUN:-2}
default="auto=./kvmprof -q --attach auto;tracepoint=./kvmprof -q --attach tracepoint"
IFS=';' read -r -a tracers <<<"off=;${TRACERS:-$default}"
declare -A results
ns_per_insn() {	# guestload line -> ns per guest instruction
	sed -E 's/.* insns=([0-9]+) .* elapsed_us=([0-9]+).*/\1 \2/' | awk '{ printf "%.1f\n", $2 * 1000 / $1 }'
}
run_guest() { tests/guestload --emulate 4000000000 --duration "$secs" | grep '^guest '; }
for r in $(seq "$rounds"); do
	for t in "${tracers[@]}"; do
		label=${t%%=*} cmd=${t#*=}
		if [ -z "$cmd" ]; then
			v=$(run_guest | ns_per_insn)
		else
			setsid $cmd >/dev/null 2>&1 &
			tp=$!
			sleep 1.5	# attached
			v=$(run_guest | ns_per_insn)
			kill -INT -- -$tp 2>/dev/null; wait $tp || true
		fi
		results[$label]+="$v "
	done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
base=$(echo ${results[off]} | median)
printf "%-14s %10s %10s   %s\n" TRACER "ns/insn" "added ns" "runs"
for t in "${tracers[@]}"; do
	label=${t%%=*}
	med=$(echo ${results[$label]} | median)
	printf "%-14s %10s %10.1f   %s\n" "$label" "$med" "$(echo "$med - $base" | bc -l)" "${results[$label]}"
done
