"""Revocation checking against real peers: `openssl ocsp` responders (behind a small counting
front), CRLs made by `openssl ca -gencrl` served over HTTP, `openssl s_server` backends (with
`-status_file` for stapled responses), and a PKI generated at test time whose certificates name
those endpoints. One exporter probes every scenario; the test checks the exact state and reason
series, the details, the chain view of /backend-health, and how often each endpoint was asked.

Runs in a network namespace of its own: `openssl ocsp -port` listens on every interface."""

import http.client
import http.server
import os
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

from harness import (Exporter, TcpPeer, expected_reason_series, expected_state_series, free_port,
                     reexec_in_netns, run_tests, silent, wait_until)

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "tls")
MAKE_PKI = os.path.join(FIXTURES, "make-revocation-pki.sh")
SHORT_CRL_SECONDS = 4
ENV = dict(os.environ, OPENSSL_CONF="/dev/null")

LEAF = "the certificate at position 0 (CN=good.test,O=BHE Test)"
INTERMEDIATE = "the certificate at position 1 (CN=BHE Revoked Intermediate CA,O=BHE Test)"


class Counting(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, answer):
        self.counts = {}
        self.lock = threading.Lock()
        self.answer = answer
        super().__init__(("127.0.0.1", port), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def count(self, path):
        with self.lock:
            return self.counts.get(path, 0)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_one(self, body):
        with self.server.lock:
            self.server.counts[self.path] = self.server.counts.get(self.path, 0) + 1
        status, content_type, payload = self.server.answer(self.path, body)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        self.handle_one(b"")

    def do_POST(self):
        self.handle_one(self.rfile.read(int(self.headers.get("Content-Length", "0"))))


def start(cmd, **kw):
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=ENV, **kw)


def wait_listening(port):
    import socket

    def up():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0
    wait_until(up, timeout=10, what=f"a listener on port {port}")


class Peers:
    """Every endpoint and backend of the scenarios."""

    def __init__(self):
        self.procs = []
        self.ocsp_port, self.crl_port, self.refused_port = free_port(), free_port(), free_port()
        self.silent = TcpPeer(silent)
        self.pki = tempfile.mkdtemp(prefix="bhe-rv-pki-")
        subprocess.run([MAKE_PKI, self.pki, str(self.ocsp_port), str(self.crl_port),
                        str(self.refused_port), str(self.silent.port)], check=True, env=ENV)
        # The real responders, one per CA (and one signing with an unrelated key), each on a port
        # of its own; the front counts what the exporter asks and forwards it.
        self.responders = {}
        for path, ca, signer in (("/root", "root", "rv-root"), ("/int", "int", "rv-int"),
                                 ("/badsig", "int", "rv-other")):
            port = free_port()
            # Readiness from its "ACCEPT" line: a probing connect that sends nothing would hold
            # the single-threaded responder until its read timeout.
            proc = subprocess.Popen(
                ["openssl", "ocsp", "-index", self.file(f"ca-{ca}/index.txt"),
                 "-CA", self.file(f"rv-{ca}.pem"), "-rsigner", self.file(f"{signer}.pem"),
                 "-rkey", self.file(f"{signer}.key"), "-port", str(port), "-ndays", "1",
                 "-timeout", "5", "-ignore_err"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env=ENV, text=True)
            self.procs.append(proc)
            line = proc.stdout.readline()
            assert line.startswith("ACCEPT"), f"openssl ocsp did not start: {line!r}"
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            self.responders[path] = port
        self.ocsp = Counting(self.ocsp_port, self.forward_ocsp)
        self.crl = Counting(self.crl_port, self.serve_crl)
        self.backends = {}

    def file(self, name):
        return os.path.join(self.pki, name)

    def forward_ocsp(self, path, body):
        port = self.responders.get(path)
        if port is None:
            return 404, "text/plain", b"no such responder\n"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/", body, {"Content-Type": "application/ocsp-request"})
        response = conn.getresponse()
        payload = response.read()
        conn.close()
        return response.status, "application/ocsp-response", payload

    def serve_crl(self, path, _body):
        if path == "/int-short.crl":
            out = self.file("int-short.crl.der")
            subprocess.run([self.file("int-short-crl"), out, str(SHORT_CRL_SECONDS)], check=True,
                           env=ENV)
        elif path in ("/root.crl", "/int.crl"):
            out = self.file(path[1:] + ".der")
        else:
            return 404, "text/plain", b"no such CRL\n"
        with open(out, "rb") as f:
            return 200, "application/pkix-crl", f.read()

    def backend(self, name, cert, chain, extra=()):
        port = free_port()
        log = open(self.file(f"s_server-{name}.log"), "w")
        self.procs.append(subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-www", "-no-CAfile",
             "-no-CApath", "-no-CAstore", "-cert", self.file(cert), "-key", self.file("rv-leaf.key"),
             "-cert_chain", self.file(chain), *[self.file(a) if a.endswith(".der") else a
                                               for a in extra]],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=ENV))
        self.backends[name] = port
        return port

    def backend_log(self, name):
        with open(self.file(f"s_server-{name}.log")) as f:
            return f.read()

    def close(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        self.ocsp.shutdown()
        self.crl.shutdown()
        self.silent.close()
        shutil.rmtree(self.pki, ignore_errors=True)


# name -> (certificate, chain, check_revocation, reason or None, details substrings, s_server flags)
def scenarios(peers):
    ocsp = f"http://127.0.0.1:{peers.ocsp_port}"
    crl = f"http://127.0.0.1:{peers.crl_port}"
    return {
        "good": ("rv-good.pem", "rv-chain-int.pem", True, None,
                 ["revocation: [0] good (OCSP); [1] good (OCSP)"]),
        "revoked": ("rv-revoked.pem", "rv-chain-int.pem", True, "tls_cert_revoked",
                    [f"{LEAF} is revoked: OCSP {ocsp}/int: revoked at ",
                     ", reason keyCompromise (1)"]),
        "revoked_intermediate": ("rv-under-revoked-int.pem", "rv-chain-int-revoked.pem", True,
                                 "tls_cert_revoked",
                                 [f"{INTERMEDIATE} is revoked: OCSP {ocsp}/root: revoked at ",
                                  ", reason cACompromise (2)"]),
        "unreachable": ("rv-unreachable.pem", "rv-chain-int.pem", True, "tls_revocation_unknown",
                        [f"the revocation status of {LEAF} could not be learned: OCSP "
                         f"http://127.0.0.1:{peers.refused_port}/: connection refused "
                         "(ECONNREFUSED); CRL "
                         f"http://127.0.0.1:{peers.silent.port}/int.crl: no complete answer "
                         "within the probe's remaining time (timeout)"]),
        "crl_fallback": ("rv-crl-fallback.pem", "rv-chain-int.pem", True, None,
                         ["revocation: [0] good (CRL); [1] good (OCSP)"]),
        "crl_revoked": ("rv-crl-revoked.pem", "rv-chain-int.pem", True, "tls_cert_revoked",
                        [f"{LEAF} is revoked: CRL {crl}/int.crl: revoked at ",
                         ", reason superseded (4)"]),
        "no_information": ("rv-norev.pem", "rv-chain-int.pem", True, None,
                           ["revocation: [0] no revocation information; [1] good (OCSP)"]),
        "badly_signed": ("rv-badsig.pem", "rv-chain-int.pem", True, "tls_revocation_unknown",
                         [f"OCSP {ocsp}/badsig: badly signed response (signed by CN=BHE "
                          "Unrelated OCSP Signer,O=BHE Other, which is neither the issuer"]),
        "short_crl": ("rv-crl-short.pem", "rv-chain-int.pem", True, None,
                      ["revocation: [0] good (CRL); [1] good (OCSP)"]),
        # The leaves below name only a refused responder: only the staple can answer for them.
        "stapled_good": ("rv-staple-good.pem", "rv-chain-int.pem", True, None,
                         ["revocation: [0] good (stapled OCSP); [1] good (OCSP)"],
                         ("-status_file", "ocsp-rv-staple-good.der", "-status_verbose")),
        "stapled_good_tls12": ("rv-staple-good.pem", "rv-chain-int.pem", True, None,
                               ["revocation: [0] good (stapled OCSP); [1] good (OCSP)"],
                               ("-status_file", "ocsp-rv-staple-good.der", "-tls1_2")),
        "stapled_revoked": ("rv-staple-revoked.pem", "rv-chain-int.pem", True, "tls_cert_revoked",
                            [f"{LEAF} is revoked: stapled OCSP: revoked at ",
                             ", reason keyCompromise (1)"],
                            ("-status_file", "ocsp-rv-staple-revoked.der", "-tls1_2")),
        # TLS 1.3: wolfSSL keeps the stapled bytes to itself, only its verdict is known.
        "stapled_revoked_tls13": ("rv-staple-revoked.pem", "rv-chain-int.pem", True,
                                  "tls_cert_revoked",
                                  [f"{LEAF} is revoked: stapled OCSP: revoked (revocation time "
                                   "not given)"],
                                  ("-status_file", "ocsp-rv-staple-revoked.der", "-tls1_3")),
        # Would staple if asked (a response for another certificate, which would fail the
        # handshake): with check_revocation = false nothing is asked.
        "off": ("rv-off.pem", "rv-chain-int.pem", False, None, ["verified: "],
                ("-status_file", "ocsp-rv-staple-good.der", "-status_verbose")),
    }


def category(reason):
    return None if reason is None else "tls"


def state_of(reason):
    if reason is None:
        return "healthy"
    return "unknown" if reason == "tls_revocation_unknown" else "unhealthy"


def test_revocation_scenarios():
    peers = Peers()
    crl_url = f"http://127.0.0.1:{peers.crl_port}"
    try:
        table = scenarios(peers)
        settings = ""
        for name, (cert, chain, check, _, _, *extra) in table.items():
            port = peers.backend(name, cert, chain, *extra)
            settings += (f'\n[[backend_settings]]\nname = "{name}"\nprotocol = "https"\n'
                         f'port = {port}\nhost_name = "good.test"\nprobe = "p"\n'
                         f'trusted_root_certificates = ["{peers.file("rv-root.pem")}"]\n'
                         f'check_revocation = {"true" if check else "false"}\n')
        for port in peers.backends.values():
            wait_listening(port)
        config = f"""
[exporter]
dns_servers = ["127.0.0.1:{free_port()}"]

[[backend_pool]]
name = "rv"
servers = ["127.0.0.1"]
backend_settings = [{", ".join(f'"{n}"' for n in table)}]
{settings}
[[probe]]
name = "p"
interval = "1s"
timeout = "3s"
"""
        with Exporter(config) as exporter:
            def settled(m):
                return all(m.value("backend_health_probes_total", settings=n,
                                   result=reason or "success")
                           for n, (_, _, _, reason, *_) in table.items())

            exporter.wait_for(settled, timeout=40, what="every scenario probed")
            # Long enough for the short CRL to expire and be fetched again a few times.
            time.sleep(3 * SHORT_CRL_SECONDS)
            m = exporter.scrape()
            # The endpoints' counts of the same moment (a probe may be between the two reads).
            asked_badsig = peers.ocsp.count("/badsig")
            fetched = peers.crl.count("/int-short.crl")
            doc = exporter.json("/backend-health")
            servers = {c["backendHttpSettings"]["name"]: c["servers"][0]
                       for c in doc["backendAddressPools"][0]["backendHttpSettingsCollection"]}
            problems = []
            for name, (_, _, check, reason, details, *_) in table.items():
                entry = servers[name]
                got_state = m.series("backend_health_server_state", settings=name)
                if got_state != expected_state_series("rv", name, "127.0.0.1", state_of(reason)):
                    problems.append(f"{name}: state {got_state} ({entry['details']})")
                got_reason = m.series("backend_health_server_failure_reason", settings=name)
                want = [] if reason is None else expected_reason_series(
                    "rv", name, "127.0.0.1", category(reason), reason)
                if got_reason != want:
                    problems.append(f"{name}: reason {got_reason} ({entry['details']})")
                for d in details:
                    if d not in entry["details"]:
                        problems.append(f"{name}: details {entry['details']!r} lack {d!r}")
                chain = entry["lastProbe"]["tls"]["chain"]
                if not check:
                    if any(c["revocation"] is not None for c in chain):
                        problems.append(f"{name}: revocation shown though off: {chain}")
                    continue
                if reason != "tls_revocation_unknown" and chain[0]["revocation"] is None:
                    problems.append(f"{name}: no revocation state in the chain view: {chain}")
            assert not problems, "\n".join(problems)

            chain = servers["revoked_intermediate"]["lastProbe"]["tls"]["chain"]
            assert chain[0]["revocation"] == "no revocation information", chain
            assert chain[1]["revocation"] == "revoked (OCSP)", chain
            assert "reason cACompromise (2)" in chain[1]["revocationDetails"], chain
            chain = servers["crl_fallback"]["lastProbe"]["tls"]["chain"]
            assert chain[0]["revocation"] == "good (CRL)", chain
            assert "OCSP" not in chain[0]["revocationDetails"], chain  # the CRL decided
            chain = servers["unreachable"]["lastProbe"]["tls"]["chain"]
            assert chain[0]["revocation"] == "unknown", chain
            assert servers["unreachable"]["health"] == "Unknown"

            # check_revocation = false: its own endpoints were never asked, nor was a staple.
            assert peers.ocsp.count("/off") == 0 and peers.crl.count("/off.crl") == 0
            assert "cert_status" not in peers.backend_log("off"), peers.backend_log("off")
            # ... while a backend asked for a staple logs it (so the check above can fail).
            assert "cert_status" in peers.backend_log("stapled_good")
            chain = servers["stapled_good"]["lastProbe"]["tls"]["chain"]
            assert chain[0]["revocation"] == "good (stapled OCSP)", chain
            # One answer serves every target: the intermediates' status was asked once each
            # (rv-int for eight targets, the revoked intermediate for one) and then kept.
            assert peers.ocsp.count("/root") == 2, peers.ocsp.counts
            # A CRL past its nextUpdate is fetched again, but not on every probe.
            probes = m.value("backend_health_probes_total", settings="short_crl", result="success")
            print(f"short CRL: {fetched} fetches for {probes:.0f} probes; OCSP front "
                  f"{peers.ocsp.counts}; CRL server {peers.crl.counts}")
            assert probes >= 8, probes
            assert 2 <= fetched <= probes / 2, (fetched, probes)
            # The step-by-step log of a debug probe names every source consulted.
            status, body, _ = exporter.get(
                "/probe?pool=rv&settings=crl_fallback&server=127.0.0.1&debug=true")
            assert status == 200, body
            for expected in (
                    "checking revocation of the verified path within ",
                    "revocation of [0] CN=good.test,O=BHE Test: OCSP "
                    f"http://127.0.0.1:{peers.refused_port}/: connection refused (ECONNREFUSED)",
                    f"revocation of [0] CN=good.test,O=BHE Test: CRL {crl_url}/int.crl: good",
                    "revocation: [0] good (CRL); [1] good (OCSP)"):
                assert expected in body, (expected, body)
            # A failed answer is not kept: every probe asks again, once.
            bad = m.value("backend_health_probes_total", settings="badly_signed",
                          result="tls_revocation_unknown")
            assert bad - 1 <= asked_badsig <= bad + 1, (asked_badsig, bad)
    finally:
        peers.close()


if __name__ == "__main__":
    reexec_in_netns()
    run_tests([test_revocation_scenarios])
