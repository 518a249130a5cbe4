"""Benchmark: CPU and memory per plain-HTTP probe, backend-health-exporter against
Prometheus's blackbox_exporter, measured in the same run on the same loopback backends.

Both probe N servers (distinct loopback addresses 127.0.x.y, nginx listening on 0.0.0.0 inside a
private network namespace) once per second for a window of W seconds:
  - backend-health-exporter schedules the probes itself (its normal mode);
  - blackbox_exporter is driven the way Prometheus drives it: one GET /probe?target=... per
    server per second, issued by this script (its own CPU is not counted).
Prints exporter CPU microseconds per probe, peak RSS, and the ratios. Asserts nothing about time.

Usage: BHE_BINARY=build/backend-health-exporter python3 bench/probe_cost.py [servers] [seconds]
"""

import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from harness import (Exporter, Nginx, fail, free_port, proc_usage, reexec_in_netns,  # noqa: E402
                     wait_until)

SERVERS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
WINDOW_S = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
ADDRESSES = [f"127.0.{i // 250}.{i % 250 + 1}" for i in range(SERVERS)]


def measure(pid, window, count_probes):
    cpu0, _ = proc_usage(pid)
    probes0 = count_probes()
    peak_rss = 0
    end = time.monotonic() + window
    while time.monotonic() < end:
        time.sleep(0.25)
        peak_rss = max(peak_rss, proc_usage(pid)[1])
    cpu1, rss = proc_usage(pid)
    probes = count_probes() - probes0
    return (cpu1 - cpu0), probes, max(peak_rss, rss)


def bench_ours():
    servers = ", ".join(f'"{a}"' for a in ADDRESSES)
    config = f"""
[exporter]
max_concurrent_probes = {SERVERS}
[[backend_pool]]
name = "bench"
servers = [{servers}]
backend_settings = ["web"]
[[backend_settings]]
name = "web"
port = 8080
probe = "p"
[[probe]]
name = "p"
interval = "1s"
timeout = "900ms"
"""
    with Exporter(config) as exporter:
        exporter.wait_for(lambda m: m.value("backend_health_pool_servers", pool="bench",
                                            settings="web", state="healthy") == SERVERS,
                          timeout=30, what="all servers healthy")

        def probes():
            m = exporter.scrape()
            return sum(v for _, v in m.select("backend_health_probes_total"))

        return measure(exporter.proc.pid, WINDOW_S, probes)


def bench_blackbox():
    workdir = tempfile.mkdtemp(prefix="bhe-bench-bb-")
    config = os.path.join(workdir, "blackbox.yml")
    with open(config, "w") as f:
        f.write("modules:\n  http_2xx:\n    prober: http\n    timeout: 900ms\n"
                "    http:\n      preferred_ip_protocol: ip4\n")
    port = free_port()
    binary = shutil.which("prometheus-blackbox-exporter") or shutil.which("blackbox_exporter")
    if binary is None:
        fail("prometheus-blackbox-exporter is not installed (scripts/setup.sh --bench)")
    proc = subprocess.Popen([binary, f"--config.file={config}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = [0]
    stop = [False]

    def probe(address):
        url = (f"http://127.0.0.1:{port}/probe?module=http_2xx&target=http://{address}:8080/")
        with urllib.request.urlopen(url, timeout=5) as r:
            body = r.read().decode()
        if "probe_success 1" not in body:
            fail(f"blackbox probe of {address} failed")
        done[0] += 1

    def driver():
        # Each server once per second, spread over the second, like Prometheus' scrape offsets.
        with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
            start = time.monotonic()
            tick = 0
            while not stop[0]:
                for i, address in enumerate(ADDRESSES):
                    due = start + tick + i / SERVERS
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    if stop[0]:
                        break
                    pool.submit(probe, address)
                tick += 1

    try:
        def up():
            if proc.poll() is not None:
                fail("blackbox_exporter exited")
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/-/healthy",
                                              timeout=1).status == 200
            except OSError:
                return False

        wait_until(up, what="blackbox_exporter to start")
        t = threading.Thread(target=driver, daemon=True)
        t.start()
        time.sleep(2)  # warm-up
        result = measure(proc.pid, WINDOW_S, lambda: done[0])
        stop[0] = True
        t.join(timeout=10)
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    reexec_in_netns()
    nginx = Nginx('location = / { return 200 "OK"; }', listen="0.0.0.0:8080")
    try:
        ours_cpu, ours_probes, ours_rss = bench_ours()
        bb_cpu, bb_probes, bb_rss = bench_blackbox()
    finally:
        nginx.close()
    ours_us = 1e6 * ours_cpu / ours_probes
    bb_us = 1e6 * bb_cpu / bb_probes
    print(f"servers={SERVERS} window={WINDOW_S:.0f}s")
    print(f"backend-health-exporter: {ours_probes:.0f} probes, {ours_us:.1f} us CPU/probe, "
          f"peak RSS {ours_rss / 1024:.1f} MiB")
    print(f"blackbox_exporter:       {bb_probes:.0f} probes, {bb_us:.1f} us CPU/probe, "
          f"peak RSS {bb_rss / 1024:.1f} MiB")
    print(f"ratio (blackbox / ours): CPU per probe x{bb_us / ours_us:.1f}, "
          f"RSS x{bb_rss / ours_rss:.1f}")


if __name__ == "__main__":
    main()
