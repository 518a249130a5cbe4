"""Every TLS scenario of the seed, served for real by `openssl s_server` (or a plain-HTTP /
stalling peer) on loopback with certificates generated at test time, probed by one running
exporter: the exact state and reason series, the details text in /backend-health, the TLS phase
duration, and the certificate expiry gauges, which are exported also when verification fails."""

import os
import sys
import tempfile
from datetime import datetime, timezone

from harness import (Exporter, expected_reason_series, expected_state_series, run_cli,
                     run_tests)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                                "tls"))
import scenarios  # noqa: E402

CATEGORY = {None: None, "backend_timeout": "timeout"}


def category_of(reason):
    if reason is None:
        return None
    return CATEGORY.get(reason, "tls" if reason.startswith("tls_") else None)


def toml_value(v):
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def unix(iso):
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def test_every_tls_scenario():
    pki = scenarios.make_pki(tempfile.mkdtemp(prefix="bhe-pki-"))
    servers = {}
    try:
        for name in scenarios.SCENARIOS:
            servers[name] = scenarios.start(name, pki, die_with_parent=True)
        settings = ""
        for name, server in servers.items():
            keys = scenarios.backend_settings(server.scenario, pki)
            settings += f'\n[[backend_settings]]\nname = "{name}"\nport = {server.port}\n' \
                        f'probe = "tls"\n'
            settings += "".join(f"{k} = {toml_value(v)}\n" for k, v in keys.items())
        config = f"""
[exporter]
well_known_ca_bundle = "{os.path.join(pki, scenarios.WELL_KNOWN_BUNDLE)}"

[[backend_pool]]
name = "tls"
servers = ["127.0.0.1"]
backend_settings = [{", ".join(toml_value(n) for n in servers)}]
{settings}
[[probe]]
name = "tls"
interval = "1s"
timeout = "2s"
"""
        with Exporter(config) as exporter:
            def settled(m):
                return all(m.value("backend_health_probes_total", settings=n,
                                   result=s.scenario.reason or "success")
                           for n, s in servers.items())

            m = exporter.wait_for(settled, timeout=40, what="every scenario probed")
            doc = exporter.json("/backend-health")
            json_servers = {c["backendHttpSettings"]["name"]: c["servers"][0]
                            for c in doc["backendAddressPools"][0]["backendHttpSettingsCollection"]}
            problems = []
            for name, server in servers.items():
                sc = server.scenario
                state = "healthy" if sc.reason is None else "unhealthy"
                got_state = m.series("backend_health_server_state", settings=name)
                got_reason = m.series("backend_health_server_failure_reason", settings=name)
                entry = json_servers[name]
                want_reason = [] if sc.reason is None else expected_reason_series(
                    "tls", name, "127.0.0.1", category_of(sc.reason), sc.reason)
                if got_state != expected_state_series("tls", name, "127.0.0.1", state):
                    problems.append(f"{name}: state {got_state}")
                if got_reason != want_reason:
                    problems.append(f"{name}: reason {got_reason} (details: {entry['details']})")
                if sc.details not in entry["details"]:
                    problems.append(f"{name}: details {entry['details']!r} lack {sc.details!r}")
                if sc.kind != "tls" or sc.reason == "tls_handshake_error":
                    continue  # no certificate was received
                # A chain was received: its expiry is exported and the JSON shows it, also when
                # the verdict is a failure.
                chain = entry["lastProbe"]["tls"]["chain"]
                leaf = m.value("backend_health_tls_cert_not_after_timestamp_seconds",
                               settings=name, position="leaf")
                earliest = m.value("backend_health_tls_cert_not_after_timestamp_seconds",
                                   settings=name, position="chain_earliest")
                if not chain or earliest != min(unix(c["notAfter"]) for c in chain):
                    problems.append(f"{name}: chain_earliest {earliest} vs {chain}")
                leaves = [c for c in chain if not c["isCA"]]
                if leaves and leaf != unix(leaves[0]["notAfter"]):
                    problems.append(f"{name}: leaf expiry {leaf} vs {leaves[0]}")
                if m.value("backend_health_probe_duration_seconds", settings=name,
                           phase="tls") is None:
                    problems.append(f"{name}: no tls phase duration")
                if sc.reason is None and "chain: [0] " not in entry["details"]:
                    problems.append(f"{name}: healthy details lack the chain: {entry['details']}")
            assert not problems, "\n".join(problems)
            # A healthy HTTPS probe also gets its HTTP answer through the TLS stream.
            assert m.value("backend_health_probe_http_status_code",
                           settings="healthy_private") == 200
    finally:
        for s in servers.values():
            s.stop()


def test_certificate_files_are_validated_with_positions():
    pki = scenarios.make_pki(tempfile.mkdtemp(prefix="bhe-pki-"))
    path = os.path.join(pki, "config.toml")  # relative certificate paths: the config's directory

    def check(roots):
        with open(path, "w") as f:
            f.write('[[backend_pool]]\nname = "p"\nservers = ["127.0.0.1"]\n'
                    'backend_settings = ["s"]\n\n[[backend_settings]]\nname = "s"\n'
                    'protocol = "https"\ntrusted_root_certificates = ['
                    + ", ".join(f'"{r}"' for r in roots) + "]\n")
        return run_cli("check-config", f"--config.file={path}")

    # PEM, base64 .cer and DER roots are all fine.
    code, out, _ = check(["root.pem", "root.cer", "root.der"])
    assert code == 0, out

    code, out, _ = check(["root.pem", "good.pem", "not-a-cert.txt", "missing.pem",
                          "key-only.pem"])
    assert code == 1, out
    where = f'{path}:9:'
    what = '[[backend_settings]] "s".trusted_root_certificates: '
    lines = out.splitlines()
    assert lines[0].startswith(f'{where}42: {what}"good.pem": certificate 1 of 1 (CN=good.test'), \
        lines
    assert "is not a CA certificate" in lines[0], lines[0]
    assert lines[1] == (f'{where}54: {what}"not-a-cert.txt": not a certificate (no PEM, base64 '
                        'or DER X.509 found)'), lines[1]
    assert lines[2] == f'{where}72: {what}"missing.pem": cannot read: No such file or directory', \
        lines[2]
    assert lines[3] == (f'{where}87: {what}"key-only.pem": not a certificate (PEM holds PRIVATE '
                        'KEY, no CERTIFICATE)'), lines[3]
    assert lines[4] == f"4 problems found in {path}", lines


if __name__ == "__main__":
    run_tests([test_every_tls_scenario, test_certificate_files_are_validated_with_positions])
