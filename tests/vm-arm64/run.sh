#!/bin/bash
# Run a test script inside Debian's stock arm64 kernel (VM_KERNEL 5.10, 6.1 or
# 6.12, as in tests/vm/run.sh), booted under
# qemu-system-aarch64 -M virt,virtualization=on -cpu max (pure emulation):
# KVM is built in and runs at EL2, so the script gets a real arm64 /dev/kvm,
# kprobes, fentry and BTF.  tests/vm/run.sh does the work (usage, files,
# environment and exit codes as there); cache and logs are in tests/vm-arm64/.
#
# usage: tests/vm-arm64/run.sh [--timeout SECONDS] SCRIPT [FILE...]
VM_ARCH=arm64 exec "$(dirname "$0")/../vm/run.sh" "$@"
