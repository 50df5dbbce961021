# Checks shared by the test beds' inside scripts (tests/vm/inside.sh,
# tests/vm-arm64/inside.sh), sourced with ". tests/vm/checks.sh" from /.
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
eq() { if [ "$1" = "$2" ]; then ok; else bad "$3: got '$1', want '$2'"; fi; }

# field NAME FILE: a value from a guestload result line
field() { sed -n "s/^guest.* $1=\([0-9]*\).*/\1/p" "$2"; }
# Histogram CSV columns: 4 tid, 5 class, 6 code, 7 code_name, 8 count, 9 lat_count,
# 16 detail, 17 detail_name, 18 device; a key is (tid, code, detail) and its count
# repeats on each of its latency bucket rows.
# total FILE PID CLASS [CODE_NAME [DETAIL_NAME]]: sum of counts, each key row once
total() {
	tr -d '\r' <"$1" | awk -F, -v pid="$2" -v cls="$3" -v name="$4" -v det="$5" '
		NR > 1 && $1 == pid && $5 == cls && (name == "" || $7 == name) && (det == "" || $17 == det) {
			k = $4 SUBSEP $6 SUBSEP $16; if (!(k in seen)) { seen[k] = 1; n += $8 } }
		END { print n + 0 }'
}
# device_total FILE PID CLASS DEVICE: the class's traps to one device
device_total() {
	tr -d '\r' <"$1" | awk -F, -v pid="$2" -v cls="$3" -v dev="$4" '
		NR > 1 && $1 == pid && $5 == cls && $18 == dev {
			k = $4 SUBSEP $6 SUBSEP $16; if (!(k in seen)) { seen[k] = 1; n += $8 } }
		END { print n + 0 }'
}
# untimed FILE PID CLASS: codes of the class with no latency sample at all
untimed() {
	tr -d '\r' <"$1" | awk -F, -v pid="$2" -v cls="$3" '
		NR > 1 && $1 == pid && $5 == cls { c[$7] += $8; l[$7] += $9 }
		END { for (k in c) if (c[k] > 1 && l[k] == 0) printf "%s;", k }'
}
# codes FILE PID CLASS: "name=count" per code, sorted, to compare modes
codes() {
	tr -d '\r' <"$1" | awk -F, -v pid="$2" -v cls="$3" '
		NR > 1 && $1 == pid && $5 == cls { k = $4 SUBSEP $6 SUBSEP $16; if (!(k in seen)) { seen[k] = 1; c[$7] += $8 } }
		END { for (k in c) print k "=" c[k] }' | sort | tr '\n' ' '
}
# details FILE PID CLASS [CODE_NAME]: "code_name/detail_name=count;" per detail, sorted
details() {
	tr -d '\r' <"$1" | awk -F, -v pid="$2" -v cls="$3" -v name="$4" '
		NR > 1 && $1 == pid && $5 == cls && $16 != "" && (name == "" || $7 == name) {
			k = $4 SUBSEP $6 SUBSEP $16; if (!(k in seen)) { seen[k] = 1; c[$7 "/" $17] += $8 } }
		END { for (k in c) print k "=" c[k] }' | sort | tr '\n' ';'
}

# --- attach modes a kernel cannot run ----------------------------------------
# kvmprof must refuse them in one line that says why: exit status 1 and one
# stderr line "kvmprof: --attach MODE: REASON", REASON naming what is missing
# (BTF, fentry or BPF trampolines).  %s is the mode.
REFUSAL_RE='^kvmprof: --attach %s: .*(BTF|fentry|trampoline)'
# refused KVMPROF MODE: run "KVMPROF -q -d 1 --attach MODE" and check the refusal
refused() {
	"$1" -q -d 1 --attach "$2" >/tmp/refused.$2.out 2>/tmp/refused.$2.err
	r_rc=$?
	r_re=$(printf "$REFUSAL_RE" "$2")
	r_n=$(grep -c . /tmp/refused.$2.err)
	if [ "$r_rc" = 1 ] && [ "$r_n" = 1 ] && grep -Eq "$r_re" /tmp/refused.$2.err; then
		ok
		echo "verified: --attach $2 refused by $(uname -r): $(cat /tmp/refused.$2.err)"
	else
		bad "--attach $2 on $(uname -r): want exit 1 and one stderr line matching /$r_re/, got exit $r_rc and $r_n lines: $(head -n 5 /tmp/refused.$2.err | cut -c1-300 | tr '\n' '|')"
	fi
}
# kernel_ge MAJOR MINOR: the running kernel is MAJOR.MINOR or newer
kernel_ge() {
	kg_v=$(uname -r | sed 's/[^0-9.].*//')
	kg_maj=${kg_v%%.*} kg_min=$(echo "$kg_v" | cut -d. -f2)
	[ "$kg_maj" -gt "$1" ] || { [ "$kg_maj" -eq "$1" ] && [ "$kg_min" -ge "$2" ]; }
}
# stderr_digest FILE: what kvmprof -v said that matters (its own lines, libbpf
# and verifier errors), for a mode that failed
stderr_digest() {
	# the lines that say what went wrong (libbpf's names its object kvmprof_bpf on every line: not
	# those), then the last lines, where a run that stopped says why
	{ grep -i -E 'kvmprof|error|fail|invalid|unknown|refus|not found|denied|missing|unsupported|R[0-9]+ .*(mem|ptr)|-- END' "$1" |
		grep -v -e 'tracing KVM traps' -e "object 'kvmprof_bpf'" -e 'kvmprof_bpf is GPL' -e "^libbpf: map '" -e 'found data map' | head -n 30
	  echo '...'; tail -n 8 "$1"; } | cut -c1-400 | sed 's/^/    | /'
}

# ---- a tracefs instance of our own, the kernel's record of the events beside kvmprof's ----
# (tests/vm/events.sh and tests/vm-arm64/events.sh; EV is its folder, EVENTS the kvm events)
# tally FILE: checker lines ("ok", "FAIL: ...", anything else printed) into pass/fail
tally() {
	while IFS= read -r l; do
		case $l in ok) pass=$((pass + 1)) ;; FAIL:*) fail=$((fail + 1)); echo "$l" ;; *) echo "$l" ;; esac
	done <"$1"
}
# ev_start: the instance recording EVENTS (those this kernel has) with their tgid
ev_start() {
	mkdir -p $EV
	echo 4096 >$EV/buffer_size_kb
	echo 1 >$EV/options/record-tgid
	for e in $EVENTS; do [ ! -d $EV/events/kvm/$e ] || echo 1 >$EV/events/kvm/$e/enable; done
	echo 1 >$EV/tracing_on
}
# ev_stop: recording stops; no CPU's buffer may have lost an event
ev_stop() {
	echo 0 >$EV/tracing_on
	for f in $EV/per_cpu/cpu*/stats; do
		eq "$(sed -n 's/^overrun: //p' $f)" 0 "events: tracefs instance lost no event (${f%/stats})"
	done
}
# ev_records: the kernel's records per tgid, "TGID<tab>KEY<tab>COUNT" (KEY: the event, the
# entries of both kernels as kvm_nested_enter; kvm_inj_virq:reinjected; kvm_vcpu_wakeup:wait|poll
# and :ns, their time summed; kvm_page_fault:0xPAGE; kvm_halt_poll_ns:NAME as kvmprof names it),
# then the instance is removed
ev_records() {
	awk '/^#/ { next }
		match($0, /\( *[0-9]+\) /) {
			tgid = substr($0, RSTART + 1, RLENGTH - 3); gsub(/ /, "", tgid)
			if (!match($0, / [a-z_0-9]+: /)) next
			ev = substr($0, RSTART + 1, RLENGTH - 3); rest = substr($0, RSTART + RLENGTH)
			if (ev == "kvm_nested_vmrun" || ev == "kvm_nested_vmenter") ev = "kvm_nested_enter"
			n[tgid "\t" ev]++
			if (ev == "kvm_inj_virq" && rest ~ /reinjected/) n[tgid "\tkvm_inj_virq:reinjected"]++
			if (ev == "kvm_vcpu_wakeup") {         # "wait time 158965 ns, polling valid"
				split(rest, w, " "); n[tgid "\tkvm_vcpu_wakeup:" w[1]]++; n[tgid "\tkvm_vcpu_wakeup:ns"] += w[3]
			}
			if (ev == "kvm_page_fault") {          # 6.1 on: "vcpu V rip R address A error_code E"; 5.10: "address A ..."
				a = rest; sub(/^.*address /, "", a); sub(/ .*$/, "", a)
				sub(/^(0x)?0*/, "", a); a = length(a) > 3 ? tolower(substr(a, 1, length(a) - 3)) "000" : "0"
				n[tgid "\tkvm_page_fault:0x" a]++
			}
			if (ev == "kvm_halt_poll_ns") {        # "vcpu 0: halt_poll_ns 10000 (grow 0)"
				split(rest, w, " "); n[tgid "\tkvm_halt_poll_ns:halt_poll_ns " (w[5] == "(grow" ? "grown" : "shrunk") " to " w[4]]++
			}
		}
		END { for (k in n) print k "\t" n[k] }' $EV/trace
	rmdir $EV 2>/dev/null || { for e in $EVENTS; do [ ! -d $EV/events/kvm/$e ] || echo 0 >$EV/events/kvm/$e/enable; done; rmdir $EV; }
}
