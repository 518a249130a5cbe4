"""Routing failures, produced for real inside a network namespace this test creates (loopback
plus a veth pair that leads nowhere; nothing can leave the namespace):
  - no route at all (ENETUNREACH)             -> network_unreachable, state unknown
  - an "unreachable" route (EHOSTUNREACH)     -> network_unreachable, state unknown
  - SYNs silently dropped (firewall-like)     -> tcp_connect_error after the probe timeout"""

import subprocess

from harness import (Exporter, expected_reason_series, expected_state_series, reexec_in_netns,
                     run_tests)

NO_ROUTE = "192.0.2.1"        # TEST-NET-1: no route in this namespace
UNREACHABLE = "198.51.100.1"  # TEST-NET-2: `ip route add unreachable`
BLACKHOLED = "10.99.0.2"      # reached over a veth whose peer has no address: SYNs vanish


def setup_routes():
    for cmd in (["ip", "route", "add", "unreachable", "198.51.100.0/24"],
                ["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
                ["ip", "addr", "add", "10.99.0.1/24", "dev", "v0"],
                ["ip", "link", "set", "v0", "up"],
                ["ip", "link", "set", "v1", "up"],
                ["ip", "neigh", "add", BLACKHOLED, "lladdr", "02:00:00:00:00:01", "dev", "v0",
                 "nud", "permanent"]):
        subprocess.run(cmd, check=True)


def test_network_failures():
    setup_routes()
    config = f"""
[[backend_pool]]
name = "remote"
servers = ["{NO_ROUTE}", "{UNREACHABLE}", "{BLACKHOLED}"]
backend_settings = ["web"]

[[backend_settings]]
name = "web"
port = 80
probe = "fast"

[[probe]]
name = "fast"
interval = "500ms"
timeout = "1s"
"""
    expected = {
        NO_ROUTE: ("unknown", "network", "network_unreachable",
                   f"Connect to {NO_ROUTE}:80 failed: network is unreachable (ENETUNREACH)"),
        UNREACHABLE: ("unknown", "network", "network_unreachable",
                      f"Connect to {UNREACHABLE}:80 failed: host is unreachable (EHOSTUNREACH)"),
        BLACKHOLED: ("unhealthy", "tcp", "tcp_connect_error",
                     f"Connect to {BLACKHOLED}:80 still pending when the probe timeout (1s) "
                     "expired (packets dropped?)"),
    }
    with Exporter(config) as exporter:
        m = exporter.wait_for(
            lambda m: all(m.value("backend_health_probes_total", server=s, result=e[2])
                          for s, e in expected.items()),
            what="a completed probe of every server")
        servers = {s["address"]: s for s in exporter.json("/backend-health")
                   ["backendAddressPools"][0]["backendHttpSettingsCollection"][0]["servers"]}
        for server, (state, category, reason, details) in expected.items():
            assert m.series("backend_health_server_state", server=server) == \
                expected_state_series("remote", "web", server, state), server
            assert m.series("backend_health_server_failure_reason", server=server) == \
                expected_reason_series("remote", "web", server, category, reason), server
            assert servers[server]["health"] == state.capitalize()
            assert servers[server]["details"] == details, (server, servers[server]["details"])


if __name__ == "__main__":
    reexec_in_netns()
    run_tests([test_network_failures])
