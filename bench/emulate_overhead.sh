#!/usr/bin/env bash
# Added cost per traced event on an emulation-bound guest: every guest
# instruction is one kvm:kvm_emulate_insn here.  Runs the same guest with no
# tracer and under each kvmprof attach mode, interleaved, ROUNDS times, and
# prints the median ns per instruction and the added ns per event.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5} secs=${SECONDS_PER_RUN:-2}
modes=(off auto tracepoint)
declare -A results
ns_per_insn() {	# guestload line -> ns per guest instruction
	sed -E 's/.* insns=([0-9]+) .* elapsed_us=([0-9]+).*/\1 \2/' | awk '{ printf "%.1f\n", $2 * 1000 / $1 }'
}
run_guest() { tests/guestload --emulate 4000000000 --duration "$secs" | grep '^guest '; }
for r in $(seq "$rounds"); do
	for m in "${modes[@]}"; do
		if [ "$m" = off ]; then
			v=$(run_guest | ns_per_insn)
		else
			./kvmprof -q --attach "$m" -d $((secs + 3)) >/dev/null 2>/tmp/kvmprof-bench.err &
			kp=$!
			sleep 1	# attached
			v=$(run_guest | ns_per_insn)
			kill -INT $kp; wait $kp || true
		fi
		results[$m]+="$v "
	done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
base=$(echo ${results[off]} | median)
printf "%-12s %10s %10s   %s\n" MODE "ns/insn" "added ns" "runs"
for m in "${modes[@]}"; do
	med=$(echo ${results[$m]} | median)
	printf "%-12s %10s %10.1f   %s\n" "$m" "$med" "$(echo "$med - $base" | bc -l)" "${results[$m]}"
done
