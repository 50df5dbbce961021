#!/usr/bin/env python3
"""tests/vm-linux/check.py OUT: the checks of make vmtest-linux on what
tests/vm-linux/inside.sh printed (its files between "=== FILE" lines): a real Debian 6.1
guest booted as L2 with 2 vCPUs, traced by kvmprof --rip --guest-syms.
  - the guest is shown by its QEMU name, with its 2 vCPU threads;
  - its exits, all reasons, = KVM's own exits statistic of its vCPUs (QEMU's query-stats,
    read once the guest powered off and stayed, -no-shutdown), exactly; and the self-check
    says so; io_exits and halt_exits the same;
  - --rip with its symbols (the L1's kallsyms: the same kernel image): the guest kernel's addresses resolve to its text symbols; the
    exits of the serial port COM1 come from the serial driver, HLT exits from the idle path,
    MSR exits from the MSR accessors;
  - the emulate class is the same in all four attach modes (kvmprof in tracepoint, fentry
    and kprobe mode beside auto), each instruction under the mode it was decoded in."""
import collections
import csv
import io
import json
import re
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from kvmtest import check  # noqa: E402  (the tally)
import kvmtest  # noqa: E402


def sections(text):
    out, name = {}, None
    for line in text.splitlines(keepends=True):
        m = re.match(r"=== (\S+)$", line.rstrip("\n"))
        if m:
            name = m.group(1)
            out[name] = ""
        elif name:
            out[name] += line
    return out


def finish():
    print(f"vmtest-linux: {kvmtest.passed} passed, {kvmtest.failed} failed")
    return 1 if kvmtest.failed else 0


def main():
    text = open(sys.argv[1], errors="replace").read()
    s = sections(text)
    check(re.search(r"^kvmprof exit status 0$", text, re.M), "kvmprof exit status 0")
    check("L2: done" in s.get("/tmp/l2.console", ""), "the L2 guest ran its /init to the end")
    doc = json.loads(s.get("/tmp/l.json") or "{}")
    guests = [g for g in doc.get("guests", []) if g.get("name") == "linux"]
    if not check(len(guests) == 1, f"one guest named linux in the JSON: {[g.get('name') for g in doc.get('guests', [])]}"):
        return finish()
    g = guests[0]
    pid = g["pid"]
    check(g.get("vcpu_threads") == 2, f"its 2 vCPU threads: {g.get('vcpu_threads')}")

    # KVM's statistics, per vCPU, from QMP query-stats
    kvm = collections.Counter()
    for line in s.get("/tmp/qmp.out", "").splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r.get("return"), list):
            for v in r["return"]:
                for st in v.get("stats", []):
                    kvm[st["name"]] += st["value"]
    if not check(kvm.get("exits", 0) > 1000, f"QEMU's query-stats: KVM's exits of the vCPUs ({dict(kvm)})"):
        return finish()
    rows = list(csv.DictReader(io.StringIO(s.get("/tmp/l.csv", ""))))
    seen, by_reason = set(), collections.Counter()
    for r in rows:
        if int(r["pid"]) != pid or r["class"] != "exit":
            continue
        key = (r["tid"], r["code"], r["detail"])
        if key not in seen:  # a key's bucket rows repeat its count
            seen.add(key)
            by_reason[r["code_name"]] += int(r["count"])
    total = sum(by_reason.values())
    check(total == kvm["exits"], f"exits: kvmprof {total} = KVM {kvm['exits']}")
    print(f"verified: linux guest: {total} exits, KVM {kvm['exits']}; by reason: "
          + " ".join(f"{k}={v}" for k, v in by_reason.most_common(12)), flush=True)
    # the VMM trips by name: KVM_RUN's errors by their symbol (the second vCPU's -EAGAIN while it
    # waits for its start-up IPI is normal), never a bare errno
    trips = {r["code_name"] for r in rows if int(r["pid"]) == pid and r["class"] == "userspace"}
    check("KVM_EXIT_IO" in trips and not any("errno" in t for t in trips), f"the VMM trips named: {sorted(trips)}")
    checks = {c["pair"]: c for c in g.get("check") or []}
    for pair in ("exits", "io_exits", "halt_exits"):
        c = checks.get(pair, {})
        check(c.get("verdict") == "equal" and c.get("kvm_low") == kvm.get(pair),
              f"self-check {pair}: {c} vs query-stats {kvm.get(pair)}")

    # the emulate class in every attach mode: the same instructions, each under the mode it was
    # decoded in; the boot's mov to cr0 into protected mode (0f 22) is real mode's
    def emulated(name):
        out = collections.Counter()
        for r in csv.DictReader(io.StringIO(s.get(name, ""))):
            if int(r["pid"]) == pid and r["class"] == "emulate":
                out[(r["tid"], r["code"], r["code_name"])] = int(r["count"])  # bucket rows repeat it
        return out
    ref = emulated("/tmp/l.csv")
    mov_cr0 = {k: v for k, v in ref.items() if "0f 22" in k[2]}
    check(any(k[2].endswith(" real") for k in mov_cr0) and any(k[2].endswith(" prot16") for k in mov_cr0),
          f"mov to cr0 emulated in real mode and in 16-bit protected mode: {sorted(mov_cr0.items())}")
    for m in ("tracepoint", "fentry", "kprobe"):
        got = emulated(f"/tmp/l-{m}.csv")
        diff = sorted((k, ref.get(k, 0), got.get(k, 0)) for k in set(ref) | set(got) if ref.get(k, 0) != got.get(k, 0))
        check(ref and not diff, f"emulate class by {m} = auto's ({sum(ref.values())} emulations): "
              f"(tid, instruction, auto, {m}) differing: {diff[:8]}")
    print(f"verified: linux guest: {sum(ref.values())} emulations, mov to cr0: {sorted(mov_cr0.items())}", flush=True)

    # --rip and --guest-syms: the guest kernel's code
    text_lo, text_hi, init_lo, init_hi = (int(x, 16) for x in (s.get("/tmp/l2.text") or "0 0 0 0").split()[:4])
    check(0xffffffff81000000 <= text_lo < text_hi < init_lo < init_hi,
          f"the guest kernel's text {text_lo:#x}..{text_hi:#x} and init text {init_lo:#x}..{init_hi:#x}")

    def in_text(a):
        return text_lo <= a < text_hi or init_lo <= a < init_hi
    rips = list(csv.DictReader(io.StringIO(s.get("/tmp/l-rips.csv", ""))))
    rips = [r for r in rips if int(r["pid"]) == pid]
    kern = [r for r in rips if r["kernel"] == "1"]
    n_kern = sum(int(r["count"]) for r in kern)
    # every exit has its address, or is counted as dropped (rips_full: one of 82847 seen once, the
    # map a quarter full: an insertion the kernel refused)
    lost = (doc.get("dropped_by") or {}).get("rips_full", 0)
    n_rips = sum(int(r["count"]) for r in rips)
    check(n_rips + lost == total and lost <= total // 1000,
          f"--csv-rips: every exit has its address ({n_rips}) or was counted as dropped ({lost}) of {total}")
    inside = [r for r in kern if in_text(int(r["rip"], 16))]
    n_in = sum(int(r["count"]) for r in inside)
    named = sum(int(r["count"]) for r in inside if r["symbol"])
    check(n_kern > 0.5 * total and named == n_in,
          f"the guest kernel's exits in its text or init text ({n_in} of {n_kern}) all named ({named})")
    # a few interrupts land past _einittext (boot sections the map names nothing in): none named
    check(n_in >= 0.999 * n_kern and not any(r["symbol"] for r in kern if not in_text(int(r["rip"], 16))),
          f"the guest kernel's exits outside its text: {n_kern - n_in}, unnamed")

    def top(rows_):
        c = collections.Counter()
        for r in rows_:
            c[re.sub(r"\+0x[0-9a-f]+$", "", r["symbol"] or "?")] += int(r["count"])
        return c.most_common(5)

    def share(rows_, pattern):
        n = sum(int(r["count"]) for r in rows_)
        m = sum(int(r["count"]) for r in rows_ if re.search(pattern, r["symbol"] or ""))
        return n, m

    groups = {
        "COM1 port I/O": ([r for r in kern if re.search(r"\bio\b", r["code_name"]) and "3f" in (r["detail_name"] or "")], r"serial"),
        "HLT": ([r for r in kern if re.search(r"\bhlt\b", r["code_name"])], r"halt|idle"),
        "MSR": ([r for r in kern if re.search(r"\bmsr\b", r["code_name"])], r"msr"),
    }
    for what, (rs, pattern) in groups.items():
        n, m = share(rs, pattern)
        check(n > 0 and m >= 0.9 * n, f"{what} exits from /{pattern}/ symbols: {m} of {n}: {top(rs)}")
        print(f"verified: linux guest: {what} exits ({n}) by symbol: {top(rs)}", flush=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
