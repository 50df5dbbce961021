#!/usr/bin/env python3
"""kvmprof -- COMMAND (issue 21): only the guests in the command's process
tree are traced, exactly, however deep and whether or not their starter
is still there; the run ends when the command does and exits with its
status (128 + N when signal N killed it, 127 when it cannot be run, in one
line); Ctrl-C reaches both and the summary is still printed; SIGTERM to
kvmprof alone is passed on to the command."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvmtest as kt  # noqa: E402

KVMPROF, GUESTLOAD = kt.KVMPROF, kt.GUESTLOAD


def run(argv, timeout=60):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, [l for l in p.stderr.splitlines() if not l.startswith("kvmprof: attach:")]


def guest_lines(text):
    """guestload's 'guest pid=...' lines -> {pid: facts}."""
    out = {}
    for line in text.splitlines():
        if line.startswith("guest "):
            f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
            out[int(f["pid"])] = f
    return out


def test_tree(outdir):
    """A script that starts two guestloads, one in the background whose
    shell parent exits first (its guest is reparented to kvmprof, the
    subreaper): both counted exactly; a guest running beside, not in the
    tree, not at all."""
    outside = kt.Guests(["--pio", "2000", "--sleep-us", "500", "--duration", "30", "-name", "guest=outside"], "/")
    script = os.path.join(outdir, "start.sh")
    out1, out2 = os.path.join(outdir, "g1.out"), os.path.join(outdir, "g2.out")
    with open(script, "w") as f:
        f.write("#!/bin/sh\n"
                f"( {GUESTLOAD} --pio 700 --mmio-write 30 -name guest=deep > {out2} & ) \n"
                f"{GUESTLOAD} -g 2 -c 2 --pio 500 --cpuid 40 -name guest=first > {out1}\n"
                "sleep 0.5\n"
                "exit 0\n")
    os.chmod(script, 0o755)
    csv = os.path.join(outdir, "tree.csv")
    rc, out, err = run([KVMPROF, "-q", "--csv", csv, "--", script])
    kt.check_eq(rc, 0, f"exit status of a command that exits 0 ({err})")
    results = guest_lines(open(out1).read())
    results.update(guest_lines(open(out2).read()))
    kt.check_eq(len(results), 3, "the script's three guests ran")
    rows = kt.read_csv(csv)
    pids = {k[0] for k in rows}
    kt.check_eq(pids, set(results), "only the command's guests, the reparented one too")
    kt.check(not (set(outside.pids) & pids), "the guest beside the command is not traced")
    kt.check_exact(rows, results, "-- COMMAND")
    kt.check("=== kvmprof summary" in out, "the summary")
    os.killpg(outside.proc.pid, signal.SIGKILL)


def test_status(outdir):
    """The command's exit status, as perf stat; killed: 128 + N and one line;
    not found: 127 and one line naming it; bad use: exit 2."""
    rc, out, err = run([KVMPROF, "-q", "--", "sh", "-c", "exit 3"])
    kt.check_eq(rc, 3, "exit 3 passed on")
    kt.check("=== kvmprof summary" in out, "summary after a failing command")
    rc, out, err = run([KVMPROF, "-q", "--", "sh", "-c", "kill -KILL $$"])
    kt.check_eq(rc, 128 + 9, "killed by SIGKILL: 137")
    kt.check(any("killed by signal 9" in l for l in err), f"the signal said: {err}")
    rc, out, err = run([KVMPROF, "-q", "--", "/nonexistent/vmm", "-x"])
    kt.check_eq(rc, 127, "not found: 127")
    kt.check(len(err) == 2 and "/nonexistent/vmm: No such file or directory" in err[1],
             f"one line naming it (after the tracing line): {err}")
    for argv, text in (([KVMPROF, "--"], "followed by a command"),
                       ([KVMPROF, "-p", "1", "--", "true"], "process tree"),
                       ([KVMPROF, "--list-probes", "--", "true"], "runs no command")):
        rc, out, err = run(argv)
        kt.check_eq(rc, 2, f"{argv[1:]}: usage error")
        kt.check(len(err) == 1 and text in err[0], f"{argv[1:]}: one line with '{text}': {err}")


def group_gone(pgid, seconds=3):
    """True once no process of the group is left (zombies of reparented
    guests take init a moment to reap)."""
    end = time.time() + seconds
    while time.time() < end:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_signals(outdir):
    """Ctrl-C (SIGINT to the foreground process group) stops both: the
    summary comes, the status is the command's (128 + 2); SIGTERM to kvmprof
    alone reaches the command (its VMM process; guestload's guests are its
    children, which the signal does not reach: the test ends them)."""
    for sig, group in ((signal.SIGINT, True), (signal.SIGTERM, False)):
        out_path, err_path = os.path.join(outdir, "out"), os.path.join(outdir, "err")
        with open(out_path, "w") as out, open(err_path, "w") as err:
            p = subprocess.Popen([KVMPROF, "-q", "--", GUESTLOAD, "--pio", "100000000", "--sleep-us", "200"],
                                 stdout=out, stderr=err, start_new_session=True)
        kt.LIVE.append(p)
        time.sleep(2)
        if group:
            os.killpg(p.pid, sig)
        else:
            p.send_signal(sig)
        p.wait(timeout=30)
        out = open(out_path).read()
        kt.check("=== kvmprof summary" in out, f"{sig.name}: the summary")
        kt.check("guestload" in out, f"{sig.name}: the command's guest is in it")
        kt.check_eq(p.returncode, 128 + sig, f"{sig.name}: the command's end passed on")
        if group:
            kt.check(group_gone(p.pid), f"{sig.name}: nothing of the command left running")


def main():
    return kt.main("command", [test_tree, test_status, test_signals], "kvmprof-command-", remove_outdir=True)


if __name__ == "__main__":
    sys.exit(main())
