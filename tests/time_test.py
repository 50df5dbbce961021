#!/usr/bin/env python3
"""vCPU time accounting (issue 15) against guests whose time we script.

Ground truth is the scripted guest, never kvmprof itself: tests/guestload
sleeps a known time on chosen VMM trips (--sleep-us, --sleep-every) and
measures its sleeps (slept=, slept_us=, per vCPU with --per-vcpu);
tests/irqload halts its vCPU a known time per halt (--hlt-wake, --wake-us)
and reads KVM's own halt_wait_ns; a CPU hog pinned to the vCPU thread's CPU
(guestload --pin) makes it runnable but not running about half the time, and
the thread's own schedstat over its KVM_RUN (sched_run_us=, sched_wait_us=)
tells how long it ran and how long it waited for a CPU.  Every tolerance is
beside its check with the figures it was measured from (TIME_TEST_VERBOSE=1
prints them).

On this host (PVM KVM) kvm_exit/kvm_entry never fire, so guest and exit are
one state, in_kvm_run; the tests check that kvmprof says so.

Tests (names on the command line run only those):
  test_vmm          vmm per thread vs the sleeps, states sum to wall, JSON,
                    CSV, CSV/JSON series and Prometheus agree
  test_halted       halted per vCPU vs --hlt-wake N x --wake-us D and KVM's
                    halt_wait_ns; kvm_vcpu_wakeup counts exact with -e +halt
  test_preempted    a spinning vCPU sharing its CPU with a hog: preempted
                    about half; alone: about none
  test_slow_log     --slow/--slow-log: exactly the slow trips, each in full;
                    none above the sleep; bad command lines exit 2
  test_percentiles  p50/p90/p99 in the log2 bucket the histogram says,
                    stddev and histogram against every trip's own duration
  test_filters      --vcpu 1 and --tid (vCPU 0's): only that thread, exact
  test_sort         --sort total vs count reorders the codes
  test_no_time      --no-time leaves the time out everywhere
"""
import csv
import datetime
import glob
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvmtest as kt  # noqa: E402  (the tally, processes, kvmprof runner, CSV reader)

KVMPROF = kt.KVMPROF
GUESTLOAD = kt.GUESTLOAD
IRQLOAD = os.path.join(kt.ROOT, "tests", "irqload")
STATES = ("in_kvm_run", "vmm", "halted", "preempted", "outside")  # this host: guest+exit not apart
CSV_STATE = {"in_kvm_run": "kvm_run"}  # the CSV's code_name for a state, where it differs
# irqload starts --wake-us D at the halt counter, which the guest bumps a few emulated instructions
# before its hlt: a halt may be that much shorter than D (CI saw 99 ns)
HLT_AFTER_COUNTER_NS = 20000


# ---- the scripted VMMs ----
class VMM:
    """One guestload or irqload process (-g 1) waiting for its start file."""

    def __init__(self, binary, args, start_file):
        self.args = args
        self.proc = subprocess.Popen([binary, "--wait-start", start_file] + args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        kt.LIVE.append(self.proc)
        line = self.proc.stdout.readline()
        m = re.match(r"ready pid=(\d+)", line)
        if not m:
            raise RuntimeError(f"{binary} not ready: {line!r} {self.proc.stderr.read()}")
        self.pid = int(m.group(1))

    def tids(self):
        """{vCPU number: tid} from the threads' names ("CPU n/KVM"), read while they wait."""
        out = {}
        for path in glob.glob(f"/proc/{self.pid}/task/*/comm"):
            with open(path) as f:
                m = re.fullmatch(r"CPU (\d+)/KVM", f.read().strip())
            if m:
                out[int(m.group(1))] = int(path.split("/")[4])
        return out

    def finish(self):
        """The guest line and the --per-vcpu lines ({vcpu: fields}), as ints where they are."""
        out, err = kt.drain(self.proc, 120)
        kt.check_eq(self.proc.returncode, 0, f"{' '.join(self.args)}: exit status ({err.strip()})")
        guest, vcpus = None, {}
        for line in out.splitlines():
            kind = line.split(" ", 1)[0]
            if kind not in ("guest", "vcpu"):
                continue
            f = {}
            for kv in line.split()[1:]:
                k, _, v = kv.partition("=")
                f[k] = int(v) if re.fullmatch(r"\d+", v) else v
            if kind == "guest":
                guest = f
            else:
                vcpus[f["vcpu"]] = f
        if guest is None:
            raise RuntimeError(f"no guest line: {out!r} {err!r}")
        return guest, vcpus


def profile(argv):
    """kvmprof in the background, attached; the monotonic time it was launched."""
    t_launch = time.monotonic()
    return kt.start([KVMPROF] + argv), t_launch


def stop(t, label):
    rc, out, err = kt.finish(t, signal.SIGINT)
    kt.check_eq(rc, 0, f"{label}: kvmprof exit status after SIGINT ({err.strip()[-300:]})")
    return out, err


def load_json(path):
    with open(path) as f:
        return json.load(f)


def guest_of(doc, pid):
    g = [x for x in doc["guests"] if x["pid"] == pid]
    return g[0] if g else None


def cls_of(guest, name):
    c = [x for x in guest["classes"] if x["class"] == name]
    return c[0] if c else None


def code_of(cls, name):
    c = [x for x in (cls or {}).get("codes", []) if x["name"] == name]
    return c[0] if c else None


def note(text):
    """A measured figure, printed with TIME_TEST_VERBOSE=1 (how the tolerances were chosen)."""
    if os.environ.get("TIME_TEST_VERBOSE"):
        print("  measured:", text, flush=True)


def close(got, want, rel, what, abs_=0):
    """got within rel (a fraction) of want, or abs_ ns, whichever is larger."""
    ok = got is not None and want is not None and abs(got - want) <= max(rel * abs(want), abs_)
    return kt.check(ok, f"{what}: got {got}, want {want} within {rel:.1%}" + (f" or {abs_}" if abs_ else ""))


def scrape_vcpu_seconds(port):
    """{(pid, vcpu, state): seconds} of kvmprof_vcpu_seconds_total, and the guest labels seen."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    out, guests = {}, set()
    for line in text.splitlines():
        m = re.fullmatch(r'kvmprof_vcpu_seconds_total\{pid="(\d+)",guest="([^"]*)",vcpu="(\d+)",'
                         r'state="([a-z_]+)"\} (\S+)', line)
        if m:
            out[(int(m.group(1)), int(m.group(3)), m.group(4))] = float(m.group(5))
            guests.add(m.group(2))
    return out, guests


def vcpu_time_rows(path):
    """The --csv / --csv-series vcpu_time rows: [(row dict)]."""
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r["class"] == "vcpu_time"]


def check_states_sum(label, time_obj, wall):
    """The states of a thread (or guest) sum to its wall within 1%, the issue's bound (exact in every
    run here: the record's states tile the thread's time from its first event, outside the rest)."""
    total = sum(time_obj[s] for s in STATES)
    close(total, wall, 0.01, f"{label}: states sum to the wall")


# ---- a. vmm ----
def test_vmm(outdir):
    """Two vCPUs, 40 PIO exits each, the VMM sleeping 2 ms after every KVM_RUN return; the guest
    starts after kvmprof's first read (as a guest does that starts while kvmprof runs)."""
    D_US, N_PIO = 2000, 40
    start = f"{outdir}/vmm.start"
    g = VMM(GUESTLOAD, ["-c", "2", "--pio", str(N_PIO), "--sleep-us", str(D_US), "--per-vcpu",
                        "-name", "guest=tvmm"], start)
    port = kt.free_port()
    paths = {k: f"{outdir}/vmm.{k}" for k in ("json", "csv", "series.csv", "series.jsonl")}
    t, t_launch = profile(["-q", "-i", "0.5", "-p", str(g.pid), "--json", paths["json"], "--csv", paths["csv"],
                           "--csv-series", paths["series.csv"], "--json-series", paths["series.jsonl"],
                           "--listen", f"127.0.0.1:{port}"])
    t_ready = time.monotonic()
    time.sleep(0.7)  # past the first read (0.5 s): the threads are first seen in a later interval
    t_touch = time.monotonic()
    open(start, "w").close()
    guest, per = g.finish()
    t_done = time.monotonic()
    time.sleep(1.2)  # two reads after the threads ended: their times no longer change
    prom, prom_guests = scrape_vcpu_seconds(port)
    stop(t, "vmm")

    doc = load_json(paths["json"])
    ta = doc.get("time_accounting") or {}
    kt.check_eq((ta.get("guest_and_exit_apart"), ta.get("halt_polling_as_halted")), (False, True),
                "vmm: time_accounting says guest and exit are not apart on this host, polling is halted")
    jg = guest_of(doc, g.pid)
    if not kt.check(jg is not None and "vcpus" in jg, f"vmm: guest {g.pid} with vcpus in the JSON"):
        return
    tid_of = {v["vcpu"]: v["tid"] for v in per.values()}
    threads = {v["tid"]: v for v in jg["vcpus"]}
    kt.check_eq(sorted(threads), sorted(tid_of.values()), "vmm: one JSON vcpus entry per vCPU thread")
    kt.check_eq({v["tid"]: v["vcpu"] for v in jg["vcpus"]}, {t_: n for n, t_ in tid_of.items()},
                "vmm: vcpu numbers of the threads")
    for vcpu, f in sorted(per.items()):
        th = threads.get(f["tid"])
        if not th:
            continue
        lab = f"vmm vcpu{vcpu}"
        tm, wall = th["time"], th["wall"]
        kt.check(tm["guest"] is None and tm["exit"] is None, f"{lab}: guest and exit null ({tm})")
        # every trip but the last (never closed by a KVM_RUN: its sleep is outside once the thread
        # ends) holds a whole sleep of >= D: an exact lower bound
        kt.check(tm["vmm"] >= (f["kvm_run"] - 1) * D_US * 1000,
                 f"{lab}: vmm {tm['vmm']} ns >= ({f['kvm_run']} returns - 1) x {D_US} us")
        # against the sleeps the guest measured, less the last one: a
        # trip is its sleep plus the VMM's handling of the exit and the way in and out of the
        # ioctl, measured 2-4 us per trip here; 100 us per trip plus 2% bounds that on a loaded
        # host and still catches a trip counted twice or lost (2 ms each)
        slept = (f["slept_us"] - f["last_sleep_us"]) * 1000
        note(f"{lab}: vmm {tm['vmm']} ns, closed trips' sleeps {slept:.0f} ns, "
             f"{(tm['vmm'] - slept) / (f['kvm_run'] - 1) / 1000:.1f} us more per trip; "
             f"halted {tm['halted']} preempted {tm['preempted']} in_kvm_run {tm['in_kvm_run']} wall {wall}")
        kt.check(slept * 0.98 <= tm["vmm"] <= slept * 1.02 + (f["kvm_run"] - 1) * 100000,
                 f"{lab}: vmm {tm['vmm']} ns vs the guest's sleeps on closed trips {slept:.0f} ns")
        check_states_sum(lab, tm, wall)
        # halted and preempted stay near 0 (the vCPU sleeps in the VMM, not in KVM_RUN): the three
        # other states make the wall within 1%
        close(tm["in_kvm_run"] + tm["vmm"] + tm["outside"], wall, 0.01, f"{lab}: in_kvm_run + vmm + outside")
        # outside holds at least the time between kvmprof's start and the guest's (the thread did
        # nothing then); the wall fits between kvmprof's launch and the guest's end
        kt.check(tm["outside"] >= (t_touch - t_ready) * 1e9,
                 f"{lab}: outside {tm['outside']} ns >= the {t_touch - t_ready:.3f} s before the guest started")
        kt.check(wall <= (t_done - t_launch) * 1e9,
                 f"{lab}: wall {wall} ns <= the {t_done - t_launch:.3f} s from kvmprof's launch to the guest's end")
        kt.check(tm["in_kvm_run"] > 0, f"{lab}: some time in KVM_RUN")
    # the guest's time and wall are its threads' sums
    for s in STATES + ("guest", "exit"):
        want = None if s in ("guest", "exit") else sum(v["time"][s] for v in jg["vcpus"])
        kt.check_eq(jg["time"][s], want, f"vmm: guest time {s} is the threads' sum")
    kt.check_eq(jg["wall"], sum(v["wall"] for v in jg["vcpus"]), "vmm: guest wall is the threads' sum")

    # --csv: the same totals, one vcpu_time row per thread and state, wall_ns last
    got = {tid: v for (pid, tid), v in kt.read_time_csv(paths["csv"]).items() if pid == g.pid}
    want = {tid: dict({CSV_STATE.get(s, s): th["time"][s] for s in STATES}, wall=th["wall"])
            for tid, th in threads.items()}
    kt.check_eq(got, want, "vmm: --csv vcpu_time rows and wall_ns equal the JSON, no guest/exit rows")
    rows = [r for r in vcpu_time_rows(paths["csv"]) if int(r["pid"]) == g.pid]
    kt.check_eq({(int(r["tid"]), r["vcpu"]) for r in rows}, {(tid, str(th["vcpu"])) for tid, th in threads.items()},
                "vmm: --csv vcpu_time rows carry the vCPU")

    # --csv-series: per interval, shares that sum to 1; summed, the totals within 1%
    srows = [r for r in vcpu_time_rows(paths["series.csv"]) if int(r["pid"]) == g.pid]
    sums, walls, shares = {}, {}, {}
    for r in srows:
        k = (int(r["tid"]), r["code_name"])
        sums[k] = sums.get(k, 0) + int(r["count"])
        iv = (int(r["tid"]), r["elapsed_s"])
        walls[iv] = int(r["wall_ns"])
        shares[iv] = shares.get(iv, 0) + float(r["rate_per_s"])
        if int(r["wall_ns"]):
            # rate_per_s is the state's share of the interval's wall, 6 decimals
            kt.check(abs(float(r["rate_per_s"]) - int(r["count"]) / int(r["wall_ns"])) <= 1e-6,
                     f"vmm: series share {r['rate_per_s']} = {r['count']} / {r['wall_ns']} ns")
    kt.check(all(abs(v - 1) <= 5e-6 for v in shares.values()),
             f"vmm: series shares of each interval sum to 1 ({sorted(shares.values())[:3]})")
    for tid, th in threads.items():
        for s in STATES:
            # the states measured inside the run (not outside) add up to the totals: exactly is
            # what the loader does; 1% is the bound
            if s != "outside":
                close(sums.get((tid, CSV_STATE.get(s, s)), 0), th["time"][s], 0.01,
                      f"vmm: series {s} of tid {tid} sums to the total", abs_=1000)
        close(sums.get((tid, "outside"), 0), th["time"]["outside"], 0.01,
              f"vmm: series outside of tid {tid} sums to the total (the total counts outside from kvmprof's "
              "start, the series only from the interval the thread was first seen in)")
        close(sum(w for (t_, _), w in walls.items() if t_ == tid), th["wall"], 0.01,
              f"vmm: series wall_ns of tid {tid} sums to its wall")
    # --json-series: the same interval values as --csv-series
    jser = {}
    with open(paths["series.jsonl"]) as f:
        for line in f:
            d = json.loads(line)
            for tg in d.get("time", []):
                if tg["pid"] != g.pid:
                    continue
                for v in tg["vcpus"]:
                    for s in STATES:
                        k = (v["tid"], CSV_STATE.get(s, s))
                        jser[k] = jser.get(k, 0) + v["time"][s]
                    kt.check(v["time"]["guest"] is None and v["time"]["exit"] is None,
                             "vmm: json-series guest/exit null")
    kt.check_eq(jser, sums, "vmm: --json-series interval values equal --csv-series")

    # Prometheus, scraped after the threads ended: their seconds are final, so they equal the
    # JSON to the nanosecond the exposition prints (9 decimals)
    want = {(g.pid, th["vcpu"], s): th["time"][s] for th in threads.values() for s in STATES}
    got = {k: v for k, v in prom.items() if k[0] == g.pid}
    kt.check_eq(sorted(got), sorted(want), "vmm: /metrics state labels per vCPU (in_kvm_run, not guest/exit)")
    bad = [(k, got[k], want[k] / 1e9) for k in want if k in got and abs(got[k] * 1e9 - want[k]) > 1.5]
    kt.check(not bad, f"vmm: /metrics kvmprof_vcpu_seconds_total equals the JSON within 1 ns ({bad[:3]})")
    kt.check_eq(prom_guests, {"tvmm"}, "vmm: /metrics guest label")


# ---- b. halted ----
def test_halted(outdir):
    """irqload, two guests at once: 20 halts each woken >= 5 ms after the VMM saw it begin, and 300
    short ones (>= 30 us), where KVM polls before it blocks (halt_poll_ns; irqload wakes a vCPU only
    once it blocked, so every poll fails and is part of the halt).  KVM's halt_wait_ns counts the
    blocked part of each halt, kvm_vcpu_wakeup's time (the halt class's latency, -e +halt) all of
    it, polls included.  The two run at once (run one after the other, the short halts' polls
    mostly stopped at once: KVM polls only while nothing else is runnable on the CPU, and the
    VMM's poller often is).  A halt's time is not all halted:
    where the vCPU is preempted in it before it blocks (irqload's VMM busy-polls /proc for the
    block, on any CPU, and other users' work too) kvmprof counts that preempted, and the poll before
    such a preemption stays in_kvm_run: up to a quarter of the short halts' time, measured.  So the
    bounds that hold on any host are checked always, the scripted figures where the run was quiet
    (little preemption, the VMM on time)."""
    N, D_US = 20, 5000
    NP, DP_US = 300, 30
    start = f"{outdir}/halt.start"
    g = VMM(IRQLOAD, ["--irqchip", "--hlt-wake", str(N), "--wake-us", str(D_US), "-name", "guest=thalt"], start)
    gp = VMM(IRQLOAD, ["--irqchip", "--hlt-wake", str(NP), "--wake-us", str(DP_US), "-name", "guest=thpoll"], start)
    pids = ["-p", str(g.pid), "-p", str(gp.pid)]
    # with -e +halt (kvm_vcpu_wakeup counted as the halt class) and without (attached for the time)
    t_halt, _ = profile(["-q", "-i", "0.5", "-e", "+halt", "--json", f"{outdir}/halt.json"] + pids)
    t_def, _ = profile(["-q", "-i", "0.5", "--json", f"{outdir}/halt-default.json"] + pids)
    open(start, "w").close()
    guests = {"long": (g, g.finish()[0], N, D_US), "polled": (gp, gp.finish()[0], NP, DP_US)}
    time.sleep(0.6)
    stop(t_halt, "halted -e +halt")
    stop(t_def, "halted default")
    for kind, (vm, guest, n, d_us) in guests.items():
        kt.check_eq((guest["halts"], guest["hlt_total"], guest["taken"], guest["stray"]), (n, n, n, 0),
                    f"halted/{kind}: irqload halted and woke exactly as scripted")
    kt.check(guests["polled"][1].get("kstat_halt_attempted_poll", 0) > 0,
             f"halted/polled: KVM tried to poll before blocking ({guests['polled'][1].get('kstat_halt_attempted_poll')})")
    wakeup_ns = {}  # per guest, kvm_vcpu_wakeup's time summed: each halt whole, as KVM measured it
    for jg in load_json(f"{outdir}/halt.json")["guests"]:
        halt = cls_of(jg, "halt")
        wakeup_ns[jg["pid"]] = ((halt or {}).get("latency") or {}).get("sum_ns")
    polls = (wakeup_ns.get(gp.pid) or 0) - guests["polled"][1]["kstat_halt_wait_ns"]
    if polls < 0.1 * (wakeup_ns.get(gp.pid) or 0):  # halt_poll_ns grows only on some runs
        print(f"test_halted: the short halts' polls took {polls} ns of {wakeup_ns.get(gp.pid)}: this run "
              "cannot tell polls counted as halted from polls left out", flush=True)
    for tag, path in (("-e +halt", "halt.json"), ("default", "halt-default.json")):
        doc = load_json(f"{outdir}/{path}")
        kt.check_eq(doc["time_accounting"]["halt_polling_as_halted"], True, f"halted/{tag}: polling as halted")
        for kind, (vm, guest, n, d_us) in guests.items():
            jg = guest_of(doc, vm.pid)
            lab = f"halted/{kind}/{tag}"
            if not kt.check(jg and len(jg.get("vcpus", [])) == 1, f"{lab}: one vCPU thread in the JSON"):
                continue
            tm, wall = jg["vcpus"][0]["time"], jg["vcpus"][0]["wall"]
            wait_ns = guest["kstat_halt_wait_ns"]  # KVM's own time blocked in its halts (not the polls)
            note(f"{lab}: halted {tm['halted']} ns = {n} x ({d_us} + {(tm['halted'] / n / 1000 - d_us):.1f}) us; "
                 f"KVM halt_wait_ns {wait_ns} ({tm['halted'] / wait_ns - 1:+.3%}, "
                 f"{(wait_ns - tm['halted']) / n:.0f} ns per halt); kvm_vcpu_wakeup time {wakeup_ns.get(vm.pid)}; "
                 f"preempted {tm['preempted']}")
            halts_ns = wakeup_ns.get(vm.pid) or 0  # the halts' whole time, polls included
            # any host: kvmprof never counts more halted than KVM's halts took (measured +0.0% to
            # +0.21%: the tracepoint fires a little after KVM's clock read; 0.5% + 20 us a halt)
            kt.check(tm["halted"] <= halts_ns * 1.005 + n * 20000,
                     f"{lab}: halted {tm['halted']} ns <= the halts' time {halts_ns}")
            # any host: the VMM sends each wake >= D after it saw the halt's counter, once the
            # thread blocked; until then the vCPU is halted or, if something took its CPU,
            # preempted (the counter to the block, sti and hlt, take < 10 us: 50 us a halt)
            kt.check(tm["halted"] + tm["preempted"] >= n * max(d_us - 50, 0) * 1000,
                     f"{lab}: halted + preempted {tm['halted'] + tm['preempted']} ns >= {n} x {d_us} us")
            if kind == "polled":
                # any host: the polls are halted too.  Without them halted + preempted would be
                # near KVM's halt_wait_ns (the blocked part), here a third to all of the halts'
                # time (how far halt_poll_ns grew); with them it is the halts' time less the
                # polls cut by a preemption, 0.87 of it at worst measured: 0.8
                kt.check(tm["halted"] + tm["preempted"] >= 0.8 * halts_ns,
                         f"{lab}: halted + preempted {tm['halted'] + tm['preempted']} ns >= 0.8 x the halts' "
                         f"time {halts_ns} (polls counted as halted)")
            # quiet enough for the script: the vCPU preempted for at most 3% of its halts, the VMM
            # waking it within 1 ms of its D on average
            quiet = tm["preempted"] <= 0.03 * halts_ns and guest["wait_us_sum"] <= n * (d_us + 1000)
            if not quiet:
                print(f"test_halted: {lab}: a busy run (preempted {tm['preempted']} ns, the VMM's waits "
                      f"{guest['wait_us_sum']} us): the scripted figures not checked", flush=True)
            elif kind == "long":
                # quiet: the VMM's detection delay and the wake-up latency, 140-260 us a halt
                # measured here on a quiet host; 1.5 ms a halt above D
                kt.check(n * (d_us - 50) * 1000 <= tm["halted"] <= n * (d_us + 1500) * 1000,
                         f"{lab}: halted {tm['halted']} ns ~ {n} x {d_us} us")
                # and KVM's own blocked time: within 0.3% here; 2%
                close(tm["halted"], wait_ns, 0.02, f"{lab}: halted vs KVM's halt_wait_ns")
            else:
                # quiet: halted is the halts' whole time less their last few us (the vCPU on its
                # CPU again before kvm_vcpu_wakeup fires): 0 to 6.5 us a halt short measured; 2% +
                # 10 us a halt
                close(tm["halted"], halts_ns, 0.02, f"{lab}: halted (polls included) vs the halts' time",
                      abs_=n * 10000)
            # the vCPU never left KVM_RUN but at its end (kvm_run=1: the end signal's trip is outside)
            kt.check_eq((guest["kvm_run"], tm["vmm"]), (1, 0), f"{lab}: one KVM_RUN, no time in the VMM")
            check_states_sum(lab, tm, wall)
            # halts told from preemption: a halt taken for one would leave halted near 0
            kt.check(tm["halted"] >= 0.5 * halts_ns, f"{lab}: halted {tm['halted']} ns is most of the halts' time")
            halt = cls_of(jg, "halt")
            if tag == "default":
                kt.check(halt is None, f"{lab}: no halt class without -e halt")
                continue
            # irqload's table: kvm_vcpu_wakeup = L + M + W + I, every one waited ("blocked")
            code = code_of(halt, "wakeup: blocked")
            wakeups = sum(c["count"] for c in (halt or {}).get("codes", []) if c["name"].startswith("wakeup: "))
            kt.check_eq((wakeups, (code or {}).get("count")), (n, n), f"{lab}: wakeups = --hlt-wake N, all blocked")
            lat = (code or {}).get("latency") or {}
            kt.check_eq(lat.get("count"), n, f"{lab}: a time per wakeup")
            if quiet:  # (a preemption between the counter and the hlt, on a busy host, shortens a halt)
                kt.check(lat.get("min_ns", 0) >= d_us * 1000 - HLT_AFTER_COUNTER_NS,
                         f"{lab}: every wakeup waited >= {d_us} us less the way to the hlt ({lat.get('min_ns')})")
            # kvm_vcpu_wakeup's time: the blocked part (halt_wait_ns) plus the poll before it, 0
            # for the long halts (their blocks keep halt_poll_ns from growing): 0.05% apart
            if kind == "long":
                close(lat.get("sum_ns"), wait_ns, 0.005, f"{lab}: wakeup time vs halt_wait_ns")
            else:
                kt.check((lat.get("sum_ns") or 0) >= wait_ns, f"{lab}: wakeup time {lat.get('sum_ns')} >= halt_wait_ns {wait_ns}")


# ---- c. preempted ----
HOG = "import os\nos.sched_setaffinity(0, {%d})\nwhile True:\n    pass\n"


def cpu_irq_steal_ns():
    """CPU number -> its irq + softirq + steal time so far (/proc/stat, in USER_HZ ticks)."""
    hz = os.sysconf("SC_CLK_TCK")
    out = {}
    for line in open("/proc/stat"):
        f = line.split()
        if f[0].startswith("cpu") and f[0] != "cpu":
            out[int(f[0][3:])] = (int(f[6]) + int(f[7]) + int(f[8])) * 10**9 // hz
    return out


def test_preempted(outdir):
    """Two guests at once, each one vCPU spinning in KVM_RUN (--emulate) for 1.5 s: one pinned to
    CPU 1 with a busy loop pinned there too, one alone on CPU 0."""
    if os.cpu_count() < 2:
        kt.check(False, "preempted: needs 2 CPUs")
        return
    start = f"{outdir}/pre.start"
    spin = ["--emulate", "4294967295", "--duration", "1.5", "--per-vcpu"]
    hogged = VMM(GUESTLOAD, spin + ["--pin", "1", "-name", "guest=thog"], start)
    alone = VMM(GUESTLOAD, spin + ["--pin", "0", "-name", "guest=talone"], start)
    hog = subprocess.Popen([sys.executable, "-c", HOG % 1])
    kt.LIVE.append(hog)
    t, _ = profile(["-q", "-i", "0.5", "-p", str(hogged.pid), "-p", str(alone.pid), "--json", f"{outdir}/pre.json"])
    time.sleep(0.2)  # the hog spinning
    cpu_before = cpu_irq_steal_ns()
    open(start, "w").close()
    res = {}
    for name, g in (("hogged", hogged), ("alone", alone)):
        guest, per = g.finish()
        kt.check_eq(guest["complete"], 0, f"preempted/{name}: stopped by its time limit")
        res[name] = (g, per[0])
    cpu_during = {c: ns - cpu_before.get(c, 0) for c, ns in cpu_irq_steal_ns().items()}
    hog.kill()
    hog.wait()
    time.sleep(0.3)
    stop(t, "preempted")
    doc = load_json(f"{outdir}/pre.json")
    truth = {}
    for name, (g, f) in res.items():
        jg = guest_of(doc, g.pid)
        if not kt.check(jg and len(jg.get("vcpus", [])) == 1, f"preempted/{name}: one thread in the JSON"):
            continue
        tm, wall = jg["vcpus"][0]["time"], jg["vcpus"][0]["wall"]
        lab = f"preempted/{name}"
        check_states_sum(lab, tm, wall)
        in_run = tm["in_kvm_run"] + tm["preempted"] + tm["halted"]  # the time inside KVM_RUN
        share = tm["preempted"] / in_run if in_run else -1
        # ground truth from the scheduler itself: the thread's /proc/thread-self/schedstat, read
        # by guestload just before its KVM_RUN and just after its return, gives its time on a CPU
        # and its time runnable but waiting, over that KVM_RUN
        run_ns, wait_ns = f["sched_run_us"] * 1000, f["sched_wait_us"] * 1000
        true_share = wait_ns / in_run if in_run else -1
        truth[name] = true_share
        note(f"{lab}: preempted share {share:.4f} (run delay's {true_share:.4f}); preempted {tm['preempted']} "
             f"vs run delay {wait_ns} ({(tm['preempted'] - wait_ns) / 1e6:+.2f} ms); in_kvm_run {tm['in_kvm_run']} "
             f"vs on a CPU {run_ns} ({(tm['in_kvm_run'] - run_ns) / 1e6:+.2f} ms); states - wall "
             f"{sum(tm[s_] for s_ in STATES) - wall}")
        kt.check(in_run >= 1.4e9, f"{lab}: ~1.5 s inside KVM_RUN ({in_run} ns)")
        kt.check(tm["halted"] <= 0.01 * in_run, f"{lab}: halted {tm['halted']} ns ~ 0 (it never halts)")
        # kvmprof's preempted is the run delay, its in_kvm_run the time on a CPU: measured within
        # 4 ms of 1.5 s on a quiet host, and up to 22 ms (1.5%) on a CI machine, on the CPU the
        # loader and this test share; the scheduler's CPU time leaves out the interrupts and
        # the steal on the thread's CPU (/proc/stat, added where kvmprof's is the larger).  2%
        # of the time in KVM_RUN (30 ms) still catches preemption counted as running or halted
        # (the hog's half: 750 ms) and a state missed for more than a few scheduler slices
        cpu = 1 if name == "hogged" else 0
        slack = 0.02 * in_run
        close(tm["preempted"], wait_ns, 0, f"{lab}: preempted vs the thread's run delay", abs_=slack)
        over = tm["in_kvm_run"] - run_ns
        kt.check(-slack <= over <= slack + cpu_during.get(cpu, 0),
                 f"{lab}: in_kvm_run {tm['in_kvm_run']} vs the thread's time on a CPU {run_ns}: within "
                 f"{slack:.0f} ns, {cpu_during.get(cpu, 0)} more for CPU {cpu}'s interrupts and steal")
        kt.check(abs(share - true_share) <= 0.02, f"{lab}: preempted share {share:.4f} vs the run delay's "
                 f"{true_share:.4f} within 0.02")
    # the scripted shares, where the host let the script happen: a hog on the same CPU takes
    # half (measured 0.49-0.51 on a quiet host; 0.40-0.60 allows CFS's slices and a little other
    # load, and still catches preemption counted as running (0), as halted, or running counted
    # as preempted (1)); alone, only the odd kworker or timer (measured < 0.5%; 5%).  Other
    # users' work on the CPUs (the run delay says how much) can move both: then only the
    # comparisons with the run delay above count, and a note says so.
    sh = {n: (lambda t_: t_["preempted"] / (t_["in_kvm_run"] + t_["preempted"] + t_["halted"]))(
        guest_of(doc, g.pid)["vcpus"][0]["time"]) for n, (g, _) in res.items() if n in truth}
    if len(truth) == 2:
        if 0.42 <= truth["hogged"] <= 0.58 and truth["alone"] <= 0.03:
            kt.check(0.40 <= sh["hogged"] <= 0.60, f"preempted/hogged: share {sh['hogged']:.3f} ~ 0.5")
            kt.check(0 <= sh["alone"] <= 0.05, f"preempted/alone: share {sh['alone']:.4f} ~ 0")
        else:
            print(f"test_preempted: the host was busy (run delay shares: with the hog {truth['hogged']:.3f}, "
                  f"alone {truth['alone']:.3f}): the scripted 0.5 and 0 not checked, only kvmprof against the "
                  "run delay", flush=True)


# ---- d. slow log ----
SLOW_KEYS = {"time", "guest", "pid", "vcpu", "tid", "class", "code", "name", "detail", "device", "rip", "duration_ns"}


def parse_slow(lines, label):
    """The JSON lines of a slow log; each must be valid JSON with exactly the documented keys."""
    out = []
    for line in lines:
        try:
            d = json.loads(line)
        except ValueError:
            kt.check(False, f"{label}: not JSON: {line!r}")
            continue
        kt.check(isinstance(d, dict) and set(d) == SLOW_KEYS, f"{label}: keys of {line!r}")
        out.append(d)
    return out


def test_slow_log(outdir):
    """guestload, 2 vCPUs x 24 PIO exits, sleeping 3 ms after every 5th KVM_RUN return.  Each vCPU
    returns 25 times (24 + the end signal) and sleeps 5 times; the 5th sleep follows the end
    signal, a trip never closed by a KVM_RUN (the thread ends): 4 slow trips per vCPU."""
    D_US, K, N_PIO = 3000, 5, 24
    start = f"{outdir}/slow.start"
    g = VMM(GUESTLOAD, ["-c", "2", "--pio", str(N_PIO), "--sleep-us", str(D_US), "--sleep-every", str(K),
                        "--per-vcpu", "-name", "guest=tslow"], start)
    tids = g.tids()
    wall0 = time.time()
    base = ["-q", "-i", "0.5", "-p", str(g.pid)]
    t_file, _ = profile(base + ["--slow", "1500us", "--slow-log", f"{outdir}/slow.log", "--json", f"{outdir}/slow.json"])
    # above the sleep: 8 ms, well past a 3 ms sleep's overshoot
    t_high, _ = profile(base + ["--slow", "8ms", "--slow-log", f"{outdir}/slow-high.log"])
    t_err = kt.start([KVMPROF] + base + ["--slow", "1500us"])  # to stderr
    open(start, "w").close()
    guest, per = g.finish()  # the guest ends before kvmprof stops: no trip is still open
    time.sleep(0.6)
    stop(t_file, "slow")
    stop(t_high, "slow above the sleep")
    _, err = stop(t_err, "slow to stderr")
    wall1 = time.time()

    kt.check_eq(tids, {v: f["tid"] for v, f in per.items()}, "slow: tids from /proc equal guestload's")
    kt.check_eq(guest["slept"], 2 * ((N_PIO + 1) // K), "slow: the guest slept floor(returns / K) per vCPU")
    want = {}
    for v, f in per.items():  # the sleeps of closed trips: all but one after the last return
        want[f["tid"]] = f["slept"] - (1 if f["kvm_run"] % K == 0 else 0)
    with open(f"{outdir}/slow.log") as f:
        file_lines = f.read().splitlines()
    err_lines = [l for l in err.splitlines() if l.startswith("{")]
    for tag, lines in (("--slow-log", file_lines), ("stderr", err_lines)):
        recs = parse_slow(lines, f"slow/{tag}")
        got = {}
        for r in recs:
            got[r["tid"]] = got.get(r["tid"], 0) + 1
        kt.check_eq(got, want, f"slow/{tag}: lines per vCPU thread = its slept, less the trip left open")
        kt.check_eq(len(recs), guest["slept"] - sum(1 for f in per.values() if f["kvm_run"] % K == 0),
                    f"slow/{tag}: lines = slept - the open trips")
        vcpu_of = {f["tid"]: v for v, f in per.items()}
        for r in recs:
            ok = (r["pid"] == g.pid and r["guest"] == "tslow" and r["class"] == "userspace" and r["code"] == 2
                  and r["name"] == "KVM_EXIT_IO" and r["vcpu"] == vcpu_of.get(r["tid"])
                  and r["detail"] is None and r["device"] is None and r["rip"] is None
                  and isinstance(r["duration_ns"], int) and r["duration_ns"] >= D_US * 1000)
            try:
                when = datetime.datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                    tzinfo=datetime.timezone.utc).timestamp()
            except (ValueError, TypeError):
                when = None
            ok = ok and when is not None and wall0 - 1 <= when <= wall1 + 1
            kt.check(ok, f"slow/{tag}: a whole record of a {D_US} us trip: {r}")
    with open(f"{outdir}/slow-high.log") as f:
        kt.check_eq(f.read(), "", "slow: no line with the threshold above the sleep")
    kt.check_eq(load_json(f"{outdir}/slow.json")["dropped_by"].get("slow_log_full"), 0,
                "slow: no record lost (dropped_by slow_log_full)")

    # the command line
    cases = [(["--slow-log", f"{outdir}/x.log"], "--slow-log needs --slow")]
    for bad in ("10", "-1ms", "1x", ""):
        cases.append((["--slow", bad], "--slow"))
    for argv, text in cases:
        rc, _, lines = kt.run_quick([KVMPROF, "-d", "1"] + argv)
        kt.check(rc == 2 and len(lines) == 1 and text in lines[0],
                 f"slow: kvmprof {' '.join(argv)}: exit 2 and one line naming {text} (exit {rc}: {lines})")
    kt.check(not os.path.exists(f"{outdir}/x.log"), "slow: a refused --slow-log file is not created")


# ---- e. percentiles and stddev ----
def slot_of(ns):
    """log2_slots: slot i holds [2^i, 2^(i+1) - 1] ns, slot 0 [0, 1]; the last is open."""
    return min(max(ns, 1).bit_length() - 1, 31)


def test_percentiles(outdir):
    """One vCPU, 149 PIO exits, 3 ms sleep on every 3rd return: of its 149 closed trips 49 hold a
    sleep, 100 none (returns 3, 6, ..., 147 closed; the 150th, the end signal, sleeps but stays
    open).  --slow 1ns logs every trip with its exact duration: the independent population."""
    D_US, K, N_PIO = 3000, 3, 149
    start = f"{outdir}/pct.start"
    g = VMM(GUESTLOAD, ["--pio", str(N_PIO), "--sleep-us", str(D_US), "--sleep-every", str(K), "--per-vcpu",
                        "-name", "guest=tpct"], start)
    t, _ = profile(["-q", "-i", "0.5", "-p", str(g.pid), "--slow", "1ns", "--slow-log", f"{outdir}/pct.log",
                    "--json", f"{outdir}/pct.json", "--csv", f"{outdir}/pct.csv"])
    open(start, "w").close()
    guest, per = g.finish()
    time.sleep(0.6)
    stop(t, "percentiles")
    jg = guest_of(load_json(f"{outdir}/pct.json"), g.pid)
    lat = (code_of(cls_of(jg or {"classes": []}, "userspace"), "KVM_EXIT_IO") or {}).get("latency")
    if not kt.check(lat is not None, "percentiles: KVM_EXIT_IO has a latency"):
        return
    with open(f"{outdir}/pct.log") as f:
        durs = sorted(json.loads(l)["duration_ns"] for l in f)
    n = guest["kvm_run"] - 1
    kt.check_eq((lat["count"], len(durs)), (n, n), "percentiles: every closed trip has a time and a log line")
    slow = sum(1 for d in durs if d >= D_US * 1000)
    kt.check_eq(slow, (n + 1) // K - (1 if (n + 1) % K == 0 else 0), "percentiles: trips holding a sleep")
    # the exact figures: the same samples, summed and binned independently in the test
    kt.check_eq((lat["sum_ns"], lat["min_ns"], lat["max_ns"]), (sum(durs), durs[0], durs[-1]),
                "percentiles: sum/min/max equal the trips'")
    slots = [0] * 32
    for d in durs:
        slots[slot_of(d)] += 1
    kt.check_eq(lat["log2_slots"], slots, "percentiles: log2_slots equal the trips binned")
    # p50/p90/p99: the bucket where the cumulative count first reaches q x n; kvmprof
    # interpolates inside it (clamped to min/max), so its estimate lies in that bucket, and so
    # does the true quantile (nearest rank)
    cum, hist = 0, lat["log2_slots"]
    for q, key in ((0.5, "p50_ns"), (0.9, "p90_ns"), (0.99, "p99_ns")):
        cum = 0
        for i, c in enumerate(hist):
            cum += c
            if c and cum >= q * sum(hist):
                break
        lo, hi = (0 if i == 0 else 1 << i), (1 << (i + 1)) - 1
        lo, hi = max(lo, lat["min_ns"]), min(hi, lat["max_ns"])
        v = lat[key]
        kt.check(lo <= v <= hi, f"percentiles: {key} {v} in bucket {i} [{lo}, {hi}]")
        true_q = durs[max(0, math.ceil(q * n) - 1)]
        kt.check_eq(slot_of(true_q), i, f"percentiles: the true {key[:-3]} ({true_q} ns) is in the same bucket")
    kt.check(lat["min_ns"] <= lat["p50_ns"] <= lat["p90_ns"] <= lat["p99_ns"] <= lat["max_ns"],
             f"percentiles: min <= p50 <= p90 <= p99 <= max ({lat})")
    # stddev: against the population of the logged durations (exact), and against the two-point
    # model sqrt(p (1-p)) x the guest's mean measured sleep (the fast trips' own spread, a few us,
    # is negligible); the bound is 10%
    mean = sum(durs) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in durs) / n)
    note(f"percentiles: stddev {lat['stddev_ns']} vs the trips' {sd:.0f} ({lat['stddev_ns'] / sd - 1:+.3%}) vs model "
         f"{math.sqrt(slow / n * (1 - slow / n)) * guest['slept_us'] * 1000 / guest['slept']:.0f}; p50/p90/p99 "
         f"{lat['p50_ns']}/{lat['p90_ns']}/{lat['p99_ns']} vs true {durs[math.ceil(0.5 * n) - 1]}/"
         f"{durs[math.ceil(0.9 * n) - 1]}/{durs[math.ceil(0.99 * n) - 1]}")
    close(lat["stddev_ns"], sd, 0.10, "percentiles: stddev vs the trips' own")
    p = slow / n
    model = math.sqrt(p * (1 - p)) * guest["slept_us"] * 1000 / guest["slept"]
    close(lat["stddev_ns"], model, 0.10, "percentiles: stddev vs the two-population model")
    # no upper bound: a busy host oversleeps (1.70 ms once, 3.6 ms sleeps); the model above has the real sleeps
    kt.check(sd >= 1.2e6, f"percentiles: the population's stddev is at least the scripted 1.4 ms's ({sd:.0f})")
    kt.check_eq(lat["share_of_class"], 1.0, "percentiles: the only code has all the class's time")
    # --csv carries the same figures
    with open(f"{outdir}/pct.csv", newline="") as f:
        r = [x for x in csv.DictReader(f) if x["class"] == "userspace" and x["code_name"] == "KVM_EXIT_IO"
             and x["lat_count"] != "0"]
    if kt.check(r, "percentiles: KVM_EXIT_IO rows in the CSV"):
        got = tuple(int(float(r[0][k])) for k in ("lat_p50_ns", "lat_p90_ns", "lat_p99_ns", "lat_stddev_ns"))
        want = (lat["p50_ns"], lat["p90_ns"], lat["p99_ns"], lat["stddev_ns"])
        kt.check(all(abs(a - b) <= 1 for a, b in zip(got, want)), f"percentiles: CSV {got} = JSON {want}")


# ---- f. filters ----
def test_filters(outdir):
    """Two vCPUs with the same script; --vcpu 1 and --tid (vCPU 0's) count one thread each, exactly."""
    start = f"{outdir}/filt.start"
    g = VMM(GUESTLOAD, ["-c", "2", "--pio", "30", "--mmio-write", "20", "--cpuid", "7", "--per-vcpu",
                        "-name", "guest=tfilt"], start)
    tids = g.tids()
    runs = {"vcpu1": ["--vcpu", "1"], "tid0": ["--tid", str(tids.get(0, 0))]}
    profs = {tag: profile(["-q", "-i", "0.5", "--csv", f"{outdir}/{tag}.csv", "--json", f"{outdir}/{tag}.json"]
                          + extra)[0] for tag, extra in runs.items()}
    open(start, "w").close()
    guest, per = g.finish()
    time.sleep(0.6)
    for tag, t in profs.items():
        stop(t, f"filters/{tag}")
    kt.check_eq(tids, {v: f["tid"] for v, f in per.items()}, "filters: tids from /proc equal guestload's")
    for tag, vcpu in (("vcpu1", 1), ("tid0", 0)):
        f = per[vcpu]
        rows = kt.read_csv(f"{outdir}/{tag}.csv")
        with open(f"{outdir}/{tag}.csv", newline="") as fh:
            raw = [r for r in csv.DictReader(fh) if r["tid"]]  # per thread (issue 16's check rows are per guest)
        # no -p: other guests on this host may show, but only their vCPU 1 (--vcpu 1), and no
        # thread but the chosen one (--tid)
        if tag == "vcpu1":
            kt.check_eq({r["vcpu"] for r in raw}, {"1"}, f"filters/{tag}: only vCPU 1 threads in the CSV, any guest")
        else:
            kt.check_eq({int(r["tid"]) for r in raw}, {f["tid"]}, f"filters/{tag}: only the chosen thread in the CSV")
        kt.check_eq({(r["vcpu"], int(r["tid"])) for r in raw if int(r["pid"]) == g.pid}, {(str(vcpu), f["tid"])},
                    f"filters/{tag}: only vCPU {vcpu}'s thread of the guest (every class, vcpu_time too)")
        kt.check(any(r["class"] == "vcpu_time" for r in raw), f"filters/{tag}: its vcpu_time rows")
        # each vCPU runs the whole script: half the guest's ops, its own KVM_RUN returns
        want = {("pio", "out 0x3f8"): guest["pio_out"] // 2, ("mmio", "write 0xd0000"): guest["mmio_write"] // 2,
                ("cpuid", "cpuid 0x0"): guest["cpuid"] // 2, ("pio", "out 0xf4"): 1,
                ("userspace", "KVM_EXIT_IO"): f["exit_io"], ("userspace", "KVM_EXIT_MMIO"): f["exit_mmio"]}
        got = {k: kt.code_count(rows, g.pid, *k) for k in want}
        kt.check_eq(got, want, f"filters/{tag}: vCPU {vcpu}'s counts")
        kt.check_eq(kt.class_total(rows, g.pid, "emulate"), guest["insns"] // 2, f"filters/{tag}: emulated instructions")
        kt.check_eq(kt.class_total(rows, g.pid, "userspace"), f["kvm_run"], f"filters/{tag}: KVM_RUN returns")
        jg = guest_of(load_json(f"{outdir}/{tag}.json"), g.pid)
        if kt.check(jg is not None, f"filters/{tag}: the guest in the JSON"):
            kt.check_eq([(v["vcpu"], v["tid"]) for v in jg.get("vcpus", [])], [(vcpu, f["tid"])],
                        f"filters/{tag}: one JSON vcpus entry")
            kt.check_eq(jg.get("vcpu_threads"), 1, f"filters/{tag}: vcpu_threads")
            kt.check_eq(jg.get("wall"), (jg.get("vcpus") or [{}])[0].get("wall"), f"filters/{tag}: the guest's wall is its one thread's")
    # bad values
    for argv in (["--vcpu", "-1"], ["--vcpu", "x"], ["--tid", "0"], ["--tid", "abc"]):
        rc, _, lines = kt.run_quick([KVMPROF, "-d", "1"] + argv)
        kt.check(rc == 2 and len(lines) == 1, f"filters: kvmprof {' '.join(argv)}: exit 2, one line ({rc}: {lines})")


# ---- g. sort ----
def userspace_codes(summary, pid):
    """The code names listed under the userspace class of guest pid, in order."""
    part = summary.split(f"Guest {pid} ", 1)[-1].split("\nGuest ", 1)[0]
    m = re.search(r"\n  userspace +\d+.*?\n((?:    \S.*\n)+)", part)
    return [l.split()[0] for l in m.group(1).splitlines() if l.startswith("    KVM_")] if m else []


def emulate_counts(summary, pid):
    part = summary.split(f"Guest {pid} ", 1)[-1].split("\nGuest ", 1)[0]
    m = re.search(r"\n  emulate +\d+.*?\n((?:    \S.*\n)+)", part)
    out = []
    for l in (m.group(1).splitlines() if m else []):
        mm = re.match(r"    (.+?) {2,}(\d+) ", l)
        if mm and not l.startswith("    ..."):
            out.append(int(mm.group(2)))
    return out


def test_sort(outdir):
    """10 repetitions of 9 MMIO writes and a hlt (no irqchip: KVM_EXIT_HLT), sleeping 2 ms after
    every 10th return, which is each hlt's: KVM_EXIT_MMIO is frequent and short (90 trips of a few
    us), KVM_EXIT_HLT rare and long (10 x 2 ms)."""
    start = f"{outdir}/sort.start"
    g = VMM(GUESTLOAD, ["--mmio-write", "9", "--hlt", "1", "--repeat", "10", "--sleep-us", "2000",
                        "--sleep-every", "10", "-name", "guest=tsort"], start)
    base = ["-i", "0.5", "-p", str(g.pid)]
    profs = {key: profile(["-q", "--sort", key] + base)[0] for key in ("count", "total", "mean", "max")}
    batch, _ = profile(["-b", "--sort", "total"] + base)
    open(start, "w").close()
    guest, _ = g.finish()
    kt.check_eq((guest["exit_mmio"], guest["exit_hlt"], guest["slept"]), (90, 10, 10), "sort: the scripted guest")
    time.sleep(0.7)
    outs = {key: stop(t, f"sort {key}")[0] for key, t in profs.items()}
    bout, _ = stop(batch, "sort batch")
    kt.check_eq(userspace_codes(outs["count"], g.pid), ["KVM_EXIT_MMIO", "KVM_EXIT_HLT", "KVM_EXIT_IO"],
                "sort count: userspace codes by count")
    for key in ("total", "mean", "max"):
        kt.check_eq(userspace_codes(outs[key], g.pid)[:2], ["KVM_EXIT_HLT", "KVM_EXIT_MMIO"],
                    f"sort {key}: userspace codes by {key} time")
    kt.check("codes by total" in outs["total"], "sort total: the summary says how codes are ordered")
    kt.check("TOP CODE (time)" in bout and re.search(rf"\n{g.pid} +tsort .* KVM_EXIT_HLT ", bout),
             "sort total: the batch table's TOP CODE (time) is KVM_EXIT_HLT")
    # a class without times (emulate) has nothing to order by time: its top codes stay the most
    # frequent, as with --sort count
    for key in ("count", "total"):
        c = emulate_counts(outs[key], g.pid)
        kt.check(c and c == sorted(c, reverse=True), f"sort {key}: emulate codes (no time) by count: {c}")
    rc, _, lines = kt.run_quick([KVMPROF, "--sort", "bogus", "-d", "1"])
    kt.check(rc == 2 and len(lines) == 1 and "--sort" in lines[0], f"sort: a bad key exits 2 ({rc}: {lines})")


# ---- h. --no-time ----
def test_no_time(outdir):
    start = f"{outdir}/nt.start"
    g = VMM(GUESTLOAD, ["--pio", "20", "--sleep-us", "500", "-name", "guest=tnotime"], start)
    t, _ = profile(["-q", "-i", "0.5", "-p", str(g.pid), "--no-time", "--json", f"{outdir}/nt.json",
                    "--csv", f"{outdir}/nt.csv", "--json-series", f"{outdir}/nt.jsonl"])
    open(start, "w").close()
    guest, _ = g.finish()
    time.sleep(0.6)
    out, _ = stop(t, "no-time")
    doc = load_json(f"{outdir}/nt.json")
    kt.check("time_accounting" in doc and doc["time_accounting"] is None, "no-time: JSON time_accounting null")
    jg = guest_of(doc, g.pid)
    if kt.check(jg is not None, "no-time: the guest in the JSON"):
        kt.check("vcpus" not in jg, f"no-time: no vcpus key ({sorted(jg)})")
        kt.check(jg.get("time") is None, f"no-time: no time ({jg.get('time')})")
    kt.check_eq(vcpu_time_rows(f"{outdir}/nt.csv"), [], "no-time: no vcpu_time rows in the CSV")
    with open(f"{outdir}/nt.jsonl") as f:
        kt.check(all(not json.loads(l).get("time") for l in f), "no-time: no time in the JSON series")
    kt.check("vCPU time" not in out, "no-time: no vCPU time in the summary")
    # the counts are untouched
    kt.check_exact(kt.read_csv(f"{outdir}/nt.csv"), {g.pid: {k: str(v) for k, v in guest.items()}}, "no-time")
    # and the trips still have their time in the VMM (that is the userspace class's latency)
    lat = (cls_of(jg or {"classes": []}, "userspace") or {}).get("latency") or {}
    kt.check(lat.get("min_ns", 0) >= 500000, f"no-time: VMM trips keep their latency ({lat.get('min_ns')})")
    for extra, attached in (([], True), (["--no-time"], False)):
        rc, text, _ = kt.run_quick([KVMPROF, "--list-probes"] + extra)
        line = [l for l in text.splitlines() if l.startswith("sched:sched_switch")]
        ok = rc == 0 and len(line) == 1 and (
            re.search(r"\s(tp_btf|tracepoint|btf|fentry|kprobe)\s*$", line[0]) if attached else
            re.search(r"\snone\s+--no-time\s*$", line[0]))
        kt.check(ok, f"--list-probes {' '.join(extra)}: sched:sched_switch {'attached' if attached else 'not attached'}"
                 f" ({line})")


def missing():
    for path in (GUESTLOAD, IRQLOAD, KVMPROF):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (make -s all)"
    return None


def main():
    return kt.main("time", [test_vmm, test_halted, test_preempted, test_slow_log, test_percentiles,
                            test_filters, test_sort, test_no_time], "kvmprof-time-", missing=missing,
                   remove_outdir=True)


if __name__ == "__main__":
    sys.exit(main())
