#!/usr/bin/env python3
"""Integration tests: kvmprof around real KVM guests whose traps we script.

Ground truth is twofold, on the same run: the bundled VMM (tests/guestload)
prints exactly what each guest executed and every KVM_RUN return it saw, and
`perf stat -a -e kvm:...` counts the kernel's own tracepoint hits.  kvmprof's
CSV must match both exactly, per guest and per code.  See the table at the top
of tests/guestload.c for what each scripted op produces on this host."""
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvmtest  # noqa: E402  (the tally, guests, tracers, CSV reader and runner)
from kvmtest import (KVMPROF, LIVE, TRACEFS, Guests, Tracer, check, check_eq,  # noqa: E402
                     class_total, code_count, device_total, drain, read_csv)

PERF_EVENTS = ["kvm:kvm_emulate_insn", "kvm:kvm_pio", "kvm:kvm_mmio", "kvm:kvm_userspace_exit",
               "kvm:kvm_cpuid", "kvm:kvm_msr", "kvm:kvm_exit", "kvm:kvm_hypercall"]
CLASS_OF_EVENT = {"kvm:kvm_emulate_insn": "emulate", "kvm:kvm_pio": "pio", "kvm:kvm_mmio": "mmio",
                  "kvm:kvm_userspace_exit": "userspace", "kvm:kvm_cpuid": "cpuid",
                  "kvm:kvm_msr": "msr", "kvm:kvm_exit": "exit", "kvm:kvm_hypercall": "hypercall"}


def kvmprof(outdir, tag, extra=(), env=None):
    argv = [KVMPROF, "-q", "--csv", f"{outdir}/{tag}.csv", "--json", f"{outdir}/{tag}.json",
            "--csv-series", f"{outdir}/{tag}-series.csv", "-i", "0.5"] + list(extra)
    return Tracer(argv, r"tracing KVM traps", env=env)


class PerfStat:
    """perf stat -a around a `cat` workload: closing its stdin ends the count
    (perf ignores SIGINT when its parent shell did)."""

    def __init__(self, outdir):
        self.path = f"{outdir}/perf.txt"
        self.proc = subprocess.Popen(["perf", "stat", "-a", "-x,", "-o", self.path, "-e",
                                      ",".join(PERF_EVENTS), "--", "cat"], stdin=subprocess.PIPE)
        LIVE.append(self.proc)
        time.sleep(0.5)  # perf has no ready line; it opens its counters in milliseconds

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        return read_perf(self.path)


def read_perf(path):
    counts = {}
    for line in open(path):
        parts = line.strip().split(",")
        if len(parts) > 2 and parts[2] in PERF_EVENTS:
            counts[parts[2]] = int(parts[0]) if parts[0].isdigit() else 0
    return counts


def expect_guest(rows, pid, g, label, sleep_us=0, name=None):
    """Every class this host produces, exactly as the VMM scripted and saw it."""
    n = lambda k: int(g[k])
    vcpus = n("vcpus")
    check_eq(class_total(rows, pid, "emulate"), n("insns"), f"{label}: emulated instructions")
    # the decoder, per opcode: guestload's loop instruction, cpuid, out dx,al, in al,dx
    mode = "prot32" if g.get("mode") == "prot32" else "real"
    check_eq(code_count(rows, pid, "emulate", f"loop e2 {mode}"), n("emulate_loop"),
             f"{label}: emulated loop instructions")
    check_eq(code_count(rows, pid, "emulate", f"cpuid 0f a2 {mode}"), n("cpuid"), f"{label}: emulated cpuid")
    check_eq(code_count(rows, pid, "emulate", f"out ee {mode}"), n("pio_out"), f"{label}: emulated out dx,al")
    check_eq(code_count(rows, pid, "emulate", f"in ec {mode}"), n("pio_in"), f"{label}: emulated in al,dx")
    check_eq(code_count(rows, pid, "pio", "out 0x3f8"), n("pio_out"), f"{label}: out 0x3f8")
    check_eq(code_count(rows, pid, "pio", "in 0x3f9"), n("pio_in"), f"{label}: in 0x3f9")
    check_eq(code_count(rows, pid, "pio", "out 0xf4"), vcpus if g["complete"] == "1" else
             code_count(rows, pid, "pio", "out 0xf4"), f"{label}: end signal per vCPU")
    check_eq(class_total(rows, pid, "pio"), n("exit_io"), f"{label}: all port I/O")
    # device groups: 0x3f8 and 0x3f9 are serial COM1; the end signal 0xf4 and
    # the MMIO page 0xd0000 are no known device
    check_eq(device_total(rows, pid, "pio", "serial COM1"), n("pio_out") + n("pio_in"),
             f"{label}: port I/O to serial COM1")
    check_eq(device_total(rows, pid, "pio", ""), n("exit_io") - n("pio_out") - n("pio_in"),
             f"{label}: port I/O to no known device")
    check_eq(device_total(rows, pid, "mmio", ""), class_total(rows, pid, "mmio"), f"{label}: mmio device")
    check_eq(code_count(rows, pid, "mmio", "unsatisfied-read 0xd0000"), n("mmio_read"),
             f"{label}: mmio unsatisfied-read")
    check_eq(code_count(rows, pid, "mmio", "read 0xd0000"), n("mmio_read"), f"{label}: mmio read")
    check_eq(code_count(rows, pid, "mmio", "write 0xd0000"), n("mmio_write"), f"{label}: mmio write")
    check_eq(code_count(rows, pid, "cpuid", "cpuid 0x0"), n("cpuid"), f"{label}: cpuid")
    check_eq(code_count(rows, pid, "msr", "rdmsr 0x10"), n("msr_read"), f"{label}: rdmsr")
    check_eq(code_count(rows, pid, "msr", "wrmsr 0x8b"), n("msr_write"), f"{label}: wrmsr")
    check_eq(class_total(rows, pid, "userspace"), n("kvm_run"), f"{label}: userspace exits")
    check_eq(code_count(rows, pid, "userspace", "KVM_EXIT_IO"), n("exit_io"), f"{label}: KVM_EXIT_IO")
    check_eq(code_count(rows, pid, "userspace", "KVM_EXIT_MMIO"), n("exit_mmio"),
             f"{label}: KVM_EXIT_MMIO")
    check_eq(code_count(rows, pid, "userspace", "KVM_EXIT_HLT"), n("exit_hlt"), f"{label}: KVM_EXIT_HLT")
    check_eq(class_total(rows, pid, "exit") + class_total(rows, pid, "hypercall"), 0,
             f"{label}: no exits or hypercalls on this host")
    # every trip to the VMM but each vCPU's last is closed by a KVM_RUN
    lat = sum(v["lat_count"] for (p, c, _), v in rows.items() if p == pid and c == "userspace")
    check_eq(lat, n("kvm_run") - vcpus, f"{label}: VMM trips with a time")
    buckets = sum(v["buckets"] for (p, c, _), v in rows.items() if p == pid and c == "userspace")
    check_eq(buckets, lat, f"{label}: histogram buckets hold every VMM trip")
    if sleep_us:
        mins = [v["lat_min"] for (p, c, _), v in rows.items()
                if p == pid and c == "userspace" and v["lat_min"] is not None]
        check(mins and min(mins) >= sleep_us * 1000,
              f"{label}: every VMM trip lasts >= the {sleep_us} us the VMM slept (min {mins})")
        lows = [v.get("lowest_bucket", 0) for (p, c, _), v in rows.items()
                if p == pid and c == "userspace" and v["lat_count"]]
        # the bucket holding sleep_us starts at its power of two below
        floor = 1 << ((sleep_us * 1000).bit_length() - 1)
        check(lows and min(lows) >= floor,
              f"{label}: no VMM trip in a bucket below {floor} ns ({lows})")
    if name is not None:
        names = {v["guest"] for (p, _, _), v in rows.items() if p == pid}
        check_eq(names, {name}, f"{label}: guest name")
    vcpu_ids = set().union(*[v["vcpus"] for (p, _, _), v in rows.items() if p == pid])
    check_eq(vcpu_ids, {str(i) for i in range(vcpus)}, f"{label}: vCPU numbers from thread names")


def check_json_matches_csv(path, rows, pids):
    with open(path) as f:
        doc = json.load(f)
    by_pid = {g["pid"]: g for g in doc["guests"]}
    for pid in pids:
        g = by_pid.get(pid)
        if not check(g is not None, f"json has guest {pid}"):
            continue
        for c in g["classes"]:
            check_eq(c["total"], class_total(rows, pid, c["class"]), f"json {pid} {c['class']} total")
            devices = {d["name"]: d["count"] for d in c.get("devices", [])}
            want = {}
            for (p, cls, _), v in rows.items():
                if p == pid and cls == c["class"]:
                    for dev, k in v["devices"].items():
                        if dev:
                            want[dev] = want.get(dev, 0) + k
            check_eq(devices, want, f"json {pid} {c['class']} device subtotals")


def check_series_matches_csv(path, rows, pids):
    sums = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            k = (int(r["pid"]), r["class"], r["code_name"])
            sums[k] = sums.get(k, 0) + int(r["count"])
    for (pid, cls, name), v in rows.items():
        if pid in pids:
            check_eq(sums.get((pid, cls, name), 0), v["count"], f"series sums to total {pid} {cls} {name}")


def run_scenario(outdir, label, groups, tracers, sleep_us_of=None):
    """Starts guest groups waiting, the tracers, then lets the guests run."""
    start = f"{outdir}/{label}.start"
    gs = [Guests(args, start) for args in groups]
    perf = PerfStat(outdir)
    profs = {tag: kvmprof(outdir, tag, extra, env) for tag, extra, env in tracers}
    open(start, "w").close()
    results = {}
    for g in gs:
        results.update(g.finish())
    time.sleep(0.3)
    outs = {}
    for tag, t in profs.items():
        rc, out, err = t.stop()
        check_eq(rc, 0, f"{label}/{tag}: kvmprof exit status after SIGINT ({err.strip()[-300:]})")
        check("kvmprof summary" in out, f"{label}/{tag}: SIGINT prints the summary")
        outs[tag] = out
    return gs, results, perf.stop(), outs


def test_mixed_guests(outdir):
    """Two VMM processes with different mixes, traced by kvmprof three times at
    once: default attach, classic tracepoints, and classic tracepoints whose
    record types are built from tracefs's format files (as on a kernel without
    module BTF), against perf stat on the same run."""
    alpha = ["-g", "1", "-c", "2", "--pio", "50", "--mmio-read", "20", "--mmio-write", "30",
             "--cpuid", "40", "--hlt", "5", "--emulate", "100", "--sleep-us", "200", "--repeat", "3",
             "-name", "guest=alpha,debug-threads=on"]
    beta = ["-g", "2", "-c", "1", "--pio", "7", "--pio-in", "3", "--cpuid", "11", "--msr-read", "4",
            "--msr-write", "6", "--emulate", "300000", "-name", "beta"]
    gs, results, perf, outs = run_scenario(outdir, "mixed", [alpha, beta],
                                           [("auto", [], None), ("tp", ["--attach", "tracepoint"], None),
                                            ("tracefs", ["--attach", "tracepoint"],
                                             {"KVMPROF_RECORDS_FROM_TRACEFS": "1"})])
    alpha_pid = gs[0].pids[0]
    for tag in ("auto", "tp", "tracefs"):
        rows = read_csv(f"{outdir}/{tag}.csv")
        for pid, g in results.items():
            expect_guest(rows, pid, g, f"mixed/{tag}/{pid}", sleep_us=200 if pid == alpha_pid else 0,
                         name="alpha" if pid == alpha_pid else "beta")
        # perf counted every hit system-wide: kvmprof's sums over guests must equal it
        for ev, cls in CLASS_OF_EVENT.items():
            total = sum(v["count"] for (p, c, _), v in rows.items() if c == cls)
            check_eq(total, perf.get(ev), f"mixed/{tag}: {cls} total vs perf stat {ev}")
        check_json_matches_csv(f"{outdir}/{tag}.json", rows, results.keys())
        check_series_matches_csv(f"{outdir}/{tag}-series.csv", rows, results.keys())
    check("Guest %d \"alpha\"" % alpha_pid in outs["auto"], "summary names guest alpha")
    check("KVM_EXIT_MMIO" in outs["auto"] and "time in VMM latency" in outs["auto"],
          "summary shows KVM_EXIT names and the VMM-time histogram")
    check(re.search(r"\n    out 0x3f8 \(serial COM1\) +\d+ ", outs["auto"]) and
          re.search(r"\n    device serial COM1 +\d+ ", outs["auto"]),
          "summary names the device beside the port and sums per device")


def test_pid_filter(outdir):
    """-p traces one guest; the other is not counted at all."""
    # guests live ~0.1 s (--emulate): kvmprof reads a name while its VMM exists
    a = ["-g", "1", "--pio", "13", "--cpuid", "3", "--emulate", "300000", "-name", "guest=kept"]
    b = ["-g", "1", "--pio", "17", "--cpuid", "5", "--emulate", "300000", "-name", "guest=filtered"]
    start = f"{outdir}/pid.start"
    ga, gb = Guests(a, start), Guests(b, start)
    t = kvmprof(outdir, "pid", ["-p", str(ga.pids[0])])
    open(start, "w").close()
    results = {**ga.finish(), **gb.finish()}
    rc, out, err = t.stop(signal.SIGTERM)
    check_eq(rc, 0, "pid filter: kvmprof exit status after SIGTERM")
    rows = read_csv(f"{outdir}/pid.csv")
    expect_guest(rows, ga.pids[0], results[ga.pids[0]], "pid filter/kept", name="kept")
    check_eq({p for (p, _, _) in rows}, {ga.pids[0]}, "pid filter: only the chosen guest")


def test_duration_cut(outdir):
    """A guest cut short by its time limit: kvmprof still matches it exactly,
    and -d ends kvmprof on its own."""
    args = ["-g", "1", "-c", "2", "--pio", "10", "--mmio-read", "5", "--emulate", "200",
            "--repeat", "100000000", "--duration", "1.5", "-name", "guest=cut"]
    start = f"{outdir}/cut.start"
    g = Guests(args, start)
    t = kvmprof(outdir, "cut", ["-d", "3"])
    open(start, "w").close()
    results = g.finish()
    rc = t.proc.wait(timeout=30)
    check_eq(rc, 0, "duration: kvmprof ends by itself with -d")
    pid = g.pids[0]
    check_eq(results[pid]["complete"], "0", "duration: the guest was cut short")
    rows = read_csv(f"{outdir}/cut.csv")
    expect_guest(rows, pid, results[pid], "duration/cut", name="cut")
    check(class_total(rows, pid, "emulate") > 100000, "duration: a busy guest")
    # KVM_RUN's errno by its symbol: the time limit's signal is EINTR
    check(int(results[pid]["exit_intr"]) > 0, "duration: the time limit interrupted KVM_RUN")
    check_eq(code_count(rows, pid, "userspace", "KVM_RUN -EINTR"), int(results[pid]["exit_intr"]),
             "duration: the signal's KVM_RUN returns named KVM_RUN -EINTR")


def test_errors(outdir):
    """Bad input and environment: one line on stderr, a documented exit code."""
    def run(argv, **kw):
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)
        return p.returncode, p.stderr.strip().splitlines()

    cases = [
        ([KVMPROF, "-p", "999999999"], 1, "no such process"),
        ([KVMPROF, "-p", "1"], 1, "not a KVM guest"),
        ([KVMPROF, "--csv", "/nonexistent-dir/x.csv"], 1, "does not exist"),
        ([KVMPROF, "--csv", outdir], 1, "is a folder"),
        ([KVMPROF, "--attach", "kprobe"], 1, "no kprobes"),
        ([KVMPROF, "-i", "0"], 2, "invalid interval"),
        ([KVMPROF, "--nope"], 2, "unrecognized option"),
    ]
    if os.path.exists("/sys/kernel/btf/vmlinux"):
        pass
    for argv, want_rc, text in cases:
        rc, err = run(argv)
        check_eq(rc, want_rc, f"{' '.join(argv[1:])}: exit code")
        check(len(err) == 1 and text in err[0], f"{' '.join(argv[1:])}: one line with '{text}': {err}")
    # not root: drop to nobody
    rc, err = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", KVMPROF, "-d", "1"])
    check_eq(rc, 1, "not root: exit code")
    check(len(err) == 1 and "must run as root" in err[0], f"not root: one line: {err}")
    # fentry: refused on this kernel at load or attach, in one line either way
    rc, err = run([KVMPROF, "--attach", "fentry", "-d", "1"])
    if rc != 0:
        check(len(err) == 1 and "fentry" in err[0], f"fentry refused in one line: {err}")
    rc, out = subprocess.run([KVMPROF, "--list-probes"], capture_output=True, text=True).returncode, None
    check_eq(rc, 0, "--list-probes runs")


def read_layout(out):
    """guestload --layout lines: per pid, {bytes: (count, [addresses])}."""
    lay = {}
    for line in out.splitlines():
        if line.startswith("layout "):
            f = dict(kv.split("=", 1) for kv in line.split()[1:4])
            b = line.split("bytes=", 1)[1].strip()
            count, addrs = lay.setdefault(int(f["pid"]), {}).get(b, (0, []))
            lay[int(f["pid"])][b] = (count + int(f["count"]), addrs + [int(f["addr"], 16)])
    return lay


def ranges_of(addrs, length):
    """Adjacent occurrences of one instruction as one range, as kvmprof does."""
    out = []
    for a in sorted(addrs):
        if out and a <= out[-1][1] + length:
            out[-1][1] = a
        else:
            out.append([a, a])
    return out


def parse_ranges(text):
    return [[int(x, 16) for x in r.split("-")] * (1 if "-" in r else 2) for r in text.split()] \
        if text not in ("", "?") else []


def read_insns_csv(path):
    """Per (pid, kind, bytes, mode): the row."""
    with open(path, newline="") as f:
        return {(int(r["pid"]), r["kind"], r["bytes"], r["mode"]): r for r in csv.DictReader(f)}


class PerfEmulate:
    """perf stat -a of kvm_emulate_insn: every event, and those with failed set."""

    def __init__(self, outdir):
        self.path = f"{outdir}/perf-emul.txt"
        self.proc = subprocess.Popen(["perf", "stat", "-a", "-x,", "-o", self.path,
                                      "-e", "kvm:kvm_emulate_insn", "-e", "kvm:kvm_emulate_insn",
                                      "--filter", "failed==1", "--", "cat"], stdin=subprocess.PIPE)
        LIVE.append(self.proc)
        time.sleep(0.5)

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        counts = [int(l.split(",")[0]) for l in open(self.path)
                  if ",kvm:kvm_emulate_insn," in l and l.split(",")[0].isdigit()]
        return counts if len(counts) == 2 else [None, None]


def test_insns(outdir):
    """--insns in both attach modes at once: every instruction in full, its
    count and the addresses it ran at equal guestload's own layout (real mode
    with CS base 0x1000, and 32-bit protected mode); failed emulations (aaa,
    which KVM's emulator does not implement) exact in bytes, count and
    address, against KVM's insn_emulation_fail and perf's failed==1 count;
    without --insns the failures still show."""
    real = ["-g", "1", "-c", "2", "--pio", "9", "--mmio-write", "4", "--cpuid", "3", "--emulate", "50",
            "--emul-fail", "7", "--repeat", "3", "--cs-base", "--layout", "-name", "guest=real"]
    prot = ["-g", "1", "--mmio-read", "5", "--msr-read", "2", "--emul-fail", "11", "--protected",
            "--layout", "-name", "guest=prot"]
    start = f"{outdir}/insns.start"
    gs = [Guests(real, start), Guests(prot, start)]
    perf = PerfEmulate(outdir)
    tags = {"tp": ["--attach", "tracepoint", "--insns"], "btf": ["--attach", "btf", "--insns"],
            "plain": []}
    profs = {tag: kvmprof(outdir, "insns-" + tag, extra + ["--csv-insns", f"{outdir}/insns-{tag}-i.csv"])
             for tag, extra in tags.items()}
    open(start, "w").close()
    results, layout = {}, {}
    for g in gs:
        out, err = drain(g.proc, 120)
        check_eq(g.proc.returncode, 0, f"insns: guestload exit status ({err.strip()})")
        layout.update(read_layout(out))
        for line in out.splitlines():
            if line.startswith("guest "):
                f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
                results[int(f["pid"])] = f
    time.sleep(0.3)
    outs = {}
    for tag, t in profs.items():
        rc, out, err = t.stop()
        check_eq(rc, 0, f"insns/{tag}: kvmprof exit status ({err.strip()[-300:]})")
        outs[tag] = out
    emul_events, failed_events = perf.stop()
    n = lambda pid, k: int(results[pid][k])
    check_eq(emul_events, sum(n(p, "insns") + n(p, "emul_fail") for p in results),
             "insns: perf kvm_emulate_insn == instructions + failures (a failure fires twice)")
    check_eq(failed_events, sum(n(p, "emul_fail") for p in results), "insns: perf failed==1 events")
    mmio_text = {"real": ("26 a2 00 00", "mov byte ptr es:[0], al"),
                 "prot32": ("a0 00 00 0d 00", "mov al, byte ptr [0xd0000]")}
    for tag in tags:
        rows = read_csv(f"{outdir}/insns-{tag}.csv")
        ins = read_insns_csv(f"{outdir}/insns-{tag}-i.csv")
        with open(f"{outdir}/insns-{tag}.json") as f:
            doc = {g["pid"]: g for g in json.load(f)["guests"]}
        for pid, g in results.items():
            mode = g["mode"]
            label = f"insns/{tag}/{mode}"
            fails = n(pid, "emul_fail")
            check_eq(n(pid, "kstat_insn_emulation_fail"), fails, f"{label}: KVM's insn_emulation_fail")
            check_eq(n(pid, "exit_internal"), fails, f"{label}: the VMM saw each failure")
            check_eq(class_total(rows, pid, "emulate"), n(pid, "insns") + fails,
                     f"{label}: emulate class counts both events of a failure")
            check_eq(code_count(rows, pid, "emulate", f"aaa 37 {mode} FAILED"), fails,
                     f"{label}: the FAILED code")
            failed = {k: r for k, r in ins.items() if k[0] == pid and k[1] == "failed"}
            check_eq(sorted(failed), [(pid, "failed", "37", mode)], f"{label}: one failed instruction")
            for r in failed.values():
                check_eq((r["text"], int(r["count"]), int(r["rip_first"], 16), r["len"]),
                         ("aaa", fails, int(g["fail_rip"], 16), "1"), f"{label}: failed aaa, count, last RIP")
            jf = doc[pid]["failed_insns"]
            check_eq([(x["bytes"], x["text"], x["count"], x["last_rip"]) for x in jf],
                     [("37", "aaa", fails, int(g["fail_rip"], 16))], f"{label}: JSON failed_insns")
            got = {k[2]: r for k, r in ins.items() if k[0] == pid and k[1] == "insn"}
            if tag == "plain":
                check_eq(got, {}, f"{label}: no instructions in full without --insns")
                check_eq(doc[pid]["insns"], [], f"{label}: JSON insns empty without --insns")
                continue
            check(all(k[3] == mode for k in ins if k[0] == pid), f"{label}: every row in mode {mode}")
            want = {b: (c, ranges_of(a, len(b.split()))) for b, (c, a) in layout[pid].items()}
            have = {b: (int(r["count"]), parse_ranges(r["rip_ranges"])) for b, r in got.items()}
            check_eq(have, want, f"{label}: every instruction, its count and its addresses")
            check_eq(sum(c for c, _ in have.values()), n(pid, "insns"), f"{label}: instructions in all")
            b, text = mmio_text[mode]
            check_eq(got.get(b, {}).get("text"), text, f"{label}: the MMIO instruction in full")
            check_eq(int(got.get(b, {}).get("count", 0)), n(pid, "mmio_write") + n(pid, "mmio_read"),
                     f"{label}: MMIO instructions")
            if mode == "real":
                check_eq((got["ee"]["text"], int(got["ee"]["count"])), ("out dx, al", n(pid, "pio_out")),
                         f"{label}: out dx, al")
                check_eq(got["0f a2"]["text"], "cpuid", f"{label}: cpuid")
                check(min(int(r["rip_first"], 16) for r in got.values()) == 0x1000,
                      f"{label}: addresses include the CS base 0x1000 (IP starts at 0)")
            ji = {x["bytes"]: (x["count"], x["rip_ranges"], x["text"]) for x in doc[pid]["insns"]}
            check_eq(ji, {b: (c, rg, got[b]["text"]) for b, (c, rg) in have.items()},
                     f"{label}: JSON insns match the CSV")
        if tag != "plain":
            check("Emulated instructions:" in outs[tag] and "out dx, al" in outs[tag],
                  f"insns/{tag}: the summary lists instructions in full")
        for pid in results:
            check(f"Failed emulations: 1 distinct, {n(pid, 'emul_fail')} in all" in outs[tag],
                  f"insns/{tag}: the summary lists guest {pid}'s failures")


def test_full_filesystem(outdir):
    """--csv on a full filesystem: one line, exit 1, the summary still printed,
    the good file already there kept whole, no temporary file left."""
    mnt = f"{outdir}/tiny"
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]).returncode:
        check(False, "mount a tiny tmpfs")
        return
    try:
        good = f"{mnt}/good.csv"
        with open(good, "w") as f:
            f.write("pid,guest\r\n1,old\r\n")
        subprocess.run(["sh", "-c", f"cat /dev/zero > {mnt}/filler"], capture_output=True)
        start = f"{outdir}/full.start"
        g = Guests(["--pio", "30", "--emulate", "300000", "-name", "guest=full"], start)
        t = Tracer([KVMPROF, "-q", "--csv", good, "-i", "0.5"], r"tracing KVM traps")
        open(start, "w").close()
        g.finish()
        rc, out, err = t.stop()
        check_eq(rc, 1, "full disk: exit status 1")
        check("kvmprof summary" in out and "Guest" in out, "full disk: the summary still prints")
        lines = [l for l in err.splitlines() if "cannot write" in l]
        check(len(lines) == 1 and good in lines[0], f"full disk: one line naming the file: {err}")
        with open(good) as f:
            check_eq(f.read(), "pid,guest\n1,old\n", "full disk: the good file is kept whole")
        check_eq(sorted(os.listdir(mnt)), ["filler", "good.csv"], "full disk: no temporary file left")
    finally:
        subprocess.run(["umount", mnt])


def test_hostile_name(outdir):
    """A guest name with commas, quotes, a newline and ANSI/OSC escapes: the
    terminal output carries no escape byte, and the CSV stays parseable."""
    name = 'evil,,"q"\n\x1b[31mred\x1b]0;title\x07'
    start = f"{outdir}/evil.start"
    g = Guests(["--pio", "5", "--emulate", "300000", "-name", "guest=" + name], start)
    t = kvmprof(outdir, "evil", [])
    open(start, "w").close()
    results = g.finish()
    rc, out, err = t.stop()
    check_eq(rc, 0, "hostile name: exit status")
    check("\x1b" not in out and "\x07" not in out, "hostile name: no escape bytes reach the terminal")
    want = 'evil,"q"\\x0a\\x1b[31mred\\x1b]0;title\\x07'
    check(f'"{want}"' in out, f"hostile name: shown escaped in the summary")
    rows = read_csv(f"{outdir}/evil.csv")
    pid = g.pids[0]
    check_eq({v["guest"] for (p, _, _), v in rows.items() if p == pid}, {want},
             "hostile name: the CSV field round-trips")
    check_eq(code_count(rows, pid, "pio", "out 0x3f8"), 5, "hostile name: counts intact")
    with open(f"{outdir}/evil.json") as f:
        doc = json.load(f)
    check_eq([x["name"] for x in doc["guests"] if x["pid"] == pid], [want], "hostile name: JSON")


def tracefs_mounted():
    with open("/proc/mounts") as f:
        return any(line.split()[1] in TRACEFS for line in f)


def test_tracefs_mount(outdir):
    """A fresh machine may not have tracefs mounted: kvmprof mounts it."""
    for path in TRACEFS:
        subprocess.run(["umount", path], capture_output=True)
    if tracefs_mounted():
        print("test_tracefs_mount: tracefs busy, cannot unmount it to test (skipped)")
        return
    rc = subprocess.run([KVMPROF, "--list-probes"], capture_output=True).returncode
    check_eq(rc, 0, "--list-probes with tracefs unmounted")
    check(tracefs_mounted(), "kvmprof mounted tracefs on /sys/kernel/tracing")


def main():
    return kvmtest.main("integration", [test_tracefs_mount, test_mixed_guests, test_insns, test_pid_filter,
                                        test_duration_cut, test_full_filesystem, test_hostile_name,
                                        test_errors], "kvmprof-it-")


if __name__ == "__main__":
    sys.exit(main())
