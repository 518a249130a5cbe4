"""Every HTTP-side reason produced by a real peer on loopback, checked in the scraped /metrics of
a running exporter (exact state and reason series), in /backend-health JSON and in the details."""

from harness import (GARBAGE_BYTES, PARTIAL_RESPONSE, Exporter, Nginx, TcpPeer, close_early, expected_reason_series,
                     expected_state_series, garbage, refused_port, reset_after_request, run_tests,
                     silent)


def test_http_reasons():
    nginx = Nginx("""
      location = /ok { return 200 "all good OK\\n"; }
      location = /missing { return 404 "nope\\n"; }
      location = /wrong-body { return 200 "something else entirely\\n"; }
      location = /unauthorized { return 401; }
    """)
    silent_peer = TcpPeer(silent)
    garbage_peer = TcpPeer(garbage)
    early_peer = TcpPeer(close_early)
    reset_peer = TcpPeer(reset_after_request)
    closed_port = refused_port()
    ports = {"nginx": nginx.port, "silent": silent_peer.port, "garbage": garbage_peer.port,
             "early": early_peer.port, "reset": reset_peer.port, "closed": closed_port}
    settings = "\n".join(f"""
[[backend_settings]]
name = "{name}"
port = {port}
probe = "{probe}"
""" for name, port, probe in [
        ("ok", ports["nginx"], "ok"), ("missing", ports["nginx"], "missing"),
        ("wrong-body", ports["nginx"], "wrong-body"), ("silent", ports["silent"], "ok"),
        ("garbage", ports["garbage"], "ok"), ("early", ports["early"], "ok"),
        ("reset", ports["reset"], "ok"), ("closed", ports["closed"], "ok")])
    probes = "\n".join(f"""
[[probe]]
name = "{name}"
path = "{path}"
interval = "1s"
timeout = "1500ms"
[probe.match]
status_codes = ["200-399"]
body = "OK"
""" for name, path in [("ok", "/ok"), ("missing", "/missing"), ("wrong-body", "/wrong-body")])
    config = f"""
[[backend_pool]]
name = "web"
servers = ["127.0.0.1"]
backend_settings = ["ok", "missing", "wrong-body", "silent", "garbage", "early", "reset", "closed",
                    "daily"]
{settings}
{probes}
[[backend_settings]]
name = "daily"
port = {ports["nginx"]}
probe = "daily"

[[probe]]
name = "daily"
interval = "24h"  # its first probe lands somewhere in the first day: not yet
"""
    expected = {
        # settings: (state, category, reason, details)
        "ok": ("healthy", None, None, f"Received:200 from 127.0.0.1:{ports['nginx']}"),
        "missing": ("unhealthy", "http", "http_status_mismatch", "Expected:200-399 Received:404"),
        "wrong-body": ("unhealthy", "http", "http_body_mismatch",
                       "Received response body doesn't contain \"OK\" (searched 24 bytes)"),
        "silent": ("unhealthy", "timeout", "backend_timeout",
                   "No complete HTTP response within the probe timeout (1s500ms)"),
        "garbage": ("unhealthy", "http", "http_invalid_response",
                    "Not a valid HTTP response (HPE_INVALID_CONSTANT: invalid constant string) "
                    f"after {len(GARBAGE_BYTES)} bytes"),
        "early": ("unhealthy", "http", "http_invalid_response",
                  f"Connection closed by the backend after {len(PARTIAL_RESPONSE)} bytes, before "
                  "a complete HTTP response"),
        "reset": ("unhealthy", "http", "http_invalid_response",
                  "Connection reset by the backend after 0 bytes, before a complete HTTP "
                  "response"),
        "closed": ("unhealthy", "tcp", "tcp_connect_error",
                   f"Connect to 127.0.0.1:{closed_port} failed: connection refused "
                   "(ECONNREFUSED)"),
        "daily": ("unknown", "unknown", "not_yet_probed", ""),
    }
    try:
        with Exporter(config) as exporter:
            m = exporter.wait_for(
                lambda m: all(m.value("backend_health_server_state", pool="web", settings=s,
                                      server="127.0.0.1", state=e[0]) == 1
                              for s, e in expected.items()),
                what="every server to reach its expected state")
            doc = exporter.json("/backend-health")
            pools = doc["backendAddressPools"]
            assert [p["backendAddressPool"]["name"] for p in pools] == ["web"], pools
            by_settings = {c["backendHttpSettings"]["name"]: c["servers"]
                           for c in pools[0]["backendHttpSettingsCollection"]}
            for name, (state, category, reason, details) in expected.items():
                assert m.series("backend_health_server_state", settings=name) == \
                    expected_state_series("web", name, "127.0.0.1", state), name
                reason_series = m.series("backend_health_server_failure_reason", settings=name)
                if reason is None:
                    assert reason_series == [], (name, reason_series)
                    assert m.value("backend_health_probe_success", settings=name) == 1
                else:
                    assert reason_series == expected_reason_series(
                        "web", name, "127.0.0.1", category, reason), (name, reason_series)
                    if reason == "not_yet_probed":
                        assert m.select("backend_health_probe_success", settings=name) == []
                        assert m.select("backend_health_probes_total", settings=name) == []
                    else:
                        assert m.value("backend_health_probe_success", settings=name) == 0
                        assert m.value("backend_health_probes_total", settings=name,
                                       result=reason) >= 1
                server = by_settings[name][0]
                assert server["address"] == "127.0.0.1"
                assert server["health"] == state.capitalize(), (name, server)
                assert server["reason"] == reason, (name, server)
                assert server["category"] == category, (name, server)
                assert server["details"] == details, (name, server["details"], details)
                if reason:
                    assert details in server["healthProbeLog"], server
                    assert server["hint"], server
                if reason == "not_yet_probed":
                    assert server["lastProbe"] is None, server
            assert m.value("backend_health_probe_http_status_code", settings="missing") == 404
            assert m.value("backend_health_probe_http_status_code", settings="ok") == 200
            assert m.value("backend_health_probe_http_status_code", settings="closed") == 0
            # The state-change log line carries pool, settings, server, states, reason, details.
            change = exporter.state_changes(settings="missing")[0]
            assert change["pool"] == "web" and change["server"] == "127.0.0.1", change
            assert change["old_state"] == "unknown" and change["new_state"] == "unhealthy"
            assert change["reason"] == "http_status_mismatch", change
            assert change["details"] == "Expected:200-399 Received:404", change
    finally:
        for peer in (silent_peer, garbage_peer, early_peer, reset_peer):
            peer.close()
        nginx.close()


if __name__ == "__main__":
    run_tests([test_http_reasons])
