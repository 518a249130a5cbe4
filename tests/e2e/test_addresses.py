"""Every address of an FQDN server is probed as its own member, against a DNS server on a
loopback port that answers one name with several A (and AAAA) records and HTTP peers bound to
some of those addresses: the server is healthy only when every address is; members come and go
with the answer; address families and the address cap; a failing server is probed at its
unhealthy_interval; pool labels (also across a reload) and draining servers."""

import json
import signal
import socket
import time

from harness import (DnsServer, Exporter, TcpPeer, free_port, http_ok, run_cli, run_tests,
                     wait_until)


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def peers(port, addresses):
    return {a: TcpPeer(http_ok, host=a, port=port) for a in addresses}


def close(*groups):
    for group in groups:
        for peer in (group.values() if isinstance(group, dict) else group):
            peer.close()


def server_json(exporter, server, settings="web"):
    for pool in exporter.json("/backend-health")["backendAddressPools"]:
        for collection in pool["backendHttpSettingsCollection"]:
            if collection["backendHttpSettings"]["name"] != settings:
                continue
            for s in collection["servers"]:
                if s["address"] == server:
                    return s
    raise AssertionError(f"{server} not in /backend-health")


def config(dns, port, extra_exporter="", settings_extra="", interval="300ms",
           unhealthy_interval=None, servers='"pool.test"', pool_extra=""):
    unhealthy = f'unhealthy_interval = "{unhealthy_interval}"\n' if unhealthy_interval else ""
    return f"""
[exporter]
dns_servers = ["{dns.address}"]
{extra_exporter}
[[backend_pool]]
name = "p"
servers = [{servers}]
backend_settings = ["web"]
{pool_extra}
[[backend_settings]]
name = "web"
port = {port}
probe = "fast"
{settings_extra}
[[probe]]
name = "fast"
interval = "{interval}"
{unhealthy}timeout = "1s"
unhealthy_threshold = 1
"""


def address_states(m, server="pool.test"):
    return {l["address"]: l["state"] for l, v in
            m.select("backend_health_address_state", server=server) if v == 1}


def test_one_dark_address_of_three_makes_the_server_unhealthy():
    port = free_port()
    up = peers(port, ["127.0.0.1", "127.0.0.2"])
    dns = DnsServer({"pool.test": ["127.0.0.1", "127.0.0.2", "127.0.0.3"]})
    late = []
    try:
        with Exporter(config(dns, port)) as exporter:
            m = exporter.wait_for_state("p", "web", "pool.test", "unhealthy")
            assert m.value("backend_health_server_failure_reason", server="pool.test",
                           category="tcp", reason="tcp_connect_error") == 1
            assert address_states(m) == {"127.0.0.1": "healthy", "127.0.0.2": "healthy",
                                         "127.0.0.3": "unhealthy"}, address_states(m)
            assert m.value("backend_health_server_addresses", server="pool.test",
                           state="healthy") == 2
            assert m.value("backend_health_server_addresses", server="pool.test",
                           state="unhealthy") == 1
            entry = server_json(exporter, "pool.test")
            assert entry["details"].startswith("2 of 3 addresses healthy; "), entry["details"]
            assert f"127.0.0.3:{port}: Connect to 127.0.0.3:{port} failed" in entry["details"]
            members = {a["address"]: a for a in entry["addresses"]}
            assert set(members) == {"127.0.0.1", "127.0.0.2", "127.0.0.3"}
            assert members["127.0.0.3"]["health"] == "Unhealthy"
            assert members["127.0.0.3"]["reason"] == "tcp_connect_error"
            assert members["127.0.0.1"]["reason"] is None
            assert members["127.0.0.1"]["lastProbe"]["address"] == "127.0.0.1"

            # The dark address comes back: healthy.
            late.append(TcpPeer(http_ok, host="127.0.0.3", port=port))
            m = exporter.wait_for_state("p", "web", "pool.test", "healthy")
            assert m.select("backend_health_server_failure_reason", server="pool.test") == []

            # The answer shrinks to two addresses: the third member is gone from every output,
            # the other two keep their counters.
            before = {a["address"]: a["probes"]["total"]
                      for a in server_json(exporter, "pool.test")["addresses"]}
            dns.records["pool.test"] = ["127.0.0.1", "127.0.0.2"]
            m = exporter.wait_for(lambda m: set(address_states(m)) == {"127.0.0.1", "127.0.0.2"},
                                  what="the third member to disappear")
            assert "127.0.0.3" not in m.text
            after = {a["address"]: a["probes"]["total"]
                     for a in server_json(exporter, "pool.test")["addresses"]}
            assert set(after) == {"127.0.0.1", "127.0.0.2"}
            for address in after:
                assert after[address] > before[address], (address, before, after)
            assert m.value("backend_health_server_addresses", server="pool.test",
                           state="healthy") == 2
    finally:
        dns.close()
        close(up, late)


def test_address_families_and_the_address_cap():
    port = free_port()
    v6 = ipv6_loopback()
    records = {"dual.test": ["127.0.0.1", "::1"] if v6 else ["127.0.0.1"],
               "many.test": [f"127.0.0.{i}" for i in range(1, 6)]}
    up = peers(port, [f"127.0.0.{i}" for i in range(1, 6)] + (["::1"] if v6 else []))
    dns = DnsServer(records)
    text = config(dns, port, extra_exporter="max_addresses_per_server = 2",
                  servers='"dual.test", "many.test"')
    text += f"""
[[backend_pool]]
name = "v4"
servers = ["dual.test"]
backend_settings = ["web-v4"]

[[backend_settings]]
name = "web-v4"
port = {port}
probe = "fast"
address_families = ["ipv4"]
"""
    try:
        with Exporter(text) as exporter:
            m = exporter.wait_for(
                lambda m: all(m.value("backend_health_server_state", server=s, settings=st,
                                      state="healthy") == 1
                              for s, st in (("dual.test", "web"), ("many.test", "web"),
                                            ("dual.test", "web-v4"))),
                what="every server healthy")
            dual = {l["address"] for l, v in m.select("backend_health_address_state",
                                                      server="dual.test", settings="web")}
            assert dual == ({"127.0.0.1", "::1"} if v6 else {"127.0.0.1"}), dual
            only_v4 = {l["address"] for l, v in m.select("backend_health_address_state",
                                                         server="dual.test", settings="web-v4")}
            assert only_v4 == {"127.0.0.1"}, only_v4
            many = server_json(exporter, "many.test")
            assert [a["address"] for a in many["addresses"]] == ["127.0.0.1", "127.0.0.2"]
            assert many["omittedAddresses"] == 3
            assert "3 more addresses not probed" in many["details"], many["details"]
    finally:
        dns.close()
        close(up)


def test_a_failing_server_is_probed_at_its_unhealthy_interval():
    port = free_port()
    dns = DnsServer({"pool.test": ["127.0.0.1"]})
    peer = []
    try:
        with Exporter(config(dns, port, interval="2s", unhealthy_interval="200ms")) as exporter:
            exporter.wait_for_state("p", "web", "pool.test", "unhealthy")

            def probes(result):
                return exporter.scrape().value("backend_health_probes_total", server="pool.test",
                                               result=result) or 0

            start, count = time.monotonic(), probes("tcp_connect_error")
            time.sleep(3)
            window = time.monotonic() - start
            failing_rate = (probes("tcp_connect_error") - count) / window
            # Every 200 ms while failing: about five a second (at "interval" it would be 0.5).
            assert failing_rate > 2, failing_rate

            peer.append(TcpPeer(http_ok, host="127.0.0.1", port=port))
            exporter.wait_for_state("p", "web", "pool.test", "healthy")
            start, count = time.monotonic(), probes("success")
            time.sleep(4.5)
            window = time.monotonic() - start
            healthy_probes = probes("success") - count
            # Back to every 2 s once healthy.
            assert healthy_probes <= window / 2 + 1, (healthy_probes, window)
    finally:
        dns.close()
        close(peer)


def test_pool_labels_and_draining():
    port = free_port()
    up = peers(port, ["127.0.0.1"])
    dns = DnsServer({})
    labels = 'labels = { team = "payments", tier = "gold" }\ndraining = ["127.0.0.9"]'
    text = config(dns, port, servers='"127.0.0.1", "127.0.0.9"', pool_extra=labels)
    try:
        with Exporter(text) as exporter:
            m = exporter.wait_for_state("p", "web", "127.0.0.9", "unhealthy")
            assert m.select("backend_health_pool_labels") == [
                ({"pool": "p", "team": "payments", "tier": "gold"}, 1)], \
                m.select("backend_health_pool_labels")
            assert m.value("backend_health_server_draining", server="127.0.0.9") == 1
            assert m.value("backend_health_server_draining", server="127.0.0.1") == 0
            assert server_json(exporter, "127.0.0.9")["draining"] is True
            assert server_json(exporter, "127.0.0.1")["draining"] is False
            # A draining server is still probed and published as usual.
            assert m.value("backend_health_probes_total", server="127.0.0.9",
                           result="tcp_connect_error") >= 1

            # A reload replaces the labels: the old series go.
            exporter.write_config(text.replace('tier = "gold"', 'tier = "silver"')
                                  .replace('draining = ["127.0.0.9"]', ""))
            exporter.signal(signal.SIGHUP)
            m = exporter.wait_for(lambda m: m.select("backend_health_pool_labels") == [
                ({"pool": "p", "team": "payments", "tier": "silver"}, 1)],
                what="the new pool labels")
            assert m.value("backend_health_server_draining", server="127.0.0.9") == 0
    finally:
        dns.close()
        close(up)


def test_probe_once_and_debug_show_every_address():
    port = free_port()
    up = peers(port, ["127.0.0.1"])
    dns = DnsServer({"pool.test": ["127.0.0.1", "127.0.0.2"]})
    try:
        text = config(dns, port)
        with Exporter(text) as exporter:
            status, body, _ = exporter.get("/probe?pool=p&settings=web&server=pool.test&debug=true")
            assert status == 200, body
            assert "resolved pool.test -> 127.0.0.1, 127.0.0.2" in body, body
            assert "Address 127.0.0.1:" in body and "Address 127.0.0.2:" in body, body
            assert f"connecting to 127.0.0.2:{port}" in body, body
            assert "Details: 1 of 2 addresses healthy" in body, body
            assert ('backend_health_address_state{pool="p",settings="web",server="pool.test",'
                    'address="127.0.0.2",state="unhealthy"} 1') in body, body
            path = exporter.config_path
        code, out, _ = run_cli("probe", "--once", f"--config.file={path}")
        assert code == 1, out
        lines = out.splitlines()
        server_line = next(i for i, l in enumerate(lines) if "pool.test" in l)
        assert lines[server_line].split()[3:5] == ["unhealthy", "tcp_connect_error"], lines
        assert lines[server_line + 1].split()[:2] == ["127.0.0.1", "healthy"], lines
        assert lines[server_line + 2].split()[:3] == ["127.0.0.2", "unhealthy",
                                                      "tcp_connect_error"], lines
    finally:
        dns.close()
        close(up)


if __name__ == "__main__":
    run_tests([test_one_dark_address_of_three_makes_the_server_unhealthy,
               test_address_families_and_the_address_cap,
               test_a_failing_server_is_probed_at_its_unhealthy_interval,
               test_pool_labels_and_draining,
               test_probe_once_and_debug_show_every_address])
