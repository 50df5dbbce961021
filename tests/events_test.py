#!/usr/bin/env python3
"""The classes beyond traps (issue 17) on this host: irq, ipi and halt against
guests whose interrupts, IPIs and halts are scripted (tests/irqload), and the
halted time of issue 15 with halt polling off and on.

Ground truth is tests/irqload's table of kvm:* events per run (its header
comment): per guest, L, M, W, I, U the N of --irq-line, --msi, --hlt-wake,
--ipi, --interrupt; Wl = W woken by a line, Wm = W - Wl; P = L + Wl:
  kvm_set_irq 2P (P at level 1, P at level 0); kvm_pic_set_irq 2P if GSI < 16;
  kvm_ioapic_set_irq 2P; kvm_msi_set_irq M + Wm; kvm_apic_ipi I;
  kvm_apic_accept_irq M + Wm + I (+ P in protected mode); kvm_vcpu_wakeup
  L + M + W + I with --irqchip, every one blocked ("wait"), 0 without;
  kvm_inj_virq 0 here (PVM injects without the event).
Every count is checked three ways, all exact: kvmprof's per-guest JSON against
the table, against the kernel's own records of the same run in a private
tracefs instance (per tgid: immune to other guests on the machine), and
against `perf stat -a` over the guest's lifetime (system-wide: exact when no
other guest had such events while kvmprof ran, else bounded and said so).

Tests (names on the command line run only those):
  test_modes          every irqload mode this host runs (8259 lines, IOAPIC GSI
                      >= 16, MSI, IPI, KVM_INTERRUPT, halts woken by line and by
                      MSI, two guests): the table, tracefs, perf stat; the
                      halt class's time waited (histogram count = wakeups, sum
                      = the kernel's, >= N x the wake delay)
  test_default_set    -e default (and no -e): the new classes absent from the
                      JSON and the summary, said "not chosen (-e)" by
                      --list-probes and the JSON; -e +irq,ipi,halt and -e all
                      in --list-probes; bad -e values exit 2
  test_metrics        -e +irq: kvmprof_class_traced 1 for irq, 0 for the
                      others not chosen, the JSON's "traced"; the irq counts
                      in /metrics
  test_halt_polling   kvm.halt_poll_ns 0 vs 1 s (saved and restored): the
                      halt class's codes as KVM's halt polling rules say, KVM's
                      own poll counters, and the halted time (issue 15) =
                      N x the wake delay, the polling time counted as halted
"""
import glob
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvmtest as kt  # noqa: E402  (the tally, processes, kvmprof runner)

KVMPROF = kt.KVMPROF
IRQLOAD = os.path.join(kt.ROOT, "tests", "irqload")
TRACEFS = next((t for t in kt.TRACEFS if os.path.isdir(f"{t}/events/kvm")), None)
HALT_POLL = "/sys/module/kvm/parameters/halt_poll_ns"
NEW_CLASSES = ("irq", "ipi", "pagefault", "halt", "nested")
DEFAULT_CLASSES = ["exit", "hypercall", "emulate", "pio", "mmio", "userspace", "msr", "cpuid"]
# the events of the classes irqload drives, and the kvmprof code names each one gives
EVENTS = ("kvm_inj_virq", "kvm_inj_exception", "kvm_set_irq", "kvm_msi_set_irq", "kvm_ioapic_set_irq",
          "kvm_pic_set_irq", "kvm_apic_ipi", "kvm_apic_accept_irq", "kvm_vcpu_wakeup", "kvm_halt_poll_ns")
# the events of the new classes (--list-probes' rows), by class
CLASS_EVENTS = {
    "irq": ("kvm_inj_virq", "kvm_inj_exception", "kvm_set_irq", "kvm_msi_set_irq", "kvm_ioapic_set_irq",
            "kvm_pic_set_irq"),
    "ipi": ("kvm_apic_ipi", "kvm_apic_accept_irq"),
    "pagefault": ("kvm_page_fault",),
    "halt": ("kvm_vcpu_wakeup", "kvm_halt_poll_ns"),
    "nested": ("kvm_nested_vmexit", "kvm_nested_vmexit_inject", "kvm_nested_vmenter", "kvm_nested_vmrun"),
}


def event_of(cls, name):
    """The kvm:* event a kvmprof code of the classes irq, ipi, halt comes from (its name's form,
    loader/model/event_names.c)."""
    for prefix, ev in (("inject vector ", "kvm_inj_virq"), ("inject ", "kvm_inj_exception"),
                       ("gsi ", "kvm_set_irq"), ("MSI ", "kvm_msi_set_irq"), ("IOAPIC ", "kvm_ioapic_set_irq"),
                       ("PIC ", "kvm_pic_set_irq"), ("IPI ", "kvm_apic_ipi"), ("accept ", "kvm_apic_accept_irq"),
                       ("wakeup: ", "kvm_vcpu_wakeup"), ("halt_poll_ns ", "kvm_halt_poll_ns")):
        if name.startswith(prefix):
            return ev
    return f"? {cls} {name}"


def note(text):
    if os.environ.get("EVENTS_TEST_VERBOSE"):
        print("  measured:", text, flush=True)


# ---- the kernel's own count: a private tracefs instance ----
class TraceCount:
    """The events, recorded with their tgid in an instance of our own (other users of tracefs,
    and kvmprof's BPF programs on the same tracepoints, are left alone)."""
    LINE = re.compile(r"^\s*(.*)-(\d+)\s+\(\s*(\d+|-+)\)\s+\[\d+\]\s+\S+\s+[\d.]+: (\w+): (.*)$")

    def __init__(self, events):
        self.dir = f"{TRACEFS}/instances/kvmprof-events-test-{os.getpid()}"
        if os.path.isdir(self.dir):
            os.rmdir(self.dir)
        os.mkdir(self.dir)
        self.events = [e for e in events if os.path.isdir(f"{self.dir}/events/kvm/{e}")]
        self._w("buffer_size_kb", "8192")
        self._w("options/record-tgid", "1")
        for e in self.events:
            self._w(f"events/kvm/{e}/enable", "1")
        self._w("tracing_on", "1")

    def _w(self, f, v):
        with open(f"{self.dir}/{f}", "w") as fh:
            fh.write(v)

    def stop(self):
        """{tgid: {event: count}}, {tgid: [kvm_vcpu_wakeup (kind, ns)]}, {tgid: [poll_ns lines]}."""
        self._w("tracing_on", "0")
        counts, wakes, polls = {}, {}, {}
        lost = 0
        for stats in glob.glob(f"{self.dir}/per_cpu/cpu*/stats"):
            with open(stats) as f:
                m = re.search(r"^overrun: (\d+)", f.read(), re.M)
                lost += int(m.group(1)) if m else 0
        kt.check_eq(lost, 0, "tracefs instance: no event overwritten")
        with open(f"{self.dir}/trace") as f:
            for line in f:
                m = self.LINE.match(line)
                if not m:
                    continue
                tgid = int(m.group(3)) if m.group(3)[0] != "-" else -int(m.group(2))
                ev, text = m.group(4), m.group(5)
                c = counts.setdefault(tgid, {})
                c[ev] = c.get(ev, 0) + 1
                if ev == "kvm_vcpu_wakeup":  # "wait time 158965 ns, polling valid"
                    w = re.match(r"(wait|poll|poll invalid) time (\d+) ns", text)
                    wakes.setdefault(tgid, []).append((w.group(1), int(w.group(2))) if w else (text, 0))
                elif ev == "kvm_halt_poll_ns":  # "vcpu 0: halt_poll_ns 10000 (grow 0)"
                    polls.setdefault(tgid, []).append(text)
        return counts, wakes, polls

    def close(self):
        try:
            self._w("tracing_on", "0")
            for e in self.events:
                self._w(f"events/kvm/{e}/enable", "0")
            os.rmdir(self.dir)
        except OSError:
            pass


# ---- irqload runs, each under perf stat -a ----
def perf_events():
    return [e for e in EVENTS if os.path.isdir(f"{TRACEFS}/events/kvm/{e}")]


def run_irqload(args, outdir, tag):
    """irqload ARGS under `perf stat -a` (the window: irqload's lifetime); its guest lines by pid
    (fields as int where they are) and perf's count per event."""
    out = f"{outdir}/perf-{tag}.txt"
    evs = perf_events()
    p = subprocess.run(["perf", "stat", "-a", "-x", ",", "-o", out, "-e", ",".join(f"kvm:{e}" for e in evs),
                        "--", IRQLOAD] + args + ["-name", f"guest=ev-{tag}"],
                       capture_output=True, text=True, timeout=120)
    kt.check_eq(p.returncode, 0, f"{tag}: irqload {' '.join(args)} exit status ({p.stderr.strip()[-300:]})")
    guests = {}
    for line in p.stdout.splitlines():
        if line.startswith("guest "):
            f = {}
            for kv in line.split()[1:]:
                k, _, v = kv.partition("=")
                f[k] = int(v) if re.fullmatch(r"\d+", v) else v
            guests[f["pid"]] = f
    perf = {}
    with open(out) as f:
        for line in f:
            cols = line.strip().split(",")
            if len(cols) > 2 and cols[2].startswith("kvm:"):
                perf[cols[2][4:]] = int(cols[0]) if cols[0].isdigit() else None
    return guests, perf


def table(g):
    """irqload's EVENTS table for one guest line: {event: count} and {code name: count} where the
    name is certain, this host (no kvm_inj_virq)."""
    L, M, W, I, U = g["irq_lines"], g["msis"], g["halts"], g["ipi_received"], g["interrupts"]
    Wl = W if g["wake_by"] == "line" else 0
    Wm, P = W - Wl, L + Wl
    G, V, prot, chip = g["gsi"], int(g["vector"], 16), g["mode"] == "prot32", g["irqchip"] == 1
    ev = {
        "kvm_set_irq": 2 * P, "kvm_pic_set_irq": 2 * P if G < 16 else 0, "kvm_ioapic_set_irq": 2 * P,
        "kvm_msi_set_irq": M + Wm, "kvm_apic_ipi": I, "kvm_apic_accept_irq": M + Wm + I + (P if prot else 0),
        "kvm_vcpu_wakeup": L + M + W + I if chip else 0, "kvm_inj_virq": 0, "kvm_inj_exception": 0,
    }
    names = {f"gsi {G} level 1": P, f"gsi {G} level 0": P,
             f"MSI vector 0x{V:x} fixed to apic 0": M + Wm, f"IPI vector 0x{V:x} fixed to apic 1": I,
             f"accept vector 0x{V:x} fixed edge on apic 0": M + Wm,
             f"accept vector 0x{V:x} fixed edge on apic 1": I,
             "wakeup: blocked": ev["kvm_vcpu_wakeup"], "wakeup: poll succeeded": 0, "wakeup: invalid wakeup": 0}
    if G < 16:  # the 8259 pair: pins 0-7 master, 8-15 slave
        names[f"PIC {'master' if G < 8 else 'slave'} pin {G & 7}"] = 2 * P
    if prot:    # the IOAPIC entry the guest programmed: vector 0x20 + G; its LAPIC accepts it
        names[f"IOAPIC pin {G} vector 0x{0x20 + G:x}"] = 2 * P
        names[f"accept vector 0x{0x20 + G:x} fixed edge on apic 0"] = P
    return ev, names


def kvmprof_events(jg):
    """A JSON guest's irq/ipi/halt codes: {event: count}, {name: count}, the halt class."""
    ev, names, halt = {}, {}, None
    for c in (jg or {}).get("classes", []):
        if c["class"] not in ("irq", "ipi", "halt"):
            continue
        if c["class"] == "halt":
            halt = c
        for code in c["codes"]:
            e = event_of(c["class"], code["name"])
            ev[e] = ev.get(e, 0) + code["count"]
            names[code["name"]] = names.get(code["name"], 0) + code["count"]
    return ev, names, halt


def guest_of(doc, pid):
    g = [x for x in doc["guests"] if x["pid"] == pid]
    return g[0] if len(g) == 1 else None


# the modes irqload runs on this host (protected mode needs --no-iret: PVM's emulator has no
# protected-mode IRET); N differ per mode so that a count in the wrong place shows
PROT = ["--irqchip", "--protected", "--no-iret"]
MODES = [
    ("pic-master", ["--irqchip", "--irq-line", "7"]),
    ("pic-slave", ["--irqchip", "--gsi", "10", "--irq-line", "5"]),
    ("ioapic-gsi17", PROT + ["--gsi", "17", "--irq-line", "6"]),
    ("ioapic-gsi4", PROT + ["--irq-line", "4"]),  # < 16: the masked 8259 sees it too
    ("msi", PROT + ["--msi", "9", "--vector", "0x51"]),
    ("ipi", PROT + ["-c", "2", "--ipi", "8"]),
    ("interrupt", ["--interrupt", "6"]),
    ("wake-line", ["--irqchip", "--hlt-wake", "5", "--wake-us", "2000"]),
    ("wake-msi", PROT + ["--hlt-wake", "4", "--wake-by", "msi", "--wake-us", "3000"]),
    ("two-guests", ["-g", "2"] + PROT + ["-c", "2", "--gsi", "20", "--irq-line", "3", "--msi", "2",
                                          "--hlt-wake", "2", "--wake-us", "1000", "--ipi", "3"]),
]


def test_modes(outdir):
    trace = TraceCount(EVENTS)
    try:
        t = kt.start([KVMPROF, "-q", "-i", "0.5", "-e", "+irq,ipi,halt", "--json", f"{outdir}/modes.json"])
        runs = []
        for tag, args in MODES:
            guests, perf = run_irqload(args, outdir, tag)
            runs.append((tag, args, guests, perf))
        time.sleep(0.6)  # one more read
        rc, out, err = kt.finish(t, signal.SIGINT)
        kt.check_eq(rc, 0, f"modes: kvmprof exit status ({err.strip()[-300:]})")
        counts, wakes, _ = trace.stop()
    finally:
        trace.close()
    with open(f"{outdir}/modes.json") as f:
        doc = json.load(f)
    kt.check_eq(doc["traced"], DEFAULT_CLASSES + ["irq", "ipi", "halt"], "modes: -e +irq,ipi,halt traced")
    ours = {pid for _, _, guests, _ in runs for pid in guests}
    # guests that are not ours, with events of these classes: perf stat -a counts theirs too
    foreign = {}
    for jg in doc["guests"]:
        if jg["pid"] not in ours:
            for e, n in kvmprof_events(jg)[0].items():
                foreign[e] = foreign.get(e, 0) + n
    if foreign:
        print(f"  note: other guests had {foreign} while this ran: perf stat -a bounded, not exact", flush=True)
    for tag, args, guests, perf in runs:
        want_guests = int(args[args.index("-g") + 1]) if "-g" in args else 1
        kt.check_eq(len(guests), want_guests, f"{tag}: guest lines")
        sums = {}
        for pid, g in guests.items():
            lab = f"{tag}/guest {pid}"
            kt.check_eq((g["taken"], g["stray"]), (g["irq_lines"] + g["msis"] + g["interrupts"] + g["halts"] +
                                                   g["ipi_received"], 0), f"{lab}: irqload took every interrupt")
            want_ev, want_names = table(g)
            jg = guest_of(doc, pid)
            if not kt.check(jg is not None, f"{lab}: in kvmprof's JSON"):
                continue
            got_ev, got_names, halt = kvmprof_events(jg)
            kern = counts.get(pid, {})
            for e in EVENTS:
                got = got_ev.get(e, 0)
                if e in want_ev:
                    kt.check_eq(got, want_ev[e], f"{lab}: {e} vs irqload's table")
                if e in trace.events:
                    kt.check_eq(got, kern.get(e, 0), f"{lab}: {e} vs tracefs")
                sums[e] = sums.get(e, 0) + got
            for name, n in want_names.items():
                kt.check_eq(got_names.get(name, 0), n, f"{lab}: code '{name}'")
            unknown = [n for n in got_names if event_of("", n).startswith("?")]
            kt.check_eq(unknown, [], f"{lab}: codes of no known event")
            # the halt class's time: the kernel's time waited per wakeup, as a log2 histogram
            wk = [w for w in wakes.get(pid, [])]
            if want_ev["kvm_vcpu_wakeup"]:
                lat = (halt or {}).get("latency") or {}
                kt.check_eq(lat.get("count"), want_ev["kvm_vcpu_wakeup"], f"{lab}: halt latency count = wakeups")
                kt.check_eq(sum(lat.get("log2_slots", [])), want_ev["kvm_vcpu_wakeup"],
                            f"{lab}: halt histogram holds every wakeup")
                kt.check_eq(lat.get("sum_ns"), sum(ns for _, ns in wk), f"{lab}: time waited = tracefs' sum")
                kt.check_eq(sorted({k for k, _ in wk}), ["wait"], f"{lab}: tracefs: every wakeup waited")
                if g["halts"]:
                    D = int(args[args.index("--wake-us") + 1])
                    kt.check(lat.get("sum_ns", 0) >= g["halts"] * D * 1000,
                             f"{lab}: time waited {lat.get('sum_ns')} ns >= {g['halts']} x {D} us")
                    kt.check(lat.get("max_ns", 0) >= D * 1000, f"{lab}: the longest wait >= {D} us")
                    note(f"{lab}: waited {lat.get('sum_ns')} ns, irqload's wait_us_sum {g['wait_us_sum']}")
            else:
                kt.check(halt is None or not any(c["name"].startswith("wakeup") for c in halt["codes"]),
                         f"{lab}: no wakeups without --irqchip")
        for e in EVENTS:
            if e not in perf:
                continue
            if foreign.get(e):
                kt.check(sums[e] <= perf[e] <= sums[e] + foreign[e],
                         f"{tag}: {e}: perf stat -a {perf[e]} vs kvmprof {sums[e]} + others' {foreign[e]}")
            else:
                kt.check_eq(perf[e], sums[e], f"{tag}: {e}: perf stat -a vs kvmprof")


# ---- -e default: the new classes absent ----
def list_probes(args):
    rc, out, err = kt.run_quick([KVMPROF, "--list-probes"] + args)
    kt.check_eq(rc, 0, f"--list-probes {' '.join(args)} exit status ({err[-3:]})")
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^kvm:(\w+)\s", line)
        if m:
            rows[m.group(1)] = line
    return rows


def test_default_set(outdir):
    # --list-probes: every event of a class not chosen says so (kvm_vcpu_wakeup stays attached
    # for the halted time: its class is what is not chosen)
    for args in ([], ["-e", "default"]):
        rows = list_probes(args)
        for cls, evs in CLASS_EVENTS.items():
            for e in evs:
                r = rows.get(e, "")
                kt.check(f"{cls} not chosen (-e)" in r, f"--list-probes {' '.join(args)}: {e} says '{cls} not "
                                                         f"chosen (-e)': {r!r}")
                if e != "kvm_vcpu_wakeup":
                    kt.check(re.search(r"\snone\s", r) is not None, f"--list-probes {args}: {e} not attached: {r!r}")
    rows = list_probes(["-e", "+irq,ipi,halt"])
    for cls, evs in CLASS_EVENTS.items():
        for e in evs:
            r = rows.get(e, "")
            if cls in ("irq", "ipi", "halt") and os.path.isdir(f"{TRACEFS}/events/kvm/{e}"):
                kt.check("not chosen" not in r and re.search(r"\stracepoint\s", r) is not None,
                         f"-e +irq,ipi,halt: {e} attached as a tracepoint: {r!r}")
            elif cls not in ("irq", "ipi", "halt"):
                kt.check(f"{cls} not chosen (-e)" in r, f"-e +irq,ipi,halt: {e} not chosen: {r!r}")
    rows = list_probes(["-e", "all"])
    for cls, evs in CLASS_EVENTS.items():
        for e in evs:
            r = rows.get(e, "")
            kt.check("not chosen" not in r, f"-e all: {e} chosen: {r!r}")
            if not os.path.isdir(f"{TRACEFS}/events/kvm/{e}"):  # 5.10's kvm_nested_vmrun on a newer kernel
                kt.check(re.search(r"\snone\s", r) is not None, f"-e all: {e} (not in this kernel) not attached: {r!r}")
    # bad values: one line, exit 2
    for bad in ("bogus", "+bogus", "fault"):  # fault is arm64's
        rc, out, err = kt.run_quick([KVMPROF, "-q", "-d", "1", "-e", bad])
        kt.check(rc == 2 and len(err) == 1 and err[0].startswith("kvmprof: invalid -e"),
                 f"-e {bad!r}: exit 2 and one line: {rc} {err}")
    # a run: irqload's interrupts happen, the default set shows none of them
    for tag, args in (("none", []), ("default", ["-e", "default"])):
        t = kt.start([KVMPROF, "-i", "0.5", "--json", f"{outdir}/def-{tag}.json"] + args)
        guests, _ = run_irqload(["--irqchip", "--irq-line", "3", "--hlt-wake", "2", "--wake-us", "500"], outdir,
                                f"def-{tag}")
        time.sleep(0.6)
        rc, out, err = kt.finish(t, signal.SIGINT)
        kt.check_eq(rc, 0, f"default/{tag}: kvmprof exit status")
        with open(f"{outdir}/def-{tag}.json") as f:
            doc = json.load(f)
        kt.check_eq(doc["traced"], DEFAULT_CLASSES, f"default/{tag}: JSON traced")
        kt.check_eq(doc["not_traced"], [{"class": c, "why": "not chosen (-e)"} for c in NEW_CLASSES],
                    f"default/{tag}: JSON not_traced")
        for pid in guests:
            jg = guest_of(doc, pid)
            kt.check(jg is not None and {c["class"] for c in jg["classes"]} <= set(DEFAULT_CLASSES),
                     f"default/{tag}: guest {pid}'s classes are the default set's: "
                     f"{[c['class'] for c in (jg or {}).get('classes', [])]}")
            # the summary: no line of a new class under the guest
            sect = re.search(rf"^Guest {pid} .*?(?=^Guest |\Z)", out, re.M | re.S)
            lines = sect.group(0).splitlines() if sect else []
            kt.check(sect is not None and not [l for l in lines if re.match(rf"^  ({'|'.join(NEW_CLASSES)}) ", l)],
                     f"default/{tag}: the summary of guest {pid} has no new class")
            kt.check(sect is not None and "wakeup" not in sect.group(0), f"default/{tag}: no wakeup code in the summary")
    # and -e +irq,halt shows them in the summary
    t = kt.start([KVMPROF, "-i", "0.5", "-e", "+irq,halt"])
    guests, _ = run_irqload(["--irqchip", "--irq-line", "3"], outdir, "def-plus")
    time.sleep(0.6)
    rc, out, err = kt.finish(t, signal.SIGINT)
    for pid, g in guests.items():
        sect = re.search(rf"^Guest {pid} .*?(?=^Guest |\Z)", out, re.M | re.S)
        s = sect.group(0) if sect else ""
        kt.check(re.search(r"^  irq\s+18\s", s, re.M) is not None, "-e +irq,halt: the summary's irq line (3 events x 2P)")
        kt.check(re.search(r"^    wakeup: blocked\s+3\s", s, re.M) is not None, "-e +irq,halt: summary's wakeups")


# ---- Prometheus: what was traced ----
def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def test_metrics(outdir):
    port = kt.free_port()
    t = kt.start([KVMPROF, "-i", "0.5", "-e", "+irq", "--listen", f"127.0.0.1:{port}",
                  "--json", f"{outdir}/metrics.json"])
    guests, _ = run_irqload(PROT + ["--gsi", "18", "--irq-line", "4", "--msi", "3"], outdir, "metrics")
    time.sleep(1.2)
    text = scrape(port)
    rc, out, err = kt.finish(t, signal.SIGINT)
    kt.check_eq(rc, 0, "metrics: kvmprof exit status")
    traced = dict(re.findall(r'^kvmprof_class_traced\{class="(\w+)"\} (\d+)$', text, re.M))
    want = {c: "1" for c in DEFAULT_CLASSES + ["irq"]}
    want.update({c: "0" for c in NEW_CLASSES if c != "irq"})
    kt.check_eq(traced, want, "metrics: kvmprof_class_traced")
    with open(f"{outdir}/metrics.json") as f:
        doc = json.load(f)
    kt.check_eq(doc["traced"], DEFAULT_CLASSES + ["irq"], "metrics: JSON traced lists irq")
    kt.check_eq([x["class"] for x in doc["not_traced"]], [c for c in NEW_CLASSES if c != "irq"],
                "metrics: JSON not_traced")
    for pid, g in guests.items():
        series = re.findall(rf'^kvmprof_traps_total\{{[^}}]*pid="{pid}"[^}}]*class="(\w+)"[^}}]*\}} (\d+)$', text, re.M)
        irq = sum(int(v) for c, v in series if c == "irq")
        ev, _ = table(g)
        want_irq = sum(ev[e] for e in CLASS_EVENTS["irq"] if e in ev)
        kt.check_eq(irq, want_irq, f"metrics: guest {pid}'s irq traps in /metrics (2P x 3 + M)")
        kt.check_eq([c for c, v in series if c in ("ipi", "halt")], [], f"metrics: guest {pid}: no ipi, halt series")


# ---- halt polling off and on ----
def read_param(name):
    with open(f"/sys/module/kvm/parameters/{name}") as f:
        return int(f.read())


def write_param(name, value):
    with open(f"/sys/module/kvm/parameters/{name}", "w") as f:
        f.write(str(value))


SAVED_POLL = None


def restore_poll():
    if SAVED_POLL is not None and read_param("halt_poll_ns") != SAVED_POLL:
        write_param("halt_poll_ns", SAVED_POLL)


def poll_name(line):
    """kvmprof's code for a tracefs kvm_halt_poll_ns line ("vcpu 0: halt_poll_ns 10000 (grow 0)")."""
    m = re.match(r"vcpu \d+: halt_poll_ns (\d+) \((grow|shrink) \d+\)", line)
    return f"halt_poll_ns {'grown' if m.group(2) == 'grow' else 'shrunk'} to {m.group(1)}" if m else line


def polls_of(events, maximum):
    """The poll each halt ran, from the kernel's records of one vCPU in order: KVM
    (virt/kvm/kvm_main.c, kvm_vcpu_halt) polls for the vCPU's halt_poll_ns (0 at first, at most
    the maximum) before it blocks, then may change it (kvm_halt_poll_ns) and ends the halt
    (kvm_vcpu_wakeup)."""
    cur, pending, out = 0, None, []
    for ev, text in events:
        if ev == "kvm_halt_poll_ns":
            pending = int(re.match(r"vcpu \d+: halt_poll_ns (\d+)", text).group(1))
        elif ev == "kvm_vcpu_wakeup":
            out.append(min(cur, maximum))
            if pending is not None:
                cur, pending = pending, None
    return out


def halt_run(outdir, tag, args):
    """irqload ARGS under kvmprof -e +halt and the tracefs instance: the guest line, its JSON guest,
    its kernel records in order [(event, text)]."""
    trace = TraceCount(["kvm_vcpu_wakeup", "kvm_halt_poll_ns"])
    try:
        t = kt.start([KVMPROF, "-q", "-i", "0.5", "-e", "+halt", "--json", f"{outdir}/poll-{tag}.json"])
        guests, _ = run_irqload(args, outdir, f"poll-{tag}")
        time.sleep(0.6)
        rc, out, err = kt.finish(t, signal.SIGINT)
        kt.check_eq(rc, 0, f"halt polling {tag}: kvmprof exit status")
        trace.stop()
        seq = {}
        with open(f"{trace.dir}/trace") as f:
            for line in f:
                m = TraceCount.LINE.match(line)
                if m and m.group(3)[0] != "-":
                    seq.setdefault(int(m.group(3)), []).append((m.group(4), m.group(5)))
    finally:
        trace.close()
    with open(f"{outdir}/poll-{tag}.json") as f:
        doc = json.load(f)
    (pid, g), = guests.items()
    return g, guest_of(doc, pid), seq.get(pid, [])


def check_halts(lab, g, jg, seq, maximum, want_codes=None):
    """kvmprof's halt class and halted time against the kernel's records of the run."""
    if not kt.check(jg is not None and len(jg["vcpus"]) == 1, f"{lab}: the guest and its vCPU in the JSON"):
        return
    _, names, halt = kvmprof_events(jg)
    wakes = [re.match(r"(wait|poll|poll invalid) time (\d+) ns", t) for e, t in seq if e == "kvm_vcpu_wakeup"]
    kern = {}
    for e, t in seq:
        if e == "kvm_halt_poll_ns":
            kern[poll_name(t)] = kern.get(poll_name(t), 0) + 1
    outcome = {"wait": "blocked", "poll": "poll succeeded", "poll invalid": "invalid wakeup"}
    for w in wakes:
        n = f"wakeup: {outcome[w.group(1)]}"
        kern[n] = kern.get(n, 0) + 1
    kt.check_eq(names, kern, f"{lab}: the halt class's codes vs tracefs")
    if want_codes is not None:
        kt.check_eq(names, want_codes, f"{lab}: the halt class's codes vs KVM's polling rules")
    halts = g["hlt_total"]
    kt.check_eq((len(wakes), g["kstat_halt_exits"]), (halts, halts), f"{lab}: one wakeup per halt, KVM's halt_exits")
    # every halt blocked: irqload sends a wake only once the vCPU thread sleeps
    kt.check_eq(names.get("wakeup: blocked"), halts, f"{lab}: every halt blocked")
    polls = polls_of(seq, maximum)
    kt.check_eq((g["kstat_halt_attempted_poll"], g["kstat_halt_successful_poll"]),
                (sum(1 for p in polls if p), 0), f"{lab}: KVM's halt_attempted_poll (halts that polled: "
                                                 f"{polls}), halt_successful_poll")
    # issue 15: halted is the whole halt, its polling included
    tm = jg["vcpus"][0]["time"]
    waited = sum(int(w.group(2)) for w in wakes)
    kt.check_eq(((halt or {}).get("latency") or {}).get("sum_ns"), waited, f"{lab}: time waited = tracefs' sum")
    note(f"{lab}: halted {tm['halted']} ns, the kernel's halt time {waited}, halt_wait_ns {g['kstat_halt_wait_ns']}, "
         f"wait_us_sum {g['wait_us_sum']}, polls {sum(polls)} ns {polls}")
    # kvmprof's halted runs from the halt's start (the wakeup's time back from the event) to the
    # thread's next event: a few us per halt later than the kernel's end of the halt.  A vCPU
    # preempted in a halt (runnable, off the CPU: here its blocks woken before they switched
    # out) has that time as preempted, not halted: the bounds below are that much lower, and the
    # shortfall is said.  Its time on the CPU in the halt is halted (from the hlt's mark)
    slack = 0.01 * waited + halts * 10000
    pre = tm["preempted"]
    lost = pre
    kt.check(waited - slack - lost <= tm["halted"] <= waited + slack,
             f"{lab}: halted {tm['halted']} ns vs the kernel's {waited} ns (preempted {pre} ns)")
    if tm["halted"] < waited - slack:
        print(f"said: {lab}: halted {tm['halted']} ns is {waited - tm['halted']} ns short of the kernel's halt time; "
              f"preempted {pre} ns (runnable in its halts), in KVM_RUN {tm['in_kvm_run']} ns", flush=True)
    if g["halts"]:
        kt.check(tm["halted"] >= g["wait_us_sum"] * 1000 - lost,
                 f"{lab}: halted {tm['halted']} ns >= irqload's wait_us_sum")
    # halted - KVM's blocked time (halt_wait_ns) = the polls: at most the polls KVM set (each
    # failed).  Not at least them: a poll stops early when the vCPU thread is not alone on its
    # CPU (single_task_running), and the kernel's own halt time, checked above, has what ran.
    extra = tm["halted"] - g["kstat_halt_wait_ns"]
    kt.check(extra <= sum(polls) + halts * 100000,
             f"{lab}: halted - halt_wait_ns = {extra} ns, at most the polls' {sum(polls)} ns")
    return tm


def test_halt_polling(outdir):
    """Halts with KVM's halt polling as it is set, then off (kvm.halt_poll_ns 0) and on (1 s),
    the module parameter saved and restored.  What KVM does (virt/kvm/kvm_main.c,
    kvm_vcpu_halt): a vCPU polls for its own halt_poll_ns (0 at first, at most the module's)
    before it blocks; after a halt shorter than the module's value that outlasted the vCPU's
    poll, the poll grows (x halt_poll_ns_grow, at least halt_poll_ns_grow_start), after one
    longer than it the poll shrinks: one kvm_halt_poll_ns event each; with 0 nothing polls.
    irqload sends each wake only once the vCPU thread sleeps, so no poll ever succeeds here:
    every halt blocks, polled first or not (a poll that succeeds needs irqload to wake a halt
    without waiting for the block).  Off and on, N = 8 halts woken D = 2 ms after they began:
    off, no poll; on, with the defaults (grow start 10 us, x2) the polls are 0, 10, 20 ... 640 us,
    all shorter than D: 8 grow events (10 us ... 1.28 ms), 7 polls attempted, none successful.
    The halted time (issue 15) is the whole halt, polling included: N x D and a little in both
    runs, and KVM's halt_wait_ns (blocked only) plus the polls' 1.27 ms with polling on."""
    global SAVED_POLL
    SAVED_POLL = read_param("halt_poll_ns")
    grow, start_ns = read_param("halt_poll_ns_grow"), read_param("halt_poll_ns_grow_start")
    # as set: immediate wakes (--irq-line: halts of 50-100 us here, below the default 200 us,
    # so the poll grows and shrinks) and 2 ms ones (--hlt-wake); the codes against the kernel's
    g, jg, seq = halt_run(outdir, "as-set", ["--irqchip", "--irq-line", "12", "--hlt-wake", "3", "--wake-us", "2000"])
    check_halts(f"halt polling as set ({SAVED_POLL} ns)", g, jg, seq, SAVED_POLL)
    writable = os.access(HALT_POLL, os.W_OK) and os.stat(HALT_POLL).st_mode & 0o200
    if not writable:
        print(f"  note: {HALT_POLL} is read-only on this kernel (mode {oct(os.stat(HALT_POLL).st_mode & 0o777)}): "
              "polling cannot be turned off or up here", flush=True)
        return
    N, D = 8, 2000
    polls, p = [], 0
    for _ in range(N):
        polls.append(p)
        p = max(p * grow, start_ns)
    grown = [max(x * grow, start_ns) for x in polls]
    if not kt.check(grow >= 2 and max(polls) < D * 1000 / 2,
                    f"halt polling: halt_poll_ns_grow {grow}, grow start {start_ns}: polls {polls} well below D"):
        return
    tms = {}
    try:
        for tag, value in (("off", 0), ("on", 1000000000)):
            write_param("halt_poll_ns", value)
            kt.check_eq(read_param("halt_poll_ns"), value, f"halt polling {tag}: halt_poll_ns set")
            g, jg, seq = halt_run(outdir, tag, ["--irqchip", "--hlt-wake", str(N), "--wake-us", str(D)])
            want = {"wakeup: blocked": N}
            if tag == "on":
                want.update({f"halt_poll_ns grown to {v}": 1 for v in grown})
            tm = check_halts(f"halt polling {tag}", g, jg, seq, value, want)
            if tm:
                kt.check(N * D * 1000 <= tm["halted"] <= N * (D + 1000) * 1000,
                         f"halt polling {tag}: halted {tm['halted']} ns ~ {N} x {D} us")
                tms[tag] = tm
    finally:
        restore_poll()
    kt.check_eq(read_param("halt_poll_ns"), SAVED_POLL, "halt_poll_ns restored")


def missing():
    if not TRACEFS:
        return "no tracefs with kvm events"
    if not os.access(IRQLOAD, os.X_OK):
        return f"{IRQLOAD} is not built (make tests/irqload)"
    if subprocess.run(["perf", "--version"], capture_output=True).returncode != 0:
        return "no perf (apt-get install linux-perf)"
    if not os.path.exists(HALT_POLL):
        return "no kvm module parameters"
    return None


def main():
    return kt.main("events", [test_modes, test_default_set, test_metrics, test_halt_polling],
                   "kvmprof-events-", missing=missing, at_end=restore_poll, remove_outdir=True)


if __name__ == "__main__":
    sys.exit(main())
