#!/usr/bin/python3
"""The benchmark: every workload, every contender, one run, one table.

    bench/run.py [--binary PATH] [--label NAME] [--smoke] [--only KEY,...] [--profile DIR]
                 [--baseline BINARY] [--contenders NAME,...] [--rounds N]

Runs inside a network namespace of its own (it re-executes itself under `unshare --net`, so it
needs root); every server is a distinct loopback address of that namespace, served by one nginx
(and a listener that never answers, and a port nobody listens on). In each workload the exporter
under test ("ours", `--binary` or $BHE_BINARY), blackbox_exporter driven like Prometheus drives
it, and the bare client wrk are measured one after the other against the same nginx.

The full run prints the table and writes it to bench/results/<date>-<host>-<label>.txt; it takes
about 10 minutes. --smoke runs every workload with tiny sizes for a few seconds (CTest
`bench.smoke`) and fails if any contender produced no figure. Neither asserts anything about
speed: the targets are printed as PASS / FALLS SHORT. See bench/README.md."""

import argparse
import datetime
import math
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import harness  # noqa: E402
from harness import DnsServer, fail, in_private_netns, reexec_in_netns  # noqa: E402

import backends  # noqa: E402
from backends import HANGING_PORT, HTTP_PORT, REFUSED_PORT, TLS_PORTS  # noqa: E402
from contenders import (CONTENDERS, SUCCESS, Environment, Group, Workload,  # noqa: E402
                        build_floor_client, contenders_of)

MIB = 1024


def workloads(smoke, scale=1.0):
    """The issue's six workloads; --smoke keeps their shape at a tiny size, --scale multiplies
    the number of servers (to profile or try a change at another rate)."""
    def sized(count):
        return max(1, round(count * scale))

    def http(count):
        return [Group("ok", backends.addresses(0, sized(count)), HTTP_PORT, SUCCESS)]

    def https(kind, count):
        return [Group("ok", backends.addresses(0, sized(count)), TLS_PORTS[kind], SUCCESS)]

    def failing(count):
        count = sized(count)
        ok, hanging = count * 8 // 10, count // 10
        refused = count - ok - hanging
        return [Group("ok", backends.addresses(0, ok), HTTP_PORT, SUCCESS),
                Group("hanging", backends.addresses(ok, hanging), HANGING_PORT,
                      "backend_timeout"),
                Group("refused", backends.addresses(ok + hanging, refused), REFUSED_PORT,
                      "tcp_connect_error")]

    if smoke:
        one = dict(interval_s=1.0, timeout_s=0.9, window_s=3.0, reference_window_s=3.0)
        return [
            Workload("http-2000", "HTTP, 2,000 servers at 1 s (smoke: 20)", http(20), **one),
            Workload("http-300", "HTTP, 300 servers at 1 s (smoke: 10)", http(10), **one),
            Workload("https-rsa-500", "HTTPS RSA-2048 chain, 500 servers at 1 s (smoke: 10)",
                     https("rsa", 10), tls="rsa", **one),
            Workload("https-ecdsa-500", "HTTPS ECDSA P-256 chain, 500 servers at 1 s (smoke: 10)",
                     https("ecdsa", 10), tls="ecdsa", **one),
            Workload("http-10000-failing",
                     "HTTP, 10,000 servers at 5 s, 10% hanging, 10% refused, /metrics every 1 s "
                     "(smoke: 50 at 1 s)", failing(50), interval_s=1.0, timeout_s=0.5,
                     window_s=3.0, reference_window_s=3.0, scrape_every_s=1.0,
                     bare_client=False),
            Workload("https-rsa-1000-5s", "HTTPS RSA-2048 chain, 1,000 servers at 5 s "
                     "(smoke: 10 at 1 s)", https("rsa", 10), tls="rsa", **one),
        ]
    one = dict(interval_s=1.0, timeout_s=0.9, window_s=20.0, reference_window_s=15.0)
    return [
        Workload("http-2000", "HTTP, 2,000 servers at 1 s", http(2000), **one),
        # Longer windows: CPU comes in 10 ms clock ticks, and this one uses little.
        Workload("http-300", "HTTP, 300 servers at 1 s", http(300), interval_s=1.0,
                 timeout_s=0.9, window_s=30.0, reference_window_s=30.0),
        Workload("https-rsa-500", "HTTPS (nginx defaults, RSA-2048 chain), 500 servers at 1 s",
                 https("rsa", 500), tls="rsa", **one),
        Workload("https-ecdsa-500", "HTTPS (nginx defaults, ECDSA P-256 chain), 500 servers at 1 s",
                 https("ecdsa", 500), tls="ecdsa", **one),
        # A window of 60 s: the schedule-lag summary covers the last minute, so its final
        # quantiles then describe the window only, scrapes included.
        Workload("http-10000-failing",
                 "HTTP, 10,000 servers at 5 s, 10% hanging until the 2 s timeout, 10% refused, "
                 "/metrics scraped every 1 s", failing(10000), interval_s=5.0, timeout_s=2.0,
                 window_s=60.0, reference_window_s=30.0, scrape_every_s=1.0, bare_client=False),
        Workload("https-rsa-1000-5s", "HTTPS (nginx defaults, RSA-2048 chain), 1,000 servers "
                 "at 5 s", https("rsa", 1000), tls="rsa", interval_s=5.0, timeout_s=2.0,
                 window_s=30.0, reference_window_s=30.0),
    ]


# --- targets ------------------------------------------------------------------------------------

class Target:
    def __init__(self, workload, text, measure, limit, at_most=True):
        self.workload = workload
        self.text = text
        self.measure = measure  # results -> (value, display) or None when not measured
        self.limit = limit
        self.at_most = at_most


def _over(numerator, denominator):
    """A ratio of CPU figures; NaN when the denominator is too small to measure (the smoke)."""
    if not denominator or math.isnan(denominator):
        return math.nan
    return numerator / denominator


def _ratio(results, key, numerator, denominator):
    figures = results.get(key, {})
    if numerator not in figures or denominator not in figures:
        return None
    value = _over(figures[numerator].us_per_probe, figures[denominator].us_per_probe)
    return value, f"{value:.2f}x"


def _ours(key, attribute, scale=1.0, unit=""):
    def measure(results):
        figure = results.get(key, {}).get("ours")
        if figure is None:
            return None
        value = getattr(figure, attribute)
        if value is None:
            return None
        value *= scale
        return value, f"{value:.3g}{unit}"
    return measure


def _scaling(results):
    busy = results.get("http-2000", {}).get("ours")
    quiet = results.get("http-300", {}).get("ours")
    if busy is None or quiet is None:
        return None
    value = _over(quiet.us_per_probe, busy.us_per_probe)
    return value, f"{value:.2f}x"


def _max_scrape(results):
    figure = results.get("http-10000-failing", {}).get("ours")
    if figure is None:
        return None
    value = 1000 * max(figure.scrape_s)
    return value, f"{value:.0f} ms"


TARGETS = [
    Target("https-rsa-500", "CPU/probe vs the bare client's new-handshake request",
           lambda r: _ratio(r, "https-rsa-500", "ours", "wrk"), 1.0),
    Target("https-rsa-500", "blackbox CPU/probe over ours",
           lambda r: _ratio(r, "https-rsa-500", "blackbox", "ours"), 2.5, at_most=False),
    Target("https-ecdsa-500", "CPU/probe vs the bare client's new-handshake request",
           lambda r: _ratio(r, "https-ecdsa-500", "ours", "wrk"), 1.0),
    Target("http-2000", "CPU/probe vs the bare client's new-connection request",
           lambda r: _ratio(r, "http-2000", "ours", "wrk"), 1.2),
    Target("http-2000", "blackbox CPU/probe over ours",
           lambda r: _ratio(r, "http-2000", "blackbox", "ours"), 15, at_most=False),
    Target("http-300", "CPU/probe vs the bare client's new-connection request",
           lambda r: _ratio(r, "http-300", "ours", "wrk"), 1.2),
    Target("http-300", "blackbox CPU/probe over ours",
           lambda r: _ratio(r, "http-300", "blackbox", "ours"), 15, at_most=False),
    Target("http-300", "CPU/probe at 300/s over CPU/probe at 2,000/s", _scaling, 1.5),
    Target("http-10000-failing", "cores", _ours("http-10000-failing", "cores"), 0.1),
    Target("http-10000-failing", "peak RSS (MiB), scrapes included",
           _ours("http-10000-failing", "peak_rss_kib", 1 / MIB, " MiB"), 64),
    Target("http-10000-failing", "slowest /metrics scrape (ms)", _max_scrape, 100),
    Target("http-10000-failing", "schedule lag p99 (ms), worst seen while scraping",
           _ours("http-10000-failing", "lag_p99_max_s", 1000, " ms"), 50),
    Target("https-rsa-1000-5s", "cores", _ours("https-rsa-1000-5s", "cores"), 0.25),
]

# Below this share of its schedule a contender's figures do not describe the workload.
FULL_RATE = 0.95


def evaluate(target, results):
    measured = target.measure(results)
    if measured is None:
        return "n/a", "not measured"
    value, display = measured
    if math.isnan(value):
        return "n/a", "too little CPU to measure"
    ours = results.get(target.workload, {}).get("ours")
    ok = value <= target.limit if target.at_most else value >= target.limit
    if ours is not None and ours.rate < FULL_RATE * ours.scheduled_rate:
        return "FALLS SHORT", (f"{display}, but ours probed only "
                               f"{100 * ours.rate / ours.scheduled_rate:.0f}% of its schedule")
    return ("PASS" if ok else "FALLS SHORT"), display


# --- report -------------------------------------------------------------------------------------

def _median(figures):
    """The figure with the median CPU per probe; every round's CPU per probe in its notes."""
    ordered = sorted(figures, key=lambda f: (math.isnan(f.us_per_probe), f.us_per_probe))
    median = ordered[(len(ordered) - 1) // 2]
    if len(figures) > 1:
        median.notes.insert(0, f"median of {len(figures)} interleaved rounds; CPU/probe per round: "
                            + ", ".join(f"{f.us_per_probe:.1f}" for f in figures) + " µs")
    return median


def _loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def _version(*command):
    try:
        p = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except OSError as e:
        return f"({e})"
    text = (p.stdout + p.stderr).strip().splitlines()
    return text[0].strip() if text else "?"


def _cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def header(args, started, tools):
    lines = [
        f"backend-health-exporter benchmark, label '{args.label}'"
        f"{' (smoke: tiny sizes, figures meaningless)' if args.smoke else ''}"
        f"{f', servers scaled by {args.scale:g}' if args.scale != 1 else ''}",
        f"date      {started.strftime('%Y-%m-%d %H:%M:%S UTC')}",
        f"machine   {socket.gethostname()}: {os.cpu_count()} CPUs ({_cpu_model()}), "
        f"Linux {platform.release()}",
        f"load      {_loadavg()} (1/5/15-min loadavg at the start; other work on the machine "
        "makes every figure noisy)",
        f"ours      {args.binary}: {_version(args.binary, '--version')}",
    ]
    if args.baseline:
        lines.append(f"baseline  {args.baseline}: {_version(args.baseline, '--version')}")
    if args.contenders:
        lines.append(f"only      {', '.join(args.contenders)} (a diagnostic run)")
    lines += [
        f"blackbox  {tools['blackbox']}: {_version(tools['blackbox'], '--version')}",
        f"wrk       {tools['wrk']}: {_version(tools['wrk'], '-v')}",
        f"nginx     {_version('nginx', '-v')}, {os.cpu_count()} workers; "
        f"{_version('openssl', 'version')}",
    ]
    return lines


COLUMNS = (f"  {'contender':<9} {'sched/s':>8} {'done/s':>8} {'CPU/probe':>11} {'cores':>6} "
           f"{'waited':>6} {'runs':>5} {'segs':>5} "
           f"{'peak RSS':>9} {'lag p50/p99':>13} {'scrape med/max':>15} {'size':>9} "
           f"{'x wrk':>6} {'bb/ours':>7} {'bad':>5}")


def _fmt_bytes(n):
    if n is None:
        return "-"
    return f"{n / 1048576:.1f} MiB" if n >= 1048576 else f"{n / 1024:.0f} KiB"


def _times(value, digits):
    return "-" if math.isnan(value) else f"{value:.{digits}f}x"


def row(name, figure, figures):
    lag = "-"
    if figure.lag_p50_s is not None and figure.lag_p99_s is not None:
        lag = f"{1000 * figure.lag_p50_s:.1f}/{1000 * figure.lag_p99_s:.1f} ms"
    scrape = "-"
    if figure.scrape_s:
        ordered = sorted(figure.scrape_s)
        scrape = f"{1000 * ordered[len(ordered) // 2]:.0f}/{1000 * ordered[-1]:.0f} ms"
    vs_wrk = "-"
    if "wrk" in figures and name != "wrk":
        vs_wrk = _times(_over(figure.us_per_probe, figures['wrk'].us_per_probe), 2)
    bb_over = "-"
    if name == "ours" and "blackbox" in figures:
        bb_over = _times(_over(figures['blackbox'].us_per_probe, figure.us_per_probe), 1)
    cpu = "-" if math.isnan(figure.us_per_probe) else f"{figure.us_per_probe:.1f} µs"
    segments = figure.segments_per_probe
    segments = "-" if math.isnan(segments) else f"{segments:.1f}"
    return (f"  {name:<9} {figure.scheduled_rate:>8.0f} {figure.rate:>8.0f} "
            f"{cpu:>11} {figure.cores:>6.3f} "
            f"{figure.waited_s / figure.cpu_window_s:>6.2f} "
            f"{'-' if math.isnan(figure.runs_per_probe) else f'{figure.runs_per_probe:.2f}':>5} "
            f"{segments:>5} "
            f"{figure.peak_rss_kib / MIB:>5.1f} MiB {lag:>13} {scrape:>15} "
            f"{_fmt_bytes(figure.scrape_bytes):>9} {vs_wrk:>6} {bb_over:>7} "
            f"{figure.unexpected:>5}")


def tls_summary(figures):
    parts = []
    for name, figure in figures.items():
        if not figure.tls:
            parts.append(f"{name}: no HTTPS request completed")
            continue
        total = sum(figure.tls.values())
        resumed = sum(n for (_, r, _, _), n in figure.tls.items() if r)
        kinds = {}
        for (_, _, protocol, curve), n in figure.tls.items():
            kinds[f"{protocol} {curve}"] = kinds.get(f"{protocol} {curve}", 0) + n
        main = ", ".join(f"{k} {100 * n / total:.0f}%" for k, n in
                         sorted(kinds.items(), key=lambda kv: -kv[1]))
        parts.append(f"{name}: {total} handshakes ({main}), {resumed} resumed")
    return "  TLS as nginx saw it: " + "; ".join(parts)


def report(workload_list, results, head, loads):
    lines = head + [""]
    for workload in workload_list:
        figures = results.get(workload.key)
        if not figures:
            continue
        lines.append(f"[{workload.key}] {workload.title}; {workload.servers} servers, "
                     f"timeout {workload.timeout_s:g} s (load {loads[workload.key]})")
        lines.append(COLUMNS)
        for name, figure in figures.items():
            lines.append(row(name, figure, figures))
        if "baseline" in figures and "ours" in figures:
            lines.append("  ours over baseline: CPU/probe " + _times(_over(
                figures["ours"].us_per_probe, figures["baseline"].us_per_probe), 2) +
                f", peak RSS {figures['ours'].peak_rss_kib / figures['baseline'].peak_rss_kib:.2f}x")
        if "floor" in figures and "ours" in figures:
            lines.append("  ours over floor: CPU/probe " + _times(_over(
                figures["ours"].us_per_probe, figures["floor"].us_per_probe), 2))
        if workload.tls:
            lines.append(tls_summary(figures))
        for name, figure in figures.items():
            for note in figure.notes:
                lines.append(f"  {name}: {note}")
        lines.append("")
    lines.append("Targets (ours; tests never assert timings)")
    for target in TARGETS:
        if target.workload not in results:
            continue
        verdict, display = evaluate(target, results)
        relation = "<=" if target.at_most else ">="
        lines.append(f"  {verdict:<11} [{target.workload}] {target.text} {relation} "
                     f"{target.limit:g}: {display}")
    return lines


LEGEND = """\
Columns: sched/s = probes (requests) per second the workload schedules; done/s = completed per
second in the measurement window; CPU/probe = utime+stime of the contender's process (all
threads) from /proc/PID/stat over the window, divided by the probes it completed there;
cores = CPU seconds per second; waited = seconds per second its threads were runnable but had
no CPU (schedstat): load from elsewhere on the machine; when it nears `cores` the contender was
starved, and its rate, failures and lag describe the machine more than the contender;
runs = times its threads were put on a CPU (schedstat) per completed probe: its wake-ups;
segs = TCP segments per completed probe, counted in the namespace (OutSegs of /proc/net/snmp,
every side's: the contender's, nginx's, and the benchmark's requests to the contender);
peak RSS = VmHWM of the process (it starts with the workload); lag = the p50/p99 of
backend_health_exporter_schedule_lag_seconds (last minute) at the end of the window;
scrape = ours' /metrics response time, median/max (the two scrapes at the window's ends, or
every scrape inside it) and the largest body; x wrk = CPU/probe over the bare client's;
floor = bench/floor_client.c (plain HTTP only): blocking, one connection at a time, ours' socket
options and request and nothing else, so its CPU/probe is what the kernel's TCP costs here;
bb/ours = blackbox's CPU/probe over ours; bad = probes whose outcome was not the one their
backend implies (a failed probe of a healthy server, or the reverse)."""


# --- run ----------------------------------------------------------------------------------------

def find_tools(profile):
    tools = {"blackbox": shutil.which("prometheus-blackbox-exporter")
             or shutil.which("blackbox_exporter"),
             "wrk": shutil.which("wrk"),
             "nginx": shutil.which("nginx") or (os.path.exists("/usr/sbin/nginx") and
                                                "/usr/sbin/nginx"),
             "openssl": shutil.which("openssl"),
             "cc": shutil.which("cc") or shutil.which("gcc")}
    if profile:
        tools["perf"] = shutil.which("perf")
    missing = [name for name, path in tools.items() if not path]
    if missing:
        fail(f"missing {', '.join(missing)}: run scripts/setup.sh --bench")
    return tools


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.environ.get("BHE_BINARY") or
                        os.path.join(REPO, "build", "backend-health-exporter"),
                        help="the exporter to measure (default: $BHE_BINARY, else build/)")
    parser.add_argument("--label", default="run", help="names the results file")
    parser.add_argument("--smoke", action="store_true",
                        help="every workload, tiny sizes, a few seconds; nothing saved")
    parser.add_argument("--only", default="", help="comma-separated workload keys")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every workload's number of servers (default 1)")
    parser.add_argument("--profile", metavar="DIR",
                        help="perf-record ours during each window into DIR (inflates its CPU)")
    parser.add_argument("--baseline", metavar="BINARY",
                        help="also measure this exporter binary, right before ours (A/B)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every contender this many times per workload, interleaved, "
                             "and report the median (default 1)")
    parser.add_argument("--contenders", default="",
                        help="comma-separated: measure only these of baseline, ours, blackbox, "
                             "wrk, floor (a diagnostic run; the ratios to the others are left out)")
    parser.add_argument("--results", default=os.path.join(HERE, "results"),
                        help="directory of the results file")
    args = parser.parse_args()
    args.binary = os.path.abspath(args.binary)
    if not os.access(args.binary, os.X_OK):
        fail(f"{args.binary} is not an executable exporter binary (--binary or $BHE_BINARY)")
    if args.baseline:
        args.baseline = os.path.abspath(args.baseline)
        if not os.access(args.baseline, os.X_OK):
            fail(f"--baseline: {args.baseline} is not an executable exporter binary")
    args.contenders = [name for name in args.contenders.split(",") if name] or None
    unknown = sorted(set(args.contenders or []) - {"baseline", "ours", "blackbox", "wrk", "floor"})
    if unknown:
        fail(f"--contenders: no contender {', '.join(unknown)}")
    if args.rounds < 1:
        fail("--rounds: at least 1")
    if args.smoke and args.contenders:
        fail("--smoke measures every contender")
    if args.profile:
        args.profile = os.path.abspath(args.profile)
        os.makedirs(args.profile, exist_ok=True)
    return args


def prepare_namespace():
    # Many probes a second each take an ephemeral port; a fresh namespace has the kernel's
    # default range and file limits, raised here for this namespace and process tree only.
    with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as f:
        f.write("10000 65000\n")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main():
    args = parse_args()
    tools = find_tools(args.profile)
    reexec_in_netns()
    if not in_private_netns():
        fail("the benchmark must run in its private network namespace")
    prepare_namespace()
    harness.BINARY = args.binary
    every = workloads(args.smoke, args.scale)
    wanted = [key for key in args.only.split(",") if key]
    unknown = sorted(set(wanted) - {w.key for w in every})
    if unknown:
        fail(f"--only: no workload {', '.join(unknown)} (there are "
             f"{', '.join(w.key for w in every)})")
    selected = [w for w in every if not wanted or w.key in wanted]
    started = datetime.datetime.now(datetime.timezone.utc)
    head = header(args, started, tools)
    print("\n".join(head), flush=True)
    clock = time.monotonic()

    workdir = tempfile.mkdtemp(prefix="bhe-bench-")
    results, loads = {}, {}
    nginx = hanging = dns = None
    try:
        chains = {kind: backends.Chain(workdir, kind) for kind in ("rsa", "ecdsa")}
        tls_log = os.path.join(workdir, "tls.log")
        nginx = backends.start_nginx(chains, tls_log)
        hanging = backends.HangingListener()
        dns = DnsServer({})
        env = Environment(workdir=workdir, chains=chains, dns_server=dns.address,
                          tls_log=tls_log, blackbox=tools["blackbox"], wrk=tools["wrk"],
                          floor_client=build_floor_client(tools["cc"], workdir),
                          profile_dir=args.profile, baseline=args.baseline,
                          contenders=args.contenders)
        for workload in selected:
            rounds = {name: [] for name in contenders_of(workload, env)}
            for round_number in range(args.rounds):
                for name in rounds:
                    print(f"[{workload.key}] {name} ..."
                          f"{f' (round {round_number + 1} of {args.rounds})' if args.rounds > 1 else ''}",
                          flush=True)
                    rounds[name].append(CONTENDERS[name](workload, env))
                    print(row(name, rounds[name][-1], {n: f[-1] for n, f in rounds.items() if f}),
                          flush=True)
            results[workload.key] = {name: _median(figures) for name, figures in rounds.items()}
            loads[workload.key] = _loadavg()
    finally:
        for closing in (dns, hanging, nginx):
            if closing:
                closing.close()
        shutil.rmtree(workdir, ignore_errors=True)

    head.append(f"load      {_loadavg()} at the end; the run took "
                f"{(time.monotonic() - clock) / 60:.1f} min")
    lines = report(selected, results, head, loads) + ["", LEGEND]
    print()
    print("\n".join(lines), flush=True)
    if not args.smoke:
        os.makedirs(args.results, exist_ok=True)
        path = os.path.join(args.results, f"{started.strftime('%Y-%m-%d')}-"
                                          f"{socket.gethostname()}-{args.label}.txt")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"\nwritten to {path}")

    # The smoke is too small to overload anything: mostly wrong outcomes there mean a broken
    # setup. A full run may overload a contender, and its failures are then part of its figure.
    missing = [f"{key}/{name}" for key, figures in results.items()
               for name, figure in figures.items()
               if figure.done == 0 or (args.smoke and figure.unexpected * 2 > figure.done)]
    if missing:
        fail("no usable figure (nothing completed in the window"
             f"{', or mostly wrong outcomes' if args.smoke else ''}) from: {', '.join(missing)}")
    print(f"every contender produced a figure in {len(results)} workloads")


if __name__ == "__main__":
    main()
