#!/usr/bin/env bash
# make bench: kvmprof's cost beside the peer tools, in one run.
#
# Workloads (tests/guestload, real KVM guests):
#   emulate  a tight real-mode loop: every guest instruction is one
#            kvm:kvm_emulate_insn on these hosts (emulation-bound)
#   mixed    port I/O and MMIO exits to the VMM between emulated loops
# Tracers, each run ROUNDS times, interleaved: none; kvmprof in each attach
# mode this kernel supports; perf stat and perf record on the same
# tracepoint; bpftrace counting by pid and opcode byte.  The guest reports
# its instructions and elapsed time: ns per instruction, and the added ns
# per traced event against no tracer.  Then the loader's own CPU and RSS at
# 1 s refresh with 64 guests x 2 vCPUs, and the BPF maps' memory.
# Writes bench/results/<date>.csv and prints the tables.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5} secs=${SECONDS_PER_RUN:-2}
mkdir -p bench/results
csv=bench/results/$(date +%Y-%m-%d-%H%M).csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tracers=("none=")
for mode in auto tracepoint btf fentry kprobe; do
	if ./kvmprof -q -d 0.2 --attach $mode >/dev/null 2>"$tmp/probe.err"; then
		tracers+=("kvmprof-$mode=./kvmprof -q --attach $mode")
	else
		echo "bench: kvmprof --attach $mode not available here: $(tail -n 1 "$tmp/probe.err")"
	fi
done
tracers+=("perf-stat=perf stat -a -e kvm:kvm_emulate_insn,kvm:kvm_pio,kvm:kvm_mmio -o /dev/null"
	"perf-record=perf record -a -q -e kvm:kvm_emulate_insn -e kvm:kvm_pio -e kvm:kvm_mmio -o $tmp/perf.data"
	"bpftrace=bpftrace -e tracepoint:kvm:kvm_emulate_insn{@[pid,args->insn[0]]=count();}")

declare -A workload=(
	[emulate]="--emulate 4000000000"
	[mixed]="--pio 20 --mmio-read 10 --mmio-write 10 --emulate 200 --repeat 4000000000"
)
# guest line -> "ns_per_insn events_per_insn" (events: emulate_insn + pio +
# mmio, from the table at the top of tests/guestload.c)
measure() {
	tests/guestload $1 --duration "$secs" | grep '^guest ' | sed -E \
		's/.* pio_out=([0-9]+) .* mmio_read=([0-9]+) mmio_write=([0-9]+) .* insns=([0-9]+) exit_io=([0-9]+) .* elapsed_us=([0-9]+).*/\4 \6 \5 \2 \3/' |
		awk '{ printf "%.2f %.4f\n", $2 * 1000 / $1, ($1 + $3 + 2 * $4 + $5) / $1 }'
}

declare -A ns events
for w in emulate mixed; do
	for r in $(seq "$rounds"); do
		for t in "${tracers[@]}"; do
			label=${t%%=*} cmd=${t#*=}
			if [ -n "$cmd" ]; then
				setsid $cmd >/dev/null 2>&1 &
				tp=$!
				sleep 1.5	# attached
			fi
			read -r v e <<<"$(measure "${workload[$w]}")"
			if [ -n "$cmd" ]; then
				kill -INT -- -$tp 2>/dev/null || true
				wait $tp 2>/dev/null || true
			fi
			ns[$w/$label]+="$v "
			events[$w/$label]+="$e "
		done
	done
done

stat() {	# numbers -> "median min max"
	tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)], a[1], a[NR] }'
}
echo "workload,tracer,ns_per_insn_median,ns_per_insn_min,ns_per_insn_max,events_per_insn,added_ns_per_event,ratio_to_kvmprof,rounds" >"$csv"
for w in emulate mixed; do
	read -r base _ _ <<<"$(echo ${ns[$w/none]} | stat)"
	read -r kp _ _ <<<"$(echo ${ns[$w/kvmprof-auto]} | stat)"
	read -r epi _ _ <<<"$(echo ${events[$w/none]} | stat)"
	kp_added=$(echo "($kp - $base) / $epi" | bc -l)
	echo
	echo "== $w workload: $rounds rounds of $secs s, events per guest instruction $(printf %.3f "$epi")"
	printf "%-18s %12s %12s %12s %14s %10s\n" TRACER "ns/insn" "min" "max" "added ns/ev" "x kvmprof"
	for t in "${tracers[@]}"; do
		label=${t%%=*}
		read -r med min max <<<"$(echo ${ns[$w/$label]} | stat)"
		added=$(echo "($med - $base) / $epi" | bc -l)
		ratio=$(echo "if ($kp_added > 0) $added / $kp_added else 0" | bc -l)
		printf "%-18s %12.1f %12.1f %12.1f %14.1f %10.2f\n" "$label" "$med" "$min" "$max" "$added" "$ratio"
		echo "$w,$label,$med,$min,$max,$epi,$added,$ratio,$rounds" >>"$csv"
	done
done

# The loader at 1 s refresh with 64 guests x 2 vCPUs.
echo
echo "== loader: 64 guests x 2 vCPUs, -i 1, 20 s"
tests/guestload -g 64 -c 2 --pio 5 --mmio-write 5 --cpuid 5 --emulate 100 --sleep-us 2000 \
	--repeat 4000000000 --duration 24 >/dev/null &
gl=$!
sleep 2
./kvmprof -i 1 -d 20 >/dev/null 2>&1 &
kp=$!
sleep 10
maps_kb=$(bpftool map show -j 2>/dev/null | python3 -c '
import json, sys
names = {"trap_counts", "hot_counts", "trap_latency", "exit_starts", "vmm_starts", "drops",
         "pid_filter", "emulate_vcpus", "new_threads"}
print(sum(m.get("bytes_memlock", 0) for m in json.load(sys.stdin) if m.get("name") in names) // 1024)')
t0=$(awk '{ print $14 + $15 }' /proc/$kp/stat)
sleep 8
t1=$(awk '{ print $14 + $15 }' /proc/$kp/stat)
rss=$(awk '/VmHWM/ { print $2 }' /proc/$kp/status)
wait $kp || true
wait $gl || true
hz=$(getconf CLK_TCK)
cpu=$(echo "($t1 - $t0) * 100 / $hz / 8" | bc -l)
printf "loader CPU %.2f%% of a core, peak RSS %d KiB, BPF maps %d KiB\n" "$cpu" "$rss" "$maps_kb"
echo "loader-64x2,kvmprof-auto,cpu_percent=$cpu,rss_kib=$rss,maps_kib=$maps_kb,,,," >>"$csv"
echo
echo "machine: $(uname -r), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "results: $csv"
