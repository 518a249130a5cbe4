"""Nothing the exporter reuses across HTTPS probes hides a change: real `openssl s_server` peers
(certificates generated at test time) are restarted on the same port with another certificate or
another chain, or serve a certificate that expires while the exporter runs, and the very next
probe reports what the server now presents.

Every probe is seen: /backend-health is polled faster than the probe interval and each new
lastProbe is logged; the success counter cross-checks that no probe was missed."""

import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

from harness import Exporter, fail, run_tests, wait_until

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                                "tls"))
import scenarios  # noqa: E402

SETTINGS = "reuse"


def start_server(pki, cert, chain, port=0):
    sc = scenarios.Scenario(name="reuse", description="", reason=None, details="", cert=cert,
                            chain=chain)
    process = subprocess.Popen(scenarios.s_server_command(sc, pki, port),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               env=dict(os.environ, OPENSSL_CONF="/dev/null"))
    for line in process.stdout:
        if line.startswith("ACCEPT"):
            # "ACCEPT 127.0.0.1:PORT" for port 0; a bare "ACCEPT" for a port given.
            listening = line.strip().rsplit(":", 1)
            return scenarios.Server(sc, process, int(listening[1]) if len(listening) == 2 else port)
    process.wait()
    fail(f"s_server for {cert} exited with {process.returncode}")


def exporter_config(pki, port):
    return f"""
[exporter]
dns_servers = ["127.0.0.1:53"]

[[backend_pool]]
name = "p"
servers = ["127.0.0.1"]
backend_settings = ["{SETTINGS}"]

[[backend_settings]]
name = "{SETTINGS}"
protocol = "https"
port = {port}
host_name = "good.test"
probe = "fast"
trusted_root_certificates = ["{os.path.join(pki, 'root.pem')}"]

[[probe]]
name = "fast"
interval = "1s"
timeout = "3s"
"""


class ProbeLog:
    """Every probe of the one target, in order: (start unix seconds, result, leaf subject)."""

    def __init__(self, exporter):
        self.exporter = exporter
        self.probes = []
        self._last_time = None

    def poll(self):
        doc = self.exporter.json("/backend-health")
        server = doc["backendAddressPools"][0]["backendHttpSettingsCollection"][0]["servers"][0]
        last = server.get("lastProbe")
        if last and last["time"] != self._last_time:
            self._last_time = last["time"]
            started = datetime.strptime(last["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=timezone.utc).timestamp()
            chain = (last.get("tls") or {}).get("chain") or []
            self.probes.append((started, last["result"], chain[0]["subject"] if chain else None,
                                last["details"]))

    def watch(self, seconds=None, until=None, what="condition"):
        deadline = time.monotonic() + (seconds if seconds is not None else 30)
        while time.monotonic() < deadline:
            self.poll()
            if until is not None and until():
                return
            time.sleep(0.1)
        if until is not None:
            fail(f"timed out waiting for {what}; probes: {self.probes[-8:]}")

    def since(self, t):
        return [p for p in self.probes if p[0] >= t]

    def successes(self):
        return sum(1 for p in self.probes if p[1] == "success")

    def check_complete(self):
        """The log saw every probe: as many successes as the exporter counted."""
        m = self.exporter.scrape()
        counted = m.value("backend_health_probes_total", settings=SETTINGS, result="success") or 0
        if counted != self.successes():
            fail(f"the log missed probes: {counted} successes counted, {self.successes()} "
                 f"logged: {self.probes}")


def switch(pki, log, server, cert, chain, expect_result, expect_leaf):
    """Restarts `server` on its port with cert+chain; the first probe that starts once it
    listens reports `expect_result` for leaf `expect_leaf`. Returns the new server."""
    # The current chain has been probed twice in a row with the same result, so its verdict is
    # the one a reuse would wrongly carry over.
    current = log.probes[-1][1] if log.probes else "success"
    log.watch(until=lambda: len(log.probes) >= 2 and all(p[1] == current
                                                         for p in log.probes[-2:]),
              what=f"two probes in a row with result {current}")
    port = server.port
    server.stop()
    new = start_server(pki, cert, chain, port)
    listening_since = time.time()
    log.watch(until=lambda: len(log.since(listening_since)) >= 2,
              what=f"two probes after switching to {cert}")
    first = log.since(listening_since)[0]
    if first[1] != expect_result or first[2] != expect_leaf:
        fail(f"the first probe after switching to {cert} + {chain} reported {first}, expected "
             f"{expect_result} for {expect_leaf}; probes: {log.probes[-6:]}")
    return new


def test_switched_certificate_and_changed_chain_are_seen_on_the_next_probe():
    pki = scenarios.make_pki(tempfile.mkdtemp(prefix="bhe-pki-"))
    server = start_server(pki, "good.pem", "chain-int.pem")
    try:
        with Exporter(exporter_config(pki, server.port)) as exporter:
            log = ProbeLog(exporter)
            good = "CN=good.test,O=BHE Test"
            # Another certificate altogether (another name).
            server = switch(pki, log, server, "wrongcn.pem", "chain-int.pem",
                            "tls_cn_mismatch", "CN=wrong.test,O=BHE Test")
            # Back to the first one: healthy again at once.
            server = switch(pki, log, server, "good.pem", "chain-int.pem", "success",
                            good)
            # The same leaf, but its intermediate no longer sent.
            server = switch(pki, log, server, "good.pem", None,
                            "tls_intermediate_missing", good)
            server = switch(pki, log, server, "good.pem", "chain-int.pem", "success",
                            good)
            # The same names in a re-issued certificate, which happens to be expired.
            server = switch(pki, log, server, "expired.pem", "chain-int.pem",
                            "tls_cert_expired", good)
            server = switch(pki, log, server, "good.pem", "chain-int-root.pem",
                            "success", good)
            # The same leaf under an intermediate the uploaded root did not sign.
            server = switch(pki, log, server, "leaf2.pem", "chain-int2.pem",
                            "tls_trusted_root_mismatch_no_root", "CN=good.test,O=BHE Other")
            log.check_complete()
    finally:
        server.stop()


def make_short_lived_leaf(pki, seconds):
    """A good.test leaf signed by the intermediate that expires `seconds` from now."""
    work = tempfile.mkdtemp(prefix="bhe-ca-", dir=pki)
    os.makedirs(os.path.join(work, "new"))
    open(os.path.join(work, "index.txt"), "w").close()
    with open(os.path.join(work, "serial"), "w") as f:
        f.write("01\n")
    conf = os.path.join(work, "ca.cnf")
    with open(conf, "w") as f:
        f.write(f"""[ ca ]
default_ca = ca_section
[ ca_section ]
dir = {work}
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir/new
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = optional
organizationName = optional
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:good.test
""")
    now = datetime.now(timezone.utc)
    not_after = (now + timedelta(seconds=seconds)).replace(microsecond=0)
    env = dict(os.environ, OPENSSL_CONF="/dev/null")
    csr = os.path.join(work, "leaf.csr")
    subprocess.run(["openssl", "req", "-new", "-key", os.path.join(pki, "leaf.key"), "-subj",
                    "/CN=placeholder", "-out", csr], check=True, env=env)
    out = os.path.join(pki, "short-lived.pem")
    subprocess.run(["openssl", "ca", "-batch", "-config", conf, "-notext", "-rand_serial",
                    "-cert", os.path.join(pki, "int.pem"),
                    "-keyfile", os.path.join(pki, "int.key"), "-in", csr,
                    "-subj", "/O=BHE Test/CN=good.test",
                    "-startdate", (now - timedelta(days=1)).strftime("%Y%m%d%H%M%SZ"),
                    "-enddate", not_after.strftime("%Y%m%d%H%M%SZ"), "-extensions", "leaf",
                    "-out", out], check=True, env=env, capture_output=True)
    return "short-lived.pem", not_after.timestamp()


def test_certificate_that_expires_while_probed_is_expired_on_the_first_probe_after():
    pki = scenarios.make_pki(tempfile.mkdtemp(prefix="bhe-pki-"))
    leaf, not_after = make_short_lived_leaf(pki, 10)
    server = start_server(pki, leaf, "chain-int.pem")
    try:
        with Exporter(exporter_config(pki, server.port)) as exporter:
            log = ProbeLog(exporter)
            # The certificate is valid through the second of its notAfter and expired from the
            # next one on; probes judge it when their handshake completes, after they start.
            expired_from = not_after + 1
            log.watch(until=lambda: len(log.since(expired_from)) >= 2,
                      what="two probes after the certificate expired")
            before = [p for p in log.probes if p[0] < not_after]
            after = log.since(expired_from)
            if not any(p[1] == "success" for p in before) or len(
                    [p for p in before if p[1] == "success"]) < 2:
                fail(f"expected healthy probes while the certificate was valid: {log.probes}")
            if any(p[1] != "success" for p in before):
                fail(f"a probe failed while the certificate was valid: {log.probes}")
            if any(p[1] != "tls_cert_expired" for p in after):
                fail(f"a probe after notAfter {not_after} was not tls_cert_expired: {after}")
            if "expired at" not in after[0][3]:
                fail(f"details of the first expired probe: {after[0][3]}")
            log.check_complete()
            wait_until(lambda: exporter.scrape().value(
                "backend_health_probes_total", settings=SETTINGS,
                result="tls_cert_expired") >= 2, what="the expiry counted")
    finally:
        server.stop()


if __name__ == "__main__":
    run_tests([test_switched_certificate_and_changed_chain_are_seen_on_the_next_probe,
               test_certificate_that_expires_while_probed_is_expired_on_the_first_probe_after])
