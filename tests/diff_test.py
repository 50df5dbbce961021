#!/usr/bin/env python3
"""kvmprof diff against guests whose traps we script.

Two runs of tests/guestload guests (exact counts: see its header comment)
with a known change: `web` does twice the port I/O and half the MMIO writes
in run B, a guest with a name made to break HTML does the same in both, and
`db-a`/`db-b` (paired with --map) twice the CPUIDs.  Each run is traced by
kvmprof with --csv and --csv-series, -p for our guests only.  The diff must
show exactly the scripted ratios per code and no change where none was
scripted; every row must equal the CSVs (counts, rates from the series'
elapsed time, p50/p99 estimated from the buckets as docs/diff.md says);
--fail-above must exit 3 exactly when a figure changed more; -o writes the
page whole (parsed, and rendered by headless chromium); hostile names are
escaped in the text and the page; malformed and mismatched inputs are
refused in one line naming the file and line, with the documented status,
no page and an older page kept."""
import csv
import html.parser
import math
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvmtest  # noqa: E402  (the tally, guests, tracers, CSV reader and runner)
from kvmtest import KVMPROF, READY, Guests, Tracer, check, check_eq, check_exact, read_csv  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE = 'evil<script>alert("x")</script>&amp;\'q\'"><img src=x onerror=alert(1)>'
HOSTILE_HTML = ("evil&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;amp;&#39;q&#39;&quot;&gt;"
                "&lt;img src=x onerror=alert(1)&gt;")
LAST_SLOT = 31  # the open bucket: 2^31 ns and more


class Page(html.parser.HTMLParser):
    """Every element: [tag, attrs, text inside]."""

    def __init__(self, text):
        super().__init__()
        self.elements, self.open = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        e = [tag, dict(attrs), ""]
        self.elements.append(e)
        if tag not in ("meta", "line", "br", "img", "input", "link"):
            self.open.append(e)

    def handle_endtag(self, tag):
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        for e in self.open:
            e[2] += data

    def sections(self):
        """name -> the elements of that guest's section."""
        out, cur = {}, None
        for e in self.elements:
            if e[0] == "section":
                cur = out.setdefault((e[1]["data-name"], int(e[1]["data-nth"])), [])
            if cur is not None:
                cur.append(e)
        return out


# ---- what the CSVs hold, and what the diff must make of it ----
def csv_keys(path):
    """(pid, class, code, detail) -> [count, lat_max, {bucket_lo: samples}, lat_min] per code
    (detail None) and per detail; pid -> name; pid -> {state: % of the wall time} from the
    vcpu_time rows (time, not traps: a thread's wall time repeats on each of its rows)."""
    keys, names, seen, ns, walls = {}, {}, set(), {}, {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            pid, cls = int(r["pid"]), r["class"]
            if cls == "check":  # kvmprof's counts against KVM's own: not traps, not compared
                continue
            if cls == "vcpu_time":
                ns.setdefault(pid, {})[r["code_name"]] = ns.get(pid, {}).get(r["code_name"], 0) + int(r["count"])
                walls.setdefault(pid, {})[r["tid"]] = int(r["wall_ns"])
                continue
            code = int(r["code"], 16)
            names[pid] = r["guest"]
            det = int(r["detail"], 16) if r["detail"] else None
            targets = [(pid, cls, code, None)] + ([(pid, cls, code, det)] if det is not None else [])
            first = (pid, r["tid"], cls, code, r["detail"]) not in seen
            seen.add((pid, r["tid"], cls, code, r["detail"]))
            for k in targets:
                v = keys.setdefault(k, [0, 0, {}, 0])
                if first:
                    v[0] += int(r["count"])
                    v[1] = max(v[1], int(r["lat_max_ns"] or 0))
                    m = int(r["lat_min_ns"] or 0)
                    v[3] = m if m and (not v[3] or m < v[3]) else v[3]
                if r["bucket_count"]:
                    lo = int(r["bucket_lo_ns"])
                    v[2][lo] = v[2].get(lo, 0) + int(r["bucket_count"])
    shares = {p: {st: 100.0 * n / sum(walls[p].values()) for st, n in states.items()}
              for p, states in ns.items() if sum(walls[p].values())}
    return keys, names, shares


def elapsed(series_path):
    with open(series_path, newline="") as f:
        rows = list(csv.DictReader(f))
    return float(rows[-1]["elapsed_s"]) if rows else 0.0


def quantile(buckets, min_ns, max_ns, q):
    """kvmprof's estimate (model/latency.c, docs/diff.md): the sample of rank q * n, linear
    within its log2 bucket, the bucket's bounds narrowed to the samples' min and max."""
    n = sum(buckets.values())
    if not n:
        return None
    rank, below = q * n, 0
    for slot in range(LAST_SLOT + 1):
        lo = 0 if slot == 0 else 1 << slot
        c = buckets.get(lo, 0)
        if not c or below + c < rank:
            below += c
            continue
        hi = 1 if slot == 0 else 2 * lo - 1
        if slot == LAST_SLOT or (max_ns and hi > max_ns):
            hi = max_ns if max_ns else lo
        if min_ns and lo < min_ns <= hi:
            lo = min_ns
        return lo + (rank - below) / c * (hi - lo)
    return max_ns


def percent(a, b):
    if a == b:
        return 0.0
    return (b - a) / a * 100 if a else math.inf


def expected_changes(ka, kb, pa, pb, figure, ea=0.0, eb=0.0):
    """|percent change| of every code and detail of guest pa (run A) against pb (run B)."""
    out = {}
    for k in {k[1:] for k in ka if k[0] == pa} | {k[1:] for k in kb if k[0] == pb}:
        a, b = ka.get((pa,) + k, [0, 0, {}, 0]), kb.get((pb,) + k, [0, 0, {}, 0])
        if figure == "count":
            x, y = a[0], b[0]
        elif figure == "rate":
            x, y = a[0] / ea, b[0] / eb
        else:
            q = 0.5 if figure == "p50" else 0.99
            x, y = quantile(a[2], a[3], a[1], q) or 0, quantile(b[2], b[3], b[1], q) or 0
        out[k] = abs(percent(x, y))
    return out


# ---- running things ----
def trace(outdir, tag, groups):
    """Our guests wait, kvmprof (-p for each) starts, they run, it gets SIGINT."""
    start = f"{outdir}/{tag}.start"
    gs = [Guests(args, start) for args in groups]
    pids = [str(p) for g in gs for p in g.pids]
    t = Tracer([KVMPROF, "-q", "-i", "0.5", "--csv", f"{outdir}/{tag}.csv", "--csv-series",
                f"{outdir}/{tag}-series.csv"] + [a for p in pids for a in ("-p", p)], READY)
    open(start, "w").close()
    results = {}
    for g in gs:
        results.update(g.finish())
    time.sleep(0.6)  # a last interval for the series
    rc, _, err = t.stop()
    check_eq(rc, 0, f"{tag}: kvmprof exit status ({err.strip()[-300:]})")
    check_exact(read_csv(f"{outdir}/{tag}.csv"), results, f"{tag}: the CSV")
    return results


def diff(args, timeout=60):
    p = subprocess.run([KVMPROF, "diff"] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.strip().splitlines()


def text_rows(out, guest):
    """The count table of guest in the text output: name -> tokens after it (A, B, RATIO, DIFF...)."""
    rows, inside = {}, False
    for line in out.splitlines():
        if line.startswith("guest "):
            inside = line.startswith((f"guest {guest} (", f"guest {guest} = "))
            continue
        if not inside or not line.startswith("  ") or "CLASS / CODE" in line:
            continue
        if "LATENCY" in line or "VCPU TIME" in line:
            inside = False
            continue
        tok = line.split()
        rows[" ".join(tok[:-9])] = tok[-9:]
    return rows


def page_rows(sec, level=None):
    """(class, code[, detail]) -> the row's data- attributes, of the count table."""
    out, table = {}, None
    for e in sec:
        if e[0] == "table":
            table = e[1].get("class")
        if e[0] == "tr" and table == "counts" and "data-level" in e[1] and "data-more" not in e[1]:
            a = e[1]
            if level and a["data-level"] != level:
                continue
            k = (a["data-class"],) + ((int(a["data-code"], 16),) if "data-code" in a else ()) + \
                ((int(a["data-detail"], 16),) if "data-detail" in a else ())
            out[k] = a
    return out


# ---- the tests ----
WEB_A = ["--pio", "40", "--mmio-write", "20", "--cpuid", "10", "--sleep-us", "300", "--repeat", "3",
         "-name", "guest=web"]
WEB_B = ["--pio", "80", "--mmio-write", "10", "--cpuid", "10", "--sleep-us", "300", "--repeat", "3",
         "-name", "guest=web"]
# every guest lives long enough (--sleep-us after each exit to the VMM) for kvmprof to read its name
EVIL = ["--pio", "6", "--msr-read", "4", "--hlt", "2", "--repeat", "2", "--sleep-us", "5000",
        "-name", "guest=" + HOSTILE]
DB = ["--hlt", "3", "--sleep-us", "20000"]


def runs(outdir):
    """Both runs, traced once for the suite (the tests after test_scripted reuse them)."""
    if not os.path.exists(f"{outdir}/b.csv"):
        trace(outdir, "a", [WEB_A, EVIL, DB + ["--cpuid", "7", "-name", "guest=db-a"]])
        trace(outdir, "b", [WEB_B, EVIL, DB + ["--cpuid", "14", "-name", "guest=db-b"]])
    return f"{outdir}/a.csv", f"{outdir}/b.csv"


def pid_of(names, name):
    return next(p for p, n in names.items() if n == name)


def test_scripted(outdir):
    """The scripted ratios, exactly, in the text and on the page; no change where none was
    scripted; every row equals the CSVs."""
    a, b = runs(outdir)
    ka, na, sa = csv_keys(a)
    kb, nb, sb = csv_keys(b)
    ea, eb = elapsed(f"{outdir}/a-series.csv"), elapsed(f"{outdir}/b-series.csv")
    out_html = f"{outdir}/diff.html"
    rc, out, err = diff([a, b, "-o", out_html, "--map", "db-a=db-b", "-n", "1000"])
    check_eq(rc, 0, f"diff: exit status ({err})")
    check(f"series {outdir}/a-series.csv (found beside it)" in out, "the text names the series found beside")
    web = text_rows(out, "web")
    for name, ratio, da, db in [("out 0x3f8", "2.00x", 120, 240), ("write 0xd0000", "0.50x", 60, 30),
                                ("KVM_EXIT_MMIO", "0.50x", 60, 30), ("out 0xf4", "1.00x", 1, 1),
                                ("cpuid 0x0", "1.00x", 30, 30)]:
        row = web.get(name)
        if check(row, f"text: web has a row {name} ({sorted(web)})"):
            check_eq(row[:4], [str(da), str(db), ratio,
                               "0" if da == db else f"{'+' if db > da else '-'}{abs(db - da)}"],
                     f"text: web {name}: A, B, ratio, diff")
    check_eq(web.get("pio", [None] * 3)[:3], ["121", "241", "1.99x"], "text: web's pio class (the end signal too)")
    evil = text_rows(out, HOSTILE)
    check(evil and all(r[2] == "1.00x" and r[3] == "0" for r in evil.values()),
          f"text: the hostile-named guest unchanged in every row ({len(evil)} rows)")
    dbrow = text_rows(out, "db-a").get("cpuid 0x0")
    check_eq(dbrow and dbrow[:3], ["7", "14", "2.00x"], "text: --map db-a=db-b pairs them")
    text = open(out_html, encoding="utf-8").read()
    page = Page(text)
    check_eq(sorted({e[0] for e in page.elements} & {"script", "img", "iframe", "object"}), [],
             "page: no element the input could have injected")
    check(text.count(HOSTILE_HTML) >= 2 and HOSTILE not in text, "page: the hostile name only escaped")
    secs = page.sections()
    check_eq(sorted(secs), sorted([("web", 1), (HOSTILE, 1), ("db-a", 1)]), "page: a section per guest")
    for name, bname in [("web", "web"), (HOSTILE, HOSTILE), ("db-a", "db-b")]:
        pa, pb = pid_of(na, name), pid_of(nb, bname)
        check_page_rows(secs.get((name, 1), []), ka, kb, pa, pb, ea, eb, f"page/{name[:8]}")
        check_time_shares(secs.get((name, 1), []), sa.get(pa), sb.get(pb), f"page/{name[:8]}")
    web_rows = page_rows(secs.get(("web", 1), []), "code")
    for (cls, code), want in [(("pio", 0x103f8), 2.0), (("mmio", 0xd0002), 0.5), (("pio", 0x100f4), 1.0)]:
        r = web_rows.get((cls, code))
        check(r and int(r["data-count-b"]) == want * int(r["data-count-a"]),
              f"page: web {cls} {code:#x} B = {want} x A: {r and (r['data-count-a'], r['data-count-b'])}")
    check_in_chromium(outdir, out_html)


def check_page_rows(sec, ka, kb, pa, pb, ea, eb, label):
    """Every code and detail row of a guest's section: counts, rates, p50/p99 as the CSVs say."""
    rows = page_rows(sec)
    want = {k[1:] for k in ka if k[0] == pa} | {k[1:] for k in kb if k[0] == pb}
    got = {(k[0], k[1]) if len(k) == 2 else (k[0], k[1], k[2]) for k in rows if len(k) > 1}
    check_eq(got, {(c, code) if d is None else (c, code, d) for c, code, d in want},
             f"{label}: a row per code and detail of either run")
    bad = []
    for cls, code, det in want:
        r = rows.get((cls, code) if det is None else (cls, code, det))
        if not r:
            continue
        for side, keys, pid, e in (("a", ka, pa, ea), ("b", kb, pb, eb)):
            count, lat_max, buckets, lat_min = keys.get((pid, cls, code, det), [0, 0, {}, 0])
            if int(r[f"data-count-{side}"]) != count:
                bad.append(f"{cls} {code:#x} {det} count-{side} {r[f'data-count-{side}']} != {count}")
            if not math.isclose(float(r[f"data-rate-{side}"]), count / e, rel_tol=1e-9):
                bad.append(f"{cls} {code:#x} rate-{side} {r[f'data-rate-{side}']} != {count / e}")
            for q, name in ((0.5, "p50"), (0.99, "p99")):
                v = quantile(buckets, lat_min, lat_max, q)
                got_v = r[f"data-{name}-{side}"]
                if (v is None) != (got_v == "") or (v is not None and not math.isclose(float(got_v), v, rel_tol=1e-9)):
                    bad.append(f"{cls} {code:#x} {name}-{side} {got_v!r} != {v}")
    check(not bad, f"{label}: every row equals the CSVs ({bad[:3]})")


def check_time_shares(sec, want_a, want_b, label):
    """The vCPU time table: each state's share of the threads' wall time, as the vcpu_time rows."""
    got = {e[1]["data-state"]: (e[1]["data-share-a"], e[1]["data-share-b"]) for e in sec
           if e[0] == "tr" and "data-state" in e[1]}
    if not check(want_a and want_b, f"{label}: the CSVs have vcpu_time rows (time accounting is on)"):
        return
    check_eq(sorted(got), sorted(set(want_a) | set(want_b)), f"{label}: a row per state")
    bad = [(st, g, want_a.get(st), want_b.get(st)) for st, g in got.items()
           if not (math.isclose(float(g[0]), want_a.get(st, 0), rel_tol=1e-9, abs_tol=1e-12) and
                   math.isclose(float(g[1]), want_b.get(st, 0), rel_tol=1e-9, abs_tol=1e-12))]
    check(not bad, f"{label}: the time shares equal the CSVs' ns over wall_ns ({bad[:2]})")


def check_in_chromium(outdir, path):
    if not check(os.access(CHROMIUM, os.X_OK), "chromium is installed (make deps)"):
        return
    p = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" +
                        f"{outdir}/chromium", "--no-first-run", "--dump-dom", "file://" + path],
                       capture_output=True, text=True, timeout=120, env=dict(os.environ, HOME=outdir))
    check_eq(p.returncode, 0, "chromium --dump-dom")
    dom = Page(p.stdout)
    check(not [e for e in dom.elements if e[0] in ("script", "img", "iframe")],
          "chromium: the rendered DOM has no script, img or iframe element")
    check_eq(len([e for e in dom.elements if e[0] == "table" and e[1].get("class") == "counts"]), 3,
             "chromium: the rendered DOM has each guest's table")
    check(p.stdout.rstrip().endswith("</html>"), "chromium: the whole page rendered")


def test_fail_above(outdir):
    """--fail-above exits 3 exactly when some code's (or detail's) figure changed by more, for
    each figure; the count of such rows is the CSVs'."""
    a, b = runs(outdir)
    ka, na, _ = csv_keys(a)
    kb, nb, _ = csv_keys(b)
    ea, eb = elapsed(f"{outdir}/a-series.csv"), elapsed(f"{outdir}/b-series.csv")
    pairs = [(pid_of(na, n), pid_of(nb, m)) for n, m in (("web", "web"), (HOSTILE, HOSTILE), ("db-a", "db-b"))]
    maps = ["--map", "db-a=db-b"]
    for figure in ("count", "rate", "p50", "p99"):
        ch = [v for pa, pb in pairs for v in expected_changes(ka, kb, pa, pb, figure, ea, eb).values()]
        worst = max(ch)
        if figure == "count":
            check_eq(worst, 100.0, "count: the biggest change is the scripted 2x")
        for limit in sorted({worst, worst * 0.999, worst * 1.001, 0.0}):
            if limit > 1e9:
                continue
            above = sum(1 for v in ch if v > limit)
            rc, out, err = diff([a, b, "--fail-above", repr(limit), "--fail-on", figure] + maps)
            check_eq(rc, 3 if above else 0, f"--fail-on {figure} --fail-above {limit:.6g}: exit status ({err})")
            line = [x for x in out.splitlines() if x.startswith("fail-above:")]
            want = f"fail-above: {above} code" if above else "fail-above: no code"
            check(line and line[0].startswith(want), f"--fail-on {figure} {limit:.6g}: '{want}...': {line}")
            check_eq(len(err), 1 if above else 0, f"--fail-on {figure} {limit:.6g}: one stderr line when above")
    rc, out, err = diff([a, b, "--fail-above", "100"] + maps)
    check_eq(rc, 0, "--fail-above 100 (the default figure, count): a 2.00x change is not above 100%")
    rc, out, err = diff([a, b, "--fail-above", "99.9"] + maps)
    check(rc == 3 and len(err) == 1 and "changed their count by more than 99.9%" in err[0],
          f"--fail-above 99.9: exit 3, one line: {rc} {err}")
    rc, out, err = diff([a, b, "--fail-above", "20"])  # db-a and db-b unmapped: gone and new
    check_eq(rc, 3, "unmatched guests: their codes are gone (-100%) or new")
    check("guest db-a (A pid" in out and "not in B)" in out and "guest db-b (not in A" in out,
          "unmatched guests are listed with the side they miss")


def write(path, text):
    with open(path, "w", newline="") as f:
        f.write(text)


HEADER = ("pid,guest,vcpu,tid,class,code,code_name,count,lat_count,lat_sum_ns,lat_min_ns,lat_max_ns,"
          "bucket_lo_ns,bucket_hi_ns,bucket_count,detail,detail_name,device")


def test_quantiles(outdir):
    """p50/p99 of crafted buckets, exactly as docs/diff.md estimates them; --fail-on p99."""
    d = f"{outdir}/q"
    os.makedirs(d, exist_ok=True)
    write(f"{d}/a.csv", HEADER + "\r\n" +
          "1,g,0,2,userspace,0x2,KVM_EXIT_IO,20,20,60000,1024,4000,1024,2047,10,,,\r\n"
          "1,g,0,2,userspace,0x2,KVM_EXIT_IO,20,20,60000,1024,4000,2048,4095,10,,,\r\n"
          "1,g,0,2,userspace,0x6,KVM_EXIT_MMIO,4,4,12000000000,2147483648,3000000000,2147483648,,4,,,\r\n")
    write(f"{d}/b.csv", HEADER + "\r\n" +
          "1,g,0,2,userspace,0x2,KVM_EXIT_IO,100,100,80000,512,1023,512,1023,100,,,\r\n"
          "1,g,0,2,userspace,0x6,KVM_EXIT_MMIO,4,4,12000000000,2147483648,3000000000,2147483648,,4,,,\r\n")
    rc, out, err = diff([f"{d}/a.csv", f"{d}/b.csv", "-o", f"{d}/q.html"])
    check_eq(rc, 0, f"crafted buckets: exit status ({err})")
    check("counts only: neither run has a --csv-series file" in out, "no series: counts only, said so")
    check(" A/s " not in out and "TIME A" not in out, "no series: no rate or time columns")
    rows = page_rows(Page(open(f"{d}/q.html", encoding="utf-8").read()).sections()[("g", 1)], "code")
    io, mmio = rows[("userspace", 2)], rows[("userspace", 6)]
    for got, want, what in [(io["data-p50-a"], 2047, "p50 A: the 10th of 20 samples, the top of 1024..2047"),
                            (io["data-p99-a"], 2048 + 0.98 * (4000 - 2048), "p99 A: within 2048..4000 (the max)"),
                            (io["data-p50-b"], 512 + 0.5 * 511, "p50 B: the middle of 512..1023"),
                            (io["data-p99-b"], 512 + 0.99 * 511, "p99 B: 99% into 512..1023"),
                            (mmio["data-p50-a"], 2 ** 31 + 0.5 * (3e9 - 2 ** 31), "p50 of the open bucket: up to the max")]:
        check(math.isclose(float(got), want, rel_tol=1e-12), f"{what}: {got}, want {want}")
    check_eq(io["data-rate-a"], "", "no series: no rate")
    lat = [line for line in out.splitlines() if line.strip().startswith("KVM_EXIT_IO") and "us" in line]
    check(lat and lat[0].split()[1:6] == ["2.05us", "768ns", "3.96us", "1.02us", "0.26x"],
          f"text: the latency row: {lat}")
    change = abs(percent(2048 + 0.98 * (4000 - 2048), 512 + 0.99 * 511))  # 74.30%
    for limit, want in ((change * 0.9999, 3), (change * 1.0001, 0)):
        rc, _, err = diff([f"{d}/a.csv", f"{d}/b.csv", "--fail-above", repr(limit), "--fail-on", "p99"])
        check_eq(rc, want, f"--fail-on p99 --fail-above {limit:.4f} (the change is {change:.4f}%)")
    rc, _, err = diff([f"{d}/a.csv", f"{d}/b.csv", "--fail-above", "5", "--fail-on", "rate"])
    check(rc == 2 and len(err) == 1 and "needs both runs' --csv-series" in err[0], f"--fail-on rate without series: {err}")


def test_series_given(outdir):
    """Series named after their --csv file (any names); one side without a series: counts only."""
    a, b = runs(outdir)
    d = f"{outdir}/named"
    os.makedirs(d, exist_ok=True)
    for src, dst in ((a, "one.csv"), (f"{outdir}/a-series.csv", "s1.csv"), (b, "two.csv"),
                     (f"{outdir}/b-series.csv", "s2.csv")):
        shutil.copy(src, f"{d}/{dst}")
    rc, out, err = diff([f"{d}/one.csv", f"{d}/s1.csv", f"{d}/two.csv", f"{d}/s2.csv", "-n", "1000"])
    check_eq(rc, 0, f"series given: exit status ({err})")
    check(f"series {d}/s1.csv," in out and f"series {d}/s2.csv," in out and "found beside" not in out,
          "series given: named in the text")
    same = diff([a, b, "-n", "1000"])[1].split("\n", 5)[-1]
    check_eq(out.split("\n", 5)[-1], same, "series given: the same table as the series found beside")
    rc, out, err = diff([f"{d}/one.csv", f"{d}/s1.csv", f"{d}/two.csv"])
    check(rc == 0 and "counts only: run B has no --csv-series file" in out and " A/s " not in out,
          f"B without a series: counts only, said so: {rc} {err}")
    rc, out, err = diff([f"{d}/one.csv", f"{d}/s1.csv", f"{d}/two.csv", "--fail-above", "1", "--fail-on", "rate"])
    check(rc == 2 and len(err) == 1 and "B has none" in err[0], f"--fail-on rate, B without a series: {err}")


def test_hostile_names(outdir):
    """A name holding raw control bytes (a file that did not come from kvmprof): escaped on the
    terminal and on the page."""
    d = f"{outdir}/names"
    os.makedirs(d, exist_ok=True)
    name = 'x\x1b]0;pwned\x07\x1b[2J\nline2 <b>"'
    quoted = '"' + name.replace('"', '""') + '"'
    for tag, n in (("a", 5), ("b", 10)):
        write(f"{d}/{tag}.csv", HEADER + "\r\n" + f"1,{quoted},0,2,pio,0x103f8,out 0x3f8,{n},0,0,,,,,,,,\r\n")
    rc, out, err = diff([f"{d}/a.csv", f"{d}/b.csv", "-o", f"{d}/n.html"])
    check_eq(rc, 0, f"control bytes in a name: exit status ({err})")
    check("\x1b" not in out and "\x07" not in out, "text: no raw ESC or BEL reaches the terminal")
    check("guest x\\x1b]0;pwned\\x07\\x1b[2J\\x0aline2 <b>\" (" in out, f"text: the name escaped: {out[:600]!r}")
    text = open(f"{d}/n.html", encoding="utf-8").read()
    check("\x1b" not in text and "<b>" not in text and "x\\x1b]0;pwned\\x07\\x1b[2J\\x0aline2 &lt;b&gt;&quot;" in text,
          "page: the name escaped")


def test_bad_inputs(outdir):
    """Malformed and mismatched inputs: one line naming the file (and line), the documented
    status, no page, an older page kept, nothing on stdout."""
    a, b = runs(outdir)
    d = f"{outdir}/bad"
    os.makedirs(d, exist_ok=True)
    good = open(b, newline="").read()
    header = good.split("\r\n", 1)[0]
    lines = good.split("\r\n")
    write(f"{d}/quote.csv", "\r\n".join(lines[:3] + ['1,g"h,0,1,pio,0x1,x,5,0,0,,,,,,,,', ""]))
    write(f"{d}/fields.csv", HEADER + "\r\n1,g,0,1,pio,0x1,x,5\r\n")
    write(f"{d}/arm.csv", HEADER + "\r\n7,armg,0,8,exit,0x15,TRAP HVC64,5,0,0,,,,,,,,\r\n"
          "7,armg,0,8,wfx,0x0,wfi,3,0,0,,,,,,,,\r\n")
    write(f"{d}/mixed.csv", HEADER + "\r\n7,g,0,8,mmio,0xd0001,write 0xd0000,2,0,0,,,,,,,,\r\n"
          "7,g,0,8,pio,0x103f8,out 0x3f8,5,0,0,,,,,,,,\r\n7,g,0,8,sysreg,0x1,read X,3,0,0,,,,,,,,\r\n")
    shutil.copy(b, f"{d}/x.csv")
    shutil.copy(b, f"{d}/x-series.csv")  # a --csv file where its series would be
    write(f"{d}/y.csv", good)
    series = open(f"{outdir}/b-series.csv", newline="").read()
    pad = "," * (len(series.split("\r\n", 1)[0].split(",")) - 18)  # the columns after device
    write(f"{d}/y-series.csv", series + "0.1,0.1,0.1,1,g,0,1,pio,0x1,x,5,10,0,0,0,,," + pad + "\r\n")
    n_series = len(open(f"{outdir}/b-series.csv", newline="").read().split("\r\n"))
    cols = header.split(",")

    def time_row(state, name, wall):
        f = dict(zip(cols[:8], ["1", "g", "0", "2", "vcpu_time", state, name, "5"]), wall_ns=wall)
        return ",".join(f.get(c, "") for c in cols)
    write(f"{d}/state.csv", "\r\n".join(lines[:3] + [time_row("9", "bogus", "100"), ""]))
    write(f"{d}/wall.csv", "\r\n".join(lines[:3] + [time_row("3", "vmm", "100"), time_row("4", "halted", "99"), ""]))
    old = "<html>old diff</html>\n"
    cases = [
        ([a, f"{d}/quote.csv"], 1, f"{d}/quote.csv:4:", "quote inside"),
        ([f"{d}/fields.csv", b], 1, f"{d}/fields.csv:2:", "fields where the header has"),
        ([a, f"{d}/arm.csv"], 1, f"{d}/arm.csv:3:", "runs of two architectures"),
        ([a, f"{d}/state.csv"], 1, f"{d}/state.csv:4:", "vcpu_time state 9 'bogus' is not one of kvmprof's"),
        ([a, f"{d}/wall.csv"], 1, f"{d}/wall.csv:5:", "wall_ns 99 is not the thread's earlier 100"),
        ([f"{d}/mixed.csv", b], 1, f"{d}/mixed.csv:4:", "two architectures"),
        ([a, f"{outdir}/b-series.csv"], 2, f"{outdir}/b-series.csv:1:", "where a --csv file is wanted"),
        ([f"{outdir}/a-series.csv", b], 2, f"{outdir}/a-series.csv:1:", "where a --csv file is wanted"),
        ([a, f"{d}/x.csv"], 1, f"{d}/x-series.csv (beside {d}/x.csv)", "is not a --csv-series file"),
        ([a, f"{d}/y.csv"], 1, f"{d}/y-series.csv:{n_series}:", "back in time"),
        ([a, f"{d}/missing.csv"], 1, f"{d}/missing.csv", "No such file"),
        ([a, b, f"{d}/y.csv"], 2, f"{d}/y.csv", "one run too many"),
        ([a, a], 2, a, "the same file"),
    ]
    for args, want_rc, where, what in cases:
        out = f"{d}/page.html"
        write(out, old)
        rc, stdout, err = diff(args + ["-o", out])
        label = f"diff {' '.join(os.path.basename(x) for x in args)}"
        check_eq(rc, want_rc, f"{label}: exit status")
        check(len(err) == 1 and err[0].startswith("kvmprof: diff: ") and where in err[0] and what in err[0],
              f"{label}: one line naming {where} with '{what}': {err}")
        check_eq(stdout, "", f"{label}: nothing on stdout")
        check_eq(open(out).read(), old, f"{label}: the old page kept")
    for args, want_rc, what in [
        ([a], 2, "one input"), ([], 2, "no input"), ([a, b, "--fail-on", "p99"], 2, "needs --fail-above"),
        ([a, b, "--fail-above", "x"], 2, "invalid --fail-above"), ([a, b, "--fail-above", "-5"], 2, "invalid --fail-above"),
        ([a, b, "--fail-above", "5", "--fail-on", "max"], 2, "invalid --fail-on"),
        ([a, b, "--map", "web"], 2, "invalid --map"), ([a, b, "--map", "nope=web"], 2, "run A has no guest named nope"),
        ([a, b, "--map", "web=nope"], 2, "run B has no guest named nope"),
        ([a, b, "--map", "web=web", "--map", "web=db-b"], 2, "mapped twice"),
        ([a, b, "-o", a], 2, "would overwrite an input"), ([a, b, "-o", f"{outdir}/./b-series.csv"], 1, "that is the input"),
        ([a, b, "-o", "/nonexistent-dir/d.html"], 1, "does not exist"), ([a, b, "--bogus"], 2, "unrecognized option"),
        ([a, b, "c.csv", "d.csv", "e.csv"], 2, "unexpected argument"), ([a, b, "-n", "0"], 2, "invalid --top"),
    ]:
        rc, stdout, err = diff(args)
        check_eq(rc, want_rc, f"diff {' '.join(args)}: exit status")
        check(len(err) == 1 and what in err[0], f"diff {' '.join(args)}: one line with '{what}': {err}")
    check_eq(sorted(f for f in os.listdir(d) if ".tmp." in f), [], "bad inputs: no temporary file left")
    check_eq(open(b, newline="").read(), good, "the inputs untouched")
    # -o into a full disk: the table printed, the page not, the old one kept, exit 1
    full = f"{d}/full"
    os.makedirs(full)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", full], check=True)
    try:
        write(f"{full}/d.html", old)
        subprocess.run(["sh", "-c", f"cat /dev/zero > {full}/filler"], capture_output=True)
        rc, stdout, err = diff([a, b, "-o", f"{full}/d.html"])
        check(rc == 1 and len(err) == 1 and "cannot write" in err[0], f"full disk: exit 1, one line: {rc} {err}")
        check_eq(open(f"{full}/d.html").read(), old, "full disk: the old page kept")
        check_eq(sorted(os.listdir(full)), ["d.html", "filler"], "full disk: no temporary file left")
    finally:
        subprocess.run(["umount", full])


def main():
    return kvmtest.main("diff", [test_scripted, test_fail_above, test_quantiles, test_series_given,
                                 test_hostile_names, test_bad_inputs], "kvmprof-diff-", remove_outdir=True)


if __name__ == "__main__":
    sys.exit(main())
