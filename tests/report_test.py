#!/usr/bin/env python3
"""kvmprof report and --json-series around real guests whose traps we script.

Guests from tests/guestload (exact counts: see its header comment), one with
a name made to break HTML, are traced by kvmprof with --csv, --csv-series and
--json-series.  The report's numbers (data attributes of the SVG bars and
table rows) must equal the CSV's and the guests' scripted counts; the JSON
lines must parse and sum to the totals; headless chromium must render an SVG
chart per guest and a screenshot that is not blank; bad inputs must give one
line, the documented exit status and no file."""
import csv
import html.parser
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvmtest  # noqa: E402  (the tally, guests, tracers, CSV reader and runner)
from kvmtest import KVMPROF, Guests, Tracer, check, check_eq, read_csv  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# a name that would open a script, leave an attribute or fake an entity if
# it were pasted into the page unescaped
HOSTILE = 'evil<script>alert("x")</script>&amp;\'q\'"><img src=x onerror=alert(1)>'


class Page(html.parser.HTMLParser):
    """Every element with its attributes and the text inside it."""

    def __init__(self, text):
        super().__init__()
        self.elements = []  # [tag, attrs, text]
        self.open = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        e = [tag, dict(attrs), ""]
        self.elements.append(e)
        if tag not in ("meta", "line", "br", "img", "input", "link"):
            self.open.append(e)

    def handle_startendtag(self, tag, attrs):
        self.elements.append([tag, dict(attrs), ""])

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for e in self.open:
            e[2] += data

    def section(self, pid):
        """The elements of guest pid's section."""
        out, inside = [], False
        for e in self.elements:
            if e[0] == "section":
                inside = e[1].get("data-pid") == str(pid)
            if inside:
                out.append(e)
        return out


# rows of the CSV files that are not traps (a vCPU thread's time, checks against KVM's
# counters): the report leaves them out
NOT_TRAPS = ("vcpu_time", "check")


def csv_key_totals(path):
    """(pid, class, code) -> count, and (pid, class, bucket_lo) -> samples."""
    counts, buckets, seen = {}, {}, set()
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["class"] in NOT_TRAPS:
                continue
            pid, cls, code = int(r["pid"]), r["class"], int(r["code"], 16)
            key = (pid, r["tid"], cls, code)
            if key not in seen:
                seen.add(key)
                counts[(pid, cls, code)] = counts.get((pid, cls, code), 0) + int(r["count"])
            if r["bucket_count"]:
                b = (pid, cls, int(r["bucket_lo_ns"]))
                buckets[b] = buckets.get(b, 0) + int(r["bucket_count"])
    return counts, buckets


def series_rows(path):
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r["class"] not in NOT_TRAPS]


def class_totals(counts, pid):
    out = {}
    for (p, cls, _), n in counts.items():
        if p == pid:
            out[cls] = out.get(cls, 0) + n
    return out


def scripted_classes(g):
    """What each class must count for a guest on this host (guestload's table)."""
    n = lambda k: int(g[k])
    return {"emulate": n("insns"), "pio": n("exit_io"), "mmio": 2 * n("mmio_read") + n("mmio_write"),
            "userspace": n("kvm_run"), "cpuid": n("cpuid"), "msr": n("msr_read") + n("msr_write")}


def run_traced(outdir, tag, groups, extra=()):
    """Guests wait, kvmprof starts, guests run, kvmprof gets SIGINT."""
    start = f"{outdir}/{tag}.start"
    gs = [Guests(args, start) for args in groups]
    t = Tracer([KVMPROF, "-q", "-i", "0.5", "--csv", f"{outdir}/{tag}.csv", "--csv-series",
                f"{outdir}/{tag}-series.csv", "--json-series", f"{outdir}/{tag}.jsonl"] + list(extra),
               r"tracing KVM traps")
    time.sleep(0.6)  # an interval without traps, which the JSON lines still mark
    open(start, "w").close()
    results = {}
    for g in gs:
        results.update(g.finish())
    time.sleep(0.6)
    rc, out, err = t.stop()
    check_eq(rc, 0, f"{tag}: kvmprof exit status ({err.strip()[-300:]})")
    return gs, results


def time_rows(path, pid):
    """state -> ns of one guest's vcpu_time rows in a --csv or --csv-series file."""
    out = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["class"] == "vcpu_time" and int(r["pid"]) == pid:
                out[r["code_name"]] = out.get(r["code_name"], 0) + int(r["count"])
    return out


def check_report_numbers(page, counts, buckets, series, results, names, csv_path, series_path):
    """The report against the CSV and the guests' own counts."""
    sums = {}
    for r in series:
        k = (int(r["pid"]), r["class"])
        sums[k] = sums.get(k, 0) + int(r["count"])
    total = sum(counts.values())
    tot = [e for e in page.elements if e[1].get("id") == "total"]
    check(tot and tot[0][1].get("data-total") == str(total), "report: total traps of the run")
    for pid, g in results.items():
        label = f"report/{pid}"
        want = class_totals(counts, pid)
        sec = page.section(pid)
        if not check(sec, f"{label}: a section for the guest"):
            continue
        check_eq(sec[0][1].get("data-total"), str(sum(want.values())), f"{label}: section total")
        check_eq(sec[0][1].get("data-name"), names[pid], f"{label}: data-name round-trips")
        h2 = [e for e in sec if e[0] == "h2"]
        check(h2 and h2[0][2].startswith(f"Guest \u201c{names[pid]}\u201d"),
              f"{label}: heading shows the name as text: {h2 and h2[0][2]!r}")
        over = [e for e in page.elements if e[0] == "tr" and e[1].get("data-pid") == str(pid)]
        check(over and over[0][1]["data-total"] == str(sum(want.values())), f"{label}: overview row")
        # class table: the CSV, and what the guest scripted
        rows = {e[1]["data-class"]: int(e[1]["data-count"]) for e in sec
                if e[0] == "tr" and "data-class" in e[1] and "data-code" not in e[1]}
        check_eq(rows, want, f"{label}: class table equals the CSV")
        for cls, n in scripted_classes(g).items():
            check_eq(rows.get(cls, 0), n, f"{label}: {cls} as the guest scripted")
        # the time chart: its bars sum per class to the series, and to the totals
        bars = {}
        for e in sec:
            if e[0] == "rect" and "data-start" in e[1] and "data-class" in e[1]:
                bars[e[1]["data-class"]] = bars.get(e[1]["data-class"], 0) + int(e[1]["data-count"])
        check_eq(bars, {c: n for (p, c), n in sums.items() if p == pid}, f"{label}: time bars = series")
        check_eq(bars, want, f"{label}: time bars = totals")
        # where the vCPU time went: the table is the --csv file's vcpu_time rows, the chart's
        # bars (a 100% stack per interval) sum per state to the series' rows, and those to the
        # totals (each thread's intervals add up to its run), exactly
        want_t = time_rows(csv_path, pid)
        table = {e[1]["data-state"]: int(e[1]["data-ns"]) for e in sec if e[0] == "tr" and "data-state" in e[1]}
        check_eq(table, want_t, f"{label}: the vCPU time table = the CSV's vcpu_time rows")
        check(want_t.get("vmm", 0) > 0 and want_t.get("kvm_run", want_t.get("guest", 0)) > 0,
              f"{label}: time in KVM_RUN and in the VMM: {want_t}")
        tbars = {}
        for e in sec:
            if e[0] == "rect" and "data-state" in e[1]:
                tbars[e[1]["data-state"]] = tbars.get(e[1]["data-state"], 0) + int(e[1]["data-ns"])
        check_eq(tbars, {k: v for k, v in time_rows(series_path, pid).items() if v},
                 f"{label}: the time share bars = the series' vcpu_time rows")
        check_eq(tbars, {k: v for k, v in want_t.items() if v}, f"{label}: the time share bars = the totals")
        # latency: each bar is a CSV bucket; the samples are the VMM trips
        hist = {}
        for e in sec:
            if e[0] == "rect" and "data-lo" in e[1]:
                cls = next(x[1]["data-class"] for x in reversed(sec[:sec.index(e)]) if x[0] == "svg")
                hist[(pid, cls, int(e[1]["data-lo"]))] = int(e[1]["data-count"])
        check_eq(hist, {k: v for k, v in buckets.items() if k[0] == pid}, f"{label}: histogram bars = CSV buckets")
        svgs = {e[1]["data-class"]: int(e[1]["data-samples"]) for e in sec if e[0] == "svg" and "data-samples" in e[1]}
        check_eq(svgs.get("userspace"), int(g["kvm_run"]) - int(g["vcpus"]),
                 f"{label}: VMM-time samples = KVM_RUN returns but each vCPU's last")
        # top codes: counts and names as in the CSV, busiest first
        codes = [(e[1]["data-class"], int(e[1]["data-code"], 16), int(e[1]["data-count"])) for e in sec
                 if e[0] == "tr" and "data-code" in e[1]]
        check(codes, f"{label}: a code table")
        for cls, code, n in codes:
            check_eq(n, counts.get((pid, cls, code)), f"{label}: code {cls} {code:#x} equals the CSV")
        check_eq([n for _, _, n in codes], sorted((n for _, _, n in codes), reverse=True),
                 f"{label}: codes busiest first")
        cells = {(e[1]["data-class"], int(e[1]["data-code"], 16)): e[2] for e in sec
                 if e[0] == "tr" and "data-code" in e[1]}
        if int(g["pio_out"]):
            check("out 0x3f8" in cells.get(("pio", 0x103f8), ""), f"{label}: out 0x3f8 named")
            check_eq(counts.get((pid, "pio", 0x103f8)), int(g["pio_out"]), f"{label}: out 0x3f8 scripted")
        check("KVM_EXIT_IO" in cells.get(("userspace", 2), ""), f"{label}: KVM_EXIT_IO named")


def check_json_lines(path, series, counts, label):
    """Each line parses; the rows are the CSV series' rows; they sum to the totals."""
    lines = open(path).read().split("\n")
    check_eq(lines[-1], "", f"{label}: JSON lines end in a newline")
    objs = []
    for i, line in enumerate(lines[:-1]):
        try:
            objs.append(json.loads(line))
        except ValueError as e:
            check(False, f"{label}: line {i + 1} parses: {e}")
    check(len(objs) == len(lines) - 1 and objs, f"{label}: {len(objs)} lines, all parse")
    check(any(not o["rows"] for o in objs), f"{label}: an interval without traps is a line too")
    el = [o["elapsed_s"] for o in objs]
    check_eq(el, sorted(el), f"{label}: intervals in order")
    j = sorted((f"{o['elapsed_s']:.3f}", r["pid"], r["tid"], r["class"], r["code"], r["code_name"],
                r["count"], r["lat_count"], r["lat_sum_ns"]) for o in objs for r in o["rows"])
    c = sorted((r["elapsed_s"], int(r["pid"]), int(r["tid"]), r["class"], int(r["code"], 16), r["code_name"],
                int(r["count"]), int(r["lat_count"]), int(r["lat_sum_ns"])) for r in series)
    check_eq(len(j), len(c), f"{label}: as many rows as the CSV series")
    check(j == c, f"{label}: the same rows as the CSV series")
    sums = {}
    for o in objs:
        for r in o["rows"]:
            k = (r["pid"], r["class"], r["code"])
            sums[k] = sums.get(k, 0) + r["count"]
    check_eq(sums, {k: v for k, v in counts.items() if v}, f"{label}: intervals sum to the final totals")
    return objs


def png_pixels(path):
    """(width, height, rows of bytes, bytes per pixel) of an 8-bit RGB(A) PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError(f"PNG depth {depth} colour type {ctype} interlace {interlace}")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows, bpp


def check_in_chromium(outdir, path, results, label):
    if not check(os.access(CHROMIUM, os.X_OK), f"{label}: chromium is installed (make deps)"):
        return
    env = dict(os.environ, HOME=outdir)  # its profile in the temporary folder
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--user-data-dir=" + f"{outdir}/chromium", "--no-first-run"]
    p = subprocess.run(base + ["--dump-dom", "file://" + path], capture_output=True, text=True,
                       timeout=120, env=env)
    check_eq(p.returncode, 0, f"{label}: chromium --dump-dom")
    dom = Page(p.stdout)
    check(not [e for e in dom.elements if e[0] in ("script", "img", "iframe")],
          f"{label}: the rendered DOM has no script, img or iframe element")
    for pid in results:
        sec = dom.section(pid)
        check_eq(len([e for e in sec if e[0] == "svg" and "mix" in e[1].get("class", "")]), 1,
                 f"{label}: rendered DOM has the time chart of guest {pid}")
        check(any(e[0] == "svg" and "hist" in e[1].get("class", "") for e in sec),
              f"{label}: rendered DOM has a latency chart of guest {pid}")
    shot = f"{outdir}/report.png"
    p = subprocess.run(base + ["--screenshot=" + shot, "--window-size=1100,1600", "file://" + path],
                       capture_output=True, text=True, timeout=120, env=env)
    if not check(p.returncode == 0 and os.path.exists(shot), f"{label}: chromium --screenshot"):
        return
    w, h, rows, bpp = png_pixels(shot)
    check_eq((w, h), (1100, 1600), f"{label}: screenshot size")
    bg = {(0xf6, 0xf7, 0xf9), (0xff, 0xff, 0xff)}
    ink = emulate = 0
    for row in rows:
        for x in range(0, w * bpp, bpp):
            px = tuple(row[x:x + 3])
            if px not in bg:
                ink += 1
            if abs(px[0] - 0xe1) < 8 and abs(px[1] - 0x57) < 8 and abs(px[2] - 0x59) < 8:
                emulate += 1
    check(ink > w * h // 50, f"{label}: screenshot not blank ({ink} of {w * h} pixels drawn)")
    check(emulate > 2000, f"{label}: the emulate bars are painted ({emulate} pixels of #e15759)")
    print(f"{label}: screenshot {shot}: {ink} pixels drawn, {emulate} in the emulate colour")


def test_report(outdir):
    """Two guests (one named to break HTML), the report from their files."""
    web = ["-g", "1", "-c", "2", "--pio", "50", "--mmio-read", "20", "--mmio-write", "30", "--cpuid", "40",
           "--hlt", "5", "--emulate", "100", "--sleep-us", "200", "--repeat", "60", "-name", "guest=" + HOSTILE]
    db = ["-g", "1", "--pio", "7", "--cpuid", "11", "--msr-read", "4", "--msr-write", "6",
          "--emulate", "1000000", "--repeat", "2", "-name", "guest=db"]
    gs, results = run_traced(outdir, "run", [web, db])
    names = {gs[0].pids[0]: HOSTILE, gs[1].pids[0]: "db"}
    counts, buckets = csv_key_totals(f"{outdir}/run.csv")
    series = series_rows(f"{outdir}/run-series.csv")
    rows = read_csv(f"{outdir}/run.csv")
    for pid, g in results.items():  # the CSV is right before the report is checked against it
        want = class_totals(counts, pid)
        for cls, n in scripted_classes(g).items():
            check_eq(want.get(cls, 0), n, f"csv/{pid}: {cls} as scripted")
        check_eq({v["guest"] for (p, _, _), v in rows.items() if p == pid}, {names[pid]},
                 f"csv/{pid}: the name")
    check_json_lines(f"{outdir}/run.jsonl", series, counts, "json-series")

    # the series found beside the CSV by its name
    out = f"{outdir}/report.html"
    p = subprocess.run([KVMPROF, "report", f"{outdir}/run.csv", "-o", out], capture_output=True, text=True)
    check_eq(p.returncode, 0, f"report: exit status ({p.stderr.strip()})")
    check("run-series.csv" in p.stderr, f"report: says it found the series: {p.stderr.strip()}")
    text = open(out, encoding="utf-8").read()
    for bad in ("<script", "<img", "onerror=alert(1)>", "<link", "http://", "https://", "@import"):
        check(bad not in text, f"report: no '{bad}' in the page")
    escaped = ("evil&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;amp;&#39;q&#39;&quot;&gt;"
               "&lt;img src=x onerror=alert(1)&gt;")
    check(text.count(escaped) >= 3, "report: the hostile name escaped in the heading, attribute and overview")
    page = Page(text)
    check_eq(sorted({e[0] for e in page.elements} & {"script", "img", "iframe", "object"}), [],
             "report: no element the input could have injected")
    check_report_numbers(page, counts, buckets, series, results, names, f"{outdir}/run.csv",
                         f"{outdir}/run-series.csv")
    # the same page from the files given in the other order, as nobody (no root needed)
    os.chmod(outdir, 0o777)
    out2 = f"{outdir}/report2.html"
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", KVMPROF, "report",
                        f"{outdir}/run-series.csv", f"{outdir}/run.csv", "-o", out2],
                       capture_output=True, text=True)
    check_eq(p.returncode, 0, f"report as nobody, series first: exit status ({p.stderr.strip()})")
    check(os.path.exists(out2) and open(out2, encoding="utf-8").read() == text,
          "report: the same page whatever the order of the files")
    # without a series: the page says so, the rest is there
    shutil.copy(f"{outdir}/run.csv", f"{outdir}/alone.csv")
    p = subprocess.run([KVMPROF, "report", f"{outdir}/alone.csv"], capture_output=True, text=True)
    check_eq(p.returncode, 0, "report without a series: exit status")
    alone = open(f"{outdir}/alone.html", encoding="utf-8").read()  # the default name
    check("No time series" in alone and 'class="mix"' not in alone and 'class="hist"' in alone,
          "report without a series: no time chart, a note, the histograms")
    check_in_chromium(outdir, out, results, "chromium")


def test_rotation(outdir):
    """SIGHUP rotates --json-series with --csv-series: every part's lines
    parse, and the parts hold every interval's rows once."""
    start = f"{outdir}/rot.start"
    g = Guests(["--pio", "20", "--cpuid", "10", "--emulate", "200", "--repeat", "200", "--sleep-us", "2000",
                "-name", "guest=rot"], start)
    js, cs = f"{outdir}/rot.jsonl", f"{outdir}/rot-series.csv"
    t = Tracer([KVMPROF, "-q", "-i", "0.5", "--csv", f"{outdir}/rot.csv", "--csv-series", cs,
                "--json-series", js], r"tracing KVM traps")
    open(start, "w").close()
    parts = []
    for i in range(2):
        time.sleep(1.2)
        t.proc.send_signal(signal.SIGHUP)
        for _ in range(30):
            if os.path.exists(js) and os.path.exists(cs):
                break
            time.sleep(0.1)
        check(os.path.exists(js), f"SIGHUP {i + 1}: {js} appears")
        if os.path.exists(js):
            os.rename(js, f"{js}.{i}")
            parts.append(f"{js}.{i}")
        if os.path.exists(cs):
            os.rename(cs, f"{cs}.{i}")
    results = g.finish()
    time.sleep(0.3)
    rc, _, err = t.stop()
    check_eq(rc, 0, f"rotation: exit status ({err.strip()[-200:]})")
    parts.append(js)
    counts, _ = csv_key_totals(f"{outdir}/rot.csv")
    sums, lines = {}, 0
    for path in parts:
        for n, line in enumerate(open(path)):
            try:
                o = json.loads(line)
            except ValueError:
                check(False, f"rotation: {path}:{n + 1} parses")
                continue
            lines += 1
            for r in o["rows"]:
                k = (r["pid"], r["class"], r["code"])
                sums[k] = sums.get(k, 0) + r["count"]
    check(len(parts) == 3 and lines >= 4, f"rotation: three parts, {lines} lines")
    check_eq(sums, {k: v for k, v in counts.items() if v}, "rotation: the parts sum to the totals")
    pid = next(iter(results))
    check_eq(class_totals(counts, pid).get("pio"), int(results[pid]["exit_io"]), "rotation: pio as scripted")
    check_eq(sorted(f for f in os.listdir(outdir) if ".tmp." in f), [], "rotation: no temporary file left")


def run_report(args, **kw):
    p = subprocess.run([KVMPROF, "report"] + args, capture_output=True, text=True, timeout=60, **kw)
    return p.returncode, p.stderr.strip().splitlines()


def test_bad_inputs(outdir):
    """One line on stderr, the documented exit status, no file written, and an
    older report in the way kept as it was."""
    d = f"{outdir}/bad"
    os.makedirs(d)
    good = open(f"{outdir}/run.csv", newline="").read()
    # rows of the 18 columns: 15, then detail, detail_name, device (the columns written
    # since are read by name and may be left out: the header is cut to these)
    header = ",".join(good.split("\r\n", 1)[0].split(",")[:18])
    cases = {
        "unclosed.csv": (header + "\r\n" + '1,"abc,,1,pio,0x1,x,5,0,0,,,,,\r\n', "not closed"),
        "fields.csv": (header + "\r\n1,g,0,1,pio,0x1,x,5\r\n", "fields where the header has"),
        "number.csv": (header + "\r\n1,g,0,1,pio,0x1,x,5e3,0,0,,,,,,,,\r\n", "count '5e3'"),
        "class.csv": (header + "\r\n1,g,0,1,bogus,0x1,x,5,0,0,,,,,,,,\r\n", "unknown class"),
        "bucket.csv": (header + "\r\n1,g,0,1,userspace,0x2,x,5,1,3,3,3,3,5,1,,,\r\n", "log2 bucket"),
        "quote.csv": (header + '\r\n1,g"h,0,1,pio,0x1,x,5,0,0,,,,,\r\n', "quote inside"),
        "cr.csv": (header + "\r\n1,g\rh,0,1,pio,0x1,x,5,0,0,,,,,,,,\r\n", "carriage return"),
        "nul.csv": (header + "\r\n1,g\0h,0,1,pio,0x1,x,5,0,0,,,,,,,,\r\n", "NUL"),
        "other.csv": ("a,b,c\r\n1,2,3\r\n", "not a kvmprof"),
        "empty.csv": ("", "not a kvmprof"),
    }
    old = "<html>old report</html>\n"
    for name, (content, text) in cases.items():
        path = f"{d}/{name}"
        with open(path, "w", newline="") as f:
            f.write(content)
        out = f"{d}/{name}.html"
        with open(out, "w") as f:
            f.write(old)
        rc, err = run_report([path, "-o", out])
        check_eq(rc, 1, f"{name}: exit 1")
        check(len(err) == 1 and text in err[0] and path in err[0], f"{name}: one line with '{text}': {err}")
        if name not in ("other.csv", "empty.csv"):
            check(f"{path}:2:" in err[0], f"{name}: the line number: {err}")
        check_eq(open(out).read(), old, f"{name}: the old report kept")
    check_eq(sorted(f for f in os.listdir(d) if ".tmp." in f), [], "bad inputs: no temporary file left")
    # a malformed series: the same
    with open(f"{d}/s.csv", "w", newline="") as f:
        f.write(",".join(open(f"{outdir}/run-series.csv", newline="").read().split("\r\n", 1)[0].split(",")[:18]) +
                "\r\n1.0,1.0,0.5,1,g,0,1,pio,0x1,x,5,10,0,0,0,,,\r\n2.0,0.5,0.5,1,g,0,1,pio,0x1,x,5,10,0,0,0,,,\r\n")
    rc, err = run_report([f"{outdir}/run.csv", f"{d}/s.csv", "-o", f"{d}/s.html"])
    check(rc == 1 and len(err) == 1 and f"{d}/s.csv:3:" in err[0] and "back in time" in err[0],
          f"series going back in time: exit 1, one line: {rc} {err}")
    check(not os.path.exists(f"{d}/s.html"), "malformed series: no report")
    # files that are not there, or not writable places
    for args, want_rc, text in [
        ([f"{d}/missing.csv", "-o", f"{d}/m.html"], 1, "No such file"),
        ([f"{outdir}/run.csv", "-o", "/nonexistent-dir/r.html"], 1, "does not exist"),
        ([f"{outdir}/run.csv", "-o", d], 1, "is a folder"),
        ([], 2, "no input"),
        (["--bogus", f"{outdir}/run.csv"], 2, "unrecognized option"),
        ([f"{outdir}/run.csv", "-o", f"{outdir}/run.csv"], 2, "overwrite an input"),
        ([f"{outdir}/run.csv", f"{outdir}/run.csv"], 2, "both --csv files"),
        ([f"{outdir}/run-series.csv"], 2, "needs the run's --csv"),
        # a third input is another run now (kvmprof report A.csv B.csv ...): this one is not there
        ([f"{outdir}/run.csv", f"{outdir}/run-series.csv", f"{outdir}/x.csv"], 1, "cannot read"),
        ([f"{outdir}/run.csv"] * 17, 2, "unexpected argument"),
        ([f"{outdir}/run.csv", "-n", "0"], 2, "invalid --top"),
    ]:
        rc, err = run_report(args)
        check_eq(rc, want_rc, f"report {' '.join(args)}: exit status")
        check(len(err) == 1 and text in err[0], f"report {' '.join(args)}: one line with '{text}': {err}")
    check(not os.path.exists(f"{d}/m.html"), "missing input: no report")
    # a read-only mount: refused before reading; a full disk: refused at the end, old file kept
    ro = f"{d}/ro"
    os.makedirs(ro)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", ro], check=True)
    try:
        with open(f"{ro}/r.html", "w") as f:
            f.write(old)
        subprocess.run(["sh", "-c", f"cat /dev/zero > {ro}/filler"], capture_output=True)
        rc, err = run_report([f"{outdir}/run.csv", "-o", f"{ro}/r.html"])
        check_eq(rc, 1, "full disk: exit 1")
        check(len(err) == 1 and "cannot write" in err[0] and "kept" in err[0], f"full disk: one line: {err}")
        check_eq(open(f"{ro}/r.html").read(), old, "full disk: the old report kept")
        check_eq(sorted(os.listdir(ro)), ["filler", "r.html"], "full disk: no temporary file left")
        os.unlink(f"{ro}/filler")
        subprocess.run(["mount", "-o", "remount,ro", ro], check=True)
        rc, err = run_report([f"{outdir}/run.csv", "-o", f"{ro}/r.html"])
        check(rc == 1 and len(err) == 1 and "Read-only" in err[0], f"read-only mount: exit 1, one line: {err}")
    finally:
        subprocess.run(["umount", ro])


def csv_runs_view(path):
    """What the runs page must show of one run's CSV: its total, its guests in the order the
    file names them (pid, name, total, class totals)."""
    counts, _ = csv_key_totals(path)
    names, order = {}, []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if int(r["pid"]) not in names:
                order.append(int(r["pid"]))
            names[int(r["pid"])] = r["guest"]
    guests = {}
    for pid in order:  # the nth guest of a name is matched with the nth of the other runs
        nth = 1 + sum(1 for k in guests if k[0] == names[pid])
        classes = class_totals(counts, pid)
        guests[(names[pid], nth)] = (pid, sum(classes.values()), classes)
    return sum(counts.values()), guests


def test_multi_runs(outdir):
    """Several runs side by side: each run's totals, every guest's traps per run and each
    run's trap mix exactly as their CSVs hold them; series found beside, given after their
    --csv file, or none; guests matched by name; mismatched runs refused in one line."""
    # each guest lives long enough (--sleep-us after each exit to the VMM) to be named
    evil = ["-g", "1", "--pio", "30", "--cpuid", "10", "--emulate", "50", "--repeat", "4", "--sleep-us", "2000",
            "-name", "guest=" + HOSTILE]
    db = ["-g", "1", "--pio", "5", "--msr-read", "3", "--repeat", "3", "--sleep-us", "5000", "-name", "guest=db"]
    cache = ["-g", "1", "--mmio-write", "9", "--hlt", "2", "--sleep-us", "5000", "-name", "guest=cache"]
    run_traced(outdir, "m1", [evil, db])
    run_traced(outdir, "m2", [db, cache, db])  # two guests named db
    shutil.copy(f"{outdir}/m2-series.csv", f"{outdir}/other2.csv")
    shutil.copy(f"{outdir}/m1.csv", f"{outdir}/m3.csv")  # no series beside it
    runs = [f"{outdir}/m1.csv", f"{outdir}/m2.csv", f"{outdir}/m3.csv"]
    out = f"{outdir}/multi.html"
    p = subprocess.run([KVMPROF, "report", runs[0], runs[1], f"{outdir}/other2.csv", runs[2], "-o", out],
                       capture_output=True, text=True)
    check_eq(p.returncode, 0, f"multi: exit status ({p.stderr.strip()})")
    n = [len(csv_runs_view(r)[1]) for r in runs]  # other guests of the host may be in the runs too
    check(f"run 1: {n[0]} guests, series from {outdir}/m1-series.csv; run 2: {n[1]} guests, series from "
          f"{outdir}/other2.csv; run 3: {n[2]} guests, no series" in p.stderr, f"multi: each run's files: {p.stderr}")
    text = open(out, encoding="utf-8").read()
    page = Page(text)
    check_eq(sorted({e[0] for e in page.elements} & {"script", "img", "iframe", "object"}), [],
             "multi: no element the input could have injected")
    check("<script" not in text and HOSTILE not in text and text.count(html_escaped(HOSTILE)) >= 2,
          "multi: the hostile name only escaped")
    check_runs_page(page, runs, "multi")
    # two runs, each series found beside
    p = subprocess.run([KVMPROF, "report", runs[0], runs[1], "-o", f"{outdir}/two.html"], capture_output=True,
                       text=True)
    check_eq(p.returncode, 0, f"two runs: exit status ({p.stderr.strip()})")
    check_runs_page(Page(open(f"{outdir}/two.html", encoding="utf-8").read()), runs[:2], "two runs")
    check_runs_in_chromium(outdir, out, 1 + len({k for r in runs for k in csv_runs_view(r)[1]}))
    # runs that do not go together: one line naming the file (and line)
    arm = f"{outdir}/arm.csv"
    with open(arm, "w", newline="") as f:
        f.write("pid,guest,vcpu,tid,class,code,code_name,count,lat_count,lat_sum_ns,lat_min_ns,lat_max_ns,"
                "bucket_lo_ns,bucket_hi_ns,bucket_count,detail,detail_name,device"
                "\r\n7,a,0,8,exit,0x15,TRAP HVC64,5,0,0,,,,,,,,\r\n7,a,0,8,wfx,0x0,wfi,3,0,0,,,,,,,,\r\n")
    for args, want_rc, text in [
        ([runs[0], arm], 1, f"{arm}:3: class wfx is arm64's, but {runs[0]} is an x86 run"),
        ([runs[0], f"{outdir}/m1-series.csv", f"{outdir}/other2.csv"], 2, "both --csv-series files of one run"),
        ([runs[0]] + [f"{outdir}/run{i}.csv" for i in range(8)], 1, "cannot read"),
        ([runs[0], runs[1], runs[0]], 2, "the same file"),
    ]:
        rc, err = run_report(args + ["-o", f"{outdir}/bad-multi.html"])
        check_eq(rc, want_rc, f"multi {' '.join(os.path.basename(a) for a in args)}: exit status")
        check(len(err) == 1 and text in err[0], f"multi: one line with '{text}': {err}")
    for i in range(9):
        shutil.copy(runs[0], f"{outdir}/nine{i}.csv")
    rc, err = run_report([f"{outdir}/nine{i}.csv" for i in range(9)] + ["-o", f"{outdir}/bad-multi.html"])
    check(rc == 2 and len(err) == 1 and "one run too many" in err[0], f"nine runs: exit 2, one line: {rc} {err}")
    check(not os.path.exists(f"{outdir}/bad-multi.html"), "runs refused: no page")


def html_escaped(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("'", "&#39;"))


def check_runs_page(page, runs, label):
    views = [csv_runs_view(r) for r in runs]
    got = {int(e[1]["data-run"]): (int(e[1]["data-total"]), int(e[1]["data-guests"])) for e in page.elements
           if e[0] == "tr" and "data-run" in e[1] and "data-total" in e[1]}
    check_eq(got, {i + 1: (v[0], len(v[1])) for i, v in enumerate(views)}, f"{label}: each run's total and guests")
    # the guests table: per guest, per run, its traps (none where the run has no such guest)
    table, row = {}, None
    for e in page.elements:
        if e[0] == "tr" and e[1].get("class") == "guest":
            row = table.setdefault((e[1]["data-name"], int(e[1]["data-nth"])), {})
        elif e[0] == "tr":
            row = None
        elif e[0] == "td" and row is not None and "data-count" in e[1]:
            row[int(e[1]["data-run"])] = int(e[1]["data-count"])
    want = {}
    for i, v in enumerate(views):
        for k, (_, total, _) in v[1].items():
            want.setdefault(k, {})[i + 1] = total
    check_eq(table, want, f"{label}: the guests table equals the CSVs")
    # the trap mix of all guests: per run, per class
    mix = {(int(e[1]["data-run"]), e[1]["data-class"]): int(e[1]["data-count"]) for e in page.elements
           if e[0] == "rect" and "data-run" in e[1] and e[1].get("data-share")
           and any(x is e for x in page_chart(page, "all"))}
    wantmix = {}
    for i, v in enumerate(views):
        for _, _, classes in v[1].values():
            for c, n in classes.items():
                if n:
                    wantmix[(i + 1, c)] = wantmix.get((i + 1, c), 0) + n
    check_eq(mix, wantmix, f"{label}: the trap mix per run equals the CSVs' class totals")
    shares = {}
    for e in page_chart(page, "all"):
        if e[0] == "rect":
            shares[e[1]["data-run"]] = shares.get(e[1]["data-run"], 0) + float(e[1]["data-share"])
    check(all(abs(s - 100) < 0.01 for s in shares.values()) and len(shares) == len(runs),
          f"{label}: each run's bar is 100% ({shares})")


def page_chart(page, of):
    """The elements of the runmix chart with data-of=of."""
    out, inside = [], False
    for e in page.elements:
        if e[0] == "svg":
            inside = "runmix" in e[1].get("class", "") and e[1].get("data-of") == of
        if inside:
            out.append(e)
    return out


def check_runs_in_chromium(outdir, path, charts):
    if not check(os.access(CHROMIUM, os.X_OK), "multi: chromium is installed (make deps)"):
        return
    p = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" +
                        f"{outdir}/chromium", "--no-first-run", "--dump-dom", "file://" + path],
                       capture_output=True, text=True, timeout=120, env=dict(os.environ, HOME=outdir))
    check_eq(p.returncode, 0, "multi: chromium --dump-dom")
    dom = Page(p.stdout)
    check(not [e for e in dom.elements if e[0] in ("script", "img", "iframe")],
          "multi: the rendered DOM has no script, img or iframe element")
    check_eq(len([e for e in dom.elements if e[0] == "svg" and "runmix" in e[1].get("class", "")]), charts,
             "multi: the rendered DOM has the runs' chart and one per guest")


def main():
    return kvmtest.main("report", [test_report, test_rotation, test_bad_inputs, test_multi_runs],
                        "kvmprof-report-")


if __name__ == "__main__":
    sys.exit(main())
