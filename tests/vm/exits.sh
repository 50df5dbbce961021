#!/bin/sh
# Which KVM events each guest operation produces (a SCRIPT for tests/vm/run.sh):
#   tests/vm/run.sh tests/vm/exits.sh tests/guestload
# For each guestload op it runs N=A and N=B ops, counts the trace events of
# each run and prints (count(B) - count(A)) / (B - A): the events per op.
# Also compares kvm_fpu load events with the KVM_RUN ioctls guestload made.
# Fails if guestload fails, if no kvm_exit event is seen at all, or if the
# kvm_fpu load count differs from the KVM_RUN count.
T=/sys/kernel/tracing
A=${EXITS_A:-10} B=${EXITS_B:-30}

GL=
for f in /tests/guestload /tmp/guestload-static /tmp/guestload; do
    [ -x "$f" ] && { GL=$f; break; }
done
[ -n "$GL" ] || { echo "exits: no guestload given (pass tests/guestload to run.sh)" >&2; exit 1; }

echo "kernel $(uname -r); kvm_amd npt=$(cat /sys/module/kvm_amd/parameters/npt)" \
     "nested=$(cat /sys/module/kvm_amd/parameters/nested);" \
     "nrip_save: $(grep -qw nrip_save /proc/cpuinfo && echo yes || echo 'no (KVM skips instructions with the emulator)')"
echo 16384 >$T/buffer_size_kb
echo >$T/set_event
for e in kvm_exit kvm_entry kvm_hypercall kvm_pio kvm_mmio kvm_fpu kvm_userspace_exit \
         kvm_emulate_insn kvm_msr kvm_cpuid; do
    echo 1 >$T/events/kvm/$e/enable || exit 1
done
# KVM_RUN is _IO(0xAE, 0x80)
echo 'cmd == 0xae80' >$T/events/syscalls/sys_enter_ioctl/filter || exit 1
echo 1 >$T/events/syscalls/sys_enter_ioctl/enable || exit 1
echo 0 >$T/tracing_on

bad=0
saw_exit=0
# count ARGS...: run guestload once, print "key count" lines for its events
count() {
    echo >$T/trace
    echo 1 >$T/tracing_on
    # a guest that never ends must not eat the whole VM time limit
    out=$(timeout ${EXITS_TIMEOUT:-60} "$GL" "$@" 2>&1) || { echo "exits: guestload $* failed (rc $?): $out" >&2; bad=1; }
    echo 0 >$T/tracing_on
    echo "$out" >/tmp/gl.out
    awk '
        /^#/ { next }
        {
            if ($0 ~ / sys_ioctl\(/) { n["ioctl(KVM_RUN)"]++; next }   # filtered on cmd == KVM_RUN
            if (!match($0, / [a-z_0-9]+: /)) next
            ev = substr($0, RSTART + 1, RLENGTH - 3); rest = substr($0, RSTART + RLENGTH)
            k = ev
            if (ev == "kvm_exit") {         # "vcpu 0 reason PF excp rip 0x..."
                r = rest; sub(/^.*reason /, "", r); sub(/ rip .*$/, "", r); k = ev ":" r
            } else if (ev == "kvm_fpu" || ev == "kvm_msr") {
                split(rest, w, " "); k = ev ":" w[1]
            } else if (ev == "kvm_userspace_exit") {
                split(rest, w, " "); k = ev ":" w[2]
            } else if (ev == "kvm_mmio" || ev == "kvm_pio") {
                split(rest, w, " "); k = ev ":" w[1]
            }
            n[k]++
        }
        END { for (k in n) print k, n[k] }' $T/trace
    kr=$(sed -n 's/.* kvm_run=\([0-9]*\).*/\1/p' /tmp/gl.out)
    echo "guestload:kvm_run ${kr:-0}"
}

# per_op LABEL OPTION [MORE...]: events per op from the runs with A and B ops
per_op() {
    label=$1 opt=$2; shift 2
    count "$opt" $A "$@" >/tmp/a
    count "$opt" $B "$@" >/tmp/b
    echo "--- $label ($opt, $*): per op, [total of the run with $B ops]"
    awk -v A=$A -v B=$B '
        FNR == NR { v = $NF; $NF = ""; sub(/ $/, ""); a[$0] = v; next }
        { v = $NF; $NF = ""; sub(/ $/, ""); b[$0] = v }
        END {
            for (k in b) keys[k] = 1
            for (k in a) keys[k] = 1
            for (k in keys) {
                d = (b[k] - a[k]) / (B - A)
                printf "  %-42s %6.2f   [%d]\n", k, d, b[k]
            }
        }' /tmp/a /tmp/b | sort
    grep -q '^kvm_exit:' /tmp/b && saw_exit=1
    # kvm_fpu load vs KVM_RUN ioctls, in the run with B ops
    fl=$(awk '$1 == "kvm_fpu:load" { print $2 }' /tmp/b)
    io=$(awk '$1 == "ioctl(KVM_RUN)" { print $2 }' /tmp/b)
    kr=$(awk '$1 == "guestload:kvm_run" { print $2 }' /tmp/b)
    echo "  kvm_fpu load=${fl:-0} KVM_RUN ioctls traced=${io:-0} counted by guestload=${kr:-0}"
    [ "${fl:-0}" = "${io:-0}" ] && [ "${io:-0}" = "${kr:-0}" ] ||
        { echo "FAIL    $label: kvm_fpu load does not match KVM_RUN"; bad=1; }
}

for mode in real prot; do
    p=; [ $mode = prot ] && p=--protected
    echo "===== $mode mode"
    count $p >/tmp/base
    echo "--- baseline (no op, $p): totals"
    sort /tmp/base | sed 's/^/  /'
    per_op pio        --pio $p
    per_op pio-in     --pio-in $p
    per_op mmio-read  --mmio-read $p
    per_op mmio-write --mmio-write $p
    per_op cpuid      --cpuid $p
    per_op hlt        --hlt $p
    per_op emulate    --emulate $p
    per_op msr-read   --msr-read $p
    per_op msr-write  --msr-write $p
    per_op hypercall  --hypercall $p
done

echo "--- sample kvm_exit/kvm_hypercall lines (hypercall, real mode)"
count --hypercall 2 >/dev/null
grep -E 'kvm_(exit|hypercall|entry|fpu)' $T/trace | head -n 12

echo "--- KVM debugfs counters after all runs (VMs already gone: empty is normal)"
ls /sys/kernel/debug/kvm/ 2>/dev/null | head -n 5

[ $saw_exit = 1 ] || { echo "exits: no kvm_exit event seen"; bad=1; }
exit $bad
