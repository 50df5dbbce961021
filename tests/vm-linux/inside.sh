#!/bin/sh
# Runs in the x86 test bed's L1 (tests/vm/run.sh, Debian 6.1 under QEMU with nested SVM): boots
# Debian's own 6.1 kernel as an L2 guest with QEMU -enable-kvm (2 vCPUs, a busybox /init that
# reads /proc, writes to its serial console, idles and powers off) while kvmprof --rip
# --guest-syms traces it; QEMU stays after the power-off (-no-shutdown) so that its vCPUs'
# KVM statistics are read over QMP (query-stats) and by kvmprof's own check before it stops.
# Three more kvmprof, in the other attach modes, write their CSV for the emulate class.
# Prints the files between "=== FILE" lines for tests/vm-linux/check.py; "L2: boot broke" when
# the boot did not reach its power-off (nested emulation breaks one boot in a few).
cd /
D=/tmp/kvmprof-vmlinux
# The guest's symbols: Debian's package holds no real System.map (that is in the -dbg package),
# but the L1 runs the same kernel image: its /proc/kallsyms, slid by the L1's KASLR, names the
# L2's code, which boots with nokaslr (_text at 0xffffffff81000000): --guest-kaslr is the
# difference (two's complement)
cp /proc/kallsyms /tmp/l2.kallsyms
t1=$(awk '$3 == "_text" { print $1; exit }' /tmp/l2.kallsyms)
kaslr=$(printf '%x' $(( 0xffffffff81000000 - 0x$t1 )))
l2() { printf '0x%x' $(( 0x$(awk -v s="$1" '$3 == s { print $1; exit }' /tmp/l2.kallsyms) - 0x$t1 + 0xffffffff81000000 )); }
echo "$(l2 _stext) $(l2 _etext) $(l2 _sinittext) $(l2 _einittext)" >/tmp/l2.text
./kvmprof -q -i 1 --rip --guest-syms linux=/tmp/l2.kallsyms --guest-kaslr "linux=$kaslr" --csv /tmp/l.csv --csv-rips /tmp/l-rips.csv \
	--json /tmp/l.json >/tmp/l.out 2>/tmp/l.err &
kp=$!
# the other attach modes beside it, for the emulate class: each files an instruction under
# the mode it was decoded in (the boot's mov cr0 into protected mode is real mode's)
others="tracepoint fentry kprobe" kps=
for m in $others; do
	./kvmprof -q -i 1 --attach $m --csv /tmp/l-$m.csv >/dev/null 2>/tmp/l-$m.err &
	kps="$kps $!"
done
for e in l $(printf 'l-%s ' $others); do
	i=0
	while ! grep -q 'tracing KVM traps' /tmp/$e.err; do
		i=$((i + 1))
		if [ $i -ge 600 ]; then echo "L2: kvmprof ($e) did not start"; cat /tmp/$e.err; exit 1; fi
		sleep 0.1
	done
done
mkfifo /tmp/qmp.in
$D/qemu-system-x86_64 -enable-kvm -M q35 -smp 2 -m 256 -nodefaults -no-user-config -display none \
	-L $D/fw -serial file:/tmp/l2.console -kernel $D/vmlinuz -initrd $D/l2.cpio \
	-append "console=ttyS0 nokaslr panic=-1 quiet" -no-shutdown -no-reboot -qmp stdio -name guest=linux \
	</tmp/qmp.in >/tmp/qmp.out 2>/tmp/qemu.err &
qp=$!
exec 3>/tmp/qmp.in
echo '{"execute": "qmp_capabilities"}' >&3
start=$(cut -d. -f1 /proc/uptime) ok=0
while kill -0 $qp 2>/dev/null; do
	grep -q '"SHUTDOWN"' /tmp/qmp.out && { ok=1; break; }
	[ $(( $(cut -d. -f1 /proc/uptime) - start )) -lt 400 ] || break
	sleep 1
done
echo "L2: $( [ $ok = 1 ] && echo powered off || echo boot broke) after $(( $(cut -d. -f1 /proc/uptime) - start )) s"
sleep 2	# kvmprof reads KVM's counters once more with the guest quiet
echo '{"execute": "query-stats", "arguments": {"target": "vcpu", "providers": [{"provider": "kvm", "names": ["exits", "io_exits", "halt_exits", "mmio_exits"]}]}}' >&3
sleep 1
kill -INT $kp $kps; wait $kp; echo "kvmprof exit status $?"
for p in $kps; do wait $p; done
echo '{"execute": "quit"}' >&3
wait $qp
for f in /tmp/l2.text /tmp/l.out /tmp/l.err /tmp/l.csv $(printf '/tmp/l-%s.csv ' $others) /tmp/l-rips.csv /tmp/l.json /tmp/qmp.out /tmp/l2.console /tmp/qemu.err; do
	echo "=== $f"; cat $f
done
echo "=== end"
