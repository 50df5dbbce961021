#!/usr/bin/env bash
# make bench (part): the cost of kvmprof's context-switch program, which
# runs on every context switch of the host, beside an empty program on the
# same tracepoint (bench/floor sched_switch), measured in the kernel with
# bpf_stats (run_time_ns / run_cnt of each program), for
#   other   switches of tasks that are no vCPU (perf bench sched pipe): the
#           program's one bitmap test
#   vcpu    switches of vCPU threads in KVM_RUN (guestload, 2 vCPUs on one
#           CPU, each trip to the VMM a short sleep): the whole state change
# and end to end: perf bench sched pipe's time per round trip with no
# tracer, the empty program, kvmprof --no-time and kvmprof (time accounting
# on).  Writes bench/results/<date>-sched.csv.  Knobs: ROUNDS (5).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
mkdir -p bench/results
csv=bench/results/$(date +%Y-%m-%d-%H%M)-sched.csv
tmp=$(mktemp -d)
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -q kernel.bpf_stats_enabled=$old_stats; kill -INT -- -$tp 2>/dev/null || true; rm -rf "$tmp"' EXIT
sysctl -q kernel.bpf_stats_enabled=1

start() {	# label command...: started in its own group, until it says it attached
	local label=$1
	shift
	: >"$tmp/out"
	taskset -c 0 setsid "$@" >"$tmp/out" 2>&1 &
	tp=$!
	for _ in $(seq 150); do
		grep -q "attached\|tracing KVM traps" "$tmp/out" && { sleep 0.3; return; }
		sleep 0.1
	done
	echo "bench: $label did not attach: $(tail -n 1 "$tmp/out")" >&2
	exit 1
}
stop() {
	kill -INT -- -$tp 2>/dev/null || true
	wait $tp 2>/dev/null || true
}
prog_stats() {	# program name -> "run_time_ns run_cnt"
	bpftool prog show name "$1" -j 2>/dev/null |
		python3 -c 'import json,sys; p=json.load(sys.stdin); p=p[0] if isinstance(p,list) else p; print(p.get("run_time_ns",0), p.get("run_cnt",0))'
}
pipe_us() {	# perf bench sched pipe: usecs per round trip (two switches each way)
	taskset -c 1 perf bench sched pipe -l 40000 2>/dev/null | awk '/usecs\/op/ { print $1 }'
}
vcpu_load() {	# 2 vCPUs on CPU 1, each KVM_RUN return a 50 us sleep: many vCPU switches
	taskset -c 1 tests/guestload -c 2 --pio 2000000 --sleep-us 50 --duration 2 >/dev/null
}
per_switch() {	# program workload -> ns per run of the program during the workload
	local a b
	read -r a_ns a_n <<<"$(prog_stats "$1")"
	$2 >/dev/null
	read -r b_ns b_n <<<"$(prog_stats "$1")"
	echo "$(( (b_ns - a_ns) / (b_n - a_n > 0 ? b_n - a_n : 1) )) $(( b_n - a_n ))"
}

declare -A cost runs e2e
for r in $(seq "$rounds"); do
	e2e[none]+="$(pipe_us) "
	start floor bench/floor sched_switch
	for w in other vcpu; do
		read -r ns n <<<"$(per_switch floor_sched_switch "$([ $w = other ] && echo pipe_us || echo vcpu_load)")"
		cost[floor/$w]+="$ns "
		runs[floor/$w]+="$n "
	done
	e2e[floor]+="$(pipe_us) "
	stop
	start kvmprof ./kvmprof -q
	for w in other vcpu; do
		read -r ns n <<<"$(per_switch btf_sched_switch "$([ $w = other ] && echo pipe_us || echo vcpu_load)")"
		cost[kvmprof/$w]+="$ns "
		runs[kvmprof/$w]+="$n "
	done
	e2e[kvmprof]+="$(pipe_us) "
	stop
	start kvmprof-notime ./kvmprof -q --no-time
	e2e[kvmprof-notime]+="$(pipe_us) "
	stop
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "table,what,tracer,median,rounds" >"$csv"
echo "== in-kernel cost of the sched_switch program (bpf_stats), median of $rounds rounds"
printf "%-8s %14s %14s %8s\n" SWITCHES "empty ns/run" "kvmprof ns/run" ratio
for w in other vcpu; do
	f=$(echo ${cost[floor/$w]} | median) k=$(echo ${cost[kvmprof/$w]} | median)
	printf "%-8s %14s %14s %8.2f\n" "$w" "$f" "$k" "$(awk -v k="$k" -v f="$f" 'BEGIN { print (f > 0 ? k / f : 0) }')"
	echo "in_kernel,$w,empty,$f,$rounds" >>"$csv"
	echo "in_kernel,$w,kvmprof,$k,$rounds" >>"$csv"
done
echo
echo "== perf bench sched pipe (one CPU), usecs per round trip, median of $rounds rounds"
base=$(echo ${e2e[none]} | median)
for t in none floor kvmprof-notime kvmprof; do
	m=$(echo ${e2e[$t]} | median)
	printf "%-16s %8s  x%.3f\n" "$t" "$m" "$(awk -v m="$m" -v b="$base" 'BEGIN { print m / b }')"
	echo "end_to_end,pipe_us,$t,$m,$rounds" >>"$csv"
done
echo "results: $csv"
