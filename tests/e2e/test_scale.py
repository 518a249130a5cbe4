"""1,000 servers probed every second for 10 s by one exporter: every server healthy, no probe
missed, first probes spread over the interval; prints the exporter's CPU time and RSS.

Runs in a private network namespace so nginx may listen on 0.0.0.0 and the servers can be 1,000
distinct loopback addresses 127.0.x.y. No timing is asserted."""

import collections
import os
import time

from harness import Exporter, Nginx, proc_usage, reexec_in_netns, run_tests

SERVERS = [f"127.0.{i // 250}.{i % 250 + 1}" for i in range(1000)]
WINDOW_S = 10


def test_thousand_servers():
    nginx = Nginx('location = / { access_log ACCESS probes; return 200 "OK"; }'.replace(
        "ACCESS", "/tmp/bhe-scale-access.log"), listen="0.0.0.0:8080",
        http_extra="log_format probes '$msec $server_addr';")
    servers = ", ".join(f'"{s}"' for s in SERVERS)
    config = f"""
[exporter]
max_concurrent_probes = 1000

[[backend_pool]]
name = "big"
servers = [{servers}]
backend_settings = ["web"]

[[backend_settings]]
name = "web"
port = 8080
probe = "every-second"

[[probe]]
name = "every-second"
interval = "1s"
timeout = "900ms"
"""
    try:
        with Exporter(config) as exporter:
            started = time.monotonic()
            m = exporter.wait_for(
                lambda m: m.value("backend_health_pool_servers", pool="big", settings="web",
                                  state="healthy") == len(SERVERS),
                timeout=30, what="all 1,000 servers healthy")
            print(f"all healthy after {time.monotonic() - started:.2f}s")

            def totals(m):
                return {l["server"]: v for l, v in m.select("backend_health_probes_total",
                                                            result="success")}

            cpu0, _ = proc_usage(exporter.proc.pid)
            before = totals(m)
            t0 = time.monotonic()
            time.sleep(WINDOW_S)
            m = exporter.scrape()
            elapsed = time.monotonic() - t0
            cpu1, rss = proc_usage(exporter.proc.pid)
            after = totals(m)
            done = {s: after[s] - before[s] for s in SERVERS}
            # Each server is due once a second: over the window it gets floor or ceil of it.
            low = int(elapsed) - 1
            missed = {s: n for s, n in done.items() if n < low}
            assert not missed, f"{len(missed)} servers missed probes, e.g. {list(missed.items())[:5]}"
            assert all(n <= int(elapsed) + 2 for n in done.values()), "probes were doubled"
            assert m.value("backend_health_pool_servers", pool="big", settings="web",
                           state="healthy") == len(SERVERS)
            assert sum(v for _, v in m.select("backend_health_probes_total")) == \
                sum(v for _, v in m.select("backend_health_probes_total", result="success"))
            lag_sum = m.value("backend_health_exporter_schedule_lag_seconds_sum")
            lag_count = m.value("backend_health_exporter_schedule_lag_seconds_count")
            probes = sum(done.values())
            print(f"probes in {elapsed:.2f}s: {probes:.0f} ({probes / elapsed:.0f}/s); "
                  f"exporter CPU {cpu1 - cpu0:.3f}s = {1e6 * (cpu1 - cpu0) / probes:.1f} us/probe; "
                  f"RSS {rss / 1024:.1f} MiB; mean schedule lag "
                  f"{1000 * lag_sum / lag_count:.2f} ms")
    finally:
        nginx.close()

    # First probes are spread over the first interval: count the very first request to each
    # address in 100 ms buckets.
    first_seen = {}
    with open("/tmp/bhe-scale-access.log") as f:
        for line in f:
            stamp, address = line.split()
            first_seen.setdefault(address, float(stamp))
    os.unlink("/tmp/bhe-scale-access.log")
    assert set(first_seen) == set(SERVERS), "some servers were never requested"
    start = min(first_seen.values())
    buckets = collections.Counter(min(int((t - start) * 10), 9) for t in first_seen.values())
    print("first probes per 100 ms of the first second:", [buckets[i] for i in range(10)])
    # A thundering herd puts (nearly) all of them in the first bucket; a spread schedule fills
    # most buckets. The margins leave room for a machine busy with other tests.
    assert len(buckets) >= 5 and max(buckets.values()) < 400, buckets


if __name__ == "__main__":
    reexec_in_netns()
    run_tests([test_thousand_servers])
