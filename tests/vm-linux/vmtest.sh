#!/usr/bin/env bash
# make vmtest-linux: a real Linux guest in the x86 test bed (issue 22).  Debian 12's own kernel
# (the bed's cached linux-image package: its vmlinuz; its symbols from the L1's kallsyms, the
# same kernel image) boots as an L2 guest under
# QEMU -enable-kvm inside the bed's L1 (Debian 6.1, nested SVM with NPT, multi-threaded TCG: the
# single-threaded one corrupts most L2 boots), with a busybox /init (tests/vm-linux/l2-init).
# tests/vm-linux/inside.sh runs it under kvmprof --rip --guest-syms; tests/vm-linux/check.py
# checks the files against KVM's own statistics (QEMU's query-stats) and the guest's symbols.
# A boot that breaks (nested emulation breaks one in a few) is said so and retried, at most
# VMTEST_LINUX_BOOTS (3) times; it never passes.  About 3 minutes a boot here.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s kvmprof
export VM_KERNEL=6.1 VM_CPU=${VM_CPU:-qemu64,+svm,+npt} VM_TCG_THREAD=multi VM_MEM=${VM_MEM:-1536}
tests/vm/run.sh --fetch-only >/dev/null
deb=$(ls tests/vm/cache/6.1/kernel/linux-image-*/linux-image-*.deb | head -n 1)
kdir=$(dirname "$deb")
D=/tmp/kvmprof-vmlinux	# an absolute path: run.sh puts it at the same path in the L1
rm -rf "$D" && mkdir -p "$D/fw" "$D/l2/bin" "$D/l2/dev" "$D/l2/proc" "$D/l2/sys"
trap 'rm -rf "$D"' EXIT
cp "$(command -v qemu-system-x86_64)" "$D/"
for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/{linuxboot_dma,linuxboot,kvmvapic,pvh}.bin; do cp -L "$f" "$D/fw/"; done
cp "$kdir/vmlinuz" "$D/vmlinuz"
cp tests/vm/cache/busybox/busybox "$D/l2/bin/busybox"
cp tests/vm-linux/l2-init "$D/l2/init"
chmod +x "$D/l2/init" "$D/l2/bin/busybox"
(cd "$D/l2" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$D/l2.cpio"
rm -rf "$D/l2"
out=$(mktemp)
for boot in $(seq "${VMTEST_LINUX_BOOTS:-3}"); do
	start=$(date +%s)
	tests/vm/run.sh --timeout 300 tests/vm-linux/inside.sh kvmprof "$D" >"$out" 2>&1 || true
	echo "vmtest-linux: boot $boot: $(grep -m1 '^L2: ' "$out" || echo 'no result from the L1') ($(( $(date +%s) - start )) s)"
	# a power-off without the init's last line is a crash (CI: 2 s into a boot)
	grep -q '^L2: powered off' "$out" && grep -q '^L2: done' "$out" && grep -q '^=== end' "$out" && break
	echo "vmtest-linux: boot $boot broke (nested emulation): again"
done
if ! grep -q '^L2: powered off' "$out"; then
	tail -n 30 "$out"
	echo "vmtest-linux: 0 passed, 1 failed (no boot reached its power-off)"
	exit 1
fi
python3 tests/vm-linux/check.py "$out"
