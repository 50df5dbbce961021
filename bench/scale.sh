#!/usr/bin/env bash
# make bench-scale: the loader with many guests (issue 19).  For each count
# in GUESTS (default "250 500 1000"), that many guestload processes of 4
# vCPUs each (VCPUS) trap all the time (port I/O, MMIO, cpuid, emulated
# loops, a sleep between rounds), and kvmprof -i 1 traces them with
# --max-keys MAX_KEYS (default 131072: these guests make 17 keys a vCPU
# thread, 68000 at 1000 guests; 65536 drops, and says so).  Per
# count: the keys, the loader's CPU (utime + stime over 10 s of reads), its
# CPU per read, peak RSS, drops.  Then, at the largest count, the live view
# in tmux: the time from a key (s: the next sort) to the screen showing it,
# 10 times.  Writes bench/results/<date>-scale.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
guests_list=${GUESTS:-250 500 1000} vcpus=${VCPUS:-4} max_keys=${MAX_KEYS:-131072}
mkdir -p bench/results
csv=bench/results/$(date +%Y-%m-%d-%H%M)-scale.csv
tmp=$(mktemp -d)
sock=kvmprof-scale-$$
# every guest gone before the next count (a guest still running would count twice)
end_guests() {
	pkill -KILL -f "guestload --wait-start $tmp" || true
	while pgrep -f "guestload --wait-start $tmp" >/dev/null; do sleep 0.2; done
}
trap 'tmux -L $sock kill-server 2>/dev/null || true; end_guests; rm -rf "$tmp"' EXIT
hz=$(getconf CLK_TCK)

# N guests that trap until their --duration; returns once every vCPU thread runs
guests() {
	# in a subshell: no job to wait for, so no "Killed" when end_guests ends them
	(tests/guestload --wait-start "$tmp/go" -g "$1" -c "$vcpus" --pio 2 --mmio-write 1 --cpuid 1 --emulate 5 \
		--sleep-us 200000 --repeat 4000000000 --duration "$2" >"$tmp/guests.out" 2>&1 &)
	while [ "$(grep -c '^ready' "$tmp/guests.out")" -lt "$1" ]; do sleep 0.2; done
	touch "$tmp/go"
	sleep 2
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

echo "guests,vcpus,keys,max_keys,reads,cpu_percent_of_core,cpu_ms_per_read,peak_rss_kib,dropped" >"$csv"
echo "== the loader at -i 1 with many guests of $vcpus vCPUs, --max-keys $max_keys"
printf "%7s %7s %8s %9s %12s %10s %10s\n" guests threads keys "CPU %" "ms per read" "RSS MiB" dropped
for n in $guests_list; do
	rm -f "$tmp/go"
	guests "$n" 40
	./kvmprof -q -i 1 -d 20 --max-keys "$max_keys" --csv "$tmp/s.csv" --json "$tmp/s.json" \
		>/dev/null 2>"$tmp/k.err" &
	kp=$!
	while ! grep -q "tracing KVM traps" "$tmp/k.err"; do
		kill -0 $kp 2>/dev/null || { echo "bench: kvmprof ended: $(tail -n 1 "$tmp/k.err")" >&2; exit 1; }
		sleep 0.2
	done
	sleep 4
	t0=$(cpu_ticks $kp)
	sleep 10
	t1=$(cpu_ticks $kp)
	rss=$(awk '/VmHWM/ { print $2 }' "/proc/$kp/status")
	wait $kp
	# keys: (tid, class, code, detail) rows of the CSV; drops from the JSON
	keys=$(awk -F, 'NR > 1 && $5 != "vcpu_time" && $5 != "check" { k[$4 "," $5 "," $6 "," $16] = 1 }
		END { print length(k) }' "$tmp/s.csv")
	dropped=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["dropped"])' "$tmp/s.json")
	threads=$(( n * vcpus ))
	cpu=$(awk -v d=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.2f", d * 100 / hz / 10 }')
	ms=$(awk -v d=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.1f", d * 1000 / hz / 10 }')
	printf "%7s %7s %8s %9s %12s %10.1f %10s\n" "$n" "$threads" "$keys" "$cpu" "$ms" "$(echo "$rss / 1024" | bc -l)" "$dropped"
	echo "$n,$vcpus,$keys,$max_keys,10,$cpu,$ms,$rss,$dropped" >>"$csv"
	end_guests
done

# the live view at the largest count: key to screen
n=${guests_list##* }
rm -f "$tmp/go"
guests "$n" 60
tmux -L $sock new-session -d -x 200 -y 50 "./kvmprof -i 1 --max-keys $max_keys"
until tmux -L $sock capture-pane -p | grep -q "sort "; do sleep 0.2; done
sleep 3
worst=0 all=""
for i in $(seq 10); do
	before=$(tmux -L $sock capture-pane -p | grep -o "sort [a-z]*" | head -n 1)
	t0=$(date +%s%N)
	tmux -L $sock send-keys s
	while [ "$(tmux -L $sock capture-pane -p | grep -o "sort [a-z]*" | head -n 1)" = "$before" ]; do
		[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 5000 ] || break
	done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	all="$all $ms" worst=$(( ms > worst ? ms : worst ))
	sleep 0.7
done
tmux -L $sock send-keys q
end_guests
echo "live view, $n guests: key to screen, ms:$all (worst $worst; capture-pane polling included)"
echo "live_view_key_ms,$n,$worst,$all" >>"$csv"
echo "results: $csv"
