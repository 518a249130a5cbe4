"""Browser test of the status page ("/"): starts the real exporter and real peers on loopback (the
e2e harness), waits until /backend-health shows every server in its expected state, then runs the
Node/Playwright script that drives Debian's headless Chromium against the page.

    run_status_page_test.py main  SCREENSHOT.png   healthy, unhealthy-by-reason, unknown and
                                                   HTTPS servers; filter, search, refresh, reload,
                                                   chain view, escaping
    run_status_page_test.py scale SCREENSHOT.png   10,000 servers: paginated, responsive

Environment (set by CTest): BHE_BINARY, PYTHONPATH=tests/e2e, BHE_NODE, BHE_CHROMIUM.
Everything listens on 127.0.0.0/8 only.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from harness import (DnsServer, Exporter, Nginx, TcpPeer, free_port, garbage, silent,
                     wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = os.environ.get("BHE_NODE") or shutil.which("node") or "node"
CHROMIUM = os.environ.get("BHE_CHROMIUM") or "/usr/bin/chromium"

# A pool name is user input: the page must show it as text, never as markup.
HOSTILE_POOL = '<img src=x onerror="window.__xss=1"><b>evil</b> & "quotes"'


def preflight():
    problems = []
    if not os.path.exists(CHROMIUM):
        problems.append(f"{CHROMIUM} is missing: apt-get install --no-install-recommends chromium "
                        "(scripts/setup.sh --test)")
    if shutil.which(NODE) is None and not os.path.exists(NODE):
        problems.append("node is missing (Node.js >= 18 with npm)")
    if not os.path.exists(os.path.join(HERE, "node_modules", "playwright-core", "package.json")):
        problems.append("tests/browser/node_modules is missing: run "
                        "npm ci --prefix tests/browser --no-audit --no-fund (scripts/setup.sh --test)")
    if problems:
        sys.exit("browser test cannot run:\n  " + "\n  ".join(problems))


def run_node(script, base, screenshot, expectations=None):
    args = [NODE, os.path.join(HERE, script), base, screenshot]
    workdir = tempfile.mkdtemp(prefix="bhe-browser-")
    try:
        if expectations is not None:
            path = os.path.join(workdir, "expect.json")
            with open(path, "w") as f:
                json.dump(expectations, f)
            args.append(path)
        env = dict(os.environ, BHE_CHROMIUM=CHROMIUM)
        p = subprocess.run(args, env=env, timeout=300)
        if p.returncode != 0:
            sys.exit(f"{script} failed with exit code {p.returncode}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def servers_by_triple(doc):
    out = {}
    for pool in doc["backendAddressPools"]:
        for coll in pool["backendHttpSettingsCollection"]:
            for server in coll["servers"]:
                out[(pool["backendAddressPool"]["name"], coll["backendHttpSettings"]["name"],
                     server["address"])] = server
    return out


def make_pki(directory):
    """A private root, a leaf it signed (served with the root: a chain of 2), and a self-signed
    end-entity certificate (not a CA: tls_intermediate_missing). openssl CLI, EC P-256."""
    def ossl(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True,
                       env=dict(os.environ, OPENSSL_CONF="/dev/null"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    ossl("req", "-x509", *ec, "-keyout", "root.key", "-out", "root.pem", "-days", "30",
         "-subj", "/CN=BHE Browser Test Root CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    ossl("req", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost")
    with open(os.path.join(directory, "leaf.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "leaf.csr", "-CA", "root.pem", "-CAkey", "root.key",
         "-CAcreateserial", "-out", "leaf.pem", "-days", "20", "-extfile", "leaf.ext")
    with open(os.path.join(directory, "chain.pem"), "w") as out:
        for name in ("leaf.pem", "root.pem"):
            with open(os.path.join(directory, name)) as f:
                out.write(f.read())
    ossl("req", "-x509", *ec, "-keyout", "self.key", "-out", "self.pem", "-days", "30",
         "-subj", "/CN=localhost", "-addext", "basicConstraints=critical,CA:FALSE",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")


def test_main(screenshot):
    pki = tempfile.mkdtemp(prefix="bhe-browser-pki-")
    make_pki(pki)
    tls_ok_port, tls_self_port = free_port(), free_port()
    tls_servers = f"""
  server {{
    listen 127.0.0.1:{tls_ok_port} ssl;
    ssl_certificate {pki}/chain.pem;
    ssl_certificate_key {pki}/leaf.key;
    location / {{ return 200 "OK"; }}
  }}
  server {{
    listen 127.0.0.1:{tls_self_port} ssl;
    ssl_certificate {pki}/self.pem;
    ssl_certificate_key {pki}/self.key;
    location / {{ return 200 "OK"; }}
  }}"""
    nginx = Nginx("""
      location = /ok { return 200 "all good OK\\n"; }
      location = /missing { return 404 "nope\\n"; }
      location = /wrong-body { return 200 "something else entirely\\n"; }
    """, http_extra=tls_servers)
    silent_peer = TcpPeer(silent)
    garbage_peer = TcpPeer(garbage)
    closed_port = free_port()
    # multi.test: two addresses, nginx listens on the first only ("1/2" on the page).
    dns = DnsServer({"good.test": "127.0.0.1", "silent.test": "DROP",
                     "multi.test": ["127.0.0.1", "127.0.0.2"]})
    config = f"""
[exporter]
dns_servers = ["{dns.address}"]

# Three servers, one healthy: "1 of 3 healthy". Nothing listens on 127.0.0.2/3 at nginx's port.
# 127.0.0.3 is being taken out of service.
[[backend_pool]]
name = "shop"
servers = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
backend_settings = ["shop-http"]
draining = ["127.0.0.3"]

# One server per reason.
[[backend_pool]]
name = "api"
servers = ["127.0.0.1"]
backend_settings = ["missing", "wrong-body", "silent", "garbage", "closed"]

[[backend_pool]]
name = "names"
servers = ["good.test", "silent.test", "multi.test"]
backend_settings = ["names-http"]

# Probed once a day: stays not_yet_probed for the whole test (the first probe of a server comes
# at a fixed offset, a hash of pool/settings/server, into its first interval).
[[backend_pool]]
name = "later"
servers = ["127.0.0.1"]
backend_settings = ["daily"]

[[backend_pool]]
name = "tls"
servers = ["127.0.0.1"]
backend_settings = ["tls-ok", "tls-self-signed"]

[[backend_pool]]
name = {json.dumps(HOSTILE_POOL)}
servers = ["127.0.0.1"]
backend_settings = ["shop-http"]

[[backend_settings]]
name = "shop-http"
port = {nginx.port}
probe = "ok"

[[backend_settings]]
name = "missing"
port = {nginx.port}
probe = "missing"

[[backend_settings]]
name = "wrong-body"
port = {nginx.port}
probe = "wrong-body"

[[backend_settings]]
name = "silent"
port = {silent_peer.port}
probe = "ok"

[[backend_settings]]
name = "garbage"
port = {garbage_peer.port}
probe = "ok"

[[backend_settings]]
name = "closed"
port = {closed_port}
probe = "ok"

[[backend_settings]]
name = "names-http"
port = {nginx.port}
probe = "ok"

[[backend_settings]]
name = "daily"
port = {nginx.port}
probe = "daily"

[[backend_settings]]
name = "tls-ok"
protocol = "https"
port = {tls_ok_port}
host_name = "localhost"
probe = "tls"
trusted_root_certificates = ["{pki}/root.pem"]

[[backend_settings]]
name = "tls-self-signed"
protocol = "https"
port = {tls_self_port}
host_name = "localhost"
probe = "tls"
trusted_root_certificates = ["{pki}/root.pem"]
""" + "".join(f"""
[[probe]]
name = "{name}"
path = "{path}"
interval = "{interval}"
timeout = "1500ms"
[probe.match]
status_codes = ["200-399"]
body = "OK"
""" for name, path, interval in [("ok", "/ok", "1s"), ("missing", "/missing", "1s"),
                                 ("wrong-body", "/wrong-body", "1s"), ("daily", "/ok", "24h"),
                                 ("tls", "/", "1s")])
    # (pool, settings, server) -> (state, reason)
    expected = {
        ("shop", "shop-http", "127.0.0.1"): ("healthy", None),
        ("shop", "shop-http", "127.0.0.2"): ("unhealthy", "tcp_connect_error"),
        ("shop", "shop-http", "127.0.0.3"): ("unhealthy", "tcp_connect_error"),
        ("api", "missing", "127.0.0.1"): ("unhealthy", "http_status_mismatch"),
        ("api", "wrong-body", "127.0.0.1"): ("unhealthy", "http_body_mismatch"),
        ("api", "silent", "127.0.0.1"): ("unhealthy", "backend_timeout"),
        ("api", "garbage", "127.0.0.1"): ("unhealthy", "http_invalid_response"),
        ("api", "closed", "127.0.0.1"): ("unhealthy", "tcp_connect_error"),
        ("names", "names-http", "good.test"): ("healthy", None),
        ("names", "names-http", "silent.test"): ("unknown", "dns_server_unreachable"),
        ("names", "names-http", "multi.test"): ("unhealthy", "tcp_connect_error"),
        ("later", "daily", "127.0.0.1"): ("unknown", "not_yet_probed"),
        # HTTPS: whatever the first probe decided (healthy with a chain of 2, and a tls_* reason,
        # once TLS probing is in the build); None = any state but not_yet_probed.
        ("tls", "tls-ok", "127.0.0.1"): (None, None),
        ("tls", "tls-self-signed", "127.0.0.1"): ("unhealthy", None),
        (HOSTILE_POOL, "shop-http", "127.0.0.1"): ("healthy", None),
    }
    try:
        with Exporter(config) as exporter:
            def settled():
                found = servers_by_triple(exporter.json("/backend-health"))
                for key, (state, reason) in expected.items():
                    s = found.get(key)
                    if s is None or s["reason"] == "not_yet_probed" and reason != s["reason"]:
                        return False
                    if state is not None and s["health"] != state.capitalize():
                        return False
                    if reason and s["reason"] != reason:
                        return False
                return found
            found = wait_until(settled, timeout=30, interval=0.2,
                               what="every server in its expected state")
            tls_reason = found[("tls", "tls-self-signed", "127.0.0.1")]["reason"]
            assert tls_reason.startswith("tls_"), tls_reason
            has_chain = bool((found[("tls", "tls-ok", "127.0.0.1")].get("lastProbe") or {}).get("tls"))
            print(f"all {len(expected)} servers settled; self-signed server: {tls_reason}; "
                  f"chain in JSON: {has_chain}", flush=True)
            rows = [{"pool": k[0], "settings": k[1], "server": k[2],
                     "state": found[k]["health"].lower(), "reason": found[k]["reason"]}
                    for k in expected]
            run_node("status_page.test.mjs", exporter.base, screenshot,
                     {"rows": rows, "hostilePool": HOSTILE_POOL})
    finally:
        for peer in (silent_peer, garbage_peer):
            peer.close()
        dns.close()
        nginx.close()
        shutil.rmtree(pki, ignore_errors=True)


SCALE_BIG = 9000          # one pool/settings with 9,000 servers
SCALE_SMALL_POOLS = 20    # plus 20 pools of 50
SCALE_TOTAL = SCALE_BIG + SCALE_SMALL_POOLS * 50


def scale_addresses(n, start=0):
    # 127.1.x.y: all of 127/8 is loopback, and nothing listens on the closed port.
    return [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(start, start + n)]


def test_scale(screenshot):
    closed_port = free_port()
    big = ", ".join(f'"{a}"' for a in scale_addresses(SCALE_BIG))
    pools = [f"""
[[backend_pool]]
name = "big"
servers = [{big}]
backend_settings = ["web"]
"""]
    for p in range(SCALE_SMALL_POOLS):
        addrs = ", ".join(f'"{a}"' for a in scale_addresses(50, SCALE_BIG + 50 * p))
        pools.append(f"""
[[backend_pool]]
name = "pool-{p:02d}"
servers = [{addrs}]
backend_settings = ["web"]
""")
    # An hour between probes: most servers stay not_yet_probed, a few get probed (refused) and
    # turn unhealthy while the test runs, so the page shows all of that mixed.
    config = "".join(pools) + f"""
[[backend_settings]]
name = "web"
port = {closed_port}
probe = "hourly"

[[probe]]
name = "hourly"
interval = "1h"
timeout = "1s"
"""
    with Exporter(config) as exporter:
        doc = exporter.json("/backend-health")
        total = len(servers_by_triple(doc))
        assert total == SCALE_TOTAL, total
        print(f"exporter serves {total} servers", flush=True)
        run_node("status_page_scale.test.mjs", exporter.base, screenshot,
                 {"total": SCALE_TOTAL, "pools": 1 + SCALE_SMALL_POOLS,
                  "deepServer": scale_addresses(1, SCALE_BIG - 1)[0]})


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("main", "scale"):
        sys.exit(__doc__)
    preflight()
    screenshot = os.path.abspath(sys.argv[2])
    os.makedirs(os.path.dirname(screenshot), exist_ok=True)
    {"main": test_main, "scale": test_scale}[sys.argv[1]](screenshot)
    print(f"screenshot: {screenshot}")


if __name__ == "__main__":
    main()
