"""Each contender of the benchmark run against one workload, measured the same way for all:
CPU is utime+stime of the contender's process (all threads) read from /proc/PID/stat at the
start and the end of a measurement window, divided by the probes (requests) it completed inside
that window; peak RSS is VmHWM from /proc/PID/status at the end of the window (the peak over
the process's life, which started with this workload).

- ours: backend-health-exporter schedules its probes itself; probes are counted from
  `backend_health_probes_total` deltas between two /metrics scrapes.
- blackbox: blackbox_exporter driven like Prometheus drives it (prometheus_driver.py);
  probes are the /probe answers the driver received.
- wrk: the bare client, one new connection (and for HTTPS one full handshake) per request,
  paced to about the workload's rate; requests are counted by nginx (stub_status).
- floor (plain HTTP only): bench/floor_client.c, the least a process can do per probe (blocking,
  one connection at a time, the exporter's socket options and request, no event loop): what the
  kernel's TCP costs on this machine. Requests are counted by nginx."""

import http.client
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Optional

import backends
import harness
from harness import Exporter, fail, free_port, proc_usage, wait_until
from prometheus_driver import PrometheusLikeDriver

SUCCESS = "success"


@dataclass
class Group:
    """Servers of one kind within a workload, and the outcome every probe of them must have."""
    name: str
    addresses: list
    port: int
    expect: str  # SUCCESS or the reason our exporter reports


@dataclass
class Workload:
    key: str
    title: str
    groups: list
    interval_s: float
    timeout_s: float
    window_s: float  # ours
    reference_window_s: float  # blackbox and wrk
    tls: Optional[str] = None  # chain kind (backends.Chain) for HTTPS workloads
    scrape_every_s: Optional[float] = None  # /metrics scrapes of ours during its window
    bare_client: bool = True  # wrk has no equivalent of a hanging or refusing server

    @property
    def servers(self):
        return sum(len(g.addresses) for g in self.groups)

    @property
    def rate(self):
        return self.servers / self.interval_s

    @property
    def scheme(self):
        return "https" if self.tls else "http"


@dataclass
class Environment:
    """What the run set up once for every workload."""
    workdir: str
    chains: dict  # kind -> backends.Chain
    dns_server: str  # HOST:PORT of a loopback DNS server (no workload needs a lookup)
    tls_log: str
    blackbox: str
    wrk: str
    floor_client: str  # the compiled bench/floor_client.c
    profile_dir: Optional[str] = None
    baseline: Optional[str] = None  # another exporter binary, measured as "baseline"
    contenders: Optional[list] = None  # only these (None: every contender)


@dataclass
class Figure:
    contender: str
    scheduled_rate: float
    window_s: float  # over which `done` was counted
    cpu_window_s: float  # over which `cpu_s` was read
    done: int
    cpu_s: float
    peak_rss_kib: int
    unexpected: int  # probes whose outcome was not the one their backend implies
    waited_s: float = 0.0  # runnable but waiting for a CPU (the machine's other load)
    runs: int = 0  # times its threads were put on a CPU (wake-ups, preemptions)
    segments: int = 0  # TCP segments sent in the namespace (every side's) over the CPU window
    notes: list = field(default_factory=list)
    lag_p50_s: Optional[float] = None
    lag_p99_s: Optional[float] = None
    lag_p99_max_s: Optional[float] = None  # the worst p99 seen by any scrape in the window
    scrape_s: list = field(default_factory=list)
    scrape_bytes: Optional[int] = None
    tls: dict = field(default_factory=dict)  # (port, resumed, protocol, curve) -> handshakes

    @property
    def rate(self):
        return self.done / self.window_s

    @property
    def cores(self):
        return self.cpu_s / self.cpu_window_s

    def _per_probe(self, count):
        """`count`, read over the CPU window as CPU is, per probe completed in that window."""
        if self.done == 0:
            return math.nan
        return count / (self.rate * self.cpu_window_s)

    @property
    def runs_per_probe(self):
        return self._per_probe(self.runs)

    @property
    def segments_per_probe(self):
        return self._per_probe(self.segments)

    @property
    def us_per_probe(self):
        if self.done == 0 or self.cpu_s == 0:  # CPU comes in clock ticks: none seen
            return math.nan
        return 1e6 * self.cpu_s / (self.rate * self.cpu_window_s)


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    fail(f"no VmHWM in /proc/{pid}/status")


def cpu_seconds(pids):
    return sum(proc_usage(pid)[0] for pid in pids)


def sched_stats(pids):
    """(seconds the processes' threads spent runnable on a run queue without a CPU, times they
    were put on a CPU) from schedstat: the machine's other load, and the wake-ups."""
    waited = runs = 0
    for pid in pids:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    fields = f.read().split()
                waited += int(fields[1])
                runs += int(fields[2])
            except (OSError, IndexError, ValueError):  # the thread just exited
                pass
    return waited / 1e9, runs


def tcp_segments():
    """TCP segments sent so far in this network namespace (OutSegs of /proc/net/snmp). Every
    peer is on its loopback, so this counts each segment once, whichever side sent it: the
    contender's, nginx's, and the benchmark's own requests to the contender."""
    with open("/proc/net/snmp") as f:
        tcp = [line.split() for line in f if line.startswith("Tcp:")]
    return int(tcp[1][tcp[0].index("OutSegs")])


def _sleep_until(deadline):
    delay = deadline - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _tls_log_size(env):
    return os.path.getsize(env.tls_log) if os.path.exists(env.tls_log) else 0


# --- profiling ----------------------------------------------------------------------------------

class Profiler:
    """perf record of one process for the length of a window (software clock events: this
    machine's virtual CPUs may have no hardware counters)."""

    def __init__(self, env, pid, name):
        self.env = env
        self.data = os.path.join(env.profile_dir, f"{name}.perf.data")
        self.report = os.path.join(env.profile_dir, f"{name}.perf.txt")
        self.proc = subprocess.Popen(
            ["perf", "record", "-q", "-e", "cpu-clock", "-F", "499", "--call-graph",
             "dwarf,16384", "-p", str(pid), "-o", self.data],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=120)
        self.write_report()

    def write_report(self):
        with open(self.report, "w") as out:
            out.write(f"perf record -e cpu-clock --call-graph dwarf of the exporter: {self.data}\n")
            for mode, title in (("--children", "inclusive (the function and what it calls)"),
                                ("--no-children", "self")):
                out.write(f"\n{title}: share of the exporter's CPU samples\n")
                for share, symbol in self._entries(mode)[:40]:
                    out.write(f"  {share:6.2f}%  {symbol}\n")
            out.write("\nwhere the samples are: user space or the system call (or fault) the kernel "
                      "ran\n")
            for share, place in self._by_entry()[:15]:
                out.write(f"  {share:6.2f}%  {place}\n")

    def _by_entry(self):
        """Samples by the kernel entry on their stack: the syscall handler below do_syscall_64,
        a page fault, other kernel work (interrupts), or none (user space)."""
        p = subprocess.run(["perf", "script", "-i", self.data, "-F", "ip,sym"],
                           capture_output=True, text=True, check=False)
        counts, total = {}, 0
        for sample in p.stdout.split("\n\n"):
            frames = [line.split()[1].split("+")[0] for line in sample.splitlines()
                      if len(line.split()) > 1]
            if not frames:
                continue
            total += 1
            place = "user space"
            if "asm_exc_page_fault" in frames:
                place = "page faults"
            elif "do_syscall_64" in frames:
                at = frames.index("do_syscall_64")
                place = f"syscall: {frames[at - 1]}" if at > 0 else "syscall"
            elif any(f.startswith(("asm_", "irq_", "sysvec_")) for f in frames):
                place = "kernel: interrupts"
            counts[place] = counts.get(place, 0) + 1
        return sorted(((100 * n / total, place) for place, n in counts.items()), reverse=True)

    def _entries(self, mode):
        p = subprocess.run(["perf", "report", "-i", self.data, "--stdio", mode, "-g", "none",
                            "--sort", "dso,symbol", "--percent-limit", "0.2", "-t", "\t"],
                           capture_output=True, text=True, check=False)
        shares = {}
        for line in p.stdout.splitlines():
            fields = [f.strip() for f in line.split("\t")]
            at = next((i for i, f in enumerate(fields) if f.startswith(("[.] ", "[k] "))), None)
            if line.startswith("#") or at is None or at == 0:
                continue
            symbol, dso = fields[at][4:], fields[at - 1]
            if re.fullmatch(r"0x[0-9a-f]+", symbol):
                if mode == "--children":  # an unnamed caller: what it calls is listed
                    continue
                symbol = f"(functions without a symbol in {dso})"
            shares[symbol[:120]] = shares.get(symbol[:120], 0.0) + float(fields[0].rstrip("%"))
        return sorted(((share, symbol) for symbol, share in shares.items()), reverse=True)


# --- ours ---------------------------------------------------------------------------------------

_PROBES_TOTAL = re.compile(r'^backend_health_probes_total\{([^}]*)\} (\S+)', re.M)
_UNKNOWN = re.compile(r'^backend_health_pool_servers\{[^}]*state="unknown"[^}]*\} (\S+)', re.M)
_LAG = re.compile(r'^backend_health_exporter_schedule_lag_seconds\{quantile="([^"]+)"\} (\S+)',
                  re.M)
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def _duration(seconds):
    return f"{round(seconds * 1000)}ms"


def ours_config(workload, env):
    out = ["[exporter]", f'dns_servers = ["{env.dns_server}"]', ""]
    for g in workload.groups:
        servers = ", ".join(f'"{a}"' for a in g.addresses)
        out += ["[[backend_pool]]", f'name = "{g.name}"', f"servers = [{servers}]",
                f'backend_settings = ["{g.name}"]', "",
                "[[backend_settings]]", f'name = "{g.name}"', f'protocol = "{workload.scheme}"',
                f"port = {g.port}", 'probe = "bench"']
        if workload.tls:
            out += [f'host_name = "{backends.HOST_NAME}"',
                    f'trusted_root_certificates = ["{env.chains[workload.tls].root}"]']
        out.append("")
    out += ["[[probe]]", 'name = "bench"', 'path = "/"',
            f'interval = "{_duration(workload.interval_s)}"',
            f'timeout = "{_duration(workload.timeout_s)}"', ""]
    return "\n".join(out)


class _Scrape:
    def __init__(self, port):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.started = time.monotonic()
        connection.request("GET", "/metrics")
        response = connection.getresponse()
        body = response.read()
        self.seconds = time.monotonic() - self.started
        connection.close()
        if response.status != 200:
            fail(f"/metrics answered {response.status}")
        self.size = len(body)
        self.text = body.decode("utf-8", "replace")

    def probe_totals(self):
        totals = {}
        for m in _PROBES_TOTAL.finditer(self.text):
            labels = dict(_LABEL.findall(m.group(1)))
            key = (labels["pool"], labels["result"])
            totals[key] = totals.get(key, 0) + float(m.group(2))
        return totals

    def unknown_servers(self):
        values = [float(v) for v in _UNKNOWN.findall(self.text)]
        return sum(values) if values else None

    def lag(self, quantile):
        for q, v in _LAG.findall(self.text):
            if abs(float(q) - quantile) < 1e-9:
                return float(v)
        return None


def measure_ours(workload, env, label="ours"):
    workdir = tempfile.mkdtemp(prefix="ours-", dir=env.workdir)
    with Exporter(ours_config(workload, env), workdir=workdir) as exporter:
        pid = exporter.proc.pid

        def all_probed():
            unknown = _Scrape(exporter.port).unknown_servers()
            return unknown is not None and unknown == 0

        # First probes are spread over one interval; a hanging server answers at its timeout.
        wait_until(all_probed, timeout=workload.interval_s + workload.timeout_s + 60,
                   interval=0.25, what=f"every server of {workload.key} probed once")
        time.sleep(min(1.0, workload.interval_s))
        first = _Scrape(exporter.port)
        tls_start = _tls_log_size(env)
        cpu0, (waited0, runs0) = cpu_seconds([pid]), sched_stats([pid])
        segments0 = tcp_segments()
        cpu_t0 = time.monotonic()
        profiler = Profiler(env, pid, f"{workload.key}-{label}") if env.profile_dir else None
        end = first.started + workload.window_s
        scrapes = []
        if workload.scrape_every_s:
            due = first.started + workload.scrape_every_s
            while due < end:
                _sleep_until(due)
                scrapes.append(_Scrape(exporter.port))
                due = max(due + workload.scrape_every_s, time.monotonic())
        _sleep_until(end)
        cpu1, (waited1, runs1) = cpu_seconds([pid]), sched_stats([pid])
        segments1 = tcp_segments()
        cpu_t1 = time.monotonic()
        tls_end = _tls_log_size(env)
        last = _Scrape(exporter.port)
        peak = peak_rss_kib(pid)
        if profiler:
            profiler.stop()
    shutil.rmtree(workdir, ignore_errors=True)

    before, after = first.probe_totals(), last.probe_totals()
    expected = {g.name: g.expect for g in workload.groups}
    done = unexpected = 0
    wrong = {}
    for key, value in after.items():
        delta = value - before.get(key, 0)
        done += delta
        if key[1] != expected.get(key[0]) and delta:
            unexpected += delta
            wrong[f"{key[0]}: {key[1]}"] = int(delta)
    window_scrapes = scrapes or [first, last]
    p99s = [s.lag(0.99) for s in scrapes + [last] if s.lag(0.99) is not None]
    figure = Figure(
        contender=label, scheduled_rate=workload.rate, window_s=last.started - first.started,
        cpu_window_s=cpu_t1 - cpu_t0, done=int(done), cpu_s=cpu1 - cpu0, peak_rss_kib=peak,
        unexpected=int(unexpected), waited_s=waited1 - waited0, runs=runs1 - runs0,
        segments=segments1 - segments0,
        lag_p50_s=last.lag(0.5),
        lag_p99_s=last.lag(0.99),
        lag_p99_max_s=max(p99s) if p99s else None,
        scrape_s=[s.seconds for s in window_scrapes],
        scrape_bytes=max(s.size for s in window_scrapes),
        tls=backends.read_tls_log(env.tls_log, tls_start, tls_end) if workload.tls else {})
    if wrong:
        figure.notes.append("unexpected outcomes (server group: result): " + ", ".join(
            f"{k} {n}" for k, n in sorted(wrong.items(), key=lambda kv: -kv[1])))
    if profiler:
        figure.notes.append(f"profiled with perf (CPU inflated): {profiler.report}")
    if scrapes:
        figure.notes.append(f"{len(scrapes)} /metrics scrapes inside the window are counted")
    return figure


# --- blackbox_exporter --------------------------------------------------------------------------

def blackbox_config(workload, env):
    lines = ["modules:", "  bench:", "    prober: http", f"    timeout: {_duration(workload.timeout_s)}",
             "    http:", "      preferred_ip_protocol: ip4", "      ip_protocol_fallback: false"]
    if workload.tls:
        lines += ["      tls_config:", f"        ca_file: {env.chains[workload.tls].root}",
                  f"        server_name: {backends.HOST_NAME}"]
    return "\n".join(lines) + "\n"


def measure_blackbox(workload, env):
    workdir = tempfile.mkdtemp(prefix="blackbox-", dir=env.workdir)
    config = os.path.join(workdir, "blackbox.yml")
    with open(config, "w") as f:
        f.write(blackbox_config(workload, env))
    port = free_port()
    log = open(os.path.join(workdir, "blackbox.log"), "wb")
    proc = subprocess.Popen([env.blackbox, f"--config.file={config}",
                             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                            stdout=log, stderr=subprocess.STDOUT)
    driver = None
    try:
        def up():
            if proc.poll() is not None:
                fail(f"blackbox_exporter exited with {proc.returncode}: {_read(log.name)}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/-/healthy")
                return connection.getresponse().status == 200
            except OSError:
                return False

        wait_until(up, what="blackbox_exporter to start")
        targets = []
        for index, g in enumerate(workload.groups):
            targets += [("bench", f"{workload.scheme}://{a}:{g.port}/", index)
                        for a in g.addresses]
        # One asyncio process keeps up with about a thousand scrapes a second on this machine.
        shards = max(1, min(os.cpu_count() or 1, math.ceil(workload.rate / 800)))
        driver = PrometheusLikeDriver(port, targets, len(workload.groups), workload.interval_s,
                                      shards)
        time.sleep(min(workload.interval_s, 2.0) + workload.timeout_s + 0.5)
        if not driver.alive() or proc.poll() is not None:
            fail("blackbox_exporter or its driver died during the warm-up")
        c0 = driver.counts()
        tls_start = _tls_log_size(env)
        cpu0, driver_cpu0 = cpu_seconds([proc.pid]), cpu_seconds(driver.pids())
        waited0, runs0 = sched_stats([proc.pid])
        segments0 = tcp_segments()
        t0 = time.monotonic()
        time.sleep(workload.reference_window_s)
        c1 = driver.counts()
        cpu1, driver_cpu1 = cpu_seconds([proc.pid]), cpu_seconds(driver.pids())
        waited1, runs1 = sched_stats([proc.pid])
        segments1 = tcp_segments()
        t1 = time.monotonic()
        tls_end = _tls_log_size(env)
        peak = peak_rss_kib(proc.pid)
    finally:
        if driver:
            driver.stop()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    done = unexpected = 0
    for index, g in enumerate(workload.groups):
        succeeded = c1["success"][index] - c0["success"][index]
        failed = c1["failure"][index] - c0["failure"][index]
        done += succeeded + failed
        unexpected += failed if g.expect == SUCCESS else succeeded
    figure = Figure(contender="blackbox", scheduled_rate=workload.rate, window_s=t1 - t0,
                    cpu_window_s=t1 - t0, done=done, cpu_s=cpu1 - cpu0, peak_rss_kib=peak,
                    unexpected=unexpected, waited_s=waited1 - waited0, runs=runs1 - runs0,
                    segments=segments1 - segments0,
                    tls=backends.read_tls_log(env.tls_log, tls_start, tls_end)
                    if workload.tls else {})
    skipped = c1["skipped"] - c0["skipped"]
    errors = c1["errors"] - c0["errors"]
    figure.notes.append(f"driver ({shards} process{'es' if shards > 1 else ''}) used "
                        f"{(driver_cpu1 - driver_cpu0) / (t1 - t0):.2f} cores (not counted)")
    if skipped:
        figure.notes.append(f"{skipped} scrapes skipped: the previous scrape of that target "
                            "was still running (blackbox behind schedule)")
    if errors:
        figure.notes.append(f"{errors} scrapes got no answer from blackbox_exporter")
        figure.unexpected += errors
    shutil.rmtree(workdir, ignore_errors=True)
    return figure


def _read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")[-2000:]


# --- wrk ----------------------------------------------------------------------------------------

_WRK_SOCKET_ERRORS = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_WRK_RATE = re.compile(r"Requests/sec:\s+(\S+)")


def _pace(rate, tls):
    """Connections and per-request delay (ms) that make wrk send about `rate` requests/s.
    wrk waits `delay` after each (re)connect before it writes the request, so one connection's
    cycle is connect (+ handshake) + delay + response."""
    connections = max(1, math.ceil(rate / 100))
    latency_ms = 2.0 if tls else 0.3
    delay_ms = max(1, round(1000 * connections / rate - latency_ms))
    return connections, delay_ms


def measure_wrk(workload, env, warmup_s=2.0):
    workdir = tempfile.mkdtemp(prefix="wrk-", dir=env.workdir)
    port = backends.BARE_TLS_PORTS[workload.tls] if workload.tls else backends.HTTP_PORT
    url = f"{workload.scheme}://127.0.0.1:{port}/"
    connections, delay_ms = _pace(workload.rate, workload.tls)
    script = os.path.join(workdir, "pace.lua")
    with open(script, "w") as f:
        f.write(f"function delay()\n  return {delay_ms}\nend\n")
    duration = math.ceil(warmup_s + workload.reference_window_s + 2)
    out_path = os.path.join(workdir, "wrk.out")
    with open(out_path, "wb") as out:
        proc = subprocess.Popen([env.wrk, "-t1", f"-c{connections}", f"-d{duration}s",
                                 "-H", "Connection: close", "-s", script, url],
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            time.sleep(warmup_s)
            if proc.poll() is not None:
                fail(f"wrk exited with {proc.returncode}: {_read(out_path)}")
            requests0 = backends.nginx_requests()
            tls_start = _tls_log_size(env)
            cpu0, (waited0, runs0) = cpu_seconds([proc.pid]), sched_stats([proc.pid])
            segments0 = tcp_segments()
            t0 = time.monotonic()
            time.sleep(workload.reference_window_s)
            cpu1, (waited1, runs1) = cpu_seconds([proc.pid]), sched_stats([proc.pid])
            segments1 = tcp_segments()
            t1 = time.monotonic()
            requests1 = backends.nginx_requests()
            tls_end = _tls_log_size(env)
            peak = peak_rss_kib(proc.pid)
            proc.wait(timeout=duration + 30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    output = _read(out_path)
    shutil.rmtree(workdir, ignore_errors=True)
    if proc.returncode != 0:
        fail(f"wrk exited with {proc.returncode}: {output}")
    socket_errors = _WRK_SOCKET_ERRORS.search(output)
    errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    non_2xx = _WRK_NON_2XX.search(output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    figure = Figure(contender="wrk", scheduled_rate=workload.rate, window_s=t1 - t0,
                    cpu_window_s=t1 - t0, done=requests1 - requests0, cpu_s=cpu1 - cpu0,
                    peak_rss_kib=peak, unexpected=errors, waited_s=waited1 - waited0,
                    runs=runs1 - runs0, segments=segments1 - segments0,
                    tls=backends.read_tls_log(env.tls_log, tls_start, tls_end)
                    if workload.tls else {})
    rate = _WRK_RATE.search(output)
    figure.notes.append(f"-t1 -c{connections}, {delay_ms} ms delay per request, "
                        f"'Connection: close'; wrk itself reported "
                        f"{rate.group(1) if rate else '?'} requests/s over {duration}s")
    return figure


# --- floor --------------------------------------------------------------------------------------

def build_floor_client(cc, workdir):
    out = os.path.join(workdir, "floor_client")
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "floor_client.c")
    subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-Werror", "-o", out, source], check=True)
    return out


def measure_floor(workload, env, warmup_s=2.0):
    addresses = [a for g in workload.groups for a in g.addresses]
    duration = warmup_s + workload.reference_window_s + 1
    proc = subprocess.Popen([env.floor_client, str(backends.HTTP_PORT), f"{workload.rate:g}",
                             f"{duration:g}"] + addresses,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(warmup_s)
        if proc.poll() is not None:
            fail(f"floor_client exited with {proc.returncode}: {proc.stdout.read()!r}")
        requests0 = backends.nginx_requests()
        cpu0, (waited0, runs0) = cpu_seconds([proc.pid]), sched_stats([proc.pid])
        segments0 = tcp_segments()
        t0 = time.monotonic()
        time.sleep(workload.reference_window_s)
        cpu1, (waited1, runs1) = cpu_seconds([proc.pid]), sched_stats([proc.pid])
        segments1 = tcp_segments()
        t1 = time.monotonic()
        requests1 = backends.nginx_requests()
        peak = peak_rss_kib(proc.pid)
        output, _ = proc.communicate(timeout=duration + 30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = output.decode("utf-8", "replace").strip()
    counts = re.fullmatch(r"done (\d+) failed (\d+)", output)
    if proc.returncode != 0 or not counts:
        fail(f"floor_client exited with {proc.returncode}: {output}")
    figure = Figure(contender="floor", scheduled_rate=workload.rate, window_s=t1 - t0,
                    cpu_window_s=t1 - t0, done=requests1 - requests0, cpu_s=cpu1 - cpu0,
                    peak_rss_kib=peak, unexpected=int(counts.group(2)),
                    waited_s=waited1 - waited0, runs=runs1 - runs0,
                    segments=segments1 - segments0)
    figure.notes.append(f"blocking, one connection at a time, in batches every 10 ms; {output} "
                        f"over {duration:g} s")
    return figure


CONTENDERS = {
    "ours": measure_ours,
    "blackbox": measure_blackbox,
    "wrk": measure_wrk,
    "floor": measure_floor,
}


def measure_baseline(workload, env):
    """Another build of the exporter, measured right before ours the same way (A/B)."""
    ours = harness.BINARY
    harness.BINARY = env.baseline
    try:
        return measure_ours(workload, env, label="baseline")
    finally:
        harness.BINARY = ours


CONTENDERS["baseline"] = measure_baseline


def contenders_of(workload, env):
    names = (["baseline"] if env.baseline else []) + ["ours", "blackbox"] + (
        ["wrk"] if workload.bare_client else []) + (
        ["floor"] if workload.bare_client and not workload.tls else [])
    return [name for name in names if env.contenders is None or name in env.contenders]

