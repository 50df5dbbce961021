#!/usr/bin/env python3
"""Terminal tests of kvmprof's live view, and of batch mode and -g.

The real view runs in a detached tmux pane (200x50) around bundled guests
(tests/guestload) named like QEMU guests; the test types keys with
`tmux send-keys` and reads the screen with `tmux capture-pane -p`.  Every
guest is named with this run's prefix and kvmprof is given -g PREFIX-*, so
guests other runs leave on the machine do not show."""
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvmtest  # noqa: E402  (the tally, the processes to end and the runner)
from kvmtest import KVMPROF, GUESTLOAD, LIVE, ROOT, check, kill_leftovers  # noqa: E402
from kvmtest import check_eq_repr as check_eq  # noqa: E402  (screens: both sides as repr)

PREFIX = f"tt{os.getpid()}"
SOCKET = f"kvmprof-tui-{os.getpid()}"  # our own tmux server
CLASSES = ["exit", "hypercall", "emulate", "pio", "mmio", "userspace", "msr", "cpuid"]


def start_guest(name, args, duration=120):
    """One guest (a VMM process) that runs until killed or for duration s;
    returns its pid."""
    p = subprocess.Popen([GUESTLOAD] + args + ["--repeat", "4000000000", "--duration", str(duration),
                                                "-name", "guest=" + name],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         start_new_session=True)
    LIVE.append(p)
    line = p.stdout.readline()
    m = re.match(r"ready pid=(\d+)", line)
    if not m:
        raise RuntimeError(f"guestload for {name!r} did not start: {line!r}")
    return int(m.group(1))


def tmux(*args):
    return subprocess.run(["tmux", "-L", SOCKET] + list(args), capture_output=True, text=True,
                          timeout=30).stdout


class Pane:
    """kvmprof in a detached tmux pane; the shell keeps the pane after it ends."""

    def __init__(self, name, argv, width=200, height=50):
        self.name = name
        cmd = f"cd {ROOT} && {' '.join(argv)}; echo kvmprof-exit=$?; sleep 600"
        tmux("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), cmd)

    def keys(self, *keys):
        tmux("send-keys", "-t", self.name, *keys)
        time.sleep(0.3)

    def text(self, escapes=False):
        return tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", self.name)

    def wait_for(self, pred, timeout=10):
        """The screen once pred holds on it, else the last one seen."""
        deadline = time.time() + timeout
        while True:
            text = self.text()
            if pred(text) or time.time() > deadline:
                return text
            time.sleep(0.2)

    def close(self):
        tmux("kill-session", "-t", self.name)


def table(text):
    """The guest table on a screen: rows split at blanks, after the titles."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("PID ") and "GUEST" in line:
            rows = []
            for row in lines[i + 1:]:
                fields = row.split()
                if not fields or not fields[0].isdigit():
                    break
                rows.append(fields)
            return rows
    return []


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def header_value(text, word):
    m = re.search(word + r" (\S+)", text)
    return m.group(1) if m else None


def test_live_view(outdir):
    """Rows with the right names, sorting, drill-down, pause, clear, interval,
    narrow terminals, an ended guest, and q printing the summary."""
    web = start_guest(f"{PREFIX}-web", ["-c", "2", "--pio", "40", "--mmio-read", "10",
                                         "--cpuid", "20", "--hlt", "4", "--emulate", "2000",
                                         "--sleep-us", "50"])
    db = start_guest(f"{PREFIX}-db", ["--cpuid", "200", "--msr-read", "50", "--emulate", "500"])
    build = start_guest(f"{PREFIX}-build", ["--pio", "5", "--mmio-write", "30", "--sleep-us", "200"])
    names = {web: f"{PREFIX}-web", db: f"{PREFIX}-db", build: f"{PREFIX}-build"}
    port = free_port()
    # tall enough for the drill-down (vCPU time and KVM's check above the classes)
    pane = Pane("live", [KVMPROF, "-g", f"'{PREFIX}-*'", "-i", "0.5", "--csv",
                         f"{outdir}/live.csv", "--listen", f"127.0.0.1:{port}"], height=80)
    try:
        screen = pane.wait_for(lambda s: len(table(s)) == 3 and
                               all(float(r[4]) > 0 for r in table(s)))
        # the one poll loop serves /metrics while the view runs
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        check(all(f'guest="{n}"' in body for n in names.values()) and "kvmprof_traps_total" in body,
              "--listen beside the live view: /metrics has every guest shown")
        rows = table(screen)
        check_eq({int(r[0]): r[1] for r in rows}, names, "view: one row per guest, named from -name")
        check_eq({int(r[0]): r[2] for r in rows}, {p: "live" for p in names}, "view: guests live")
        check_eq({int(r[0]): r[3] for r in rows}, {web: "2", db: "1", build: "1"}, "view: vCPUs")
        check("host " in screen and "kernel " in screen and "attach " in screen and
              "dropped 0" in screen and "interval 0.50s" in screen and "elapsed " in screen,
              f"view: the header has host, kernel, attach methods, drops, interval, elapsed:\n{screen}")
        titles = screen.splitlines()[3].split()
        check(titles[:5] == ["PID", "GUEST", "STATE", "VCPUS", "TRAPS/s"] and "SHARE" in titles and
              "TOTAL" in titles and "EMUL" in titles, f"view: column titles at 200 columns: {titles}")
        for r in rows:
            classes = [float(x) for x in r[5:13]]
            check(abs(sum(classes) - float(r[4])) <= 8, f"view: class rates add up to the total: {r}")
        traps = [float(r[4]) for r in rows]
        check_eq(traps, sorted(traps, reverse=True), "view: sorted by traps/s, busiest first")
        share = sum(float(r[13].rstrip("%")) for r in rows)
        check(99 <= share <= 101, f"view: shares of the guests shown add up to 100%: {share}")

        # sorting: by name, reversed, by pid, by a class column
        # (each check waits until the screen shows it: a loaded machine may redraw late)
        pane.keys("N")
        screen = pane.wait_for(lambda s: "sort name" in s)
        check_eq([r[1] for r in table(screen)], sorted(names.values()), "sort N: names ascending")
        check("sort name" in screen, "sort N: the header says so")
        pane.keys("r")
        screen = pane.wait_for(lambda s: "(reversed)" in s)
        check_eq([r[1] for r in table(screen)], sorted(names.values(), reverse=True),
                 "r reverses the order")
        pane.keys("r", "I")
        screen = pane.wait_for(lambda s: "sort pid" in s and "(reversed)" not in s)
        check_eq([int(r[0]) for r in table(screen)], sorted(names), "sort I: pids ascending")
        pane.keys("4")  # pio
        rows = table(pane.wait_for(lambda s: "sort pio" in s))
        pio = [float(r[8]) for r in rows]
        check_eq(pio, sorted(pio, reverse=True), "sort 4: by the pio rate")
        pane.keys("s")
        check("sort mmio" in pane.wait_for(lambda s: "sort mmio" in s), "s: the next sort column")
        pane.keys("T")

        # drill-down into web: filter to it, Enter
        pane.keys("/")
        tmux("send-keys", "-t", "live", "-l", f"{PREFIX}-web")
        pane.keys("Enter")
        rows = table(pane.wait_for(lambda s: len(table(s)) == 1))
        check_eq([int(r[0]) for r in rows], [web], "/ filter: only the matching guest")
        pane.keys("Enter")
        screen = pane.wait_for(lambda s: "time in VMM latency" in s)
        check(f'Guest {web} "{PREFIX}-web" live: 2 vCPU threads' in screen,
              f"Enter: the guest's details:\n{screen}")
        for want in ("vcpu0", "vcpu1", "CLASS / CODE", "emulate", "pio", "out 0x3f8 (serial COM1)",
                     "device serial COM1", "mmio",
                     "read 0xd0000", "userspace", "KVM_EXIT_IO", "KVM_EXIT_MMIO", "KVM_EXIT_HLT",
                     "cpuid 0x0", "time in VMM latency", "->"):
            check(want in screen, f"drill-down shows {want!r}:\n{screen}")
        lines = {l.split()[0]: l.split() for l in screen.splitlines() if l.strip()}
        check(len(lines.get("userspace", [])) >= 6, f"drill-down: userspace has avg and max latency: "
              f"{lines.get('userspace')}")
        # scrolling in a short terminal
        tmux("resize-window", "-t", "live", "-x", "200", "-y", "14")
        pane.keys("End")
        screen = pane.wait_for(lambda s: "VCPU " not in s)
        check("VCPU " not in screen and "cpuid 0x0" in screen, f"End scrolls the details:\n{screen}")
        time.sleep(1.2)  # two refreshes: a code or bucket line that came in between must not hide the last
        screen = pane.text()
        check("cpuid 0x0" in screen, f"End keeps the details' last line shown as lines come:\n{screen}")
        check_eq(len(screen.splitlines()), 14, "drill-down: never more lines than the terminal")
        pane.keys("Home")
        check("VCPU " in pane.wait_for(lambda s: "VCPU " in s), "Home scrolls back")
        tmux("resize-window", "-t", "live", "-x", "200", "-y", "50")
        pane.keys("Escape")
        screen = pane.wait_for(lambda s: len(table(s)) == 1)
        check(len(table(screen)) == 1, "Esc: back to the table")
        pane.keys("/")  # clear the filter: BSpace over it
        for _ in range(len(PREFIX) + 4):
            tmux("send-keys", "-t", "live", "BSpace")
        pane.keys("Enter")
        check_eq(len(table(pane.wait_for(lambda s: len(table(s)) == 3))), 3,
                 "an empty filter shows every guest")

        # pause: the numbers stay; clear: totals restart; +: longer interval
        pane.keys("p")
        first = pane.wait_for(lambda s: "PAUSED" in s)
        time.sleep(1.2)
        second = pane.text()
        check("PAUSED" in first, "p: the header says PAUSED")
        check_eq(table(second), table(first), "p: the table stays while paused")
        pane.keys("p")
        before = {int(r[0]): int(r[14]) for r in table(pane.wait_for(lambda s: "PAUSED" not in s))}
        pane.keys("c")
        screen = pane.wait_for(lambda s: "totals since" in s)
        after = {int(r[0]): int(r[14]) for r in table(screen)}
        check("totals since" in screen and all(after[p] < before[p] for p in before),
              f"c: totals restart ({before} -> {after})")
        pane.keys("+")
        check("interval 1.00s" in pane.wait_for(lambda s: "interval 1.00s" in s),
              "+: a longer interval")
        pane.keys("-", "-")
        check("interval 0.20s" in pane.wait_for(lambda s: "interval 0.20s" in s),
              "-: a shorter interval")
        pane.keys("h")
        check("this help" in pane.wait_for(lambda s: "this help" in s), "h: the help")
        pane.keys("x")
        check(len(table(pane.wait_for(lambda s: len(table(s)) == 3))) == 3,
              "any key closes the help")

        # narrow terminal: columns drop, nothing wraps
        for width in (100, 60, 30):
            tmux("resize-window", "-t", "live", "-x", str(width), "-y", "50")
            screen = pane.wait_for(lambda s: len(table(s)) == 3 and
                                   all(len(l) <= width for l in s.splitlines()))
            lines = screen.splitlines()
            check(all(len(l) <= width for l in lines), f"width {width}: no line is longer")
            rows = table(screen)
            check_eq({int(r[0]): r[1].rstrip("~") for r in rows} if width > 30 else len(rows),
                     names if width > 30 else 3, f"width {width}: pid and name stay")
        tmux("resize-window", "-t", "live", "-x", "200", "-y", "50")

        # a guest that ends is marked ended, and keeps its row
        os.killpg(LIVE[2].pid, signal.SIGKILL)
        screen = pane.wait_for(lambda s: any(r[0] == str(build) and r[2] == "ended"
                                             for r in table(s)))
        check(any(r[0] == str(build) and r[2] == "ended" for r in table(screen)),
              f"an ended guest is marked ended:\n{screen}")

        pane.keys("q")
        screen = pane.wait_for(lambda s: "kvmprof-exit=" in s)
        check("kvmprof-exit=0" in screen, f"q: kvmprof ends with 0:\n{screen}")
        history = tmux("capture-pane", "-p", "-S", "-1000", "-t", "live")
        check("=== kvmprof summary" in history and f'Guest {web} "{PREFIX}-web"' in history and
              f'Guest {build} "{PREFIX}-build" (ended)' in history,
              "q: the summary names every guest, the ended one as ended")
        check("PID     GUEST" not in history, "q: the view is gone from the normal screen")
        with open(f"{outdir}/live.csv", newline="") as f:
            pids = {int(r["pid"]) for r in csv.DictReader(f)}
        check_eq(pids, set(names), "q: the CSV holds the -g guests")
    finally:
        pane.close()
        kill_leftovers()


def test_hostile_name(outdir):
    """Commas, quotes, a newline and ANSI/OSC escapes in a name: the screen,
    its title and the CSV stay intact."""
    raw = f'{PREFIX}-evil,,"q"\n\x1b[31mred\x1b]0;pwned\x07'
    shown = f'{PREFIX}-evil,"q"\\x0a\\x1b[31mred\\x1b]0;pwned\\x07'
    evil = start_guest(raw, ["--pio", "20", "--emulate", "1000", "--sleep-us", "100"])
    plain = start_guest(f"{PREFIX}-plain", ["--cpuid", "50", "--emulate", "500"])
    pane = Pane("evil", [KVMPROF, "-g", f"'{PREFIX}-*'", "-i", "0.5", "--csv", f"{outdir}/evil.csv",
                         "--json", f"{outdir}/evil.json"])
    try:
        screen = pane.wait_for(lambda s: len(table(s)) == 2)
        lines = screen.splitlines()
        check_eq(len(lines), 50, "hostile name: the screen keeps its 50 lines")
        rows = {int(r[0]): r for r in table(screen)}
        check(evil in rows and shown.startswith(rows[evil][1].rstrip("~")) and
              rows[evil][2] == "live", f"hostile name: one row, escaped, cut to its column: "
              f"{rows.get(evil)}")
        check(plain in rows and rows[plain][2] == "live", "hostile name: the other row is intact")
        check(lines[3].split()[:3] == ["PID", "GUEST", "STATE"], "hostile name: titles intact")
        colored = pane.text(escapes=True)
        check("\x1b[31m" not in colored and "\x07" not in colored,
              "hostile name: no colour or bell reaches the terminal")
        title = tmux("display-message", "-p", "-t", "evil", "#{pane_title}")
        check("pwned" not in title, f"hostile name: the terminal title is untouched ({title.strip()!r})")
        pane.keys("/")
        tmux("send-keys", "-t", "evil", "-l", "evil")
        pane.keys("Enter", "Enter")
        screen = pane.wait_for(lambda s: "CLASS / CODE" in s)
        check(f'Guest {evil} "{shown}" live' in screen, f"hostile name: drill-down title:\n{screen}")
        check_eq(len(screen.splitlines()), 50, "hostile name: drill-down keeps 50 lines")
        pane.keys("q")
        pane.wait_for(lambda s: "kvmprof-exit=" in s)
        history = tmux("capture-pane", "-p", "-S", "-1000", "-t", "evil")
        check(f'Guest {evil} "{shown}"' in history, "hostile name: the summary shows it escaped")
        with open(f"{outdir}/evil.csv", newline="") as f:
            rows = list(csv.reader(f))
        check(all(len(r) == len(rows[0]) for r in rows) and len(rows[0]) >= 18,
              f"hostile name: every CSV row has the header's {len(rows[0])} fields")
        names = {r[1] for r in rows[1:] if r[0] == str(evil)}
        check_eq(names, {shown}, "hostile name: the CSV field round-trips")
        with open(f"{outdir}/evil.json") as f:
            doc = json.load(f)
        check_eq([g["name"] for g in doc["guests"] if g["pid"] == evil], [shown],
                 "hostile name: JSON")
    finally:
        pane.close()
        kill_leftovers()


def parse_batch(out):
    """Batch output: a list of tables (header fields, {pid: row fields}), then
    the summary text."""
    tables, summary = [], ""
    lines = out.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("=== kvmprof summary"):
            summary = "\n".join(lines[i:])
            break
        m = re.match(r"\d\d:\d\d:\d\d  kvmprof  elapsed ([\d.]+)s  interval ([\d.]+)s  "
                     r"traps (\d+)/s  guests (\d+) live, (\d+) ended  dropped (\d+)$", line)
        if m:
            titles = lines[i + 1].split()
            rows = {}
            i += 2
            while i < len(lines) and lines[i].strip():
                f = lines[i].split()
                rows[int(f[0])] = f
                i += 1
            tables.append(({"elapsed": float(m.group(1)), "interval": float(m.group(2)),
                            "traps": int(m.group(3)), "live": int(m.group(4))}, titles, rows))
        i += 1
    return tables, summary


def test_batch(outdir):
    """-b and a pipe: plain tables, no escape codes; -g filters tables,
    summary, CSV and JSON."""
    a = start_guest(f"{PREFIX}-alpha", ["--pio", "20", "--emulate", "1000", "--sleep-us", "100"])
    b = start_guest(f"{PREFIX}-beta", ["--cpuid", "50", "--emulate", "500"])
    skip = start_guest(f"{PREFIX}-skipped", ["--cpuid", "50", "--emulate", "500"])
    try:
        p = subprocess.run([KVMPROF, "-b", "-i", "0.5", "-d", "2.6", "-g", f"{PREFIX}-alpha",
                            "-g", f"{PREFIX}-b*", "--csv", f"{outdir}/batch.csv", "--json",
                            f"{outdir}/batch.json"], capture_output=True, text=True, timeout=60)
        check_eq(p.returncode, 0, f"batch: exit status ({p.stderr.strip()})")
        check("\x1b" not in p.stdout, "batch: no escape codes in the output")
        tables, summary = parse_batch(p.stdout)
        check(len(tables) >= 4, f"batch: a table per interval ({len(tables)})")
        for head, titles, rows in tables:
            check(titles[:4] == ["PID", "GUEST", "VCPUS", "TRAPS/s"], f"batch: titles {titles}")
            check(set(rows) <= {a, b}, f"batch: only the -g guests: {set(rows)}")
            check(abs(head["interval"] - 0.5) < 0.2 or head is tables[-1][0],
                  f"batch: interval {head['interval']}")
            check(abs(head["traps"] - sum(int(r[3]) for r in rows.values())) <= len(rows),
                  f"batch: the header's traps/s sum the rows: {head} {rows}")
        last = tables[-1][2]
        check_eq({p: r[1] for p, r in last.items()}, {a: f"{PREFIX}-alpha", b: f"{PREFIX}-beta"},
                 "batch: rows named")
        check(f'Guest {a} "{PREFIX}-alpha"' in summary and f'Guest {b} "{PREFIX}-beta"' in summary
              and "skipped" not in summary, "batch: the summary holds the -g guests only")
        with open(f"{outdir}/batch.csv", newline="") as f:
            check_eq({int(r["pid"]) for r in csv.DictReader(f)}, {a, b}, "batch: -g in the CSV")
        with open(f"{outdir}/batch.json") as f:
            check_eq({g["pid"] for g in json.load(f)["guests"]}, {a, b}, "batch: -g in the JSON")

        # -b on a terminal: the same plain tables, not the view
        pane = Pane("batch", [KVMPROF, "-b", "-i", "0.5", "-d", "1.2", "-g", f"'{PREFIX}-alpha'"])
        try:
            screen = pane.wait_for(lambda s: "kvmprof-exit=" in s)
            check("kvmprof-exit=0" in screen, "batch on a terminal: exit 0")
            check(re.search(r"\d\d:\d\d:\d\d  kvmprof  elapsed", screen) and
                  "=== kvmprof summary" in screen and "host " not in screen,
                  f"batch on a terminal: plain tables, then the summary:\n{screen}")
        finally:
            pane.close()
        # a glob that matches nothing: empty tables, a summary, exit 0
        p = subprocess.run([KVMPROF, "-b", "-d", "1", "-g", "no-such-guest-*"],
                           capture_output=True, text=True, timeout=60)
        check_eq(p.returncode, 0, "-g matching nothing: exit 0")
        check("No KVM traps seen." in p.stdout, "-g matching nothing: an empty summary")
    finally:
        kill_leftovers()


def test_insns_drilldown(outdir):
    """--insns: the drill-down lists the guest's instructions in full with
    their addresses (CS base 0x1000 + IP), and its failed emulations."""
    g = start_guest(f"{PREFIX}-insns", ["--pio", "20", "--emul-fail", "3", "--cs-base",
                                        "--sleep-us", "100"])
    pane = Pane("insns", [KVMPROF, "--insns", "-g", f"'{PREFIX}-insns'", "-i", "0.5"], height=80)
    try:
        pane.wait_for(lambda s: len(table(s)) == 1)
        pane.keys("Enter")
        screen = pane.wait_for(lambda s: "FAILED EMULATION" in s)
        check(f'Guest {g} "{PREFIX}-insns"' in screen, f"insns: the guest's details:\n{screen}")
        lines = [l.split() for l in screen.splitlines()]
        out = [l for l in lines if l[:3] == ["out", "dx,", "al"] and l[-1].startswith("0x")]
        check(out and out[0][3:5] == ["ee", "real"] and out[0][-1] == "0x100f",
              f"insns: out dx, al with its byte, mode and address: {out}")
        aaa = [l for l in lines if l[:1] == ["aaa"] and l[-1].startswith("0x")]  # not the codes
        check(len(aaa) == 2 and all(l[1:3] == ["37", "real"] and l[-1] == "0x101a" for l in aaa),
              f"insns: aaa listed as executed and as failed, at 0x101a: {aaa}")
        check("EMULATED INSTRUCTION" in screen and "RIP (CS base + rip)" in screen,
              "insns: the section titles")
    finally:
        pane.close()
        kill_leftovers()


def test_rates(outdir):
    """Rates stay right across a pause and c: a guest sleeping 5 ms after
    each VMM trip makes at most 200 trips a second, and its own count over
    its own run time (guestload prints both) is the truth.  The VMM column
    after 3 s paused (the read then covers the pause) and after c must show
    that rate; the total since c must be the traps/s times the time since c."""
    pid = start_guest(f"{PREFIX}-rate", ["--hlt", "1", "--sleep-us", "5000"], duration=20)
    pane = Pane("rate", [KVMPROF, "-g", f"'{PREFIX}-rate'", "-i", "0.5"])
    shown = {}

    def vmm_rate(screen):
        lines = screen.splitlines()
        titles = lines[3].split() if len(lines) > 3 else []
        rows = [r for r in table(screen) if int(r[0]) == pid]
        if "VMM" not in titles or not rows:
            return None
        return float(rows[0][titles.index("VMM")])

    def total_of(screen):
        rows = [r for r in table(screen) if int(r[0]) == pid]
        return int(rows[0][14]) if rows else None

    try:
        screen = pane.wait_for(lambda s: (vmm_rate(s) or 0) > 0)
        shown["running"] = vmm_rate(screen)
        time.sleep(1.1)
        shown["running, later"] = vmm_rate(pane.text())
        pane.keys("p")
        pane.wait_for(lambda s: "PAUSED" in s)
        time.sleep(3)
        pane.keys("p")
        # the view redraws at once with the numbers of before; the first
        # read after the pause (its total moves) covers the pause
        t0 = total_of(pane.wait_for(lambda s: "PAUSED" not in s))
        shown["after a 3 s pause"] = vmm_rate(pane.wait_for(lambda s: total_of(s) not in (None, t0)))
        time.sleep(1.1)
        shown["after the pause, later"] = vmm_rate(pane.text())
        pane.keys("c")
        t_clear = time.time()
        shown["after c"] = vmm_rate(pane.wait_for(lambda s: "totals since" in s and (total_of(s) or 0) > 0))
        time.sleep(4)
        screen = pane.text()
        shown["after c, later"] = vmm_rate(screen)
        since_c = time.time() - t_clear
        row = [r for r in table(screen) if int(r[0]) == pid]
        traps, total = (float(row[0][4]), int(row[0][14])) if row else (0, 0)
        pane.keys("q")
        pane.wait_for(lambda s: "kvmprof-exit=" in s)
        out, _ = LIVE[-1].communicate(timeout=30)
        g = dict(kv.split("=", 1) for kv in out.split("guest ", 1)[-1].split() if "=" in kv)
        truth = int(g["kvm_run"]) / (int(g["elapsed_us"]) / 1e6)
        print(f"rate: truth {truth:.1f}/s, shown {shown}, {total} traps in {since_c:.1f} s at {traps}/s", flush=True)
        check(150 < truth <= 200, f"rate: the guest made {truth:.1f} trips/s (at most 200)")
        for when, rate in shown.items():
            check(rate is not None and abs(rate - truth) <= 0.12 * truth,
                  f"rate {when}: the view shows {rate} VMM trips/s, the guest made {truth:.1f}")
        # the total since c over the time since c (give or take the interval
        # in flight and the redraw) is the traps/s
        check(traps > 0 and abs(total / since_c - traps) <= 0.2 * traps,
              f"rate: {total} traps in the {since_c:.1f} s since c, at {traps}/s")
    finally:
        pane.close()
        kill_leftovers()


def test_time_view(outdir):
    """t: the guest table shows where the vCPUs' time went, the states this
    kernel tells apart as shares of their wall time (they sum to 100%); in
    the details, v lists each vCPU thread and o orders codes by time."""
    g = start_guest(f"{PREFIX}-time", ["-c", "2", "--pio", "100000", "--sleep-us", "2000"])
    pane = Pane("time", [KVMPROF, "-g", f"'{PREFIX}-time'", "-i", "0.5"], height=80)
    try:
        pane.wait_for(lambda s: len(table(s)) == 1)
        pane.keys("t")
        screen = pane.wait_for(lambda s: "vmm%" in s and len(table(s)) == 1)
        head = next(l for l in screen.splitlines() if l.startswith("PID "))
        check("kvm_run%" in head and "halted%" in head and "preempted%" in head and "outside%" in head,
              f"t: the time columns: {head}")
        row = table(screen)[0]
        shares = [float(f[:-1]) for f in row[-5:] if f.endswith("%")]  # the last five: the states
        check(len(shares) == 5 and abs(sum(shares) - 100) < 1.5, f"t: the shares sum to 100%: {row}")
        check(shares and shares[1] > 80, f"t: a guest sleeping 2 ms per trip is mostly in its VMM: {row}")
        pane.keys("t")
        check("EMUL" in pane.wait_for(lambda s: "EMUL" in s), "t again: the trap rates")
        pane.keys("Enter")
        pane.wait_for(lambda s: "CLASS / CODE" in s)
        pane.keys("v")
        screen = pane.wait_for(lambda s: "vCPU 1, thread" in s)
        check(f"vCPU 0, thread" in screen, f"v: each vCPU thread's details:\n{screen}")
        pane.keys("o")
        screen = pane.wait_for(lambda s: "codes by total (o)" in s)
        check("codes by total (o)" in screen, "o: codes by total time")
    finally:
        pane.close()
        kill_leftovers()


def main():
    return kvmtest.main("tui", [test_live_view, test_hostile_name, test_batch, test_insns_drilldown, test_rates,
                                test_time_view],
                        "kvmprof-tui-", at_end=lambda: tmux("kill-server"))


if __name__ == "__main__":
    sys.exit(main())
