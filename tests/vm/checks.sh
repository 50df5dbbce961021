# Checks shared by the test beds' inside scripts (tests/vm/inside.sh,
# tests/vm-arm64/inside.sh), sourced with ". tests/vm/checks.sh" from /.
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
eq() { if [ "$1" = "$2" ]; then ok; else bad "$3: got '$1', want '$2'"; fi; }

# field NAME FILE: a value from a guestload result line
field() { sed -n "s/^guest.* $1=\([0-9]*\).*/\1/p" "$2"; }
# total FILE PID CLASS [CODE_NAME]: sum of counts, each key row once
total() {
	tr -d '\r' <"$1" | awk -F, -v pid="$2" -v cls="$3" -v name="$4" '
		NR > 1 && $1 == pid && $5 == cls && (name == "" || $7 == name) {
			k = $4 SUBSEP $6; if (!(k in seen)) { seen[k] = 1; n += $8 } }
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
		NR > 1 && $1 == pid && $5 == cls { k = $4 SUBSEP $6; if (!(k in seen)) { seen[k] = 1; c[$7] += $8 } }
		END { for (k in c) print k "=" c[k] }' | sort | tr '\n' ' '
}
