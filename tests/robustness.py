#!/usr/bin/env python3
"""Robustness: signals, vanishing guests and folders, missing kernel parts,
a hung-up terminal, and guest churn, around real guests from tests/guestload.

Every count is checked exactly against what the bundled VMM printed for its
guest: a fault may cost an error line and exit 1, never a lost or wrong count.
The churn and SIGHUP tests run the ASan+UBSan build (kvmprof-asan, `make
asan`) and fail on any sanitizer report.  KVMPROF_CHURN_S sets the churn
time (default 20 s; `make soak` 600 s), KVMPROF_VALGRIND_S adds a churn run
of that many seconds under valgrind (`make soak`)."""
import csv
import json
import os
import pty
import random
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvmtest  # noqa: E402  (the tally, guests, tracers, CSV reader and runner)
from kvmtest import (KVMPROF, GUESTLOAD, LIVE, ROOT, TRACEFS, Guests, check, check_eq,  # noqa: E402
                     class_total, read_csv, code_count, start, finish, one_run, by_pid, mismatches,
                     check_exact, run_quick)

KVMPROF_ASAN = os.path.join(ROOT, "kvmprof-asan")
SAN_ENV = dict(os.environ, ASAN_OPTIONS="halt_on_error=1:detect_leaks=1",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
SAN_REPORT = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: \w+Sanitizer")


def sanitized():
    """The ASan+UBSan loader; its absence is a failure, not a skip."""
    if not check(os.access(KVMPROF_ASAN, os.X_OK), "kvmprof-asan is built (make asan)"):
        return KVMPROF
    return KVMPROF_ASAN


def no_sanitizer_report(err, what):
    bad = [l for l in err.splitlines() if SAN_REPORT.search(l)]
    check(not bad, f"{what}: no sanitizer report ({bad[:3]})")


def series_sums(paths):
    """Per (pid, class, code name) sums of series files; checks each file is
    whole with one header, at the top."""
    sums, headers = {}, 0
    for path in paths:
        with open(path, newline="") as f:
            text = f.read()
        check(text.endswith("\r\n"), f"{os.path.basename(path)} ends with a whole row")
        reader = csv.reader(text.splitlines())
        first = next(reader, None)
        headers += first is not None and first[0] == "time_unix"
        inner = 0
        for r in reader:
            inner += r[0] == "time_unix"
            k = (int(r[3]), r[7], r[9])
            sums[k] = sums.get(k, 0) + int(r[10])
        check_eq(inner, 0, f"{os.path.basename(path)}: no header but the first row")
    return sums, headers


def test_sighup_rotation(outdir):
    """SIGHUP with --csv-series: the part so far becomes FILE (renamed in
    whole), a new part starts; moved away before each SIGHUP, the parts hold
    every row exactly once.  Without --csv-series SIGHUP ends kvmprof as
    SIGTERM does (files written); ignored from the start (nohup), it stays
    ignored."""
    d = f"{outdir}/hup"
    os.makedirs(d)
    series = f"{d}/s.csv"
    t = start([sanitized(), "-q", "-i", "0.5", "--csv-series", series, "--csv", f"{d}/h.csv",
               "--json", f"{d}/h.json"], env=SAN_ENV)
    results, parts = {}, []
    for i, args in enumerate([["--pio", "40", "--mmio-read", "7", "--emulate", "5000"],
                              ["-c", "2", "--cpuid", "30", "--hlt", "4", "--msr-read", "5"],
                              ["--pio-in", "9", "--mmio-write", "11", "--msr-write", "3"]]):
        part = one_run(args, f"hup{i}")
        results.update(part)
        if i == 2:
            break
        time.sleep(0.2)
        t.proc.send_signal(signal.SIGHUP)
        t0 = time.time()
        while not os.path.exists(series) and time.time() - t0 < 5:
            time.sleep(0.05)
        check(os.path.exists(series), f"SIGHUP {i + 1}: {series} appears")
        check(time.time() - t0 < 1.5, f"SIGHUP {i + 1}: within an interval ({time.time() - t0:.2f} s)")
        if not os.path.exists(series):
            return
        parts.append(f"{d}/part{i + 1}.csv")
        os.rename(series, parts[-1])  # as logrotate would
        pids = {int(r["pid"]) for r in csv.DictReader(open(parts[-1], newline=""))}
        check_eq(pids & set(results), set(part), f"SIGHUP {i + 1}: the part holds this guest's rows")
    time.sleep(0.2)
    rc, out, err = finish(t, signal.SIGTERM)
    check_eq(rc, 0, "SIGHUP rotation: exit status")
    no_sanitizer_report(err, "SIGHUP rotation")
    parts.append(series)
    sums, headers = series_sums(parts)
    check_eq(headers, 3, "three parts, each with its header")
    rows = read_csv(f"{d}/h.csv")
    check_exact(rows, results, "SIGHUP rotation")
    for (pid, cls, name), v in rows.items():
        if pid in results:
            check_eq(sums.get((pid, cls, name), 0), v["count"], f"parts sum to the total {pid} {cls} {name}")
    check_eq(sorted(os.listdir(d)), ["h.csv", "h.json", "part1.csv", "part2.csv", "s.csv"],
             "SIGHUP rotation: no temporary file left")

    # without --csv-series: a hang-up ends the run, files complete
    t = start([KVMPROF, "-q", "-i", "0.5", "--csv", f"{d}/stop.csv"])
    res = one_run(["--pio", "12"], "hupstop")
    rc, out, err = finish(t, signal.SIGHUP)
    check_eq(rc, 0, "SIGHUP without --csv-series: exit status")
    check("kvmprof summary" in out, "SIGHUP without --csv-series: the summary")
    check_exact(read_csv(f"{d}/stop.csv"), res, "SIGHUP stop")
    # nohup: SIGHUP ignored from the start stays ignored
    t = start([KVMPROF, "-q", "-i", "0.5"],
              preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    t.proc.send_signal(signal.SIGHUP)
    time.sleep(1.2)
    check(t.proc.poll() is None, "nohup: an ignored SIGHUP does not end kvmprof")
    rc, out, err = finish(t, signal.SIGINT)
    check_eq(rc, 0, "nohup: exit status at SIGINT")


def test_sigpipe(outdir):
    """kvmprof -b | head -3: kvmprof notices the closed pipe at its next
    table and ends at once with status 0; the files are still written."""
    start_file = f"{outdir}/pipe.start"
    g = Guests(["--pio", "10", "--emulate", "1000", "--repeat", "100000000", "--duration", "8",
                "-name", "guest=pipe"], start_file)
    open(start_file, "w").close()
    head = subprocess.Popen(["head", "-3"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    t0 = time.time()
    t = start([KVMPROF, "-b", "-i", "0.3", "--json", f"{outdir}/pipe.json"], stdout=head.stdin)
    head.stdin.close()  # only head holds the pipe's read end now
    out = head.stdout.read()
    head.wait()
    try:
        rc, _, err = finish(t, timeout=5)
    except subprocess.TimeoutExpired:
        check(False, "SIGPIPE: kvmprof ends within 5 s of head")
        return
    check_eq(len(out.splitlines()), 3, "SIGPIPE: head got its 3 lines")
    check_eq(rc, 0, "SIGPIPE: exit status 0")
    check(time.time() - t0 < 8, "SIGPIPE: kvmprof did not wait for the guest")
    extra = [l for l in err.splitlines() if not l.startswith(("kvmprof: attach:", "kvmprof: tracing"))]
    check_eq(extra, [], "SIGPIPE: nothing more on stderr")
    with open(f"{outdir}/pipe.json") as f:
        doc = json.load(f)
    check(any(x["pid"] == g.pids[0] and x["total"] > 0 for x in doc["guests"]), "SIGPIPE: JSON written")
    g.proc.kill()


def test_sigterm_files(outdir):
    """SIGTERM while guests still run: CSV, JSON and series are whole and agree."""
    start_file = f"{outdir}/term.start"
    g = Guests(["-c", "2", "--pio", "10", "--mmio-read", "4", "--emulate", "1000", "--repeat", "100000000",
                "--duration", "4", "-name", "guest=term"], start_file)
    t = start([KVMPROF, "-q", "-i", "0.3", "--csv", f"{outdir}/term.csv", "--json", f"{outdir}/term.json",
               "--csv-series", f"{outdir}/term-s.csv"])
    open(start_file, "w").close()
    time.sleep(1.5)
    rc, out, err = finish(t, signal.SIGTERM)
    check_eq(rc, 0, "SIGTERM mid-run: exit status")
    check("kvmprof summary" in out, "SIGTERM mid-run: the summary")
    g.finish()
    pid = g.pids[0]
    with open(f"{outdir}/term.csv", newline="") as f:
        text = f.read()
    check(text.endswith("\r\n") and text.startswith("pid,guest,"), "SIGTERM: CSV whole")
    rows = read_csv(f"{outdir}/term.csv")
    check(class_total(rows, pid, "emulate") > 1000, "SIGTERM: the guest was counted")
    with open(f"{outdir}/term.json") as f:
        text = f.read()
    check(text.endswith("}\n"), "SIGTERM: JSON whole")
    doc = json.loads(text)
    guest = [x for x in doc["guests"] if x["pid"] == pid]
    check(guest and guest[0]["ended"] is False, "SIGTERM: the guest was live at the end")
    for c in guest[0]["classes"] if guest else []:
        check_eq(c["total"], class_total(rows, pid, c["class"]), f"SIGTERM: JSON {c['class']} = CSV")
    sums, headers = series_sums([f"{outdir}/term-s.csv"])
    check_eq(headers, 1, "SIGTERM: series header")
    for (p, cls, name), v in rows.items():
        if p == pid:
            check_eq(sums.get((p, cls, name), 0), v["count"], f"SIGTERM: series sums {cls} {name}")


def test_pid_exits(outdir):
    """-p of a guest that exits mid-run: kvmprof keeps running to -d, marks it
    ended, and its totals are exact."""
    start_file = f"{outdir}/pexit.start"
    g = Guests(["-c", "2", "--pio", "30", "--mmio-write", "9", "--cpuid", "20", "--emulate", "200000",
                "-name", "guest=pexit"], start_file)
    pid = g.pids[0]
    t = start([KVMPROF, "-q", "-i", "0.5", "-d", "3", "-p", str(pid), "--csv", f"{outdir}/pexit.csv",
               "--json", f"{outdir}/pexit.json"])
    open(start_file, "w").close()
    results = g.finish()
    time.sleep(1)
    check(t.proc.poll() is None, "-p: kvmprof keeps running after its guest exited")
    rc, out, err = finish(t)
    check_eq(rc, 0, "-p guest exited: exit status at -d")
    check(f'Guest {pid} "pexit" (ended)' in out, "-p guest exited: the summary marks it ended")
    check_exact(read_csv(f"{outdir}/pexit.csv"), results, "-p guest exited")
    with open(f"{outdir}/pexit.json") as f:
        doc = json.load(f)
    check_eq([x["ended"] for x in doc["guests"] if x["pid"] == pid], [True], "-p guest exited: JSON ended")


def test_unwritable_json(outdir):
    """--json into a read-only bind mount or an immutable folder: one line,
    exit 1, before tracing.  A folder made immutable mid-run: the summary,
    one line at the end, exit 1, the old file kept."""
    ro, imm = f"{outdir}/ro", f"{outdir}/imm"
    os.makedirs(ro)
    os.makedirs(imm)
    subprocess.run(["mount", "--bind", ro, ro], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", ro], check=True)
        rc, _, err = run_quick([KVMPROF, "-d", "1", "--json", f"{ro}/x.json"])
        check_eq(rc, 1, "--json in a read-only mount: exit 1")
        check(len(err) == 1 and "cannot write in" in err[0] and "Read-only" in err[0],
              f"--json in a read-only mount: one line: {err}")
    finally:
        subprocess.run(["umount", ro])
    good = f"{imm}/x.json"
    with open(good, "w") as f:
        f.write('{"old": true}\n')
    subprocess.run(["chattr", "+i", imm], check=True)
    try:
        rc, _, err = run_quick([KVMPROF, "-d", "1", "--json", f"{imm}/y.json"])
        check_eq(rc, 1, "--json in an immutable folder: exit 1")
        check(len(err) == 1 and "cannot write in" in err[0], f"--json in an immutable folder: one line: {err}")
    finally:
        subprocess.run(["chattr", "-i", imm])
    t = start([KVMPROF, "-q", "-i", "0.5", "--json", good, "--csv", f"{outdir}/imm.csv"])
    res = one_run(["--pio", "21"], "immutable")
    subprocess.run(["chattr", "+i", imm], check=True)
    try:
        rc, out, err = finish(t, signal.SIGINT)
    finally:
        subprocess.run(["chattr", "-i", imm])
    check_eq(rc, 1, "folder made immutable mid-run: exit 1")
    check("kvmprof summary" in out, "folder made immutable mid-run: the summary")
    lines = [l for l in err.splitlines() if "cannot" in l]
    check(len(lines) == 1 and good in lines[0] and "kept" in lines[0],
          f"folder made immutable mid-run: one line naming the file: {lines}")
    with open(good) as f:
        check_eq(f.read(), '{"old": true}\n', "folder made immutable mid-run: the old file kept")
    check_exact(read_csv(f"{outdir}/imm.csv"), res, "folder made immutable: the other file")


def test_folder_vanishes(outdir):
    """The --csv and --csv-series folder is removed mid-run: one line per
    file at the end, exit 1, the summary, and the JSON elsewhere complete."""
    d, e = f"{outdir}/gone", f"{outdir}/kept"
    os.makedirs(d)
    os.makedirs(e)
    t = start([KVMPROF, "-q", "-i", "0.5", "--csv", f"{d}/h.csv", "--csv-series", f"{d}/s.csv",
               "--json", f"{e}/h.json"])
    res = one_run(["--pio", "17", "--cpuid", "5"], "vanish")
    shutil.rmtree(d)
    time.sleep(0.6)
    rc, out, err = finish(t, signal.SIGINT)
    check_eq(rc, 1, "folder gone: exit 1")
    check("kvmprof summary" in out and '"vanish"' in out, f"folder gone: the summary: {out[:1200]!r}")
    lines = [l for l in err.splitlines() if "cannot" in l]
    check(len(lines) == 2 and any(f"{d}/h.csv" in l for l in lines) and any(f"{d}/s.csv" in l for l in lines),
          f"folder gone: one line per lost file: {lines}")
    with open(f"{e}/h.json") as f:
        doc = json.load(f)
    pid = next(iter(res))
    check_eq([x["total"] > 0 for x in doc["guests"] if x["pid"] == pid], [True], "folder gone: JSON complete")


def test_gone_guest_named(outdir):
    """Guests that come and go while kvmprof is stopped (SIGSTOP): /proc has
    nothing of them at its next read, the command line BPF copied names
    them; a name cut at the copy's end is not taken (the comm is)."""
    t = start([KVMPROF, "-q", "-i", "0.5"])
    t.proc.send_signal(signal.SIGSTOP)
    short = one_run(["--pio", "3"], "gone-early")
    cut = Guests(["--pio", "2", "-name", "guest=" + "x" * 300], "/").finish()
    t.proc.send_signal(signal.SIGCONT)
    time.sleep(0.7)
    rc, out, err = finish(t, signal.SIGINT)
    check_eq(rc, 0, f"gone guests: exit 0 ({err.strip()[-300:]})")
    for res, name in ((short, "gone-early"), (cut, "guestload")):
        pid = next(iter(res))
        check(f'Guest {pid} "{name}" (ended)' in out, f"gone guests: {pid} is {name!r}: {out[:300]!r}")


def in_mount_ns(script):
    """Runs a shell script in a private mount namespace: what it hides there
    (BTF, tracepoints) stays visible to the rest of the machine."""
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-ec", script],
                          capture_output=True, text=True, timeout=120)


def test_missing_kernel_parts(outdir):
    """No BTF, no KVM tracepoints, one tracepoint missing: simulated by
    hiding them under an empty tmpfs in a private mount namespace."""
    subprocess.run([KVMPROF, "--list-probes"], capture_output=True)  # mounts tracefs if need be
    events = next((e for e in TRACEFS if os.path.isdir(f"{e}/events/kvm")), TRACEFS[0]) + "/events"
    p = in_mount_ns(f"mount -t tmpfs none /sys/kernel/btf; exec {KVMPROF} -d 1")
    err = p.stderr.strip().splitlines()
    check_eq(p.returncode, 1, "no BTF: exit 1")
    check(len(err) == 1 and "this kernel has no BTF" in err[0], f"no BTF: one line: {err}")
    p = in_mount_ns(f"mount -t tmpfs none {events}/kvm; exec {KVMPROF} -d 1")
    err = p.stderr.strip().splitlines()
    check_eq(p.returncode, 1, "no KVM tracepoints: exit 1")
    check(len(err) == 1 and "no KVM tracepoints" in err[0], f"no KVM tracepoints: one line: {err}")
    # kvm_msr missing: msr is not traced, the rest is, exactly
    p = in_mount_ns(f"mount -t tmpfs none {events}/kvm/kvm_msr; exec {KVMPROF} --list-probes")
    check_eq(p.returncode, 0, "kvm_msr missing: --list-probes runs")
    check("kvm:kvm_msr is not in this kernel: msr not traced" in p.stdout,
          f"kvm_msr missing: --list-probes says so: {p.stdout[-400:]}")
    start_file = f"{outdir}/nomsr.start"
    g = Guests(["--pio", "13", "--msr-read", "6", "--msr-write", "2", "-name", "guest=nomsr"], start_file)
    script = (f"mount -t tmpfs none {events}/kvm/kvm_msr; "
              f"{KVMPROF} -q -i 0.5 --csv {outdir}/nomsr.csv & k=$!; sleep 2.5; touch {start_file}; "
              f"sleep 1.5; kill -INT $k; wait $k")
    p = in_mount_ns(script)
    open(start_file, "w").close()  # also when the script failed early
    results = g.finish()
    check_eq(p.returncode, 0, f"kvm_msr missing: a run ends well ({p.stderr.strip()[-300:]})")
    check("kvm_msr=none" in p.stderr, "kvm_msr missing: the attach line says none")
    rows = read_csv(f"{outdir}/nomsr.csv")
    pid = g.pids[0]
    check_eq(class_total(rows, pid, "msr"), 0, "kvm_msr missing: no msr rows")
    check_eq(code_count(rows, pid, "pio", "out 0x3f8"), int(results[pid]["pio_out"]),
             "kvm_msr missing: pio still exact")
    check_eq(class_total(rows, pid, "emulate"), int(results[pid]["insns"]),
             "kvm_msr missing: emulate still exact")


UNMOUNT_TRACEFS = ("for m in /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug; do "
                   "umount -l $m 2>/dev/null || true; done; "
                   "! grep -qE ' (tracefs|debugfs) ' /proc/mounts")


def test_tracefs_unavailable(outdir):
    """tracefs (and debugfs) unmounted in a private mount namespace: kvmprof
    mounts tracefs and runs; where it cannot be mounted (no CAP_SYS_ADMIN, as
    in a container; no /sys/kernel/tracing, as under a masked /sys/kernel) it
    prints one line and exits 1.  The host's mounts are untouched."""
    before = open("/proc/mounts").read()
    p = in_mount_ns(f"{UNMOUNT_TRACEFS}; {KVMPROF} -q -d 1 --json {outdir}/tfs.json; "
                    "grep -c ' tracefs ' /proc/mounts")
    check_eq(p.returncode, 0, f"tracefs unmounted: kvmprof mounts it and runs ({p.stderr.strip()[-300:]})")
    check(p.stdout.strip().endswith("1"), f"tracefs unmounted: mounted once, in the namespace ({p.stdout!r})")
    check(os.path.exists(f"{outdir}/tfs.json"), "tracefs unmounted: the run wrote its JSON")
    cases = [
        ("no CAP_SYS_ADMIN", f"{UNMOUNT_TRACEFS}; exec setpriv --bounding-set -sys_admin "
                             f"--inh-caps -sys_admin {KVMPROF} -d 1", "Operation not permitted"),
        ("/sys/kernel masked", f"{UNMOUNT_TRACEFS}; d=$(mktemp -d); mount -t tmpfs none $d; mkdir $d/btf; "
                               "mount --bind /sys/kernel/btf $d/btf; mount -o remount,ro,bind $d; "
                               f"mount --move $d /sys/kernel; exec {KVMPROF} -d 1", "No such file or directory"),
    ]
    for label, script, why in cases:
        p = in_mount_ns(script)
        err = p.stderr.strip().splitlines()
        check_eq(p.returncode, 1, f"tracefs not mountable ({label}): exit 1")
        check(len(err) == 1 and "tracefs is not mounted and cannot be mounted on /sys/kernel/tracing" in err[0]
              and why in err[0], f"tracefs not mountable ({label}): one line: {err}")
    check_eq(open("/proc/mounts").read(), before, "tracefs tests: the host's mounts are untouched")


def test_terminal_hangup(outdir):
    """The live view's terminal goes away: as the controlling terminal
    (SIGHUP) and as a plain pty (poll says hang-up): kvmprof ends within a
    second or two, exit 0, files written; it never spins on a dead terminal."""
    for ctty in (True, False):
        label = "controlling terminal" if ctty else "pty, not controlling"
        json_path = f"{outdir}/tty-{int(ctty)}.json"
        argv = [KVMPROF, "-i", "0.5", "-d", "30", "--json", json_path]
        env = dict(os.environ, TERM="xterm")
        if ctty:
            pid, master = pty.fork()
            if pid == 0:
                os.execve(KVMPROF, argv, env)
            proc = None
        else:
            master, slave = os.openpty()
            proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                    start_new_session=True)
            LIVE.append(proc)
            os.close(slave)
            pid = proc.pid
        screen, t0 = b"", time.time()
        while b"PID" not in screen and time.time() - t0 < 20:
            try:
                screen += os.read(master, 65536)
            except OSError:
                break
        check(b"PID" in screen, f"{label}: the live view is drawn")
        os.close(master)
        t0 = time.time()
        status = None
        while time.time() - t0 < 5 and status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            status = st if done else None
            time.sleep(0.05)
        if not check(status is not None, f"{label}: kvmprof ends after the hang-up"):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            continue
        if proc:
            proc.returncode = os.waitstatus_to_exitcode(status)
        check_eq(os.waitstatus_to_exitcode(status), 0, f"{label}: exit status")
        with open(json_path) as f:
            check("guests" in json.load(f), f"{label}: JSON written")


def map_ids(pid):
    """The ids of a process's BPF maps, by name (from its fdinfo)."""
    ids = {}
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            text = open(f"/proc/{pid}/fdinfo/{fd}").read()
        except OSError:
            continue
        m = re.search(r"map_id:\s+(\d+)", text)
        if m:
            info = json.loads(subprocess.run(["bpftool", "map", "show", "id", m.group(1), "-j"],
                                             capture_output=True, text=True).stdout or "{}")
            ids[info.get("name")] = m.group(1)
    return ids


def map_tgids(map_id):
    """The guest (tgid, the key's first 4 bytes) of every entry of a map."""
    out = subprocess.run(["bpftool", "map", "dump", "id", map_id, "-j"], capture_output=True, text=True).stdout
    return [int.from_bytes(bytes(int(b, 16) for b in e["key"][:4]), "little") for e in json.loads(out or "[]")]


def thread_tgids(map_id):
    """The guest of every live record of the thread table (bpftool's BTF view)."""
    out = subprocess.run(["bpftool", "map", "dump", "id", map_id, "-j"], capture_output=True, text=True).stdout
    values = [e["formatted"]["value"] for e in json.loads(out or "[]") if "formatted" in e]
    return [v["tgid"] for v in values if v["tid"] not in (0, 0xffffffff)]


def churn(outdir, seconds, label, wrapper=(), ready_timeout=None):
    """Guests start and end continuously for `seconds`, up to three VMM
    processes at a time with random mixes; kvmprof must match each exactly,
    drop nothing, and keep its maps bounded by reclaiming ended guests."""
    d = f"{outdir}/{label}"
    os.makedirs(d)
    binary = KVMPROF if wrapper else sanitized()
    t = start(list(wrapper) + [binary, "-q", "-i", "0.5", "--csv", f"{d}/h.csv", "--json", f"{d}/h.json",
                               "--csv-series", f"{d}/s.csv"], env=SAN_ENV)
    ids = map_ids(t.proc.pid)  # valgrind runs the loader in its own process
    check("trap_keys" in ids and "trap_latency" in ids and "vcpu_threads" in ids,
          f"{label}: kvmprof's maps found ({ids})")
    rng = random.Random(6)
    running, facts, max_entries, n, failed_vmms = [], {}, {"trap_keys": 0, "trap_latency": 0}, 0, []
    t_end, next_sample = time.time() + seconds, 0
    while time.time() < t_end or running:
        while time.time() < t_end and len(running) < 3:
            n += 1
            args = ["-g", str(rng.randint(1, 2)), "-c", str(rng.randint(1, 2)),
                    "--pio", str(rng.randint(0, 40)), "--pio-in", str(rng.randint(0, 5)),
                    "--mmio-read", str(rng.randint(0, 10)), "--mmio-write", str(rng.randint(0, 10)),
                    "--cpuid", str(rng.randint(0, 30)), "--hlt", str(rng.randint(0, 3)),
                    "--msr-read", str(rng.randint(0, 5)), "--msr-write", str(rng.randint(0, 5)),
                    "--emulate", str(rng.randint(0, 20000)), "--repeat", str(rng.randint(1, 4)),
                    "-name", f"guest=churn{n}"]
            p = subprocess.Popen([GUESTLOAD] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            LIVE.append(p)
            running.append(p)
        for p in running[:]:
            if p.poll() is None:
                continue
            out, err = p.communicate()
            running.remove(p)
            LIVE.remove(p)
            if p.returncode:
                failed_vmms.append(f"exit {p.returncode}: {err.strip()}")
            for line in out.splitlines():
                if line.startswith("guest "):
                    g = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
                    facts.setdefault(int(g["pid"]), []).append(g)
        if time.time() >= next_sample and ids:
            next_sample = time.time() + 1
            for name in max_entries:
                max_entries[name] = max(max_entries[name], len(map_tgids(ids[name])))
        time.sleep(0.02)
    # every ended guest is reclaimed within two reads (valgrind reads slowly);
    # only the churned guests count: others' guests may run on this machine
    t0, left = time.time(), {}
    while ids and time.time() - t0 < (60 if wrapper else 5):
        left = {name: sum(p in facts for p in map_tgids(ids[name])) for name in max_entries}
        if not any(left.values()):
            break
        time.sleep(0.5)
    # and their vCPU threads' records (a dump of the whole table: once the keys are gone)
    while ids and time.time() - t0 < (90 if wrapper else 10):
        left["vcpu_threads"] = sum(p in facts for p in thread_tgids(ids["vcpu_threads"]))
        if not left["vcpu_threads"]:
            break
        time.sleep(0.5)
    rc, out, err = finish(t, signal.SIGINT, timeout=300)
    check_eq(rc, 0, f"{label}: kvmprof exit status ({err.strip()[-300:]})")
    no_sanitizer_report(err, label)
    check_eq(failed_vmms, [], f"{label}: every guestload ran cleanly")
    rows = read_csv(f"{d}/h.csv")
    split = by_pid(rows)
    keys = len({(p, c, name) for (p, c, name) in rows if p in facts})
    guests = sum(len(v) for v in facts.values())
    bad = {pid: mismatches(split.get(pid, {}), pid, fs) for pid, fs in facts.items()}
    bad = {pid: b for pid, b in bad.items() if b}
    check(not bad, f"{label}: every one of {guests} guests exact ({list(bad.items())[:3]})")
    with open(f"{d}/h.json") as f:
        doc = json.load(f)
    check_eq(doc["dropped"], 0, f"{label}: no drops")
    ended = {x["pid"]: x["ended"] for x in doc["guests"]}
    check(all(ended.get(pid) for pid in facts), f"{label}: every churned guest marked ended")
    # a guest gone before kvmprof read its /proc falls back to the comm BPF saw
    names = {}
    for (p, _, _), v in rows.items():
        names.setdefault(p, set()).add(v["guest"])
    fallback = [p for p, fs in facts.items()
                if not names.get(p, set()) & {f["name"].removeprefix("guest=") for f in fs}]
    wrong = [(p, names.get(p)) for p in fallback if names.get(p) != {"guestload"}]
    if not wrapper:  # under valgrind the ring buffer overflows: some are "pidN"
        check(not wrong, f"{label}: every guest named from its command line or its comm ({wrong[:5]})")
    sums, _ = series_sums([f"{d}/s.csv"])
    lost = [(k, v["count"], sums.get(k, 0)) for k, v in rows.items() if k[0] in facts and sums.get(k, 0) != v["count"]]
    check(not lost, f"{label}: the series sums to the totals ({lost[:3]})")
    # bounded: a few guests' keys at once, never the run's; nothing left at the end
    # (ended guests' entries live up to two reads: the peak follows the churn
    # rate, a quarter of the map at most, not the run's length)
    # (under valgrind the loader reads far slower than guests churn: no bound)
    bound = 4096
    for name, m in max_entries.items():
        if not wrapper:
            check(m <= bound, f"{label}: {name} held at most {m} entries (bound {bound}; {keys} keys in the run)")
        check(left.get(name, 0) == 0, f"{label}: {name} reclaimed after the churn ({left.get(name)} left)")
    if ids:
        check(left.get("vcpu_threads", 1) == 0,
              f"{label}: the churned guests' thread records deleted ({left.get('vcpu_threads')} left)")
    if not wrapper:
        check(keys > 2 * bound, f"{label}: the churn made more keys ({keys}) than twice the bound")
    print(f"{label}: {guests} guests in {n} VMM processes, {keys} distinct keys, map peak "
          f"{max_entries}, after {left}; {len(fallback)} named by comm (gone before kvmprof read /proc)",
          flush=True)
    return guests


def test_churn(outdir):
    churn(outdir, float(os.environ.get("KVMPROF_CHURN_S", "20")), "churn")


def test_churn_valgrind(outdir):
    seconds = float(os.environ.get("KVMPROF_VALGRIND_S", "0"))
    if not seconds:
        return
    supp = os.path.join(ROOT, "tests", "valgrind.supp")
    churn(outdir, seconds, "churn-valgrind",
          wrapper=["valgrind", "--error-exitcode=1", "--leak-check=full", "--errors-for-leak-kinds=definite",
                   f"--suppressions={supp}", "-q"])


def main():
    return kvmtest.main("robustness", [test_sighup_rotation, test_sigpipe, test_sigterm_files, test_pid_exits,
                                       test_unwritable_json, test_folder_vanishes, test_gone_guest_named, test_missing_kernel_parts,
                                       test_tracefs_unavailable, test_terminal_hangup, test_churn,
                                       test_churn_valgrind], "kvmprof-rb-", remove_outdir=True)


if __name__ == "__main__":
    sys.exit(main())
