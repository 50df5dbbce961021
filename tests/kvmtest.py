"""What the Python suites share (tests/*.py import this module only, never
one another): the pass/fail tally, the processes a test started and their
cleanup, the wrappers of bundled guests (tests/guestload) and of kvmprof
running in the background, the readers of kvmprof's CSV, the exact-count
helpers, and main(), which runs a suite's tests by name and prints
"NAME: ok|FAILED (s)" per test and "SUITE: N passed, N failed" at the end
(the line tests/run_all.sh reads)."""
import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KVMPROF = os.path.join(ROOT, "kvmprof")
GUESTLOAD = os.path.join(ROOT, "tests", "guestload")
READY = r"tracing KVM traps"  # kvmprof's line on stderr once it is attached
TRACEFS = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]


# ---- the tally ----
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)
    return cond


def check_eq(got, want, what):
    return check(got == want, f"{what}: got {got}, want {want}")


def check_eq_repr(got, want, what):
    """check_eq, with both sides shown as repr (screens, escapes)."""
    return check(got == want, f"{what}: got {got!r}, want {want!r}")


# ---- processes a test started ----
LIVE = []  # processes to end if a test dies half-way


def kill_leftovers():
    for p in LIVE:
        try:  # guestload's guests are its children, in its own session
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if p.poll() is None:
            p.kill()
        p.wait()
    LIVE.clear()


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drain(proc, timeout):
    """(stdout, stderr) of proc to their ends, and its exit.  Not communicate(): it reads the
    pipes' fds and loses what a readline() before it buffered already (a guest quick enough
    prints its result line with its ready line; kvmprof a line after its ready one)."""
    got = {}

    def read(name, f):
        got[name] = f.read() if f else ""
    threads = [threading.Thread(target=read, args=(n, f), daemon=True)
               for n, f in (("out", proc.stdout), ("err", proc.stderr))]
    for th in threads:
        th.start()
    proc.wait(timeout=timeout)
    for th in threads:
        th.join(timeout=timeout)
    return got.get("out", ""), got.get("err", "")


# ---- guests and tracers ----
class Guests:
    """One guestload (or irqload: binary) invocation: its guests wait for a start file."""

    def __init__(self, args, start_file, binary=None):
        self.proc = subprocess.Popen([binary or GUESTLOAD, "--wait-start", start_file] + args,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        LIVE.append(self.proc)
        self.args = args
        self.pids = []
        while True:  # one "ready pid=" line per guest, then they wait
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("guestload ended before it was ready: " + self.proc.stderr.read())
            m = re.match(r"ready pid=(\d+)", line)
            if m:
                self.pids.append(int(m.group(1)))
                if len(self.pids) == self.count():
                    break

    def count(self):
        return int(self.args[self.args.index("-g") + 1]) if "-g" in self.args else 1

    def finish(self):
        out, err = drain(self.proc, 120)
        check_eq(self.proc.returncode, 0, f"guestload {' '.join(self.args)} exit status ({err.strip()})")
        results = {}
        for line in out.splitlines():
            if line.startswith("guest "):
                fields = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
                results[int(fields["pid"])] = fields
        return results


def one_run(args, label):
    """Runs one guestload to the end (its start file "/" always exists);
    returns its guests' facts by pid."""
    g = Guests(args + ["-name", f"guest={label}"], "/")
    return g.finish()


class Tracer:
    """A background process that prints a line once it is attached."""

    def __init__(self, argv, ready_pattern=None, stdout=subprocess.PIPE, env=None):
        self.proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, **env) if env else None)
        LIVE.append(self.proc)
        if ready_pattern:
            while True:
                line = self.proc.stderr.readline()
                if not line:
                    raise RuntimeError(f"{argv[0]} ended before it was ready (exit {self.proc.wait()})")
                if re.search(ready_pattern, line):
                    break

    def stop(self, sig=signal.SIGINT):
        self.proc.send_signal(sig)
        out, err = drain(self.proc, 60)
        return self.proc.returncode, out, err


def start(argv, env=None, **kw):
    """kvmprof in the background, once it is attached; its stderr so far is
    kept (finish() returns all of it)."""
    t = Tracer.__new__(Tracer)
    t.proc = subprocess.Popen(argv, stdout=kw.pop("stdout", subprocess.PIPE), stderr=subprocess.PIPE,
                              text=True, env=env, **kw)
    LIVE.append(t.proc)
    t.err_lines = []
    while True:
        line = t.proc.stderr.readline()
        if not line:
            raise RuntimeError(f"kvmprof ended before it was ready (exit {t.proc.wait()})")
        t.err_lines.append(line)
        if re.search(READY, line):
            return t


def finish(t, sig=None, timeout=60):
    if sig:
        t.proc.send_signal(sig)
    out, err = drain(t.proc, timeout)
    return t.proc.returncode, out or "", "".join(t.err_lines) + err


def run_quick(argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)
    return p.returncode, p.stdout, p.stderr.strip().splitlines()


# ---- kvmprof's CSV ----
def read_csv(path):
    """Per (pid, class, code_name): count, latency count, min; one entry per key row.
    A key's bucket rows come one after another (a pid reused by a later guest
    can repeat pid, tid, class and code further down: another key row).
    The vcpu_time rows (time, not traps) are read_time_csv's; the check rows
    (against KVM's counters) read_check_csv's."""
    rows = {}
    prev = None
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["class"] in ("vcpu_time", "check"):
                continue
            # a key is (tid, code, detail); exits split by detail under one code_name
            key = (int(r["pid"]), r["guest"], r["class"], r["code"], r["tid"], r["detail"])
            agg = rows.setdefault((int(r["pid"]), r["class"], r["code_name"]),
                                  {"count": 0, "lat_count": 0, "lat_min": None, "buckets": 0,
                                   "guest": r["guest"], "vcpus": set(), "devices": {}})
            agg["vcpus"].add(r["vcpu"])
            if key != prev:  # count repeats on each bucket row of a key
                prev = key
                agg["count"] += int(r["count"])
                agg["devices"][r["device"]] = agg["devices"].get(r["device"], 0) + int(r["count"])
                agg["lat_count"] += int(r["lat_count"])
                if r["lat_min_ns"]:
                    m = int(r["lat_min_ns"])
                    agg["lat_min"] = m if agg["lat_min"] is None else min(agg["lat_min"], m)
            if r["bucket_count"]:
                agg["buckets"] += int(r["bucket_count"])
                if r["class"] == "userspace" and agg.get("sleep_us"):
                    pass
            if r["bucket_lo_ns"]:
                lo = int(r["bucket_lo_ns"])
                agg["lowest_bucket"] = lo if "lowest_bucket" not in agg else min(agg["lowest_bucket"], lo)
    return rows


def read_time_csv(path):
    """The vcpu_time rows: {(pid, tid): {state: ns, ..., "wall": ns}}."""
    out = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["class"] == "vcpu_time":
                t = out.setdefault((int(r["pid"]), int(r["tid"])), {})
                t[r["code_name"]] = int(r["count"])
                t["wall"] = int(r["wall_ns"])
    return out


def read_check_csv(path):
    """The check rows: {(pid, pair): (kvmprof, kvm_low, kvm_high or None, verdict)}."""
    out = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["class"] == "check":
                out[(int(r["pid"]), r["code_name"])] = (int(r["count"]), int(r["kvm_low"]),
                                                        int(r["kvm_high"]) if r["kvm_high"] else None,
                                                        r["verdict"])
    return out


def class_total(rows, pid, cls):
    return sum(v["count"] for (p, c, _), v in rows.items() if p == pid and c == cls)


def device_total(rows, pid, cls, device):
    """Traps of a class to one device ("" for none), from the CSV's device column."""
    return sum(v["devices"].get(device, 0) for (p, c, _), v in rows.items() if p == pid and c == cls)


def code_count(rows, pid, cls, name):
    v = rows.get((pid, cls, name))
    return v["count"] if v else 0


# ---- exact counts against what the VMM did ----
def by_pid(rows):
    """read_csv's rows split per guest, for many lookups."""
    out = {}
    for k, v in rows.items():
        out.setdefault(k[0], {})[k] = v
    return out


def mismatches(rows, pid, facts):
    """What kvmprof's rows for pid get wrong against the VMM's facts (summed
    over every guest that had this pid)."""
    n = lambda k: sum(int(f[k]) for f in facts)
    vcpus = n("vcpus")
    want = {
        ("emulate", None): n("insns"), ("pio", "out 0x3f8"): n("pio_out"),
        ("pio", "in 0x3f9"): n("pio_in"), ("pio", "out 0xf4"): vcpus, ("pio", None): n("exit_io"),
        ("mmio", "unsatisfied-read 0xd0000"): n("mmio_read"), ("mmio", "read 0xd0000"): n("mmio_read"),
        ("mmio", "write 0xd0000"): n("mmio_write"), ("cpuid", "cpuid 0x0"): n("cpuid"),
        ("msr", "rdmsr 0x10"): n("msr_read"), ("msr", "wrmsr 0x8b"): n("msr_write"),
        ("userspace", None): n("kvm_run"), ("userspace", "KVM_EXIT_IO"): n("exit_io"),
        ("userspace", "KVM_EXIT_MMIO"): n("exit_mmio"), ("userspace", "KVM_EXIT_HLT"): n("exit_hlt"),
    }
    bad = []
    for (cls, code), v in want.items():
        got = class_total(rows, pid, cls) if code is None else code_count(rows, pid, cls, code)
        if got != v:
            bad.append(f"{cls} {code or 'total'}: got {got}, want {v}")
    trips = sum(v["lat_count"] for (p, c, _), v in rows.items() if p == pid and c == "userspace")
    if trips != n("kvm_run") - vcpus:
        bad.append(f"VMM trips with a time: got {trips}, want {n('kvm_run') - vcpus}")
    return bad


def check_exact(rows, results, label):
    split = by_pid(rows)
    for pid, g in results.items():
        bad = mismatches(split.get(pid, {}), pid, [g])
        check(not bad, f"{label}: guest {pid} exact ({bad[:4]})")


# ---- the runner ----
def main(suite, tests, tmp_prefix, missing=None, at_end=None, remove_outdir=False):
    """Runs the tests (functions of a temporary folder) named on the command
    line, or all of them, in order; a test that raises is a failed check.
    missing() may name what the suite cannot run without (root is checked
    here); the processes a test left are ended after it (kill_leftovers),
    at_end() runs once after them all.
    Returns the exit status."""
    if os.geteuid() != 0:
        print(f"{suite}: must run as root")
        print(f"{suite}: 0 passed, 1 failed")
        return 1
    why = missing() if missing else None
    if why:
        print(f"{suite}: {why}")
        print(f"{suite}: 0 passed, 1 failed")
        return 1
    only = sys.argv[1:]
    names = {t.__name__ for t in tests}
    for name in only:
        check(name in names, f"{suite} has no test {name} (it has {', '.join(sorted(names))})")
    outdir = tempfile.mkdtemp(prefix=tmp_prefix)
    try:
        for t in tests:
            if only and t.__name__ not in only:
                continue
            before = failed
            t0 = time.time()
            try:
                t(outdir)
            except Exception as e:  # a crashed test is a failed test
                check(False, f"{t.__name__} raised {e!r}")
            finally:
                kill_leftovers()
            print(f"{t.__name__}: {'ok' if failed == before else 'FAILED'} ({time.time() - t0:.1f} s)",
                  flush=True)
    finally:
        if at_end:
            at_end()
    if remove_outdir:
        shutil.rmtree(outdir, ignore_errors=True)
    print(f"{suite}: {passed} passed, {failed} failed")
    return 1 if failed else 0
