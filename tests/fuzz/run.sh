#!/usr/bin/env bash
# Runs each libFuzzer target for FUZZ_SECONDS (default 20) from its seed
# corpus in tests/fuzz/corpus/, two at a time; new inputs go to a scratch
# folder, never into the committed seeds.  A crash or sanitizer report keeps
# its input under $FUZZ_OUT and fails the target.  Ends with
# "fuzz: N passed, N failed" and the executions per target.
set -u
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-20}
out=${FUZZ_OUT:-$(mktemp -d /tmp/kvmprof-fuzz.XXXXXX)}
targets=(cmdline cgroup csv options)
passed=0 failed=0 total=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
run() {
	mkdir -p "$out/$1"
	./fuzz_"$1" -max_total_time="$seconds" -timeout=10 -close_fd_mask=3 -print_final_stats=1 \
		-artifact_prefix="$out/$1-" "$out/$1" "corpus/$1" >"$out/$1.log" 2>&1
	echo $? >"$out/$1.rc"
}
for ((i = 0; i < ${#targets[@]}; i += 2)); do
	run "${targets[i]}" &
	[ $((i + 1)) -lt ${#targets[@]} ] && run "${targets[i + 1]}" &
	wait
done
for t in "${targets[@]}"; do
	rc=$(cat "$out/$t.rc" 2>/dev/null || echo 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
	total=$((total + ${execs:-0}))
	if [ "$rc" = 0 ]; then
		passed=$((passed + 1))
		echo "fuzz_$t: ${execs:-0} executions in ${seconds} s, no crash"
	else
		failed=$((failed + 1))
		echo "FAIL: fuzz_$t exit $rc; log $out/$t.log; input:" $(ls "$out/$t-"* 2>/dev/null)
		grep -E "ERROR|SUMMARY|runtime error" "$out/$t.log" | head -5
	fi
done
echo "fuzz: $total executions in all"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
