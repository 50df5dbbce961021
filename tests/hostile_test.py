#!/usr/bin/env python3
"""kvmprof beside users and guests it does not trust: root writes only where
it was asked, one guest cannot blind the rest, signals always work, and bad
input gets one line.  Each test here failed before its fix (issue 18)."""
import os
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvmtest  # noqa: E402  (the tally, guests, kvmprof in the background, CSV reader and runner)
from kvmtest import (KVMPROF, check, check_eq, read_csv, start, finish, one_run,  # noqa: E402
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


def main():
    return kvmtest.main("hostile", [test_special_outputs, test_symlink_race, test_names_checked_at_start,
                                    test_file_size_limit, test_stale_temporaries], "kvmprof-hostile-",
                        remove_outdir=True)


if __name__ == "__main__":
    sys.exit(main())
