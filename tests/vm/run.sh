#!/bin/bash
# Run a test script inside one of Debian's stock kernels (VM_KERNEL: 5.10 from
# Debian 11, 6.1 from Debian 12, 6.12 from Debian 13), booted under QEMU (pure
# emulation, no host KVM needed) with KVM loaded as nested SVM, so the script
# sees real kvm_exit/kvm_entry events, kprobes, fentry and BTF.  With
# VM_ARCH=arm64 (tests/vm-arm64/run.sh) the kernel is Debian's arm64 one under
# qemu-system-aarch64 -M virt,virtualization=on: KVM, built in, runs at EL2.
#
# usage: tests/vm/run.sh [--timeout SECONDS] SCRIPT [FILE...]
#        tests/vm/run.sh --fetch-only     (fill the cache, boot nothing)
#
#   SCRIPT  runs as /test.sh (its #! line counts; busybox sh is /bin/sh), cwd /.
#   FILE    host files or directories copied in. A relative path lands at the
#           same relative path under / (so `tests/guestload` works unchanged
#           when run.sh is called from the repo root); an absolute path at the
#           same absolute path. Shared libraries that `ldd` lists and the
#           dynamic loader come along, so dynamically linked programs run
#           (for arm64 from the host's aarch64-linux-gnu multiarch folders).
#
# The script's stdout/stderr come back on run.sh's stdout/stderr (after the
# VM stops) and run.sh exits with the script's exit code. Infrastructure
# failures print one line starting with "vm: FAIL:" on stderr and exit 125
# (124 when the time limit is hit). Logs of the last run in tests/vm/out/:
# console.log (guest kernel), stdout, stderr, status (/init's progress),
# qemu.log, cmdline. Kernels, busybox and the initramfs bases are cached in
# tests/vm/cache/ (busybox/, and one folder per VM_KERNEL, about 110 MB each):
# 6.1 is the package linux-image-amd64 points at in the machine's own apt
# lists, refetched when it moves to another ABI; 5.10 (bullseye and
# bullseye-security) and 6.12 (trixie) are the newest ABI in a private apt
# configuration kept in that folder (its lists fetched when a kernel is, then
# dropped; VM_APT_UPDATE=1 looks for a newer ABI).  For arm64 both folders are under tests/vm-arm64/.
#
# Environment (all optional):
#   VM_ARCH     x86 (default) or arm64
#   VM_KERNEL   5.10, 6.1 (default) or 6.12
#   VM_CPU      QEMU -cpu (default qemu64,+svm: nested paging off; add ,+npt for NPT;
#               arm64: max,pauth-impdef=on, as max but 5x faster to boot)
#   VM_SMP      vCPUs (default 2)          VM_MEM   MiB of RAM (default 1024)
#   VM_APPEND   extra kernel command line; MOD.PARAM=VAL words are handed to
#               insmod of module MOD, e.g. VM_APPEND=kvm_amd.npt=0
#   VM_MODULES  extra modules to load (dependencies are resolved), e.g. "tun"
#   VM_OUT      where the logs go (default tests/vm/out; set it for parallel runs)
#   VM_TCG_THREAD  single (default) or multi, VM_QEMU_OPTS  more qemu options
#   VM_APT_UPDATE  1: fetch the private apt lists (5.10, 6.12) again
#   VM_APT_URI, VM_APT_SECURITY_URI  Debian's archive and security archive for
#               5.10 and 6.12 (default: what the machine's apt sources use)
set -euo pipefail

VM_DIR=$(cd "$(dirname "$0")" && pwd)
EOF_MARK='@@KVMPROF-VM-EOF@@'    # trailer on the script's streams: proves they are complete

fail() { echo "vm: FAIL: $*" >&2; exit 125; }
note() { echo "vm: $*" >&2; }

# What differs per architecture: Debian's names, QEMU, the modules, and the
# serial lines (console; then the script's stdout, stderr and /init's status).
ARCH=${VM_ARCH:-x86}
case $ARCH in
x86)
    BED=$VM_DIR DEB_ARCH=amd64 TRIPLE=x86_64-linux-gnu
    QEMU=qemu-system-x86_64 QEMU_PKG=qemu-system-x86
    MODULES="kvm-amd ${VM_MODULES:-}"
    CON=ttyS0 TTY_OUT=ttyS1 TTY_ERR=ttyS2 TTY_STATUS=ttyS3 ;;
arm64)
    # KVM is built in; virt has one PL011 UART, so the other lines are 16550s on PCI
    BED=${VM_DIR%/*}/vm-arm64 DEB_ARCH=arm64 TRIPLE=aarch64-linux-gnu
    QEMU=qemu-system-aarch64 QEMU_PKG=qemu-system-arm
    MODULES="${VM_MODULES:-}"
    CON=ttyAMA0 TTY_OUT=ttyS0 TTY_ERR=ttyS1 TTY_STATUS=ttyS2 ;;
*) fail "VM_ARCH must be x86 or arm64, not '$ARCH'" ;;
esac
KMETA=linux-image-$DEB_ARCH     # Debian's meta package for the current kernel
# Which kernel: Debian 12's own 6.1 (through the machine's apt lists), Debian
# 11's 5.10 or Debian 13's 6.12 (through a private apt configuration).
KERNEL=${VM_KERNEL:-6.1}
case $KERNEL in
5.10) KSUITES="bullseye bullseye-security" KPREFIX=linux-image-5.10.0-
      KPAT="linux-image-5\.10\.0-[0-9]+-$DEB_ARCH" KDESC="linux-image-5.10.0-*-$DEB_ARCH (Debian 11)" ;;
6.1)  KSUITES= KPREFIX= KPAT= KDESC="linux-image-6.1.0-*-$DEB_ARCH from $KMETA" ;;
6.12) KSUITES="trixie" KPREFIX=linux-image-6.12.
      KPAT="linux-image-6\.12\.[0-9]+\+deb13-$DEB_ARCH" KDESC="linux-image-6.12.*+deb13-$DEB_ARCH (Debian 13)" ;;
*) fail "VM_KERNEL must be 5.10, 6.1 or 6.12, not '$KERNEL'" ;;
esac
CACHE=$BED/cache
OUT=${VM_OUT:-$BED/out}

timeout_s=300 fetch_only=
while [ $# -gt 0 ]; do
    case $1 in
    --timeout) [ $# -ge 2 ] || fail "--timeout needs a value"; timeout_s=$2; shift 2 ;;
    --timeout=*) timeout_s=${1#*=}; shift ;;
    --fetch-only) fetch_only=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) fail "unknown option $1 (usage: run.sh [--timeout SECONDS] SCRIPT [FILE...])" ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || [ -n "$fetch_only" ] || fail "usage: run.sh [--timeout SECONDS] SCRIPT [FILE...]"
case $timeout_s in ''|*[!0-9]*) fail "--timeout wants whole seconds, got '$timeout_s'" ;; esac
SCRIPT=${1:-}; [ $# -eq 0 ] || shift
[ -n "$fetch_only" ] || [ -f "$SCRIPT" ] || fail "script $SCRIPT not found"
for f in "$@"; do [ -e "$f" ] || fail "file $f not found"; done

# ---- host tools ---------------------------------------------------------------
apt_updated=
apt_update() {
    [ -n "$apt_updated" ] && return 0
    apt_updated=1
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 || true
}
need=
command -v $QEMU >/dev/null || need="$need $QEMU_PKG"
command -v cpio >/dev/null || need="$need cpio"
command -v xz >/dev/null || need="$need xz-utils"
command -v zstd >/dev/null || need="$need zstd"
command -v timeout >/dev/null || need="$need coreutils"
if [ -n "$need" ]; then
    note "installing$need"
    inst() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need >"$OUT/apt.log" 2>&1; }
    mkdir -p "$OUT"
    inst || { apt_update; inst; } || fail "apt-get install$need failed (see $OUT/apt.log)"
fi

# ---- kernel and busybox, fetched once into the cache --------------------------
# Each VM_KERNEL has its own folder, $CACHE/$VM_KERNEL: the kernel (one ABI:
# an older one of the same VM_KERNEL goes when a newer one is fetched), its
# initramfs base and, for 5.10 and 6.12, the private apt state it came from.
KCACHE=$CACHE/$KERNEL
mkdir -p "$KCACHE" "$OUT"
# arm64 packages come from Debian's multiarch archive
if [ "$DEB_ARCH" != "$(dpkg --print-architecture)" ] &&
    ! dpkg --print-foreign-architectures | grep -qx "$DEB_ARCH"; then
    note "adding dpkg architecture $DEB_ARCH"
    dpkg --add-architecture "$DEB_ARCH" || fail "dpkg --add-architecture $DEB_ARCH failed"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >"$OUT/apt.log" 2>&1 ||
        fail "apt-get update failed after adding $DEB_ARCH (see $OUT/apt.log)"
    apt_updated=1
fi
exec 9>"$CACHE/.lock"          # one cache builder at a time
flock 9
# the layout before VM_KERNEL: its 6.1 kernel moves into the 6.1 folder
if [ -d "$CACHE/kernel" ] && [ ! -e "$CACHE/6.1/kernel" ]; then
    mkdir -p "$CACHE/6.1" && mv "$CACHE/kernel" "$CACHE/6.1/kernel"
fi
rm -rf "$CACHE/kernel" "$CACHE"/base-*.cpio "$CACHE/kernel.resolved"

# 5.10 and 6.12 come from other Debian releases than the machine's: a private
# apt configuration (sources, lists and caches in $KCACHE/apt) fetches them;
# the machine's own apt configuration and lists are never touched.  The
# archive's address is the one the machine's own sources use for its release
# (VM_APT_URI / VM_APT_SECURITY_URI override it); the keys are Debian's.
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
machine_uri() { # machine_uri SUITE: the URI the machine's apt sources use for SUITE
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        case $f in
        *.sources) awk -v s="$1" '
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { if (u != "" && hit) { print u; exit } u = ""; hit = 0; next }
            tolower($1) == "uris:" { u = $2 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) hit = 1 }
            END { if (u != "" && hit) print u }' "$f" ;;
        *) sed -n 's/^[ \t]*deb[ \t]\{1,\}\(\[[^]]*\][ \t]\{1,\}\)\{0,1\}\([^ \t]*\)[ \t]\{1,\}'"$1"'[ \t].*/\2/p' "$f" ;;
        esac
    done | head -n1
}
APT_OPTS=()
private_apt() { # private_apt SUITE...: write the private sources and options
    local codename uri sec s d=$KCACHE/apt
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    uri=${VM_APT_URI:-$(machine_uri "$codename")}
    sec=${VM_APT_SECURITY_URI:-$(machine_uri "$codename-security")}
    [ -n "$uri" ] || fail "cannot tell Debian's archive from the machine's apt sources (suite '$codename'): set VM_APT_URI"
    [ -r "$KEYRING" ] || fail "no $KEYRING (package debian-archive-keyring) to check Debian's archive with"
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
    for s in "$@"; do
        case $s in
        *-security) [ -n "$sec" ] || fail "cannot tell Debian's security archive from the machine's apt sources: set VM_APT_SECURITY_URI"
                    echo "deb [arch=$DEB_ARCH signed-by=$KEYRING] $sec $s main" ;;
        *)          echo "deb [arch=$DEB_ARCH signed-by=$KEYRING] $uri $s main" ;;
        esac
    done >"$d/sources.list.new"
    cmp -s "$d/sources.list.new" "$d/sources.list" 2>/dev/null || { mv "$d/sources.list.new" "$d/sources.list"; rm -f "$d/lists/"*_Packages*; }
    rm -f "$d/sources.list.new"
    # no binary package cache is kept, nor translations
    APT_OPTS=(-o "Dir::Etc::sourcelist=$d/sources.list" -o Dir::Etc::sourceparts=/dev/null
              -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache"
              -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
              -o Dir::State::status=/dev/null -o Dir::Etc::preferencesparts=/dev/null
              -o "APT::Architecture=$DEB_ARCH" -o "APT::Architectures=$DEB_ARCH"
              -o Acquire::GzipIndexes=true -o Acquire::Languages=none)
}
private_update() {
    note "apt-get update of the private sources for $KERNEL (${KSUITES// /, })"
    apt-get "${APT_OPTS[@]}" -q update >"$OUT/apt.log" 2>&1 ||
        fail "apt-get update of Debian's ${KSUITES// /, } failed (see $OUT/apt.log)"
    grep -E '^(W|E): ' "$OUT/apt.log" | grep -v "_apt" | head -n 3 | sed 's/^/vm: apt: /' >&2 || true
}

fetch_deb() {   # fetch_deb PACKAGE DIR [private]: apt-get download into DIR, once
    local opts=()
    ls "$2"/"$1"_*.deb >/dev/null 2>&1 && return 0
    [ -z "${3:-}" ] || opts=("${APT_OPTS[@]}")
    mkdir -p "$2"
    note "fetching $1"
    # apt's _apt user cannot write to our cache: that warning is harmless.
    (cd "$2" && apt-get "${opts[@]}" download -q "$1:$DEB_ARCH") >"$OUT/apt.log" 2>&1 && return 0
    [ -z "${4:-}" ] || return 1
    if [ -n "${3:-}" ]; then private_update; else apt_update; fi
    (cd "$2" && apt-get "${opts[@]}" download -q "$1:$DEB_ARCH") >"$OUT/apt.log" 2>&1 ||
        fail "cannot fetch package $1 (see $OUT/apt.log)"
}

RESOLVED=$KCACHE/kernel.resolved
if [ -n "$KSUITES" ]; then
    private_apt $KSUITES
    LISTS=$KCACHE/apt/lists
    [ -z "${VM_APT_UPDATE:-}" ] || rm -f "$RESOLVED" "$LISTS/"*_Packages*
    # the ABIs of the wanted series that the lists hold for this architecture, newest first
    candidates() {
        apt-cache "${APT_OPTS[@]}" pkgnames "$KPREFIX" 2>/dev/null | grep -E "^$KPAT\$" | sort -rV
    }
    kpkg=
    if [ -s "$RESOLVED" ] && ls "$KCACHE/kernel/$(cat "$RESOLVED")"/*.deb >/dev/null 2>&1; then
        kpkg=$(cat "$RESOLVED")
    else
        # The newest that the archive serves: a list may name a package whose
        # file is not there (seen: bullseye-security's newest arm64 ABI), so
        # each is tried, newest first, and the lists fetched anew once.
        for round in 1 2; do
            if [ $round = 2 ] || [ -z "$(ls "$LISTS/"*_Packages* 2>/dev/null)" ]; then
                private_update
            fi
            for c in $(candidates | head -n 12); do
                if fetch_deb "$c" "$KCACHE/kernel/$c" private once; then kpkg=$c; break; fi
                note "$c is listed but not served: $(grep -m1 '^E: ' "$OUT/apt.log" | cut -c1-160)"
                rm -rf "$KCACHE/kernel/$c"
            done
            [ -z "$kpkg" ] || break
        done
        [ -n "$kpkg" ] || fail "cannot fetch any $KDESC package (see $OUT/apt.log)"
        echo "$kpkg" >"$RESOLVED"
        # the lists (20 MB) are needed again only for another fetch
        rm -f "$LISTS/"*_Packages*
    fi
else
    # 6.1: the kernel package that the machine's linux-image-$DEB_ARCH points at
    resolve_kpkg() {
        apt-cache depends "$KMETA:$DEB_ARCH" 2>/dev/null |
            sed -n "s/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-$DEB_ARCH\)\(:$DEB_ARCH\)\{0,1\}\$/\1/p" | head -n1
    }
    # apt-cache takes 1.5 s here (no binary pkgcache): reuse the last answer
    # while apt's package lists are unchanged.
    if [ -s "$RESOLVED" ] && [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' \
            -newer "$RESOLVED" 2>/dev/null | head -n1)" ]; then
        kpkg=$(cat "$RESOLVED")
    else
        kpkg=$(resolve_kpkg)
        [ -n "$kpkg" ] || { apt_update; kpkg=$(resolve_kpkg); }
        [ -z "$kpkg" ] || echo "$kpkg" >"$RESOLVED"
    fi
    if [ -z "$kpkg" ]; then
        # apt knows nothing (offline, no lists): fall back to the newest cached kernel.
        kpkg=$(ls -d "$KCACHE"/kernel/linux-image-* 2>/dev/null | sort -V | tail -n1 || true)
        kpkg=${kpkg##*/}
        [ -n "$kpkg" ] || fail "cannot resolve $KDESC (apt-get update failed?)"
        note "apt cannot resolve $KMETA; using cached $kpkg"
    fi
fi
kver=${kpkg#linux-image-}
KDIR=$KCACHE/kernel/$kpkg

# Unpack vmlinuz and the wanted modules (plus their dependencies, in load
# order) from the package. The .deb stays in the cache so another VM_MODULES
# set needs no refetch.
# bump the format when what is unpacked changes, so old caches are redone
mods_key="format=4 $(echo $MODULES | tr ' -' '\n_' | sort -u | tr '\n' ' ')"
if [ ! -f "$KDIR/vmlinuz" ] || [ "$(cat "$KDIR/modules.want" 2>/dev/null)" != "$mods_key" ]; then
    fetch_deb "$kpkg" "$KDIR" ${KSUITES:+private}
    note "unpacking $kpkg"
    x=$KDIR/x; rm -rf "$x" "$KDIR/modules"; mkdir -p "$KDIR/modules"
    dpkg-deb -x "$KDIR/${kpkg}"_*.deb "$x" || fail "cannot unpack $kpkg"
    # Debian 13 puts the modules in /usr/lib/modules
    mdir=$x/lib/modules/$kver
    [ -d "$mdir" ] || mdir=$x/usr/lib/modules/$kver
    [ -f "$x/boot/vmlinuz-$kver" ] && [ -d "$mdir" ] || fail "$kpkg holds no vmlinuz-$kver or modules"
    # "name path" lines; module names use _ where file names may use -
    find "$mdir" -name '*.ko*' |
        awk -F/ '{ n = $NF; sub(/\.ko.*$/, "", n); gsub("-", "_", n); print n, $0 }' >"$KDIR/modmap"
    unko() { case $1 in *.xz) xz -dc "$1" ;; *.zst) zstd -qdc "$1" ;; *.gz) gzip -dc "$1" ;; *) cat "$1" ;; esac; }
    seen=; order=
    add_mod() {     # depth first: dependencies before the module
        local n=${1//-/_} p d
        case " $seen " in *" $n "*) return 0 ;; esac
        seen="$seen $n"
        p=$(awk -v n="$n" '$1 == n { print $2; exit }' "$KDIR/modmap")
        [ -n "$p" ] || { tr - _ <"$mdir/modules.builtin" | grep -q "/$n\.ko\$" && return 0
                         fail "module $n is not in $kpkg"; }
        unko "$p" >"$KDIR/modules/$n.ko"   # busybox insmod cannot decompress
        d=$(tr '\0' '\n' <"$KDIR/modules/$n.ko" | sed -n 's/^depends=//p' | head -n1)
        for dep in ${d//,/ }; do add_mod "$dep"; done
        order="$order $n"
    }
    for m in $MODULES; do add_mod "$m"; done
    echo $order | tr ' ' '\n' >"$KDIR/modules/order"
    cp "$x/boot/config-$kver" "$KDIR/config"
    # QEMU boots the uncompressed ELF vmlinux through its PVH entry point
    # (CONFIG_PVH): that skips unpacking the kernel under emulation, ~3 s.
    # The bzImage's setup header says where its payload is (payload_offset
    # and payload_length, from the protected-mode code at (setup_sects+1)*512)
    # and the payload's magic how it is compressed: xz (Debian 11, 12) or zstd
    # (Debian 13); both end in 4 bytes of size.  Without PVH, or with another
    # compression, the bzImage boots as it is.
    rm -f "$KDIR/vmlinux"
    if [ "$ARCH" = x86 ] && grep -q '^CONFIG_PVH=y' "$KDIR/config"; then
        bz=$x/boot/vmlinuz-$kver
        le32() { od -An -t u4 -j "$2" -N 4 "$1" | tr -d ' '; }
        ss=$(od -An -t u1 -j $((0x1f1)) -N 1 "$bz" | tr -d ' '); [ "$ss" != 0 ] || ss=4
        poff=$(( (ss + 1) * 512 + $(le32 "$bz" $((0x248))) )) plen=$(le32 "$bz" $((0x24c)))
        payload() { tail -c +$((poff + 1)) "$bz" | head -c $((plen - 4)); }
        case $(od -An -t x1 -j "$poff" -N 4 "$bz" | tr -d ' ') in
        fd377a58) payload | xz -dc --single-stream >"$KDIR/vmlinux.new" 2>/dev/null || true ;;
        28b52ffd) payload | zstd -qdc >"$KDIR/vmlinux.new" 2>/dev/null || true ;;
        esac
        if [ -s "$KDIR/vmlinux.new" ] && [ "$(head -c4 "$KDIR/vmlinux.new")" = $'\x7fELF' ]; then
            mv "$KDIR/vmlinux.new" "$KDIR/vmlinux"
        else
            note "no PVH vmlinux from $kpkg's bzImage: booting the bzImage"
        fi
    fi
    rm -f "$KDIR/vmlinux.new"
    cp "$x/boot/vmlinuz-$kver" "$KDIR/vmlinuz.new" && mv "$KDIR/vmlinuz.new" "$KDIR/vmlinuz"
    echo "$mods_key" >"$KDIR/modules.want"
    rm -rf "$x"
    # older ABIs of this VM_KERNEL (the other VM_KERNELs' folders stay)
    for d in "$KCACHE"/kernel/*; do [ "$d" = "$KDIR" ] || rm -rf "$d"; done
fi

BBDIR=$CACHE/busybox
if [ ! -x "$BBDIR/busybox" ]; then
    # Downloaded, not installed: busybox-static conflicts with the host's busybox.
    fetch_deb busybox-static "$BBDIR"
    rm -rf "$BBDIR/x"
    dpkg-deb -x "$BBDIR"/busybox-static_*.deb "$BBDIR/x" || fail "cannot unpack busybox-static"
    mv "$BBDIR/x/bin/busybox" "$BBDIR/busybox"
    rm -rf "$BBDIR/x"
fi

# ---- initramfs: a cached base (busybox, modules, /init) + this run's files ----
# PID 1 of the VM. ttyS0 is the console (kernel log), the script's stdout goes
# to ttyS1 and stderr to ttyS2, each closed by EOF_MARK, and /init reports its
# progress ("booted", "FAIL ...", "rc=N") alone on ttyS3, where no kernel
# message can break a line (arm64: ttyAMA0, then ttyS0-2).  Busybox's applet
# links are made at boot when the host could not run busybox to list them.
INIT=$(cat <<EOF
#!/bin/sh
[ -e /bin/mount ] || /bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
stty -F /dev/$TTY_STATUS raw -echo
say() { echo "\$*" >/dev/$TTY_STATUS; echo "kvmprof-vm: \$*"; }
die() { say "FAIL \$*"; sync; poweroff -f; sleep 5; exit 1; }
say "booted \$(uname -r)"
mount -t tracefs tracefs /sys/kernel/tracing || die "cannot mount tracefs"
mount -t debugfs debugfs /sys/kernel/debug || die "cannot mount debugfs"
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts
for m in \$(cat /modules/order); do
    args=
    for w in \$(cat /proc/cmdline); do    # MOD.PARAM=VAL on the command line
        case \$w in "\$m".*=*) args="\$args \${w#"\$m".}" ;; esac
    done
    insmod /modules/\$m.ko \$args || die "modules failed to load: insmod \$m\$args"
done
say "modules loaded: \$(cat /modules/order | tr '\n' ' ')"
[ -c /dev/kvm ] || die "/dev/kvm is missing after loading the kvm modules"
stty -F /dev/$TTY_OUT raw -echo && stty -F /dev/$TTY_ERR raw -echo || die "no $TTY_OUT/$TTY_ERR for the script's output"
chmod +x /test.sh
cd /
if [ "\$(head -c2 /test.sh)" = "#!" ]; then /test.sh; else sh /test.sh; fi </dev/null >/dev/$TTY_OUT 2>/dev/$TTY_ERR
rc=\$?
# The last close of a serial tty waits until its buffer is sent, so the
# marks below arrive after all of the script's output.
printf '%s\n' '$EOF_MARK' >/dev/$TTY_OUT
printf '%s\n' '$EOF_MARK' >/dev/$TTY_ERR
say "rc=\$rc"
sync
poweroff -f
EOF
)
bbver=$(ls "$BBDIR"/busybox-static_*.deb | sed 's|.*/||')
key=$(printf '%s\n' "$kpkg" "$mods_key" "$bbver" "$INIT" | sha256sum | cut -c1-16)
BASE=$KCACHE/base-$key.cpio
if [ ! -f "$BASE" ]; then
    note "building initramfs base"
    rm -f "$KCACHE"/base-*.cpio
    st=$(mktemp -d)
    mkdir -p "$st"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,run,modules,etc}
    cp "$BBDIR/busybox" "$st/bin/busybox"
    ln -s busybox "$st/bin/sh"
    for a in $("$BBDIR/busybox" --list-full 2>/dev/null); do   # an arm64 busybox cannot run here
        [ "$a" = bin/busybox ] || ln -sf /bin/busybox "$st/$a"
    done
    cp "$KDIR"/modules/* "$st/modules/"      # the .ko files (none on arm64) and their order
    printf '%s\n' "$INIT" >"$st/init"; chmod 755 "$st/init"
    echo 'root:x:0:0:root:/root:/bin/sh' >"$st/etc/passwd"
    echo 'root:x:0:' >"$st/etc/group"
    (cd "$st" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$BASE.new" ||
        fail "cannot build the initramfs"
    mv "$BASE.new" "$BASE"
    rm -rf "$st"
fi
flock -u 9
if [ -n "$fetch_only" ]; then
    note "cached: $kpkg ($KDIR), busybox $bbver"
    exit 0
fi

work=$(mktemp -d)
qpid=
cleanup() { [ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
st=$work/stage; mkdir -p "$st"
cp "$SCRIPT" "$st/test.sh"

put() {         # put HOSTPATH GUESTPATH, creating parent dirs
    mkdir -p "$st/$(dirname "$2")"
    cp -a "$1" "$st/$2"
}
put_libs() {    # the shared libraries and loader that ldd lists for $1
    local l
    [ "$ARCH" = x86 ] || { put_elf_libs "$1"; return; }
    for l in $(ldd "$1" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) (.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
        [ -e "$st/$l" ] || { mkdir -p "$st/$(dirname "$l")"; cp -L "$l" "$st/$l" || fail "cannot copy $l"; }
    done
}
put_elf_libs() { # ldd cannot run a foreign binary: follow its interpreter and NEEDED entries
    local l n p
    [ "$(head -c4 "$1")" = $'\x7fELF' ] || return 0     # scripts, data
    l=$(readelf -lW "$1" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
    [ -z "$l" ] || [ -e "$st/$l" ] || { mkdir -p "$st/$(dirname "$l")"; cp -L "$l" "$st/$l" || fail "cannot copy $l"; }
    for n in $(readelf -dW "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
        [ -e "$st/lib/$TRIPLE/$n" ] && continue
        for p in /lib/$TRIPLE/$n /usr/lib/$TRIPLE/$n ""; do [ -z "$p" ] || [ -e "$p" ] && break; done
        [ -n "$p" ] || fail "$1 needs $n: not in /lib/$TRIPLE (install its $DEB_ARCH package)"
        mkdir -p "$st/lib/$TRIPLE"
        cp -L "$p" "$st/lib/$TRIPLE/$n" || fail "cannot copy $p"
        put_elf_libs "$p"
    done
}
for f in "$@"; do
    case $f in
    /*) g=$f ;;
    *) g=$(realpath -m --relative-to=. "$f")
       case $g in ..*) fail "relative FILE $f points above the current directory: give it as an absolute path" ;; esac ;;
    esac
    put "$f" "$g"
    if [ -d "$f" ]; then
        find "$f" -type f -perm -u+x | while read -r e; do put_libs "$e"; done
    else
        put_libs "$f"
    fi
done
(cd "$st" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$work/run.cpio" ||
    fail "cannot pack the test files"
# The kernel unpacks concatenated cpio archives one after the other.
cat "$BASE" "$work/run.cpio" >"$work/initrd"

# ---- boot ---------------------------------------------------------------------
rm -f "$OUT"/console.log "$OUT"/stdout "$OUT"/stderr "$OUT"/status "$OUT"/qemu.log
cpu=${VM_CPU:-qemu64,+svm}
# pauth-impdef: QEMU's own pointer-authentication hash instead of QARMA, which
# made the arm64 boot 5 times slower (29 s against 6 s)
[ "$ARCH" = x86 ] || cpu=${VM_CPU:-max,pauth-impdef=on}
kernel=$KDIR/vmlinuz
[ -f "$KDIR/vmlinux" ] && [ -z "${VM_BZIMAGE:-}" ] && kernel=$KDIR/vmlinux
# One TCG thread for all vCPUs: with multi-threaded TCG (QEMU 7.2) the whole VM
# froze for good after a few dozen nested KVM guests (3 runs out of 3);
# single-threaded it ran 480 guests without a hang.
tcg_thread=${VM_TCG_THREAD:-single}
append="console=$CON panic=-1 quiet ${VM_APPEND:-}"
if [ "$ARCH" = x86 ]; then
    machine=(-M q35 -cpu "$cpu")
    lines=(-serial "file:$OUT/console.log" -serial "file:$OUT/stdout" -serial "file:$OUT/stderr"
           -serial "file:$OUT/status")
else
    machine=(-M virt,virtualization=on -cpu "$cpu")
    lines=(-serial "file:$OUT/console.log")
    for f in stdout stderr status; do
        lines+=(-chardev "file,id=$f,path=$OUT/$f" -device "pci-serial,chardev=$f")
    done
fi
echo "$QEMU ${machine[*]} -smp ${VM_SMP:-2} -m ${VM_MEM:-1024} -kernel $kernel -append '$append'" >"$OUT/cmdline"
start=$(date +%s)
set +e
timeout -k 5 "$timeout_s" $QEMU \
    "${machine[@]}" -accel "tcg,thread=$tcg_thread" -smp "${VM_SMP:-2}" -m "${VM_MEM:-1024}" \
    ${VM_QEMU_OPTS:-} \
    -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$kernel" -initrd "$work/initrd" -append "$append" "${lines[@]}" \
    </dev/null >"$OUT/qemu.log" 2>&1 &
qpid=$!
wait $qpid
qrc=$?
qpid=
set -e
secs=$(( $(date +%s) - start ))

# ---- results --------------------------------------------------------------------
# Give back what the script printed (even on failure), without the end marks.
complete=1
emit() {        # emit FILE FD
    local f=$1 n
    [ -f "$f" ] || { complete=; return 0; }
    n=$(( ${#EOF_MARK} + 1 ))
    if [ "$(tail -c "$n" "$f")" = "$EOF_MARK" ]; then
        head -c "-$n" "$f" >&"$2"
    else
        complete=
        cat "$f" >&"$2"
    fi
}
console_tail() { tr -d '\r' <"$OUT/console.log" 2>/dev/null | tail -n 25 | sed 's/^/vm: console: /' >&2; }
status=$(cat "$OUT/status" 2>/dev/null || true)
emit "$OUT/stdout" 1
emit "$OUT/stderr" 2

if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    console_tail
    echo "vm: FAIL: time limit of ${timeout_s}s hit (logs in $OUT)" >&2
    exit 124
fi
case $status in *booted*) ;; *)
    console_tail; sed 's/^/vm: qemu: /' "$OUT/qemu.log" >&2
    fail "the VM did not boot (qemu exit $qrc; logs in $OUT)" ;;
esac
if f=$(printf '%s\n' "$status" | grep '^FAIL ' | head -n1); [ -n "$f" ]; then
    console_tail
    fail "${f#FAIL }"
fi
rc=$(printf '%s\n' "$status" | sed -n 's/^rc=\([0-9]*\)$/\1/p' | tail -n1)
if [ -z "$rc" ]; then
    console_tail
    fail "the VM stopped without reporting the script's exit code (qemu exit $qrc; logs in $OUT)"
fi
[ -n "$complete" ] || fail "the script's output came back incomplete (script exit $rc)"
if tr -d '\r' <"$OUT/console.log" | grep -qE 'BUG:|Oops|WARNING:|Call Trace:|soft lockup|hung_task'; then
    note "the guest kernel logged a BUG/WARNING/Oops: see $OUT/console.log"
fi
note "$(basename "$SCRIPT") exited $rc after ${secs}s in the VM ($kpkg)"
exit "$rc"
