"""The exporter out of file descriptors: 200 healthy servers that take half a second to answer,
probed every second by an exporter whose descriptor limit is 64, cannot all be probed at once.
The servers it could not probe are `exporter_resource_exhausted` (category exporter, state
unknown), never `tcp_connect_error` or any other backend's fault; /metrics keeps answering
throughout; and every server recovers to healthy once the exporter has descriptors again, after a
reload to fewer servers and after the limit is raised at run time (prlimit --pid; the soft limit,
which needs no CAP_SYS_RESOURCE).

Also: the soft limit is raised to the hard limit at start.

Runs in a private network namespace (root) so that the servers can be 200 distinct loopback
addresses answered by one listener on 0.0.0.0; names resolve through a DNS server on a
loopback port of that namespace. No timing is asserted beyond generous counted bounds."""

import os
import resource
import time

from harness import (DnsServer, Exporter, TcpPeer, fail, read_request, reexec_in_netns,
                     run_tests, wait_until)

PORTS = iter(range(8080, 8090))  # one per test: a closed TcpPeer may hold its port a while
ADDRESSES = [f"127.0.{1 + i // 250}.{i % 250 + 1}" for i in range(200)]
NAMES = [f"slow-{i}.exhaustion.test" for i in range(10)]
SOFT_AT_START, LIMIT = 48, 64
REASON = "exporter_resource_exhausted"


def slow_ok(conn):
    """A healthy backend that takes half a second: each probe holds a descriptor that long."""
    read_request(conn)
    time.sleep(0.5)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK")


def config(dns, port, addresses, names):
    servers = ", ".join(f'"{s}"' for s in addresses)
    fqdns = ", ".join(f'"{n}"' for n in names)
    return f"""
[exporter]
dns_servers = ["{dns.address}"]

[[backend_pool]]
name = "many"
servers = [{servers}]
backend_settings = ["web"]

[[backend_pool]]
name = "named"
servers = [{fqdns}]
backend_settings = ["web"]

[[backend_settings]]
name = "web"
port = {port}
probe = "slow"

[[probe]]
name = "slow"
interval = "1s"
timeout = "5s"
unhealthy_threshold = 1
"""


def low_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (SOFT_AT_START, LIMIT))


def open_files_limits(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    fail("no 'Max open files' in /proc/PID/limits")


def descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def verdicts(m):
    """{reason: servers} over every server of both pools (failure_reason series)."""
    out = {}
    for labels, value in m.select("backend_health_server_failure_reason"):
        if value == 1:
            out[labels["reason"]] = out.get(labels["reason"], 0) + 1
    return out


def results(m):
    """{result: probes} summed over every server."""
    out = {}
    for labels, value in m.select("backend_health_probes_total"):
        out[labels["result"]] = out.get(labels["result"], 0) + value
    return out


def assert_only_the_exporter_is_blamed(m):
    blamed = {r: n for r, n in results(m).items() if r not in ("success", REASON)}
    if blamed:
        fail(f"probe results that blame the backends or the DNS server: {blamed}")
    reasons = {r: n for r, n in verdicts(m).items() if r not in (REASON, "not_yet_probed")}
    if reasons:
        fail(f"failure reasons other than {REASON}: {reasons}")


def all_healthy(exporter, count, timeout=30):
    def check(m):
        healthy = sum(v for _, v in m.select("backend_health_pool_servers", state="healthy"))
        return healthy == count
    return exporter.wait_for(check, timeout=timeout, what=f"all {count} servers healthy")


def exhausted_probes(m):
    return results(m).get(REASON, 0)


def wait_exhausted(exporter, what):
    return exporter.wait_for(lambda m: verdicts(m).get(REASON, 0) >= 10, timeout=30,
                             what=f"servers with {REASON} {what}")


def watch_while_exhausted(exporter, seconds=8, within_limit=True):
    """While out of descriptors, every scrape is answered (the probe loop leaves the top of the
    limit to the web surface) and nothing is blamed on the backends."""
    pid = exporter.proc.pid
    scrapes, peak = 0, 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        m = exporter.scrape()
        status, body, _ = exporter.get("/-/healthy")
        assert status == 200, (status, body)
        scrapes += 1
        peak = max(peak, descriptors(pid))
        assert_only_the_exporter_is_blamed(m)
        time.sleep(0.2)
    soft, _ = open_files_limits(pid)
    print(f"  {scrapes} scrapes answered while out of descriptors; at most {peak} descriptors "
          f"open, {descriptors(pid)} at the end (limit {soft}); {exhausted_probes(m):.0f} probes "
          f"{REASON} so far; reasons now {verdicts(m)}")
    if within_limit:  # not after a limit was lowered below what was open at that moment
        assert peak <= soft
    assert exhausted_probes(m) > 0
    return m


def wait_recovered(exporter, count):
    m = all_healthy(exporter, count)
    before = exhausted_probes(m)
    time.sleep(3)
    m = exporter.scrape()
    assert exhausted_probes(m) == before, "probes still found no descriptor"
    assert_only_the_exporter_is_blamed(m)
    print(f"  recovered: all {count} healthy, {descriptors(exporter.proc.pid)} descriptors open")


def test_started_under_a_low_hard_limit():
    """prlimit --nofile=48:64: the soft limit goes to 64; 210 slow servers do not fit; a reload to
    22 servers does (and the reload itself works while descriptors are short)."""
    peer = TcpPeer(slow_ok, host="0.0.0.0", port=next(PORTS))
    dns = DnsServer({n: "127.0.0.1" for n in NAMES})
    try:
        with Exporter(config(dns, peer.port, ADDRESSES, NAMES), preexec_fn=low_limit) as exporter:
            pid = exporter.proc.pid
            assert open_files_limits(pid) == (LIMIT, LIMIT), open_files_limits(pid)
            [limit_log] = exporter.log_events("file descriptor limit")
            assert (limit_log["soft_at_start"], limit_log["soft"]) == \
                (str(SOFT_AT_START), str(LIMIT)), limit_log

            # 210 probes of half a second each per second want ~105 descriptors at once.
            m = wait_exhausted(exporter, "under the limit of 64")
            assert_only_the_exporter_is_blamed(m)
            [entry] = [s for p in exporter.json("/backend-health")["backendAddressPools"]
                       for c in p["backendHttpSettingsCollection"] for s in c["servers"]
                       if s.get("reason") == REASON][:1]
            assert entry["category"] == "exporter" and entry["health"] == "Unknown", entry
            assert "out of file descriptors (EMFILE" in entry["details"], entry["details"]
            assert "the backend is not at fault" in entry["details"], entry["details"]
            assert "descriptor limit" in entry["hint"], entry["hint"]
            watch_while_exhausted(exporter)

            exporter.write_config(config(dns, peer.port, ADDRESSES[:20], NAMES[:2]))
            status, body, _ = exporter.get("/-/reload", method="POST")
            assert status == 200, (status, body)
            wait_recovered(exporter, 22)
    finally:
        peer.close()
        dns.close()


def test_limit_lowered_and_raised_at_run_time():
    """The soft limit lowered to 64 while running (prlimit --pid): out of descriptors, /metrics
    still answers; raised again: every server recovers, without a restart or reload."""
    peer = TcpPeer(slow_ok, host="0.0.0.0", port=next(PORTS))
    dns = DnsServer({n: "127.0.0.1" for n in NAMES})
    try:
        with Exporter(config(dns, peer.port, ADDRESSES, NAMES)) as exporter:
            pid = exporter.proc.pid
            count = len(ADDRESSES) + len(NAMES)
            all_healthy(exporter, count)
            _, hard = open_files_limits(pid)
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (LIMIT, hard))

            # More descriptors are open than the new limit allows until the probes in flight
            # finish (half a second): until then the web surface's accept may fail too.
            def drained():
                for _ in range(3):
                    if descriptors(pid) >= LIMIT:
                        return False
                    time.sleep(0.05)
                return True
            wait_until(drained, timeout=10, what="the descriptors open to drop below the limit")
            wait_exhausted(exporter, "after the limit was lowered to 64")
            watch_while_exhausted(exporter, within_limit=False)
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (hard, hard))
            wait_recovered(exporter, count)
            print(f"  the peer saw at most {peer.max_active} connections at once")
    finally:
        peer.close()
        dns.close()


def test_the_soft_limit_is_raised_to_the_hard_limit():
    def limits():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 2048))

    peer = TcpPeer(slow_ok)
    try:
        text = f"""
[exporter]
dns_servers = ["127.0.0.1:9"]
[[backend_pool]]
name = "p"
servers = ["127.0.0.1"]
backend_settings = ["s"]
[[backend_settings]]
name = "s"
port = {peer.port}
"""
        with Exporter(text, preexec_fn=limits) as exporter:
            assert open_files_limits(exporter.proc.pid) == (2048, 2048)
            [event] = exporter.log_events("file descriptor limit")
            assert (event["soft_at_start"], event["soft"], event["hard"]) == \
                ("256", "2048", "2048"), event
            assert event["kept_for_the_web_surface"] == "64", event
    finally:
        peer.close()


if __name__ == "__main__":
    reexec_in_netns()
    run_tests([test_the_soft_limit_is_raised_to_the_hard_limit, test_started_under_a_low_hard_limit,
               test_limit_lowered_and_raised_at_run_time])
