#!/bin/sh
# Smoke check of the arm64 test VM (a SCRIPT for tests/vm-arm64/run.sh):
# reports the facts kvmprof relies on and exits 1 if a required one does not hold.
#   tests/vm-arm64/run.sh tests/vm-arm64/smoke.sh
T=/sys/kernel/tracing
bad=0

need() {        # need DESCRIPTION TEST...: a required fact
    d=$1; shift
    if "$@"; then echo "ok      $d"; else echo "FAIL    $d"; bad=1; fi
}

echo "kernel $(uname -r) $(uname -m), $(grep -c ^processor /proc/cpuinfo) vCPUs, uptime $(cut -d' ' -f1 /proc/uptime) s"
dmesg | grep -E 'kvm \[|CPU features: detected|GIC' | sed 's/^/dmesg: /' | head -n 12

echo "== devices, BTF, kprobes"
need "/dev/kvm"                        test -c /dev/kvm
need "KVM initialized (dmesg)"         sh -c "dmesg | grep -q 'mode initialized successfully'"
need "$T/kprobe_events"                test -e $T/kprobe_events
need "/sys/kernel/btf/vmlinux"         test -s /sys/kernel/btf/vmlinux
echo "btf size $(wc -c </sys/kernel/btf/vmlinux) bytes"
# KVM is built in: its tracepoints' BTF typedefs are in vmlinux's BTF
for e in kvm_exit kvm_entry kvm_hvc_arm64 kvm_wfx_arm64 kvm_handle_sys_reg kvm_sys_access \
         kvm_guest_fault kvm_mmio_emulate kvm_mmio kvm_userspace_exit; do
    need "BTF btf_trace_$e" grep -aq "btf_trace_$e" /sys/kernel/btf/vmlinux
done
need "kprobe on handle_hvc accepted" \
    sh -c "echo 'p:kvmprof_smoke handle_hvc' >>$T/kprobe_events && echo '-:kvmprof_smoke' >>$T/kprobe_events"

echo "== symbols: in /proc/kallsyms / ftrace-able (fentry needs it)"
syms="handle_hvc handle_exit handle_smc kvm_handle_wfx kvm_handle_sys_reg kvm_handle_guest_abort
      io_mem_abort kvm_hvc_call_handler kvm_psci_call kvm_arch_vcpu_ioctl_run"
awk -v l="$(echo $syms)" 'BEGIN { n = split(l, a, " "); for (i = 1; i <= n; i++) w[a[i]] = 1 }
    ($3 in w) && !($3 in seen) { seen[$3] = 1; print $3, $2 }' /proc/kallsyms >/tmp/ksyms
awk -v l="$(echo $syms)" 'BEGIN { n = split(l, a, " "); for (i = 1; i <= n; i++) w[a[i]] = 1 }
    ($1 in w) { print $1 }' $T/available_filter_functions >/tmp/fsyms
for s in $syms; do
    k=$(awk -v s="$s" '$1 == s { print $2 }' /tmp/ksyms)
    if [ -n "$k" ]; then
        echo "present $s $k ftrace=$(grep -qx "$s" /tmp/fsyms && echo yes || echo no)"
    else
        echo "absent  $s"
    fi
done
need "handle_hvc in kallsyms" grep -q '^handle_hvc ' /tmp/ksyms

echo "== tracepoints"
for e in syscalls/sys_enter_ioctl kvm/kvm_exit kvm/kvm_entry kvm/kvm_hvc_arm64 kvm/kvm_wfx_arm64 \
         kvm/kvm_handle_sys_reg kvm/kvm_sys_access kvm/kvm_guest_fault kvm/kvm_mmio_emulate \
         kvm/kvm_mmio kvm/kvm_userspace_exit; do
    need "tracepoint $e" test -e $T/events/$e/format
done

echo "== formats"
for e in kvm_exit kvm_entry kvm_hvc_arm64 kvm_wfx_arm64 kvm_handle_sys_reg kvm_sys_access \
         kvm_guest_fault kvm_mmio_emulate kvm_userspace_exit; do
    echo "--- kvm/$e"
    sed -n '/^format:/,$p' $T/events/kvm/$e/format 2>/dev/null | grep -v 'common_' || echo "(none)"
done

[ $bad = 0 ] && echo "smoke: all required facts hold" || echo "smoke: some required facts do not hold"
exit $bad
