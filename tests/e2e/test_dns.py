"""DNS reasons against a real DNS server on a loopback port: NXDOMAIN and no-address are
dns_resolution_error (unhealthy); SERVFAIL, REFUSED and an unanswered query are
dns_server_unreachable (unknown); a name whose record disappears keeps being probed at its
last-known-good address with backend_health_dns_stale 1."""

import signal

from harness import (DnsServer, Exporter, Nginx, expected_reason_series, expected_state_series,
                     run_tests, wait_until)


def config(dns, port, servers, interval="500ms", timeout="1500ms"):
    server_list = ", ".join(f'"{s}"' for s in servers)
    return f"""
[exporter]
dns_servers = ["{dns.address}"]

[[backend_pool]]
name = "fqdn"
servers = [{server_list}]
backend_settings = ["web"]

[[backend_settings]]
name = "web"
port = {port}
probe = "fast"

[[probe]]
name = "fast"
path = "/ok"
interval = "{interval}"
timeout = "{timeout}"
"""


def test_dns_reasons():
    nginx = Nginx('location = /ok { return 200 "OK"; }')
    dns = DnsServer({
        "good.test": "127.0.0.1",
        "nx.test": "NXDOMAIN",
        "nodata.test": "NODATA",
        "servfail.test": "SERVFAIL",
        "refused.test": "REFUSED",
        "silent.test": "DROP",
    })
    expected = {
        "good.test": ("healthy", None, None, None),
        "nx.test": ("unhealthy", "dns", "dns_resolution_error",
                    f"Lookup of nx.test via {dns.address}: NXDOMAIN (the name does not exist) "
                    "[Domain name not found]"),
        "nodata.test": ("unhealthy", "dns", "dns_resolution_error",
                        f"Lookup of nodata.test via {dns.address}: NODATA (the name has no "
                        "address record) [DNS server returned answer with no data]"),
        "servfail.test": ("unknown", "dns", "dns_server_unreachable",
                          f"Lookup of servfail.test via {dns.address}: SERVFAIL [DNS server "
                          "returned general failure]"),
        "refused.test": ("unknown", "dns", "dns_server_unreachable",
                         f"Lookup of refused.test via {dns.address}: REFUSED [DNS server "
                         "refused query]"),
        "silent.test": ("unknown", "dns", "dns_server_unreachable",
                        "DNS lookup still unanswered when the probe timeout (1s500ms) expired"),
    }
    try:
        with Exporter(config(dns, nginx.port, expected)) as exporter:
            m = exporter.wait_for(
                lambda m: all(m.value("backend_health_server_state", server=s, state=e[0]) == 1
                              and (e[2] is None or m.value("backend_health_probes_total",
                                                           server=s, result=e[2]))
                              for s, e in expected.items()),
                what="every name to reach its expected state")
            servers = {s["address"]: s for s in exporter.json("/backend-health")
                       ["backendAddressPools"][0]["backendHttpSettingsCollection"][0]["servers"]}
            for name, (state, category, reason, details) in expected.items():
                assert m.series("backend_health_server_state", server=name) == \
                    expected_state_series("fqdn", "web", name, state), name
                got = m.series("backend_health_server_failure_reason", server=name)
                if reason:
                    assert got == expected_reason_series("fqdn", "web", name, category, reason), got
                    assert servers[name]["details"] == details, (name, servers[name]["details"])
                    assert servers[name]["health"] == state.capitalize()
                else:
                    assert got == []
                assert m.value("backend_health_dns_stale", server=name) == 0, name
            assert servers["good.test"]["lastProbe"]["address"] == "127.0.0.1"
            assert m.value("backend_health_probe_duration_seconds", server="good.test",
                           phase="dns") > 0
    finally:
        dns.close()
        nginx.close()


def test_last_known_good_address_survives_dns_failures():
    nginx = Nginx('location = /ok { return 200 "OK"; }')
    dns = DnsServer({"api.test": "127.0.0.1"})
    try:
        with Exporter(config(dns, nginx.port, ["api.test"], interval="300ms")) as exporter:
            exporter.wait_for_state("fqdn", "web", "api.test", "healthy")
            for failure in ("NXDOMAIN", "SERVFAIL", "DROP"):
                dns.records["api.test"] = failure
                queries_before = len(dns.queries)
                wait_until(lambda: len(dns.queries) > queries_before + 1,
                           what=f"lookups that get {failure}")
                m = exporter.wait_for(
                    lambda m: m.value("backend_health_dns_stale", server="api.test") == 1,
                    what=f"dns_stale while the lookup gets {failure}")
                assert m.series("backend_health_server_state", server="api.test") == \
                    expected_state_series("fqdn", "web", "api.test", "healthy"), failure
                assert m.series("backend_health_server_failure_reason", server="api.test") == []
                successes = m.value("backend_health_probes_total", server="api.test",
                                    result="success")
                exporter.wait_for(
                    lambda m: m.value("backend_health_probes_total", server="api.test",
                                      result="success") > successes,
                    what="probes to keep succeeding at the last-known-good address")
                last = exporter.json("/backend-health")["backendAddressPools"][0][
                    "backendHttpSettingsCollection"][0]["servers"][0]["lastProbe"]
                assert last["dnsStale"] is True and last["address"] == "127.0.0.1", last
            # Unlike Application Gateway, a reload keeps the last-known-good address.
            dns.records["api.test"] = "NXDOMAIN"
            exporter.signal(signal.SIGHUP)
            wait_until(lambda: exporter.log_events("config reloaded"), what="the reload")
            successes = exporter.scrape().value("backend_health_probes_total", server="api.test",
                                                result="success")
            m = exporter.wait_for(
                lambda m: m.value("backend_health_probes_total", server="api.test",
                                  result="success") > successes + 1,
                what="probes to go on at the last-known-good address after the reload")
            assert m.value("backend_health_dns_stale", server="api.test") == 1
            dns.records["api.test"] = "127.0.0.1"
            exporter.wait_for(lambda m: m.value("backend_health_dns_stale", server="api.test") == 0,
                              what="dns_stale to clear once the record is back")
    finally:
        dns.close()
        nginx.close()


if __name__ == "__main__":
    run_tests([test_dns_reasons, test_last_known_good_address_survives_dns_failures])
