#!/bin/bash
# Regenerates vmlinux/arm64/vmlinux.h from the arm64 test kernel's own BTF:
# boots it (tests/vm-arm64/run.sh), brings /sys/kernel/btf/vmlinux back as
# base64 on the script's stdout, and dumps it with bpftool.
set -euo pipefail
cd "$(dirname "$0")/../.."
BPFTOOL=${BPFTOOL:-$(command -v bpftool || echo /usr/sbin/bpftool)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#!/bin/sh\nuname -r >&2\nbase64 /sys/kernel/btf/vmlinux\n' >"$tmp/btf.sh"
tests/vm-arm64/run.sh "$tmp/btf.sh" >"$tmp/btf.b64"
base64 -d "$tmp/btf.b64" >"$tmp/vmlinux.btf"
mkdir -p vmlinux/arm64
"$BPFTOOL" btf dump file "$tmp/vmlinux.btf" format c >"$tmp/vmlinux.h"
mv "$tmp/vmlinux.h" vmlinux/arm64/vmlinux.h
echo "vmlinux/arm64/vmlinux.h: $(wc -l <vmlinux/arm64/vmlinux.h) lines from $(wc -c <"$tmp/vmlinux.btf") bytes of BTF"
