#!/usr/bin/env python3
"""KVM's own counters on this host (issue 16): the self-check every summary carries, and
--counters, which attaches nothing to any event.

Ground truth: tests/guestload's scripted guests, which read their own KVM statistics
(KVM_GET_STATS_FD: the kstat_* fields of their result line) once their script is done, and
then, with --hold, keep their VM quiet until kvmprof has stopped, so that kvmprof's last read
of KVM's counters and the guest's own read see the same final values.

  test_check          two guests (MMIO, emulation, a failed emulation; one cut by its time
                      limit: signal exits): per guest and pair, KVM's count in the summary,
                      the JSON and the CSV = the guest's own statistic, exactly; kvmprof's
                      count = KVM's ("equal") for every pair whose events this kernel traces,
                      and = the script; the pairs fed by kvm_exit, which this host's KVM (PVM)
                      never fires, "differs" with that reason, never "equal"
  test_guest_ended    a guest that ends between two reads: its check says it ended, and
                      claims no equality it could not see
  test_counters_mode  --counters: the BPF links kvmprof makes are iterators only (bpftool link,
                      beside a traced run whose links are tracepoints: the listing can fail);
                      its counts per guest in the summary, JSON and CSV = the guest's own
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvmtest as kt  # noqa: E402  (the tally, guests, tracers and runner)

KVMPROF = kt.KVMPROF


def kvmprof(argv):
    return kt.start([KVMPROF, "-q", "-i", "0.5"] + argv)


def guests_held(args, start, hold, binary=None):
    return kt.Guests(args + ["--hold", hold], start, binary)


def wait_results(g):
    """The guests' result lines while they hold (the process lives on)."""
    results = {}
    while len(results) < g.count():
        line = g.proc.stdout.readline()
        if not line:
            break
        if line.startswith("guest "):
            f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
            results[int(f["pid"])] = f
    return results


def checks_of(doc, pid):
    g = next((g for g in doc["guests"] if g["pid"] == pid), None)
    return {c["pair"]: c for c in (g or {}).get("check") or []}


def summary_checks(out, pid):
    """'check:' lines of guest pid's summary section: pair -> the line."""
    lines, on = {}, False
    for line in out.splitlines():
        if line.startswith("Guest "):
            on = line.startswith(f"Guest {pid} ")
        elif on and line.strip().startswith("check: "):
            words = line.split()
            lines[words[1]] = line.strip()
    return lines


# what each pair counts, from guestload's own result line (None: not scripted here)
def scripted(pair, r):
    n = lambda k: int(r[k])
    return {"mmio_exits": n("mmio_read") + n("mmio_write"), "insn_emulation": n("insns"),
            "insn_emulation_fail": n("emul_fail"), "hypercalls": n("hypercall"),
            "signal_exits": n("exit_intr")}.get(pair)


def test_check(outdir):
    start, hold = f"{outdir}/c.start", f"{outdir}/c.hold"
    a = guests_held(["--mmio-read", "5", "--mmio-write", "7", "--cpuid", "9", "--emulate", "50",
                     "--emul-fail", "1", "-name", "guest=ck-a"], start, hold)
    b = guests_held(["-c", "2", "--emulate", "4294967295", "--duration", "0.8", "-name", "guest=ck-b"],
                    start, hold)
    t = kvmprof(["--json", f"{outdir}/c.json", "--csv", f"{outdir}/c.csv"])
    open(start, "w").close()
    results = {**wait_results(a), **wait_results(b)}
    time.sleep(1.2)  # two reads of KVM's counters with the guests quiet
    rc, out, err = kt.finish(t, sig=2)
    open(hold, "w").close()
    for g in (a, b):
        g.finish()
    kt.check_eq(rc, 0, f"check: kvmprof exit status ({err.strip()[-200:]})")
    doc = json.load(open(f"{outdir}/c.json"))
    rows = kt.read_check_csv(f"{outdir}/c.csv")
    for pid, r in results.items():
        lab = f"check/{r['name']}"
        checks, lines = checks_of(doc, pid), summary_checks(out, pid)
        kstats = {k[6:]: int(v) for k, v in r.items() if k.startswith("kstat_")}
        if not kt.check(kstats and checks, f"{lab}: the guest read its statistics ({sorted(kstats)}) and "
                        f"the JSON has its check ({sorted(checks)})"):
            continue
        kt.check_eq(sorted(checks), sorted(lines), f"{lab}: the summary has a check line per JSON pair")
        for pair, c in checks.items():
            kt.check(pair in kstats, f"{lab}: {pair} is one of KVM's statistics the guest read")
            kvm = kstats.get(pair)
            kt.check_eq((c["kvm_low"], c["kvm_high"]), (kvm, kvm), f"{lab}: {pair}: KVM's count = the guest's own")
            kt.check_eq(rows.get((pid, pair)), (c["kvmprof"], c["kvm_low"], c["kvm_high"], c["verdict"]),
                        f"{lab}: {pair}: the CSV's check row = the JSON's")
            if c["class"] == "exit" and kvm:
                # this host's KVM fires no kvm_exit: the pair cannot hold, and must say why
                kt.check_eq((c["kvmprof"], c["verdict"], c["equal"]), (0, "differs", False),
                            f"{lab}: {pair}: no exits traced here, KVM {kvm}: differs")
                kt.check("kvm_exit" in (c["why"] or "") and f"!= KVM {kvm}" in lines.get(pair, ""),
                         f"{lab}: {pair}: the reason names kvm_exit: {c['why']!r} / {lines.get(pair)!r}")
                continue
            kt.check_eq((c["kvmprof"], c["verdict"], c["equal"]), (kvm, "equal", True),
                        f"{lab}: {pair}: kvmprof = KVM, equal")
            kt.check(lines.get(pair) == f"check: {pair} {kvm} = KVM {kvm}",
                     f"{lab}: {pair}: the summary line: {lines.get(pair)!r}")
            want = scripted(pair, r)
            if want is not None:
                kt.check_eq(kvm, want, f"{lab}: {pair}: = the script")
    # the script reached the pairs that matter, so a zero = zero cannot pass for all
    a_pid = a.pids[0]
    kt.check_eq([checks_of(doc, a_pid).get(p, {}).get("kvmprof") for p in ("mmio_exits", "insn_emulation_fail")],
                [12, 1], "check/ck-a: MMIO exits and a failed emulation counted")
    kt.check(all(checks_of(doc, p).get("signal_exits", {}).get("kvmprof", 0) == 2 for p in b.pids),
             "check/ck-b: each of its two vCPUs stopped by a signal")


def test_guest_ended(outdir):
    start = f"{outdir}/e.start"
    g = kt.Guests(["--pio", "40", "--sleep-us", "30000", "-name", "guest=ck-ended"], start)
    t = kvmprof(["--json", f"{outdir}/e.json"])
    open(start, "w").close()
    results = g.finish()  # 1.2 s: across reads, then it ends
    time.sleep(1.2)
    rc, out, err = kt.finish(t, sig=2)
    kt.check_eq(rc, 0, "ended: kvmprof exit status")
    pid = g.pids[0]
    checks = checks_of(json.load(open(f"{outdir}/e.json")), pid)
    lines = summary_checks(out, pid)
    kt.check(checks, f"ended: a check for a guest seen across reads: {lines}")
    r = results[pid]
    for pair, c in checks.items():
        final = int(r.get("kstat_" + pair, -1))  # the guest's own last read, after kvmprof's
        if c["class"] == "exit" and c["verdict"] == "differs":
            continue  # no kvm_exit here: test_check covers it
        # KVM's last count kvmprof saw is a floor; kvmprof's own count is the final one
        kt.check_eq((c["verdict"], c["equal"], c["kvm_high"]), ("within", False, None),
                    f"ended: {pair}: within, no upper bound")
        kt.check(c["kvm_low"] <= final and c["kvmprof"] == final,
                 f"ended: {pair}: KVM >= {c['kvm_low']} <= its final {final} = kvmprof's {c['kvmprof']}")
        kt.check(f", KVM >= {c['kvm_low']} (the guest ended" in lines.get(pair, ""),
                 f"ended: {pair}: the line says so: {lines.get(pair)!r}")
    kt.check_eq(checks.get("insn_emulation", {}).get("kvmprof"), int(r["insns"]),
                "ended: insn_emulation = the script")


def links():
    p = subprocess.run(["bpftool", "link", "show", "-j"], capture_output=True, text=True)
    return {l["id"]: l.get("type") for l in json.loads(p.stdout or "[]")}


def test_counters_mode(outdir):
    before = links()
    t = kvmprof([])
    traced = {i: ty for i, ty in links().items() if i not in before}
    kt.finish(t, sig=2)
    kt.check({"raw_tracepoint", "tracing", "perf_event"} & set(traced.values()),
             f"counters: a traced run's links are on tracepoints (the listing sees them): {traced}")

    start, hold = f"{outdir}/k.start", f"{outdir}/k.hold"
    g = guests_held(["--mmio-read", "3", "--mmio-write", "4", "--hlt", "2", "--emulate", "20",
                     "-name", "guest=ck-counters"], start, hold)
    before = links()
    t = kvmprof(["--counters", "--json", f"{outdir}/k.json", "--csv", f"{outdir}/k.csv"])
    open(start, "w").close()
    results = wait_results(g)
    mine = {i: ty for i, ty in links().items() if i not in before}
    time.sleep(1.2)
    mine.update({i: ty for i, ty in links().items() if i not in before})
    rc, out, err = kt.finish(t, sig=2)
    open(hold, "w").close()
    g.finish()
    kt.check_eq(rc, 0, f"counters: exit status ({err.strip()[-200:]})")
    kt.check_eq(sorted(set(mine.values()) - {"iter"}), [], f"counters: only iterator links ({mine})")
    pid = g.pids[0]
    r = results[pid]
    kstats = {k[6:]: int(v) for k, v in r.items() if k.startswith("kstat_")}
    rows = {}
    for row in kt.csv.DictReader(open(f"{outdir}/k.csv", newline="")):
        if int(row["pid"]) == pid and row["class"] == "kvm":
            rows[row["code_name"]] = rows.get(row["code_name"], 0) + int(row["count"])
    want = {k: v for k, v in kstats.items() if v}
    kt.check_eq(rows, want, "counters: the CSV's counts = the guest's own statistics (the non-zero ones)")
    kt.check_eq(rows.get("mmio_exits"), 7, "counters: mmio_exits = the script")
    doc = json.load(open(f"{outdir}/k.json"))
    jg = next((x for x in doc["guests"] if x["pid"] == pid), {})
    kt.check_eq(jg.get("total"), kstats.get("exits"), "counters: the JSON's total = KVM's exits")
    sec = out.split(f"Guest {pid} ")[-1]
    for name, n in want.items():
        kt.check(any(l.split()[:2] == [name, str(n)] for l in sec.splitlines()),
                 f"counters: the summary has {name} {n}")


def test_counters_halts(outdir):
    """--counters' halt time: KVM's own histogram of its blocked halts, read by the iterator.  irqload
    blocks each of its halts in KVM once, woken >= 3 ms after it began: 6 samples, each in a bucket
    from 2^21 ns (2.1 ms) up, their sum KVM's halt_wait_ns."""
    start, hold = f"{outdir}/h.start", f"{outdir}/h.hold"
    g = guests_held(["--irqchip", "--hlt-wake", "6", "--wake-us", "3000", "-name", "guest=ck-halts"], start, hold,
                    os.path.join(kt.ROOT, "tests", "irqload"))
    t = kvmprof(["--counters", "--csv", f"{outdir}/h.csv"])
    open(start, "w").close()
    results = wait_results(g)
    time.sleep(1.2)  # a read while the guest holds its vCPU
    rc, out, err = kt.finish(t, sig=2)
    open(hold, "w").close()
    g.finish()
    kt.check_eq(rc, 0, f"counters halts: exit status ({err.strip()[-200:]})")
    pid = g.pids[0]
    r = results.get(pid, {})
    kt.check_eq(r.get("kstat_halt_wakeup"), "6", "counters halts: KVM woke the vCPU from 6 halts (irqload's own stats)")
    rows = [row for row in kt.csv.DictReader(open(f"{outdir}/h.csv", newline=""))
            if int(row["pid"]) == pid and row["class"] == "kvm" and row["code_name"] == "halt_wait_ns"]
    kt.check(rows, "counters halts: halt_wait_ns has rows")
    if not rows:
        return
    kt.check_eq({row["count"] for row in rows}, {"6"}, "counters halts: 6 samples in KVM's wait histogram")
    kt.check_eq({row["lat_sum_ns"] for row in rows}, {r.get("kstat_halt_wait_ns")},
                "counters halts: their time = KVM's halt_wait_ns")
    kt.check_eq(sum(int(row["bucket_count"]) for row in rows), 6, "counters halts: the buckets hold the 6")
    lows = [int(row["bucket_lo_ns"]) for row in rows]
    kt.check(min(lows) >= 1 << 21, f"counters halts: every wait in a bucket from 2^21 ns up ({lows})")
    # the histogram against KVM's own sum: each sample lies within its bucket
    lo = sum(int(row["bucket_lo_ns"]) * int(row["bucket_count"]) for row in rows)
    hi = sum((int(row["bucket_hi_ns"]) + 1) * int(row["bucket_count"]) for row in rows)
    wait = int(r.get("kstat_halt_wait_ns") or 0)
    kt.check(lo <= wait < hi, f"counters halts: the buckets' bounds {lo}..{hi} ns hold KVM's halt_wait_ns {wait}")


def main():
    return kt.main("counters", [test_check, test_guest_ended, test_counters_mode, test_counters_halts], "kvmprof-counters-",
                   missing=lambda: None if subprocess.run(["which", "bpftool"], capture_output=True).returncode == 0
                   else "bpftool is missing (make deps installs it)")


if __name__ == "__main__":
    sys.exit(main())
