"""Hostile backends cost bounded memory and time and never delay other probes: a peer that
drips one byte at a time, one that streams an endless body, one with endless headers, one that
floods garbage. A well-behaved control server beside them must keep its cadence."""

import time

from harness import (INSTRUMENTED, Exporter, Nginx, TcpPeer, memory_report, proc_usage,
                     read_request, run_tests)


def drip(conn):
    read_request(conn)
    for b in b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello":
        conn.sendall(bytes([b]))
        time.sleep(0.2)


def endless_body(conn):
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    while True:
        conn.sendall(chunk)


def endless_headers(conn):
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while True:
        conn.sendall(b"X-Filler: " + b"y" * 1000 + b"\r\n")


def flood(conn):
    read_request(conn)
    junk = bytes(range(256)) * 256
    while True:
        conn.sendall(junk)


def test_hostile_backends_are_bounded():
    control = Nginx('location = / { return 200 "OK"; }')
    peers = {name: TcpPeer(fn) for name, fn in
             [("drip", drip), ("endless-body", endless_body),
              ("endless-headers", endless_headers), ("flood", flood)]}
    settings = "".join(f"""
[[backend_settings]]
name = "{name}"
port = {peer.port}
probe = "hostile"
""" for name, peer in peers.items())
    config = f"""
[exporter]
max_response_bytes = 4096

[[backend_pool]]
name = "mixed"
servers = ["127.0.0.1"]
backend_settings = ["control", {", ".join(f'"{n}"' for n in peers)}]

[[backend_settings]]
name = "control"
port = {control.port}
probe = "control"
{settings}
[[probe]]
name = "control"
interval = "200ms"
timeout = "1s"

[[probe]]
name = "hostile"
interval = "500ms"
timeout = "2s"
[probe.match]
body = "never-there"
"""
    expected = {
        "drip": "backend_timeout",
        "endless-body": "http_body_mismatch",   # stops after max_response_bytes
        "endless-headers": "http_invalid_response",
        "flood": "http_invalid_response",
    }
    try:
        with Exporter(config) as exporter:
            m = exporter.wait_for(
                lambda m: all(m.value("backend_health_probes_total", settings=s, result=r)
                              for s, r in expected.items()),
                what="every hostile peer classified")
            for settings_name, reason in expected.items():
                assert m.value("backend_health_server_state", settings=settings_name,
                               state="unhealthy") == 1, settings_name
            doc = exporter.json("/backend-health")
            servers = {c["backendHttpSettings"]["name"]: c["servers"][0]
                       for c in doc["backendAddressPools"][0]["backendHttpSettingsCollection"]}
            assert "HPE_HEADER_OVERFLOW" in servers["endless-headers"]["details"]
            assert "(searched 4096 bytes)" in servers["endless-body"]["details"]
            # Keep them all busy for a while and watch the control server's cadence and memory.
            before = m.value("backend_health_probes_total", settings="control", result="success")
            _, rss_before_kib = proc_usage(exporter.proc.pid)
            t0 = time.monotonic()
            time.sleep(4)
            m = exporter.scrape()
            elapsed = time.monotonic() - t0
            done = m.value("backend_health_probes_total", settings="control", result="success") \
                - before
            assert done >= int(elapsed / 0.2) - 2, f"control server fell behind: {done} probes"
            assert m.value("backend_health_server_state", settings="control",
                           state="healthy") == 1
            _, rss_kib = proc_usage(exporter.proc.pid)
            print(f"control probes in {elapsed:.1f}s: {done:.0f}; exporter RSS "
                  f"{rss_before_kib / 1024:.1f} -> {rss_kib / 1024:.1f} MiB")
            # Bounded means flat: eight more rounds of every hostile peer may not add memory. The
            # level itself depends on the machine (allocator, huge pages), so it is only reported,
            # and a sanitizer build's memory is its quarantine's.
            assert INSTRUMENTED or rss_kib - rss_before_kib < 8 * 1024, \
                f"exporter RSS grew by {rss_kib - rss_before_kib} KiB\n" + \
                memory_report(exporter.proc.pid)
    finally:
        for p in peers.values():
            p.close()
        control.close()


if __name__ == "__main__":
    run_tests([test_hostile_backends_are_bounded])
