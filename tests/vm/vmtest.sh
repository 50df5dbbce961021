#!/usr/bin/env bash
# make vmtest: the real-kernel test bed.  Boots Debian's stock kernel under
# QEMU with nested SVM (tests/vm/run.sh) and runs tests/vm/inside.sh there:
# exact exit counts by SVM reason, exact hypercall counts, and the four attach
# modes agreeing.  Fails loudly if the kernel cannot be fetched or booted.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s kvmprof tests/guestload
exec tests/vm/run.sh --timeout "${VMTEST_TIMEOUT:-900}" tests/vm/inside.sh kvmprof tests/guestload
