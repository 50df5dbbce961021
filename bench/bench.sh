#!/usr/bin/env bash
# make bench: kvmprof's cost beside the peer tools, in one run.
#
# Workloads (tests/guestload, real KVM guests):
#   emulate  a tight real-mode loop: every guest instruction is one
#            kvm:kvm_emulate_insn on these hosts (emulation-bound)
#   mixed    port I/O and MMIO exits to the VMM between emulated loops
#   many     64 guests x 2 vCPUs of a mixed script on one CPU (many keys)
# Tracers, each run ROUNDS times, interleaved: none; an empty BPF program on
# the tracepoint (bench/floor: the floor under any BPF tracer); kvmprof in each attach
# mode this kernel supports; perf stat and perf record on the same
# tracepoint; bpftrace counting by pid and opcode byte.  The guest reports
# its instructions and elapsed time: ns per instruction, and the added ns
# per traced event against no tracer.  Then the loader's own CPU and RSS at
# 1 s refresh with 64 guests x 2 vCPUs, and the BPF maps' memory.
# Writes bench/results/<date>.csv and prints the tables.  Knobs: ROUNDS (9),
# SECONDS_PER_RUN (1), WORKLOADS ("emulate mixed many"), ONLY (regex of tracers).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-9} secs=${SECONDS_PER_RUN:-1}
mkdir -p bench/results
csv=bench/results/$(date +%Y-%m-%d-%H%M).csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Tracers as label=ready-pattern=command; the pattern is what the tracer
# prints once attached (empty: a fixed wait).  The guest runs on CPU 1 and
# the tracers' user space on CPU 0, so both workloads see the same CPU.
tracers=("bpf-floor=floor: attached=bench/floor")	# an empty BPF program on kvm_emulate_insn
for mode in auto tracepoint btf fentry kprobe; do
	if ./kvmprof -q -d 0.2 --attach $mode >/dev/null 2>"$tmp/probe.err"; then
		tracers+=("kvmprof-$mode=tracing KVM traps=./kvmprof -q --attach $mode")
	else
		echo "bench: kvmprof --attach $mode not available here: $(tail -n 1 "$tmp/probe.err")"
	fi
done
# the default set as it was before the time accounting (issue 15)
tracers+=("kvmprof-notime=tracing KVM traps=./kvmprof -q --no-time")
# KVM's own counters only (issue 16): nothing on any event, an iterator once a second
tracers+=("kvmprof-counters=tracing KVM traps=./kvmprof -q --counters")
tracers+=("perf-stat==perf stat -a -e kvm:kvm_emulate_insn,kvm:kvm_pio,kvm:kvm_mmio -o /dev/null"
	"perf-record==perf record -a -q -e kvm:kvm_emulate_insn -e kvm:kvm_pio -e kvm:kvm_mmio -o $tmp/perf.data"
	"bpftrace=Attaching=bpftrace -e tracepoint:kvm:kvm_emulate_insn{@[pid,args->insn[0]]=count();}")

# One tracer's entry into label, pattern, cmd (its command line, words unsplit).
tracer_fields() {
	label=${1%%=*} pattern=${1#*=}
	cmd=${pattern#*=} pattern=${pattern%%=*}
}

# ONLY=regex: just the tracers whose label matches (kvmprof-auto always runs)
if [ -n "${ONLY:-}" ]; then
	keep=()
	for t in "${tracers[@]}"; do
		tracer_fields "$t"
		[[ $label =~ $ONLY || $label == kvmprof-auto ]] && keep+=("$t")
	done
	tracers=("${keep[@]}")
fi
# a tracer not installed here is left out, not measured as if it traced
keep=()
for t in "${tracers[@]}"; do
	tracer_fields "$t"
	if command -v "${cmd%% *}" >/dev/null; then keep+=("$t"); else echo "bench: $label left out: no ${cmd%% *} here (make bench installs it)"; fi
done
tracers=("${keep[@]}")
WORKLOADS=${WORKLOADS:-emulate mixed many}

declare -A workload=(
	[emulate]="--emulate 4000000000"
	[mixed]="--pio 20 --mmio-read 10 --mmio-write 10 --emulate 200 --repeat 4000000000"
	[many]="-g 64 -c 2 --pio 5 --mmio-write 5 --emulate 100 --repeat 4000000000"
)
# guest line -> "ns_per_insn events_per_insn": the vCPU thread's CPU time
# (not wall time: other load on the machine does not count) per guest
# instruction; events: emulate_insn + pio + mmio, from the table at the top
# of tests/guestload.c)
measure() {
	taskset -c 1 tests/guestload $1 --duration "$secs" | grep '^guest ' | sed -E \
		's/.* pio_out=([0-9]+) .* mmio_read=([0-9]+) mmio_write=([0-9]+) .* insns=([0-9]+) exit_io=([0-9]+) .* cpu_us=([0-9]+).*/\4 \6 \5 \2 \3/' |
		awk '{ i += $1; t += $2; e += $1 + $3 + 2 * $4 + $5 }	# summed over the guests
		     END { printf "%.2f %.4f\n", t * 1000 / i, e / i }'
}

# Starts a tracer and waits until it says it is attached (at most 15 s).
start_tracer() {	# label pattern command...
	local pattern=$2
	shift 2
	: >"$tmp/tracer.out"
	taskset -c 0 setsid "$@" >"$tmp/tracer.out" 2>&1 &
	tp=$!
	if [ -z "$pattern" ]; then
		sleep 1
		return
	fi
	for _ in $(seq 150); do
		grep -q "$pattern" "$tmp/tracer.out" && { sleep 0.2; return; }
		sleep 0.1
	done
	echo "bench: $1 did not attach: $(tail -n 1 "$tmp/tracer.out")" >&2
	return 1
}
stop_tracer() {
	kill -INT -- -$tp 2>/dev/null || true
	wait $tp 2>/dev/null || true
}

# Each round: no tracer, each tracer, no tracer again.  A tracer's added
# cost is taken against the mean of its round's two untraced runs, so slow
# drifts of the machine's speed cancel; the median over rounds is reported.
declare -A ns added events
for w in $WORKLOADS; do
	for r in $(seq "$rounds"); do
		measure "${workload[$w]}" >/dev/null	# warm-up: a first run after idle is slow
		read -r b0 e <<<"$(measure "${workload[$w]}")"
		vals=()
		for t in "${tracers[@]}"; do
			tracer_fields "$t"
			if ! start_tracer "$label" "$pattern" $cmd; then
				stop_tracer
				continue	# a run it did not trace is no measure of it
			fi
			read -r v _ <<<"$(measure "${workload[$w]}")"
			stop_tracer
			vals+=("$label=$v")
		done
		read -r b1 _ <<<"$(measure "${workload[$w]}")"
		base=$(echo "($b0 + $b1) / 2" | bc -l)
		ns[$w/none]+="$b0 $b1 "
		events[$w]+="$e "
		for lv in "${vals[@]}"; do
			label=${lv%%=*} v=${lv#*=}
			ns[$w/$label]+="$v "
			added[$w/$label]+="$(echo "($v - $base) / $e" | bc -l) "
		done
	done
done

stat() {	# numbers -> "median min max"
	tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)], a[1], a[NR] }'
}
echo "workload,tracer,ns_per_insn_median,ns_per_insn_min,ns_per_insn_max,events_per_insn,added_ns_per_event_median,added_ns_per_event_min,added_ns_per_event_max,ratio_to_kvmprof,rounds" >"$csv"
for w in $WORKLOADS; do
	read -r epi _ _ <<<"$(echo ${events[$w]} | stat)"
	read -r kp _ _ <<<"$(echo ${added[$w/kvmprof-auto]} | stat)"
	echo
	echo "== $w workload: $rounds rounds of $secs s, events per guest instruction $(printf %.3f "$epi")"
	printf "%-18s %9s %9s %9s  %12s %9s %9s %10s\n" TRACER "ns/insn" "min" "max" "added ns/ev" "min" "max" "x kvmprof"
	read -r med min max <<<"$(echo ${ns[$w/none]} | stat)"
	printf "%-18s %9.1f %9.1f %9.1f  %12s %9s %9s %10s\n" none "$med" "$min" "$max" 0 "" "" ""
	echo "$w,none,$med,$min,$max,$epi,0,0,0,0,$rounds" >>"$csv"
	for t in "${tracers[@]}"; do
		tracer_fields "$t"
		if [ -z "${ns[$w/$label]:-}" ]; then
			printf "%-18s %s\n" "$label" "never attached: not measured"
			continue
		fi
		read -r med min max <<<"$(echo ${ns[$w/$label]} | stat)"
		read -r amed amin amax <<<"$(echo ${added[$w/$label]} | stat)"
		ratio=$(echo "if ($kp > 0) $amed / $kp else 0" | bc -l)
		printf "%-18s %9.1f %9.1f %9.1f  %12.1f %9.1f %9.1f %10.2f\n" "$label" "$med" "$min" "$max" \
			"$amed" "$amin" "$amax" "$ratio"
		printf "%s,%s,%s,%s,%s,%s,%.1f,%.1f,%.1f,%.2f,%s\n" "$w" "$label" "$med" "$min" "$max" "$epi" \
			"$amed" "$amin" "$amax" "$ratio" "$rounds" >>"$csv"
	done
done

# The loader at 1 s refresh with 64 guests x 2 vCPUs.
echo
echo "== loader: 64 guests x 2 vCPUs, -i 1, 20 s"
tests/guestload -g 64 -c 2 --pio 5 --mmio-write 5 --cpuid 5 --emulate 100 --sleep-us 2000 \
	--repeat 4000000000 --duration 24 >/dev/null &
gl=$!
sleep 2
./kvmprof -i 1 -d 20 >/dev/null 2>"$tmp/loader.err" &
kp=$!
sleep 10
if ! kill -0 $kp 2>/dev/null; then
	echo "bench: kvmprof ended early: $(tail -n 1 "$tmp/loader.err")" >&2
	exit 1
fi
# the BPF maps this kvmprof holds: memlock of its map file descriptors
maps_kb=$(awk 'FNR == 1 { m = 0 } /^map_type/ { m = 1 } /^memlock/ && m { s += $2 } END { print int(s / 1024) }' \
	/proc/$kp/fdinfo/* 2>/dev/null)
t0=$(awk '{ print $14 + $15 }' /proc/$kp/stat)
sleep 8
t1=$(awk '{ print $14 + $15 }' /proc/$kp/stat)
rss=$(awk '/VmHWM/ { print $2 }' /proc/$kp/status)
wait $kp || true
wait $gl || true
hz=$(getconf CLK_TCK)
cpu=$(echo "($t1 - $t0) * 100 / $hz / 8" | bc -l)
printf "loader CPU %.2f%% of a core, peak RSS %d KiB, BPF maps %d KiB\n" "$cpu" "$rss" "$maps_kb"
loader_csv=${csv%.csv}-loader.csv
echo "guests,vcpus_per_guest,interval_s,cpu_percent_of_core,peak_rss_kib,bpf_maps_kib" >"$loader_csv"
printf "64,2,1,%.2f,%s,%s\n" "$cpu" "$rss" "$maps_kb" >>"$loader_csv"
echo
echo "machine: $(uname -r), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "results: $csv $loader_csv"
