#!/usr/bin/env python3
"""kvmprof --listen: a real Prometheus (Debian's `prometheus`) scrapes kvmprof
around bundled guests; the counters it stores must equal what the scripted
guests did, exactly.  Also: `promtool check metrics` on a scrape, the
cardinality options, the grace period, and hostile clients."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvmtest as kt  # noqa: E402  (the tally, guests, tracers and runner)

KVMPROF = kt.KVMPROF
HOSTILE = 'q"uo\\te'          # as given to -name
HOSTILE_SHOWN = 'q"uo\\x5cte'  # kvmprof's escaped name, the label value Prometheus keeps


def http_get(port, path="/metrics", timeout=5):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read().decode()


def parse_metrics(text):
    """[(name, {labels}, value)] from the exposition text (our own output's subset)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition("{")
        labels = {}
        if rest:
            body, _, value = rest.rpartition("} ")
            i = 0
            while i < len(body):
                eq = body.index("=", i)
                key = body[i:eq]
                j, val = eq + 2, []
                while body[j] != '"':
                    if body[j] == "\\":
                        j += 1
                        val.append({"n": "\n"}.get(body[j], body[j]))
                    else:
                        val.append(body[j])
                    j += 1
                labels[key] = "".join(val)
                i = j + 2  # past '",'
        else:
            name, value = line.split(" ", 1)
        out.append((name, labels, float(value)))
    return out


class Prometheus:
    def __init__(self, outdir, target_port):
        self.port = kt.free_port()
        cfg = f"{outdir}/prometheus.yml"
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: kvmprof\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{target_port}']\n")
        self.log = open(f"{outdir}/prometheus.log", "w")
        self.proc = subprocess.Popen(["prometheus", f"--config.file={cfg}",
                                      f"--storage.tsdb.path={outdir}/tsdb",
                                      f"--web.listen-address=127.0.0.1:{self.port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        kt.LIVE.append(self.proc)
        for _ in range(150):
            try:
                if http_get(self.port, "/-/ready", 1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("prometheus did not become ready")

    def query(self, q):
        url = f"/api/v1/query?query={urllib.parse.quote(q)}"
        doc = json.loads(http_get(self.port, url)[2])
        if doc.get("status") != "success":
            raise RuntimeError(f"query {q}: {doc}")
        return doc["data"]["result"]

    def value(self, q):
        r = self.query(q)
        return float(r[0]["value"][1]) if len(r) == 1 else None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def wait_for(fn, want, timeout=20):
    """Polls fn() until it returns want (scrapes are 1 s apart)."""
    got = None
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = fn()
        if got == want:
            break
        time.sleep(0.5)
    return got


def check_prometheus(prom, gid, g, label):
    n = lambda k: float(g[k])
    sel = f'pid="{gid}"'
    q = lambda e: (lambda: prom.value(e))
    kt.check_eq(wait_for(q(f'sum(kvmprof_traps_total{{{sel},class="userspace"}})'), n("kvm_run")),
                n("kvm_run"), f"{label}: userspace exits (KVM_RUN returns) in Prometheus")
    checks = [
        (f'sum(kvmprof_traps_total{{{sel},class="pio",code_name="out 0x3f8"}})', n("pio_out"), "out 0x3f8"),
        (f'sum(kvmprof_traps_total{{{sel},class="pio"}})', n("exit_io"), "all port I/O"),
        (f'sum(kvmprof_traps_total{{{sel},class="emulate"}})', n("insns"), "emulated instructions"),
        (f'sum(kvmprof_traps_total{{{sel},class="emulate",code_name="loop e2 real"}})', n("emulate_loop"),
         "emulated loop"),
        (f'sum(kvmprof_traps_total{{{sel},class="cpuid"}})', n("cpuid"), "cpuid"),
        (f'sum(kvmprof_traps_total{{{sel},class="mmio",code_name="read 0xd0000"}})', n("mmio_read"),
         "mmio read"),
        (f'sum(kvmprof_traps_total{{{sel},class="msr",code_name="rdmsr 0x10"}})', n("msr_read"), "rdmsr"),
        (f'sum(kvmprof_traps_total{{{sel},class="userspace",code_name="KVM_EXIT_IO"}})', n("exit_io"),
         "KVM_EXIT_IO"),
        (f'sum(kvmprof_vmm_time_seconds_count{{{sel}}})', n("kvm_run") - n("vcpus"), "VMM trips with a time"),
        (f'sum(kvmprof_vmm_time_seconds_bucket{{{sel},le="+Inf"}})', n("kvm_run") - n("vcpus"),
         "+Inf bucket holds every VMM trip"),
    ]
    for expr, want, what in checks:
        if want == 0:  # an op the script does not do leaves no series
            got = prom.value(expr)
            kt.check(got in (None, 0.0), f"{label}: {what}: got {got}, want none")
        else:
            kt.check_eq(prom.value(expr), want, f"{label}: {what} ({expr})")
    vcpus = {r["metric"].get("vcpu") for r in prom.query(f'kvmprof_traps_total{{{sel}}}')}
    kt.check_eq(vcpus, {str(i) for i in range(int(g["vcpus"]))}, f"{label}: vcpu labels")


def test_prometheus(outdir):
    alpha = ["-g", "1", "-c", "2", "--pio", "50", "--mmio-read", "20", "--mmio-write", "30",
             "--cpuid", "40", "--hlt", "5", "--emulate", "100", "--sleep-us", "200", "--repeat", "3",
             "-name", "guest=alpha,debug-threads=on"]
    beta = ["-g", "1", "--pio", "7", "--cpuid", "11", "--msr-read", "4", "--emulate", "300000",
            "-name", "guest=" + HOSTILE]
    start = f"{outdir}/prom.start"
    ga, gb = kt.Guests(alpha, start), kt.Guests(beta, start)
    port, port_b = kt.free_port(), kt.free_port()
    prof = kt.Tracer([KVMPROF, "--listen", f"127.0.0.1:{port}", "-i", "0.5"], r"tracing KVM traps")
    # the same run with every label folded away, a cap of 3, a 2 s grace; -p
    # so that other guests on this machine do not count in its totals
    prof_b = kt.Tracer([KVMPROF, "--listen", f"127.0.0.1:{port_b}", "-q", "-i", "0.5", "-p", str(ga.pids[0]),
                        "-p", str(gb.pids[0]), "--metrics-no-vcpu",
                        "--metrics-no-code", "--metrics-max-series", "3", "--metrics-grace", "2"],
                       r"tracing KVM traps")
    prom = Prometheus(outdir, port)
    open(start, "w").close()
    results = {**ga.finish(), **gb.finish()}
    time.sleep(1.2)  # one read after the guests ended
    a, b = ga.pids[0], gb.pids[0]

    # the folded instance, inside its grace period
    status, ctype, text = http_get(port_b)
    series = [(l, v) for n, l, v in parse_metrics(text) if n == "kvmprof_traps_total"]
    kt.check_eq(len(series), 3, "--metrics-max-series 3: three label sets")
    kt.check(all(set(l) == {"pid", "guest", "class"} for l, _ in series),
             f"--metrics-no-vcpu --metrics-no-code: only pid, guest, class labels: {series[:1]}")
    folded = {n: v for n, l, v in parse_metrics(text) if not l}
    total = sum(float(results[p][k]) for p in results for k in ("insns", "exit_io", "kvm_run", "cpuid",
                                                                 "msr_read"))
    total += sum(2 * float(results[p]["mmio_read"]) + float(results[p]["mmio_write"]) for p in results)
    kt.check_eq(sum(v for _, v in series) + folded.get("kvmprof_traps_folded_total", -1), total,
                "shown plus folded traps equal every trap the guests made")
    kt.check(folded.get("kvmprof_metrics_folded_series_total", 0) > 0, "folded label sets are counted")

    # the real Prometheus: exact counts, escaped names
    check_prometheus(prom, a, results[a], "alpha")
    check_prometheus(prom, b, results[b], "hostile name")
    names = {r["metric"]["guest"] for r in prom.query(f'kvmprof_traps_total{{pid="{b}"}}')}
    kt.check_eq(names, {HOSTILE_SHOWN}, "hostile name round-trips through the exposition escaping")
    kt.check_eq(prom.value('up{job="kvmprof"}'), 1.0, "Prometheus sees the target up")
    p99 = prom.value('histogram_quantile(0.99, sum by (le) (kvmprof_vmm_time_seconds_bucket'
                     f'{{pid="{a}"}}))')
    kt.check(p99 is not None and p99 >= 200e-6, f"p99 time in VMM >= the 200 us slept: {p99}")

    # the scrape itself
    status, ctype, text = http_get(port)
    kt.check_eq(status, 200, "GET /metrics status")
    kt.check("version=0.0.4" in ctype, f"text format content type: {ctype}")
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    kt.check_eq(p.returncode, 0, f"promtool check metrics: {p.stdout}{p.stderr}")
    hist = [(n, l, v) for n, l, v in parse_metrics(text) if n == "kvmprof_vmm_time_seconds_bucket"]
    by = {}
    for n, l, v in hist:
        by.setdefault(tuple(sorted((k, x) for k, x in l.items() if k != "le")), []).append(v)
    kt.check(by and all(vs == sorted(vs) for vs in by.values()), "buckets are cumulative")

    hostile_clients(port, prof)
    after = prom.value(f'sum(kvmprof_traps_total{{pid="{a}",class="pio",code_name="out 0x3f8"}})')
    kt.check_eq(after, float(results[a]["pio_out"]), "counts unchanged after the hostile clients")

    # the grace period: ended guests leave the output, folded traps stay counted
    time.sleep(3)
    text2 = http_get(port_b)[2]
    m2 = parse_metrics(text2)
    kt.check_eq([l for n, l, v in m2 if n == "kvmprof_traps_total"], [],
                "--metrics-grace 2: ended guests dropped")
    kt.check_eq({n: v for n, l, v in m2 if not l}.get("kvmprof_traps_folded_total"),
                folded.get("kvmprof_traps_folded_total"), "folded traps never go down")
    kt.check_eq([v for n, l, v in m2 if n == "kvmprof_guests" and l["state"] == "ended"], [0.0],
                "no ended guest shown after the grace period")
    prom.stop()
    for t, tag in ((prof, "listen"), (prof_b, "folded")):
        rc, out, err = t.stop(sigterm())
        kt.check_eq(rc, 0, f"{tag}: exit status after SIGTERM ({err.strip()[-200:]})")
        # one poll loop serves /metrics beside the batch tables; -q leaves them out
        tables = out.count("  kvmprof  elapsed ")
        kt.check(tables >= 4 if tag == "listen" else tables == 0,
                 f"{tag}: {tables} batch tables on stdout beside /metrics")
        kt.check("=== kvmprof summary" in out, f"{tag}: the summary at SIGTERM")


def sigterm():
    import signal
    return signal.SIGTERM


def hostile_clients(port, prof):
    """Garbage, huge headers, slow and silent clients: never a crash, and a
    good scrape still answers at once."""
    def exchange(data, read=True):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            try:
                s.sendall(data)
            except OSError:
                pass
            if not read:
                return b""
            chunks = []
            try:
                while True:
                    c = s.recv(65536)
                    if not c:
                        break
                    chunks.append(c)
            except OSError:
                pass
            return b"".join(chunks)

    kt.check(exchange(b"\x00\xff garbage\r\n\r\n").startswith(b"HTTP/1.1 400"), "garbage: 400")
    # 431, or nothing when closing on the unread rest of the headers sent a
    # reset that beat the answer; either way kvmprof goes on (checked below)
    big = exchange(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 100000 + b"\r\n\r\n")
    kt.check(big.startswith(b"HTTP/1.1 431") or big == b"", f"huge headers: 431 ({big[:40]!r})")
    kt.check(exchange(b"POST /metrics HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 405"), "POST: 405")
    kt.check(exchange(b"GET /nope HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 404"), "unknown path: 404")
    head = exchange(b"HEAD /metrics HTTP/1.0\r\n\r\n")
    kt.check(head.startswith(b"HTTP/1.1 200") and head.endswith(b"\r\n\r\n"), "HEAD: headers only")
    # slow clients: half a request each, more of them than kvmprof keeps
    slow = []
    for _ in range(40):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /met")
        slow.append(s)
    t0 = time.time()
    status, _, text = http_get(port, timeout=5)
    took = time.time() - t0
    kt.check(status == 200 and "kvmprof_traps_total" in text and took < 1.0,
             f"a scrape answers at once while 40 slow clients hold connections ({took:.2f} s)")
    # a client that asks and never reads, and one that resets mid-way
    lazy = socket.create_connection(("127.0.0.1", port), timeout=5)
    lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    lazy.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
    rst = socket.create_connection(("127.0.0.1", port), timeout=5)
    rst.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
    rst.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    rst.close()
    time.sleep(6)  # past the request time limit
    kt.check_eq(http_get(port)[0], 200, "still serving after slow clients timed out")
    for s in slow + [lazy]:
        s.close()
    kt.check(prof.proc.poll() is None, "kvmprof still running after the hostile clients")


def test_errors(outdir):
    def run(argv):
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        return p.returncode, p.stderr.strip().splitlines()

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    cases = [
        ([KVMPROF, "--listen", "127.0.0.1:99999"], 2, "invalid --listen"),
        ([KVMPROF, "--listen", "::1:9464"], 2, "brackets"),
        ([KVMPROF, "--metrics-no-vcpu"], 2, "need --listen"),
        ([KVMPROF, "--listen", "9464", "--metrics-max-series", "0"], 2, "invalid --metrics-max-series"),
        ([KVMPROF, "--listen", f"127.0.0.1:{taken.getsockname()[1]}"], 1, "cannot listen"),
    ]
    for argv, want_rc, text in cases:
        rc, err = run(argv)
        kt.check_eq(rc, want_rc, f"{' '.join(argv[1:])}: exit code")
        kt.check(len(err) == 1 and text in err[0], f"{' '.join(argv[1:])}: one line with '{text}': {err}")
    taken.close()


def missing_tools():
    for tool in ("prometheus", "promtool"):
        if not any(os.access(os.path.join(d, tool), os.X_OK) for d in os.environ["PATH"].split(":")):
            return f"{tool} is missing (make deps installs Debian's prometheus)"
    return None


def main():
    return kt.main("metrics", [test_errors, test_prometheus], "kvmprof-metrics-", missing=missing_tools)


if __name__ == "__main__":
    sys.exit(main())
