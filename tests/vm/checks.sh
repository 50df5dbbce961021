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
