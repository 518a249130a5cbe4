"""Client certificates to backends (mutual TLS) and Application Gateway's TLS switches, against
real `openssl s_server` peers with a PKI generated at test time:
  - a server that requires a client certificate (-Verify 1, trusting only the client root), over
    TLS 1.3 and TLS 1.2: none configured -> tls_handshake_error "requires a client certificate";
    the right one -> healthy; one from another CA -> tls_handshake_error "rejected";
    backend_health_tls_client_cert_not_after_timestamp_seconds is the certificate's notAfter;
  - validate_cert_chain_and_expiry = false: an expired chain is healthy, its details still say
    expired, and the not-after gauges still show it;
  - validate_sni = false: a wrong-name certificate is healthy;
  - sni_name differing from the Host header reaches the right virtual host of an SNI-routing
    server (-servername)."""

import os
import subprocess
import sys
import tempfile
from datetime import datetime, timezone

from harness import Exporter, free_port, run_tests, wait_until

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                                "tls"))
import scenarios  # noqa: E402


def ossl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True,
                   env=dict(os.environ, OPENSSL_CONF="/dev/null"))


def not_after(path):
    out = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", path], check=True,
                         capture_output=True, text=True,
                         env=dict(os.environ, OPENSSL_CONF="/dev/null")).stdout
    date = out.strip().removeprefix("notAfter=")
    return datetime.strptime(date, "%b %d %H:%M:%S %Y GMT").replace(
        tzinfo=timezone.utc).timestamp()


class SServer:
    """openssl s_server -www on 127.0.0.1 with the given arguments."""

    def __init__(self, pki, *args):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{self.port}", "-www", "-no-CAfile",
             "-no-CApath", "-no-CAstore", *args],
            cwd=pki, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=dict(os.environ, OPENSSL_CONF="/dev/null"))
        seen = []
        for line in self.proc.stdout:
            line = line.decode()
            seen.append(line)
            if line.startswith("ACCEPT"):
                break
        else:
            raise AssertionError("s_server did not start:\n" + "".join(seen))
        # s_server logs every connection; keep its pipe from filling up.
        import threading
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def make_other_client(pki):
    """A client certificate from a CA the servers do not trust (self-signed, no EKU)."""
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "stranger.key", "-out", "stranger.pem", "-days", "30",
         "-subj", "/CN=stranger", "-addext", "basicConstraints=critical,CA:FALSE", cwd=pki)


def server_entry(exporter, settings):
    for pool in exporter.json("/backend-health")["backendAddressPools"]:
        for c in pool["backendHttpSettingsCollection"]:
            if c["backendHttpSettings"]["name"] == settings:
                return c["servers"][0]
    raise AssertionError(settings)


def settings_block(name, port, **keys):
    lines = [f'[[backend_settings]]\nname = "{name}"\nprotocol = "https"\nport = {port}\n'
             f'probe = "tls"\n']
    for k, v in keys.items():
        if isinstance(v, bool):
            lines.append(f"{k} = {'true' if v else 'false'}\n")
        elif isinstance(v, list):
            lines.append(f"{k} = [" + ", ".join(f'"{x}"' for x in v) + "]\n")
        else:
            lines.append(f'{k} = "{v}"\n')
    return "".join(lines)


def test_mutual_tls_and_switches():
    pki = str(scenarios.make_pki(tempfile.mkdtemp(prefix="bhe-mtls-")))
    make_other_client(pki)
    server_cert = ["-cert", "good.pem", "-key", "leaf.key", "-cert_chain", "int.pem"]
    require_client = ["-Verify", "1", "-CAfile", "client-root.pem", "-verify_return_error"]
    servers = {
        "mtls13": SServer(pki, *server_cert, *require_client, "-tls1_3"),
        "mtls12": SServer(pki, *server_cert, *require_client, "-tls1_2"),
        "expired": SServer(pki, "-cert", "expired.pem", "-key", "leaf.key", "-cert_chain",
                           "int.pem"),
        "wrongname": SServer(pki, "-cert", "wrongcn.pem", "-key", "leaf.key", "-cert_chain",
                             "int.pem"),
        # SNI routing: good.test gets leaf-direct.pem (good.test, signed by the root), any other
        # name the default wrong.test certificate.
        "vhosts": SServer(pki, "-cert", "wrongcn.pem", "-key", "leaf.key", "-cert_chain",
                          "int.pem", "-servername", "good.test", "-cert2", "leaf-direct.pem", "-key2",
                          "leaf.key"),
    }
    roots = [os.path.join(pki, "root.pem")]
    client = {"client_certificate": os.path.join(pki, "client-chain.pem"),
              "client_key": os.path.join(pki, "client.key")}
    stranger = {"client_certificate": os.path.join(pki, "stranger.pem"),
                "client_key": os.path.join(pki, "stranger.key")}
    settings = {
        "mtls13-none": ("mtls13", dict(host_name="good.test", trusted_root_certificates=roots)),
        "mtls13-good": ("mtls13", dict(host_name="good.test", trusted_root_certificates=roots,
                                       **client)),
        "mtls13-stranger": ("mtls13", dict(host_name="good.test",
                                           trusted_root_certificates=roots, **stranger)),
        "mtls12-none": ("mtls12", dict(host_name="good.test", trusted_root_certificates=roots)),
        "mtls12-good": ("mtls12", dict(host_name="good.test", trusted_root_certificates=roots,
                                       **client)),
        "mtls12-stranger": ("mtls12", dict(host_name="good.test",
                                           trusted_root_certificates=roots, **stranger)),
        "expired-judged": ("expired", dict(host_name="good.test")),
        "expired-waived": ("expired", dict(host_name="good.test",
                                           validate_cert_chain_and_expiry=False)),
        "wrongname-judged": ("wrongname", dict(host_name="good.test",
                                               trusted_root_certificates=roots)),
        "wrongname-waived": ("wrongname", dict(host_name="good.test", validate_sni=False,
                                               trusted_root_certificates=roots)),
        "vhost-by-host": ("vhosts", dict(host_name="app.example",
                                         trusted_root_certificates=roots)),
        "vhost-by-sni": ("vhosts", dict(host_name="app.example", sni_name="good.test",
                                        trusted_root_certificates=roots)),
    }
    bundle = os.path.join(pki, scenarios.WELL_KNOWN_BUNDLE)
    config = (f'[exporter]\nwell_known_ca_bundle = "{bundle}"\ndns_servers = ["127.0.0.1:1"]\n'
              '[[backend_pool]]\nname = "p"\nservers = ["127.0.0.1"]\nbackend_settings = ['
              + ", ".join(f'"{n}"' for n in settings) + "]\n")
    for name, (server, keys) in settings.items():
        config += settings_block(name, servers[server].port, **keys)
    config += '[[probe]]\nname = "tls"\ninterval = "500ms"\ntimeout = "3s"\nunhealthy_threshold = 1\n'
    expected = {
        "mtls13-none": ("unhealthy", "tls_handshake_error", "the server requires a client "
                        "certificate, and none is configured"),
        "mtls13-good": ("healthy", None, "Received:200"),
        "mtls13-stranger": ("unhealthy", "tls_handshake_error",
                            "the server rejected the client certificate: alert"),
        "mtls12-none": ("unhealthy", "tls_handshake_error", "the server requires a client "
                        "certificate, and none is configured"),
        "mtls12-good": ("healthy", None, "Received:200"),
        "mtls12-stranger": ("unhealthy", "tls_handshake_error",
                            "the server rejected the client certificate: alert"),
        "expired-judged": ("unhealthy", "tls_cert_expired", "expired at 2021-01-01"),
        "expired-waived": ("healthy", None, "expired at 2021-01-01"),
        "wrongname-judged": ("unhealthy", "tls_cn_mismatch", "does not match"),
        "wrongname-waived": ("healthy", None, "waived (validate_sni = false): expected host "
                             "good.test does not match"),
        "vhost-by-host": ("unhealthy", "tls_cn_mismatch", "CN=wrong.test"),
        "vhost-by-sni": ("healthy", None, "CN=good.test"),
    }
    try:
        with Exporter(config) as exporter:
            def settled(m):
                return all(m.value("backend_health_server_state", settings=s, state=e[0]) == 1
                           and (m.value("backend_health_probes_total", settings=s,
                                        result=e[1] or "success") or 0) >= 1
                           for s, e in expected.items())
            try:
                m = exporter.wait_for(settled, what="every settings in its expected state")
            except AssertionError:
                for name in expected:
                    e = server_entry(exporter, name)
                    print(name, e["health"], e["reason"], e["details"][:300])
                raise
            problems = []
            for name, (state, reason, words) in expected.items():
                entry = server_entry(exporter, name)
                if entry["reason"] != reason:
                    problems.append(f"{name}: reason {entry['reason']}: {entry['details']}")
                if words not in entry["details"]:
                    problems.append(f"{name}: details lack {words!r}: {entry['details']}")
            assert not problems, "\n".join(problems)
            # Chain faults waived are still analysed: the expiry gauge shows the expired leaf.
            assert m.value("backend_health_tls_cert_not_after_timestamp_seconds",
                           settings="expired-waived", position="leaf") == \
                not_after(os.path.join(pki, "expired.pem"))
            # The client certificate's expiry, per settings that present one.
            got = {l["settings"]: v for l, v in
                   m.select("backend_health_tls_client_cert_not_after_timestamp_seconds")}
            want = not_after(os.path.join(pki, "client.pem"))
            assert got == {"mtls13-good": want, "mtls12-good": want,
                           "mtls13-stranger": not_after(os.path.join(pki, "stranger.pem")),
                           "mtls12-stranger": not_after(os.path.join(pki, "stranger.pem"))}, got
    finally:
        for s in servers.values():
            s.close()


if __name__ == "__main__":
    run_tests([test_mutual_tls_and_switches])
