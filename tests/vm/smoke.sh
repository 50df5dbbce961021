#!/bin/sh
# Smoke check of the test VM (a SCRIPT for tests/vm/run.sh): reports the facts
# kvmprof relies on and exits 1 if a required one does not hold.
#   tests/vm/run.sh tests/vm/smoke.sh
T=/sys/kernel/tracing
bad=0

need() {        # need DESCRIPTION TEST...: a required fact
    d=$1; shift
    if "$@"; then echo "ok      $d"; else echo "FAIL    $d"; bad=1; fi
}

echo "kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) vCPUs, svm flag: $(grep -qw svm /proc/cpuinfo && echo yes || echo no)"
for p in nested npt; do
    echo "kvm_amd.$p=$(cat /sys/module/kvm_amd/parameters/$p 2>/dev/null || echo '?')"
done

echo "== devices, BTF, kprobes"
need "/dev/kvm"                        test -c /dev/kvm
need "$T/kprobe_events"                test -e $T/kprobe_events
need "/sys/kernel/btf/vmlinux"         test -s /sys/kernel/btf/vmlinux
# module BTF came with Linux 5.11: 5.10 has none (btf and fentry cannot run there)
kv=$(uname -r | sed 's/[^0-9.].*//'); kmaj=${kv%%.*} kmin=$(echo "$kv" | cut -d. -f2)
if [ "$kmaj" -gt 5 ] || { [ "$kmaj" -eq 5 ] && [ "$kmin" -ge 11 ]; }; then
    need "/sys/kernel/btf/kvm"             test -s /sys/kernel/btf/kvm
    need "/sys/kernel/btf/kvm_amd"         test -s /sys/kernel/btf/kvm_amd
else
    mb=$(ls /sys/kernel/btf | grep -v '^vmlinux$' | tr '\n' ' ')
    echo "module BTF: ${mb:-none} (before 5.11: none expected)"
fi
# a kprobe is accepted on a module function (and removed again)
need "kprobe on kvm_arch_vcpu_ioctl_run accepted" \
    sh -c "echo 'p:kvmprof_smoke kvm_arch_vcpu_ioctl_run' >>$T/kprobe_events && echo '-:kvmprof_smoke' >>$T/kprobe_events"

echo "== symbols: in /proc/kallsyms [module] / ftrace-able (fentry needs it)"
syms="kvm_emulate_instruction x86_emulate_instruction x86_decode_insn svm_handle_exit svm_invoke_exit_handler
      handle_exit vmx_handle_exit kvm_arch_vcpu_ioctl_run svm_vcpu_run"
# one pass over each big file (slow under emulation): "name type [module]" / "name"
awk -v l="$(echo $syms)" 'BEGIN { n = split(l, a, " "); for (i = 1; i <= n; i++) w[a[i]] = 1 }
    ($3 in w) && !($3 in seen) { seen[$3] = 1; print $3, $2, ($4 == "" ? "[vmlinux]" : $4) }' /proc/kallsyms >/tmp/ksyms
awk -v l="$(echo $syms)" 'BEGIN { n = split(l, a, " "); for (i = 1; i <= n; i++) w[a[i]] = 1 }
    ($1 in w) { print $1 }' $T/available_filter_functions >/tmp/fsyms
for s in $syms; do
    k=$(awk -v s="$s" '$1 == s { print $2, $3 }' /tmp/ksyms)
    if [ -n "$k" ]; then
        echo "present $s $k ftrace=$(grep -qx "$s" /tmp/fsyms && echo yes || echo no)"
    else
        echo "absent  $s"
    fi
    # vmx_handle_exit is Intel (kvm_intel is not loaded): its absence is expected;
    # the SVM exit handler is svm_handle_exit from 5.11 (svm_invoke_exit_handler
    # too), handle_exit in kvm_amd before
    case $s in vmx_handle_exit|svm_handle_exit|svm_invoke_exit_handler|handle_exit) continue ;; esac
    [ -n "$k" ] || { echo "FAIL    $s expected in kallsyms"; bad=1; }
done
need "SVM exit handler (svm_handle_exit, or 5.10's handle_exit) in kvm_amd" \
    sh -c "awk '(\$3 == \"svm_handle_exit\" || \$3 == \"handle_exit\") && \$4 == \"[kvm_amd]\"' /proc/kallsyms | grep -q ."

echo "== tracepoints"
for e in syscalls/sys_enter_ioctl kvm/kvm_fpu kvm/kvm_exit kvm/kvm_entry kvm/kvm_hypercall \
         kvm/kvm_emulate_insn kvm/kvm_userspace_exit kvm/kvm_pio kvm/kvm_mmio; do
    need "tracepoint $e" test -e $T/events/$e/format
done

echo "== formats"
for e in kvm_exit kvm_entry kvm_emulate_insn kvm_hypercall kvm_userspace_exit; do
    echo "--- kvm/$e"
    cat $T/events/kvm/$e/format 2>/dev/null || { echo "(none)"; bad=1; }
done

[ $bad = 0 ] && echo "smoke: all required facts hold" || echo "smoke: some required facts do not hold"
exit $bad
