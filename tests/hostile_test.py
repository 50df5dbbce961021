#!/usr/bin/env python3
"""kvmprof beside users and guests it does not trust: root writes only where
it was asked, one guest cannot blind the rest, signals always work, and bad
input gets one line.  Each test here failed before its fix (issue 18)."""
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvmtest  # noqa: E402  (the tally, guests, kvmprof in the background, CSV reader and runner)
from kvmtest import (KVMPROF, Guests, check, check_eq, read_csv, start, finish, one_run,  # noqa: E402
                     run_quick, check_exact)


def test_special_outputs(outdir):
    """Devices, FIFOs and /dev/stdout are written through, never replaced;
    /dev/full fails in one line with exit 1."""
    rc, out, err = run_quick([KVMPROF, "-q", "-d", "0.3", "--csv", "/dev/null", "--json", "/dev/stdout"])
    check_eq(rc, 0, f"--csv /dev/null --json /dev/stdout: exit 0 ({err})")
    check(stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null is still a character device")
    check(os.path.islink("/dev/stdout"), "/dev/stdout is still a symlink")
    check(out.startswith('{"elapsed_s":') and "=== kvmprof summary" in out,
          f"--json /dev/stdout: the JSON reaches stdout, before the summary: {out[:80]!r}")
    rc, _, err = run_quick([KVMPROF, "-q", "-d", "0.3", "--json", "/dev/full"])
    err = [l for l in err if "cannot" in l]
    check(rc == 1 and len(err) == 1 and "cannot write /dev/full" in err[0] and "No space" in err[0],
          f"--json /dev/full: exit 1, one line: {rc} {err}")
    check(stat.S_ISCHR(os.stat("/dev/full").st_mode), "/dev/full is still a character device")
    fifo = f"{outdir}/fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", fifo], stdout=subprocess.PIPE, text=True)
    time.sleep(0.2)
    rc, _, err = run_quick([KVMPROF, "-q", "-d", "0.3", "--csv", fifo])
    got = reader.communicate(timeout=30)[0]
    check(rc == 0 and got.startswith("pid,guest,vcpu,tid,class"), f"a FIFO gets the CSV: {rc} {err} {got[:40]!r}")
    check(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO is still a FIFO")
    rc, _, err = run_quick([KVMPROF, "-q", "-d", "0.3", "--csv", fifo])
    check(rc == 1 and len(err) == 1 and "no process is reading" in err[0], f"a FIFO nobody reads: {err}")
    sock = f"{outdir}/sock"
    subprocess.run(["python3", "-c", f"import socket; socket.socket(socket.AF_UNIX).bind({sock!r})"], check=True)
    rc, _, err = run_quick([KVMPROF, "-q", "-d", "0.3", "--csv", sock])
    check(rc == 1 and len(err) == 1 and "neither a file" in err[0], f"a socket is refused: {err}")


def test_symlink_race(outdir):
    """The output folder swapped for a symlink mid-run: the file still goes
    into the folder of the start; the link's target folder is untouched."""
    mine, victim = f"{outdir}/mine", f"{outdir}/victim"
    os.makedirs(mine)
    os.makedirs(victim)
    with open(f"{victim}/out.csv", "w") as f:
        f.write("root's own file\n")
    os.chmod(f"{victim}/out.csv", 0o600)
    t = start([KVMPROF, "-q", "-i", "0.5", "--csv", f"{mine}/out.csv", "--csv-series", f"{mine}/s.csv"])
    res = one_run(["--pio", "9"], "race")
    os.rename(mine, f"{outdir}/moved")
    os.symlink(victim, mine)
    rc, _, err = finish(t, signal.SIGINT)
    check_eq(rc, 0, f"symlink swap: exit 0 ({err.strip()[-200:]})")
    with open(f"{victim}/out.csv") as f:
        check_eq(f.read(), "root's own file\n", "the symlink's target is untouched")
    check_eq(oct(os.stat(f"{victim}/out.csv").st_mode & 0o777), oct(0o600), "its mode too")
    check_eq(sorted(os.listdir(victim)), ["out.csv"], "nothing else in the target folder")
    check_exact(read_csv(f"{outdir}/moved/out.csv"), res, "symlink swap: the CSV in the folder of the start")
    check(os.path.exists(f"{outdir}/moved/s.csv"), "symlink swap: the series there too")


def test_names_checked_at_start(outdir):
    """What would fail at the end fails before tracing: the same file named
    twice, a name too long for the file written beside it, /sys."""
    os.makedirs(f"{outdir}/o", exist_ok=True)
    cases = [
        ([f"--csv={outdir}/o/./a.csv", f"--json={outdir}/o//a.csv"], "are the same file"),
        ([f"--csv={outdir}/o/a.csv", f"--csv-series={outdir}/../{os.path.basename(outdir)}/o/a.csv"],
         "are the same file"),
        ([f"--csv={outdir}/o/" + "x" * 250], "file name too long"),
        (["--json=/sys/kernel/kvmprof.json"], "cannot"),
    ]
    for args, text in cases:
        t0 = time.time()
        rc, _, err = run_quick([KVMPROF, "-q", "-d", "30"] + args)
        check(rc == 1 and len(err) == 1 and text in err[0] and time.time() - t0 < 10,
              f"{args}: exit 1 at once, one line with '{text}': {rc} {err}")
    check_eq(os.listdir(f"{outdir}/o"), [], "nothing written")


def test_file_size_limit(outdir):
    """ulimit -f: the write fails in one line, exit 1, no temporary file left,
    instead of SIGXFSZ killing kvmprof silently."""
    d = f"{outdir}/ulimit"
    os.makedirs(d)
    t = start(["bash", "-c", f"ulimit -f 1; exec {KVMPROF} -q -i 0.5 --csv-series {d}/s.csv --csv {d}/h.csv"])
    one_run(["-c", "4", "--pio", "300", "--pio-in", "30", "--mmio-read", "30", "--mmio-write", "30",
             "--cpuid", "300", "--msr-read", "30", "--msr-write", "30", "--hlt", "3"], "big")
    time.sleep(1.2)  # two series rows of every key: more than 1 KiB
    rc, out, err = finish(t, signal.SIGINT)
    lines = [l for l in err.splitlines() if "cannot write" in l]
    check(rc == 1 and "kvmprof summary" in out and lines and all("File too large" in l for l in lines),
          f"ulimit -f: exit 1, the summary, a line per file: {rc} {lines}")
    check([f for f in os.listdir(d) if ".tmp." in f] == [], f"ulimit -f: no temporary file: {os.listdir(d)}")


def test_stale_temporaries(outdir):
    """SIGKILL leaves a series' temporary file; the next start removes it."""
    d = f"{outdir}/kill"
    os.makedirs(d)
    t = start([KVMPROF, "-q", "-i", "0.5", "--csv-series", f"{d}/s.csv"])
    t.proc.kill()
    t.proc.wait()
    left = [f for f in os.listdir(d) if f.startswith("s.csv.tmp.")]
    check_eq(len(left), 1, "SIGKILL leaves the series' temporary file")
    rc, _, err = run_quick([KVMPROF, "-q", "-d", "0.3", "--csv-series", f"{d}/s.csv"])
    check(rc == 0 and os.listdir(d) == ["s.csv"], f"the next run removes it: {os.listdir(d)} {err}")


def test_one_guest_cannot_blind(outdir):
    """A VMM that makes each KVM_RUN from a fresh thread (20000 threads, three
    keys each: more than the maps hold) must not blind kvmprof for a guest
    that starts after it: that one is counted exactly, the greedy one is
    held to its share (--max-guest-keys) and its dead threads' entries are
    reclaimed, so it is counted again after each read."""
    t = start([KVMPROF, "-q", "-i", "0.3", "--csv", f"{outdir}/blind.csv", "--json", f"{outdir}/blind.json"])
    greedy = Guests(["--thread-per-run", "--pio", "20000", "-name", "guest=greedy"], "/")
    greedy_res = greedy.finish()
    res = one_run(["--pio", "37", "--cpuid", "11", "--mmio-write", "5"], "after-greedy")
    time.sleep(0.7)
    rc, out, err = finish(t, signal.SIGINT)
    check_eq(rc, 0, f"greedy guest: exit 0 ({err.strip()[-200:]})")
    rows = read_csv(f"{outdir}/blind.csv")
    check_exact(rows, res, "the guest after the greedy one")
    gpid = next(iter(greedy_res))
    pio = sum(v["count"] for (p, c, _), v in rows.items() if p == gpid and c == "pio")
    check(0 < pio <= 20001, f"the greedy guest counted within its share: {pio} of 20001 port writes")
    m = re.search(r"(\d+) dropped event", out)
    check(m and int(m.group(1)) > 0, f"its events beyond the share are counted as dropped: {m and m.group(0)}")


def test_full_maps_say_what_to_raise(outdir):
    """More keys than --max-keys holds (40 guests x 4 vCPUs, about 16 keys a
    thread): the first drop says on stderr, once, which map filled and the
    --max-keys to run with; the summary says it again with the count the
    JSON has; with that --max-keys the same guests are counted exactly."""
    load = ["-g", "40", "-c", "4", "--pio", "3", "--cpuid", "2", "--emulate", "5", "--mmio-write", "2"]
    t = start([KVMPROF, "-q", "-i", "0.3", "--max-keys", "1024", "--max-guest-keys", "1024",
               "--json", f"{outdir}/full.json"])
    one_run(load, "full")
    time.sleep(0.7)
    rc, out, err = finish(t, signal.SIGINT)
    drops = json.load(open(f"{outdir}/full.json"))["dropped_by"] if rc == 0 else {}
    lost = drops.get("counts_full", 0)
    check(rc == 0 and lost > 0 and sum(drops.values()) == lost, f"--max-keys 1024: events dropped, all counts_full: {drops}")
    check_eq([line for line in err.splitlines() if "dropping" in line],
             ["kvmprof: dropping events (counts_full): the count map is full, all its --max-keys 1024 "
              "(guest, thread, class, code) keys taken: run with --max-keys 4096"],
             "stderr: one line at the first drop, what filled and what to run")
    m = re.search(r"^Dropped (\d+) events \(counts_full\): the count map is full, .* run with --max-keys 4096\.$",
                  out, re.M)
    check(m and int(m.group(1)) == lost, f"the summary: the same, with the JSON's count {lost}: {m and m.group(0)}")
    t = start([KVMPROF, "-q", "-i", "0.3", "--max-keys", "4096", "--max-guest-keys", "1024",
               "--csv", f"{outdir}/full.csv"])
    res = one_run(load, "full2")
    time.sleep(0.7)
    rc, out, err = finish(t, signal.SIGINT)
    check(rc == 0 and "dropping" not in err and not re.search(r"^Dropped", out, re.M) and
          " 0 dropped events" in out, f"--max-keys 4096: nothing dropped ({out.splitlines()[:1]})")
    check_exact(read_csv(f"{outdir}/full.csv"), res, "--max-keys 4096")


def test_csv_formulas(outdir):
    """A guest named like a spreadsheet formula: every CSV kvmprof writes has
    it as text ('= first, as OWASP recommends); kvmprof report shows the
    name as the guest has it."""
    evil = '=HYPERLINK("http://x","y")'
    t = start([KVMPROF, "-q", "-i", "0.3", "--csv", f"{outdir}/f.csv", "--csv-series", f"{outdir}/fs.csv",
               "--insns", "--csv-insns", f"{outdir}/fi.csv"])
    res = one_run(["--pio", "3", "--sleep-us", "300000"], evil.replace(",", ",,"))  # named while alive
    rc, _, err = finish(t, signal.SIGINT)
    pid = next(iter(res))
    for f in ("f.csv", "fs.csv", "fi.csv"):
        text = open(f"{outdir}/{f}").read()
        check("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"" in text and ',=HYPERLINK' not in text
              and ',"=HYPERLINK' not in text, f"{f}: the name as text, never a formula: {text[:300]!r}")
    check_exact(read_csv(f"{outdir}/f.csv"), res, "formula-named guest: counted")
    rc, _, err = run_quick([KVMPROF, "report", f"{outdir}/f.csv", f"{outdir}/fs.csv", "-o", f"{outdir}/f.html"])
    html = open(f"{outdir}/f.html").read() if rc == 0 else ""
    check(rc == 0 and "=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)" in html and "&#39;=HYPERLINK" not in html
          and "'=HYPERLINK" not in html, f"report: the name as the guest has it ({rc} {err})")


def test_bad_numbers_and_bytes(outdir):
    """Numbers: plain decimal only, intervals of at least 0.1 s; error lines
    show the bytes of an argument escaped."""
    for args in (["-i", "1e-9"], ["-i", "0.05"], ["-i", "0x10"], ["-i", " 5"], ["-i", "inf"], ["-n", "0x5"],
                 ["-n", " 3"], ["-p", "+12"], ["--max-keys", "0x4000"], ["-d", "1 "]):
        rc, _, err = run_quick([KVMPROF] + args)
        check(rc == 2 and len(err) == 1 and err[0].startswith("kvmprof: invalid"),
              f"{args}: exit 2, one line: {rc} {err}")
    rc, _, err = run_quick([KVMPROF, "-i", "\x1b]0;pwned\x07\n5"])
    check(rc == 2 and len(err) == 1 and "\x1b" not in err[0] and "\\x1b]0;pwned\\x07\\x0a5" in err[0],
          f"an argument's ESC, BEL and newline shown escaped: {err}")
    rc, _, err = run_quick([KVMPROF, "--max-guest-keys", "20000"])
    check(rc == 2 and len(err) == 1 and "more than --max-keys" in err[0], f"share above the room: {err}")


def test_report_inputs(outdir):
    """kvmprof report: an input named another way is never overwritten, a
    tiny series interval or a FIFO never hangs it, <(cat run.csv) works,
    buckets holding more samples than the key had are refused, and a
    field's raw bytes never reach the terminal."""
    d = f"{outdir}/rep"
    os.makedirs(d)
    t = start([KVMPROF, "-q", "-i", "0.3", "--csv", f"{d}/run.csv", "--csv-series", f"{d}/run-series.csv"])
    one_run(["--pio", "20", "--sleep-us", "20000"], "rep")
    finish(t, signal.SIGINT)
    run = open(f"{d}/run.csv").read()
    series = open(f"{d}/run-series.csv").read()

    def report(args, timeout=20):
        try:
            p = subprocess.run([KVMPROF, "report"] + args, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, ["(timed out)"]
        return p.returncode, p.stderr.strip().splitlines()

    for o in (f"{d}/./run.csv", f"{d}//run-series.csv", f"{d}/../rep/run.csv"):
        rc, err = report([f"{d}/run.csv", "-o", o])
        check(rc in (1, 2) and len(err) == 1 and ("that is the input" in err[0] or "overwrite an input" in err[0]),
              f"-o {o}: refused in one line: {rc} {err}")
    check(open(f"{d}/run.csv").read() == run and open(f"{d}/run-series.csv").read() == series,
          "the inputs are untouched")
    # a series whose interval is tiny: drawn, not looped over
    lines = series.splitlines(True)
    cols = lines[0].rstrip("\r\n").split(",")
    tiny = [lines[0]]
    for line in lines[1:]:
        f = line.rstrip("\r\n").split(",")
        f[cols.index("elapsed_s")], f[cols.index("interval_s")] = "1e-300", "1e-300"
        tiny.append(",".join(f) + "\r\n")
    with open(f"{d}/tiny-series.csv", "w", newline="") as f:
        f.write("".join(tiny))
    rc, err = report([f"{d}/run.csv", f"{d}/tiny-series.csv", "-o", f"{d}/tiny.html"])
    check(rc is not None, f"a series of 1e-300 s intervals: no hang ({rc} {err})")
    # FIFOs: one named as an input, one where the series would be found
    os.mkfifo(f"{d}/fifo.csv")
    rc, err = report([f"{d}/fifo.csv", "-o", f"{d}/f.html"])
    check(rc == 1 and len(err) == 1, f"a FIFO no one writes: one line, no hang: {rc} {err}")
    os.makedirs(f"{d}/fifodir")
    with open(f"{d}/fifodir/run.csv", "w") as f:
        f.write(run)
    os.mkfifo(f"{d}/fifodir/run-series.csv")
    rc, err = report([f"{d}/fifodir/run.csv", "-o", f"{d}/fifodir/r.html"])
    check(rc == 0 and "no series" in err[-1], f"a FIFO named like the series beside: left alone: {rc} {err}")
    p = subprocess.run(["bash", "-c", f"{KVMPROF} report <(cat {d}/run.csv) -o {d}/piped.html"],
                       capture_output=True, text=True, timeout=20)
    check(p.returncode == 0 and os.path.exists(f"{d}/piped.html"), f"report <(cat run.csv): {p.stderr}")
    # buckets holding more samples than the key's lat_count
    rows = run.splitlines(True)
    hdr = rows[0].rstrip("\r\n").split(",")
    bad = [rows[0]]
    for line in rows[1:]:
        f = line.rstrip("\r\n").split(",")
        if f[hdr.index("bucket_count")]:
            f[hdr.index("bucket_count")] = str(int(f[hdr.index("lat_count")]) + 1)
        bad.append(",".join(f) + "\r\n")
    with open(f"{d}/bad.csv", "w", newline="") as f:
        f.write("".join(bad))
    rc, err = report([f"{d}/bad.csv", "-o", f"{d}/bad.html"])
    check(rc == 1 and len(err) == 1 and "more than lat_count" in err[0], f"impossible buckets refused: {err}")
    # a field with ESC in it, quoted in the error line
    with open(f"{d}/esc.csv", "w", newline="") as f:
        f.write(rows[0] + rows[1].replace(",0x", ",\x1b[31mX", 1))
    rc, err = report([f"{d}/esc.csv", "-o", f"{d}/esc.html"])
    check(rc == 1 and len(err) == 1 and "\x1b" not in err[0] and "\\x1b" in err[0],
          f"a field's ESC shown escaped: {err}")


def capabilities(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return None


def test_privileges(outdir):
    """Once attached, the run keeps no capability (CAP_DAC_OVERRIDE alone
    when it writes files), so /metrics' parser never runs with root's
    power; --listen unix:PATH keeps the exporter to who may open the socket;
    a wider address is said to be one."""
    import socket
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    p = port.getsockname()[1]
    port.close()
    t = start([KVMPROF, "-q", "-i", "0.3", "--listen", f"127.0.0.1:{p}"])
    check_eq(capabilities(t.proc.pid), 0, "--listen without files: no capability left")
    res = one_run(["--pio", "12", "--sleep-us", "50000"], "caps")  # named while alive
    time.sleep(0.7)
    body = subprocess.run(["curl", "-s", f"http://127.0.0.1:{p}/metrics"], capture_output=True, text=True).stdout
    check('guest="caps"' in body and 'code_name="out 0x3f8"} 12' in body, f"still counted and served: {[l for l in body.splitlines() if 'pio' in l][:3]}")
    finish(t, signal.SIGINT)
    t = start([KVMPROF, "-q", "-i", "0.3", "--csv", f"{outdir}/caps.csv"])
    check_eq(capabilities(t.proc.pid), 1 << 1, "with --csv: CAP_DAC_OVERRIDE alone")
    res = one_run(["--pio", "5"], "caps2")
    rc, _, err = finish(t, signal.SIGINT)
    check_exact(read_csv(f"{outdir}/caps.csv"), res, "counts and files exact without the capabilities")
    # a service whose bounding set lacks CAP_DAC_OVERRIDE (kvmprof-exporter's) still writes files
    rc, _, err = run_quick(["setpriv", "--bounding-set=-dac_override", "--inh-caps=-all", KVMPROF, "-q",
                            "-d", "0.5", "--csv", f"{outdir}/nodac.csv"])
    check(rc == 0 and os.path.exists(f"{outdir}/nodac.csv"),
          f"without CAP_DAC_OVERRIDE in the bounding set: runs, writes its file: {rc} {err}")
    sock = f"{outdir}/m.sock"
    t = start([KVMPROF, "-q", "-i", "0.3", "--listen", f"unix:{sock}"])
    mode = os.stat(sock).st_mode
    check(stat.S_ISSOCK(mode) and mode & 0o777 == 0o660, f"unix socket, mode 0660: {oct(mode)}")
    body = subprocess.run(["curl", "-s", "--unix-socket", sock, "http://kvmprof/metrics"], capture_output=True,
                          text=True).stdout
    check("kvmprof_traps_total" in body, "/metrics on the unix socket")
    finish(t, signal.SIGINT)
    check(not os.path.exists(sock), "the socket is removed at the end")
    with open(f"{outdir}/notsock", "w") as f:
        f.write("keep me\n")
    rc, _, err = run_quick([KVMPROF, "-q", "-d", "0.3", "--listen", f"unix:{outdir}/notsock"])
    check(rc == 1 and len(err) == 1 and "not a socket" in err[0] and open(f"{outdir}/notsock").read() == "keep me\n",
          f"a file at the socket's path is kept, refused in one line: {err}")
    rc, _, err = run_quick([KVMPROF, "-q", "-d", "0.3", "--listen", f"0.0.0.0:{p}"])
    check(rc == 0 and any("warning" in l and "every guest's pid and name" in l for l in err),
          f"a wider address gets a warning: {err}")


def memory_cgroup():
    """This process's memory cgroup folder (v2 or v1), where a child can go."""
    for line in open("/proc/self/cgroup"):
        n, ctrl, path = line.rstrip("\n").split(":", 2)
        if n == "0" and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            return f"/sys/fs/cgroup{path}", "memory.max"
        if "memory" in ctrl.split(","):
            return f"/sys/fs/cgroup/memory{path}", "memory.limit_in_bytes"
    return None, None


def test_limits(outdir):
    """Limits that once killed or confused kvmprof: each now one line naming
    it, exit 1, before any tracing; a terminal that cannot move its cursor
    gets the batch tables."""
    rc, _, err = run_quick(["bash", "-c", f"ulimit -n 16; exec {KVMPROF} -q -d 0.3"])
    err = [l for l in err if l.startswith("kvmprof:")]
    check(rc == 1 and len(err) == 1 and "ulimit -n is 16" in err[0], f"ulimit -n 16: {rc} {err}")
    rc, _, err = run_quick(["bash", "-c", f"ulimit -v 20000; exec {KVMPROF} -q -d 0.3"])
    err = [l for l in err if l.startswith("kvmprof:")]
    check(rc == 1 and len(err) == 1 and "ulimit -v" in err[0] and "No such process" not in err[0],
          f"ulimit -v 20000: {rc} {err}")
    base, limit_file = memory_cgroup()
    check(base is not None, "a memory cgroup to make a small one in")
    if base:
        cg = f"{base}/kvmprof-hostile-{os.getpid()}"
        os.makedirs(cg, exist_ok=True)
        try:
            with open(f"{cg}/{limit_file}", "w") as f:
                f.write(str(52 << 20))
            rc, _, err = run_quick(["sh", "-c", f"echo $$ > {cg}/cgroup.procs; exec {KVMPROF} -q -d 0.3"])
            check(rc == 1 and len(err) == 1 and "memory cgroup leaves" in err[0],
                  f"a 52 MiB memory cgroup: one line, not the OOM killer: {rc} {err}")
            rc, _, err = run_quick(["sh", "-c", f"echo $$ > {cg}/cgroup.procs; exec {KVMPROF} -q -d 0.3 "
                                    "--max-keys 1024"])
            check_eq(rc, 0, f"the same with --max-keys 1024: runs ({err})")
        finally:
            subprocess.run(["sh", "-c", f"echo $$ > {base}/cgroup.procs; rmdir {cg}"])
    sock = f"kvmprof-dumb-{os.getpid()}"
    subprocess.run(["tmux", "-L", sock, "new-session", "-d", "-x", "150", "-y", "30",
                    f"TERM=dumb {KVMPROF} -d 1.5 -i 0.3 2>&1; sleep 10"], check=True)
    try:
        time.sleep(3)
        screen = subprocess.run(["tmux", "-L", sock, "capture-pane", "-p"], capture_output=True,
                                text=True).stdout
        check("printing tables instead" in screen and "kvmprof  elapsed" in screen and
              "=== kvmprof summary" in screen, f"TERM=dumb: batch tables and the summary:\n{screen}")
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)


def test_blocked_stdout(outdir):
    """A reader that stops reading (-b into a pipe nobody empties) or a
    terminal stopped with Ctrl-S: SIGTERM and SIGINT still end kvmprof at
    once, with its files written whole."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        d = f"{outdir}/blocked-{sig}"
        os.makedirs(d)
        g = Guests(["--pio", "50", "--repeat", "100000000", "--duration", "30", "-name", "guest=blocked"], "/")
        r, w = os.pipe()  # never read: one page, full after a few tables
        import fcntl
        fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ
        t = start([KVMPROF, "-b", "-i", "0.1", "--csv", f"{d}/h.csv"], stdout=w)
        os.close(w)
        time.sleep(3)
        t0 = time.time()
        t.proc.send_signal(sig)
        try:
            rc = t.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            rc = None
        err = t.proc.stderr.read()
        os.close(r)
        check(rc == 0 and time.time() - t0 < 6, f"-b into a full pipe, {sig.name}: ended, exit 0 ({rc})")
        check("stdout is not being read" in err, f"{sig.name}: says what was not written: {err[-200:]!r}")
        rows = read_csv(f"{d}/h.csv") if os.path.exists(f"{d}/h.csv") else {}
        check(any(c == "pio" for (_, c, _) in rows), f"{sig.name}: the CSV written whole")
        g.proc.kill()
    # the live view with its terminal stopped (Ctrl-S, XOFF)
    d = f"{outdir}/xoff"
    os.makedirs(d)
    g = Guests(["--pio", "50", "--repeat", "100000000", "--duration", "30", "-name", "guest=xoff"], "/")
    sock = f"kvmprof-xoff-{os.getpid()}"
    subprocess.run(["tmux", "-L", sock, "new-session", "-d", "-x", "160", "-y", "45",
                    f"exec {KVMPROF} -i 0.1 --csv {d}/t.csv"], check=True)
    try:
        time.sleep(2)
        subprocess.run(["tmux", "-L", sock, "send-keys", "C-s"], check=True)
        time.sleep(3)
        pid = int(subprocess.run(["pgrep", "-f", f"{KVMPROF} -i 0.1 --csv {d}/t.csv"],
                                 capture_output=True, text=True).stdout.split()[0])
        os.kill(pid, signal.SIGTERM)
        gone = False
        for _ in range(60):
            time.sleep(0.1)
            if not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z":
                gone = True
                break
        check(gone, "live view, terminal stopped with Ctrl-S: SIGTERM ends kvmprof")
        check(os.path.exists(f"{d}/t.csv"), "Ctrl-S: the CSV written")
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
        g.proc.kill()


def main():
    return kvmtest.main("hostile", [test_special_outputs, test_symlink_race, test_names_checked_at_start,
                                    test_file_size_limit, test_stale_temporaries, test_one_guest_cannot_blind,
                                    test_full_maps_say_what_to_raise, test_csv_formulas,
                                    test_bad_numbers_and_bytes, test_report_inputs, test_privileges, test_limits,
                                    test_blocked_stdout],
                        "kvmprof-hostile-", remove_outdir=True)


if __name__ == "__main__":
    sys.exit(main())
