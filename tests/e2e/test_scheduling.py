"""Scheduling against a peer that counts its open connections: a server whose probe outlasts
its interval never gets two probes at once (the next one waits), and max_concurrent_probes
bounds the probes in flight, the rest queueing (and showing up as schedule lag)."""

import time

from harness import Exporter, TcpPeer, run_tests, silent, wait_until


def config(port, settings_count, max_concurrent):
    names = [f"s{i}" for i in range(settings_count)]
    settings = "".join(f'\n[[backend_settings]]\nname = "{n}"\nport = {port}\nprobe = "slow"\n'
                       for n in names)
    return f"""
[exporter]
max_concurrent_probes = {max_concurrent}

[[backend_pool]]
name = "p"
servers = ["127.0.0.1"]
backend_settings = [{", ".join(f'"{n}"' for n in names)}]
{settings}
[[probe]]
name = "slow"
interval = "200ms"
timeout = "1s"
"""


def test_a_slow_probe_is_not_doubled():
    peer = TcpPeer(silent)
    try:
        with Exporter(config(peer.port, 1, 1000)) as exporter:
            wait_until(lambda: peer.connections >= 1, what="the first probe")
            start = time.monotonic()
            time.sleep(3.5)
            m = exporter.scrape()
            elapsed = time.monotonic() - start
            probes = m.value("backend_health_probes_total", result="backend_timeout")
            # Due every 200 ms but each takes 1 s (its timeout): one after the other, so about
            # one probe per second; doubled probes would be five per second. (The peer's own
            # count of simultaneous connections can overlap by a thread's reaction time, so the
            # proof is the count, on both sides.)
            assert 2 <= probes <= elapsed + 2, probes
            assert peer.connections <= probes + 1, (peer.connections, probes)
            assert m.value("backend_health_exporter_probes_in_flight") <= 1
    finally:
        peer.close()


def test_max_concurrent_probes_bounds_probes_in_flight():
    peer = TcpPeer(silent)
    try:
        with Exporter(config(peer.port, 20, 5)) as exporter:
            wait_until(lambda: peer.active >= 5, what="five probes in flight")
            seen_in_flight = []
            for _ in range(15):
                m = exporter.scrape()
                seen_in_flight.append(m.value("backend_health_exporter_probes_in_flight"))
                time.sleep(0.1)
            assert max(seen_in_flight) == 5, seen_in_flight
            # Each probe holds its slot for its whole 1 s timeout: with 5 slots the peer sees at
            # most about 5 new connections a second (20 without the bound).
            window_start, connections_before = time.monotonic(), peer.connections
            time.sleep(3)
            window = time.monotonic() - window_start
            assert peer.connections - connections_before <= 5 * (window + 1), \
                (peer.connections - connections_before, window)
            m = exporter.wait_for(lambda m: m.value(
                "backend_health_exporter_schedule_lag_seconds_count") >= 20,
                what="lag observations")
            # 20 probes of 1 s each, 5 at a time, every 200 ms: most wait in the queue.
            assert m.value("backend_health_exporter_schedule_lag_seconds_sum") > 1.0
    finally:
        peer.close()


if __name__ == "__main__":
    run_tests([test_a_slow_probe_is_not_doubled, test_max_concurrent_probes_bounds_probes_in_flight])
