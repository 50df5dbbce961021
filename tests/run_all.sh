#!/usr/bin/env bash
# Runs every test suite and ends with one "N passed, N failed" line.
# Each suite prints "<suite>: N passed, N failed"; a suite that dies without
# that line counts as one failure.
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
run_suite() {
	local name=$1; shift
	local out rc line
	echo "=== $name: $*"
	out=$("$@" 2>&1); rc=$?
	printf '%s\n' "$out"
	line=$(printf '%s\n' "$out" | grep -E '^[a-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -z "$line" ]; then
		echo "$name: no result line (exit $rc): counted as failed"
		failed=$((failed + 1))
		return
	fi
	p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.*passed, ([0-9]+) failed.*/\1/' <<<"$line")
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$name: exit $rc with no failed check: counted as failed"
		failed=$((failed + 1))
	fi
}
run_suite unit ./tests/unit_tests
run_suite bpf ./tests/bpf_drive
# the same under ASan + UBSan: any report stops the run and fails the suite
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run_suite unit-asan ./tests/unit_tests-asan
run_suite bpf-asan ./tests/bpf_drive-asan
run_suite integration ./tests/integration.py
run_suite tui ./tests/tui_test.py
run_suite metrics ./tests/metrics_test.py
run_suite time ./tests/time_test.py
run_suite report ./tests/report_test.py
run_suite diff ./tests/diff_test.py
run_suite robustness ./tests/robustness.py
run_suite hostile ./tests/hostile_test.py
run_suite command ./tests/command_test.py
run_suite events ./tests/events_test.py
run_suite counters ./tests/counters_test.py
run_suite install ./tests/install_test.py
run_suite fuzz ./tests/fuzz/run.sh
[ -n "${KVMPROF_SKIP_VMTEST:-}" ] || run_suite vmtest ./tests/vm/vmtest.sh
[ -n "${KVMPROF_SKIP_VMTEST:-}" ] || run_suite vmtest-linux ./tests/vm-linux/vmtest.sh
[ -n "${KVMPROF_SKIP_VMTEST:-}" ] || run_suite vmtest-arm64 ./tests/vm-arm64/vmtest.sh
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
