#!/usr/bin/env bash
# make bench (part): every program kvmprof attaches to a hot event, measured
# in the kernel (kernel.bpf_stats_enabled: run_time_ns / run_cnt) beside an
# empty program of the same attach type on the same event (bench/floor all),
# both attached at once, so they see the same events of the same run:
# kvm_emulate_insn, kvm_pio, kvm_mmio, kvm_userspace_exit, sys_enter_ioctl
# (KVM_RUN), kvm_msr, kvm_cpuid, sched_switch, and kvm_exit / kvm_entry
# where the kernel fires them (the test bed; never on PVM).  The workload:
# one guestload doing each kind of trap.  Prints per event the ns per run of
# both and kvmprof's ratio to the empty one (the medians of ROUNDS rounds,
# default 5); writes bench/results/<date>-programs.csv (or CSV).  The exit
# path (kvm_exit + kvm_entry, latency included) is one more row, against two
# empty programs.  The events whose programs time something (the VMM trip's,
# the exit's, sched_switch) have two more floors in the same runs: clock, an
# empty program that reads the clock once, and state, one that also keeps
# the time per thread in a hash (bench/floor.bpf.c); kvmprof's ratio to
# state is what it costs above the simplest timer.  Where bpftrace is installed its programs run in the same
# rounds, side by side: BPFTRACE_SCRIPT below, the one-liners a user would
# write for the same counts and latencies (classic tracepoints: bpftrace
# has no tp_btf).  In the test bed: bench/program_cost_bed.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
mkdir -p bench/results
csv=${CSV:-bench/results/$(date +%Y-%m-%d-%H%M)-programs.csv}
tmp=$(mktemp -d)
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
pids=()
trap 'sysctl -q kernel.bpf_stats_enabled=$old_stats; for p in "${pids[@]}"; do kill -INT -- -$p 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
sysctl -q kernel.bpf_stats_enabled=1

# event: kvmprof's programs for it (the first found counts), and the empty one, floor_EVENT
EVENTS="kvm_emulate_insn kvm_pio kvm_mmio kvm_userspace_exit sys_enter_ioctl kvm_msr kvm_cpuid sched_switch kvm_exit kvm_entry"
declare -A KVMPROF_PROGS=(
	[kvm_emulate_insn]="btf_kvm_emulate_insn_direct btf_kvm_emulate_insn tp_kvm_emulate_insn"
	[kvm_pio]="btf_kvm_pio tp_kvm_pio" [kvm_mmio]="btf_kvm_mmio tp_kvm_mmio"
	[kvm_userspace_exit]="btf_kvm_userspace_exit tp_kvm_userspace_exit" [sys_enter_ioctl]="tp_sys_enter_ioctl"
	[kvm_msr]="btf_kvm_msr tp_kvm_msr" [kvm_cpuid]="btf_kvm_cpuid tp_kvm_cpuid"
	[sched_switch]="btf_sched_switch tp_sched_switch" [kvm_exit]="btf_kvm_exit tp_kvm_exit"
	[kvm_entry]="btf_kvm_entry tp_kvm_entry")

# The same keys kvmprof counts (guest, thread, code), the VMM trip's and the
# exit's latency as histograms; sched_switch has no counterpart here.
BPFTRACE_SCRIPT='
tracepoint:kvm:kvm_emulate_insn { @emulate[pid, tid, args->csbase + args->rip] = count(); }
tracepoint:kvm:kvm_pio { @pio[pid, tid, args->rw, args->port] = count(); }
tracepoint:kvm:kvm_mmio { @mmio[pid, tid, args->type, args->gpa & ~0xfff] = count(); }
tracepoint:kvm:kvm_msr { @msr[pid, tid, args->write, args->ecx] = count(); }
tracepoint:kvm:kvm_cpuid { @cpuid[pid, tid, args->function] = count(); }
tracepoint:kvm:kvm_userspace_exit { @vmm[pid, tid, args->reason] = count(); @trip[tid] = nsecs; }
tracepoint:syscalls:sys_enter_ioctl /args->cmd == 0xae80 && @trip[tid]/ {
	@trip_ns[pid, tid] = hist(nsecs - @trip[tid]); delete(@trip[tid]); }
tracepoint:kvm:kvm_exit { @exit[pid, tid, args->exit_reason] = count(); @exit_at[tid] = nsecs; }
tracepoint:kvm:kvm_entry /@exit_at[tid]/ { @exit_ns[pid, tid] = hist(nsecs - @exit_at[tid]); delete(@exit_at[tid]); }'
bpftrace=$(command -v bpftrace || true)

start() {	# label command...: in its own group, until it says it attached
	local label=$1 out="$tmp/$1.out"
	shift
	setsid "$@" >"$out" 2>&1 &
	pids+=($!)
	for _ in $(seq 150); do
		grep -q "attached\|tracing KVM traps\|^Attaching" "$out" && return
		sleep 0.1
	done
	echo "bench: $label did not attach: $(tail -n 1 "$out")" >&2
	exit 1
}
stats() {	# every program: "name run_time_ns run_cnt" (plain output: the bed has no python)
	bpftool prog show | awk '/^[0-9]+:/ { name = "-"; for (i = 1; i < NF; i++) if ($i == "name") name = $(i + 1)
		ns = cnt = 0; for (i = 1; i < NF; i++) { if ($i == "run_time_ns") ns = $(i + 1); if ($i == "run_cnt") cnt = $(i + 1) }
		print name, ns, cnt }'
}
# SCALE divides the workload (the test bed runs its guest under nested emulation)
scale=${SCALE:-1}
workload() {
	tests/guestload --pio $((100000 / scale)) --mmio-write $((50000 / scale)) --cpuid $((50000 / scale)) \
		--msr-read $((50000 / scale)) --emulate $((200000 / scale)) >/dev/null
}

# One workload with the programs attached (phase kvmprof: the empty ones,
# kvmprof's, bpftrace's; clock and state: the empty ones and that floor),
# then "name ns_per_run runs" of each program over it in $tmp/d.
measure() {
	pids=()
	if [ "$1" = kvmprof ]; then
		start floor bench/floor all
		start kvmprof ./kvmprof -q
		[ -z "$bpftrace" ] || start bpftrace "$bpftrace" -e "$BPFTRACE_SCRIPT"
	else
		start floor bench/floor "$1"
	fi
	sleep 0.3
	stats >"$tmp/a"
	workload
	stats >"$tmp/b"
	for p in "${pids[@]}"; do kill -INT -- -$p 2>/dev/null || true; wait $p 2>/dev/null || true; done
	awk 'NR == FNR { ns[$1] += $2; n[$1] += $3; next } { ns[$1] -= $2; n[$1] -= $3 }
		END { for (k in n) if (n[k] > 0) print k, int(ns[k] / n[k]), n[k] }' "$tmp/b" "$tmp/a" >"$tmp/d"
}
cost_of() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/d"; }

declare -A cost runs
for r in $(seq "$rounds"); do
	measure kvmprof
	for e in $EVENTS; do
		f=$(awk -v k="floor_$e" '$1 == k { print $2, $3 }' "$tmp/d")
		k=""
		for name in ${KVMPROF_PROGS[$e]}; do
			k=$(awk -v k="$name" '$1 == k { print $2, $3 }' "$tmp/d")
			[ -z "$k" ] || break
		done
		[ -n "$f" ] && [ -n "$k" ] || continue
		cost[$e/floor]+="${f% *} " cost[$e/kvmprof]+="${k% *} " runs[$e]+="${k#* } "
		# bpftrace names a program by its event, cut to the kernel's 15 characters
		b=$(cost_of "${e:0:15}")
		[ -z "$b" ] || cost[$e/bpftrace]+="$b "
	done
	# each timer floor in a run of its own, the first on its events to read the clock, as kvmprof is
	for floor in clock state; do
		measure $floor
		for e in $EVENTS; do
			f=$(cost_of "floor_$e") c=$(cost_of "${floor}_$e")
			[ -z "$f" ] || [ -z "$c" ] || cost[$e/$floor]+="$(awk -v c="$c" -v f="$f" 'BEGIN { printf "%.3f", c / f }') "
		done
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ratio() { awk -v k="$1" -v f="$2" 'BEGIN { if (k == "-" || f == "-") print "-"; else printf "%.2f", (f > 0 ? k / f : 0) }'; }
row() {	# name runs empty kvmprof bpftrace clock state (those two: ratios to their empty program)
	local over=-
	[ "$7" = - ] || over=$(awk -v k="$(ratio "$4" "$3")" -v s="$7" 'BEGIN { printf "%.2f", k / s }')
	printf "%-20s %10s %10s %12s %7s %12s %7s %7s %7s %7s\n" "$1" "$2" "$3" "$4" "$(ratio "$4" "$3")" "$5" \
		"$(ratio "$5" "$3")" "$(fmt2 "$6")" "$(fmt2 "$7")" "$over"
	echo "$1,$2,$3,$4,$(ratio "$4" "$3"),$5,$(ratio "$5" "$3"),$rounds,$(fmt2 "$6"),$(fmt2 "$7"),$over" >>"$csv"
}
fmt2() { [ "$1" = - ] && echo - || awk -v x="$1" 'BEGIN { printf "%.2f", x }'; }
floor_of() {	# event floor: its median ratio, - where it has none
	if [ -n "${cost[$1/$2]:-}" ]; then echo ${cost[$1/$2]} | median; else echo -; fi
}
echo "event,runs,empty_ns,kvmprof_ns,ratio,bpftrace_ns,bpftrace_ratio,rounds,clock_ratio,state_ratio,over_state" >"$csv"
echo "== in-kernel ns per event of each kvmprof program beside an empty one on the same event (bpf_stats), median of $rounds rounds"
echo "   clock: an empty program that reads the clock, state: that and a per-thread hash, each in runs of its own,"
echo "   as ratios to the empty program of their run; /state: kvmprof's ratio over state's"
printf "%-20s %10s %10s %12s %7s %12s %7s %7s %7s %7s\n" EVENT "runs" "empty ns" "kvmprof ns" ratio "bpftrace ns" ratio \
	"clock" "state" "/state"
for e in $EVENTS; do
	if [ -z "${cost[$e/floor]:-}" ]; then
		printf "%-20s %s\n" "$e" "no events in the workload here (kvm_exit, kvm_entry: the test bed; PVM fires neither)"
		continue
	fi
	b=-
	[ -z "${cost[$e/bpftrace]:-}" ] || b=$(echo ${cost[$e/bpftrace]} | median)
	row "$e" "$(echo ${runs[$e]} | median)" "$(echo ${cost[$e/floor]} | median)" "$(echo ${cost[$e/kvmprof]} | median)" "$b" \
		"$(floor_of "$e" clock)" "$(floor_of "$e" state)"
done
if [ -n "${cost[kvm_exit/floor]:-}" ] && [ -n "${cost[kvm_entry/floor]:-}" ]; then
	b=-
	[ -z "${cost[kvm_exit/bpftrace]:-}" ] || [ -z "${cost[kvm_entry/bpftrace]:-}" ] ||
		b=$(( $(echo ${cost[kvm_exit/bpftrace]} | median) + $(echo ${cost[kvm_entry/bpftrace]} | median) ))
	# two floors' ratio: their mean (the two empty programs cost about the same)
	c=- st=-
	[ -z "${cost[kvm_exit/clock]:-}" ] || [ -z "${cost[kvm_entry/clock]:-}" ] ||
		c=$(awk -v a="$(floor_of kvm_exit clock)" -v b="$(floor_of kvm_entry clock)" 'BEGIN { print (a + b) / 2 }')
	[ -z "${cost[kvm_exit/state]:-}" ] || [ -z "${cost[kvm_entry/state]:-}" ] ||
		st=$(awk -v a="$(floor_of kvm_exit state)" -v b="$(floor_of kvm_entry state)" 'BEGIN { print (a + b) / 2 }')
	row exit_path "$(echo ${runs[kvm_exit]} | median)" \
		$(( $(echo ${cost[kvm_exit/floor]} | median) + $(echo ${cost[kvm_entry/floor]} | median) )) \
		$(( $(echo ${cost[kvm_exit/kvmprof]} | median) + $(echo ${cost[kvm_entry/kvmprof]} | median) )) "$b" "$c" "$st"
fi
echo "results: $csv"
