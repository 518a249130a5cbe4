"""The backends every contender of the benchmark probes, started once per run inside the
benchmark's private network namespace: one nginx (plain HTTP, and HTTPS with an RSA-2048 and an
ECDSA P-256 chain generated at run time), a listener that accepts and never answers, and a port
nobody listens on. Servers are distinct loopback addresses; nginx listens on 0.0.0.0."""

import multiprocessing
import os
import selectors
import socket
import subprocess

from harness import Nginx, fail

HTTP_PORT = 8080
HANGING_PORT = 8081
REFUSED_PORT = 8082  # nothing ever listens here: connections are refused
# Contenders that probe (ours, blackbox_exporter) get nginx's *default* TLS settings: only the
# certificate and key directives.
TLS_PORTS = {"rsa": 8443, "ecdsa": 8444}
# wrk keeps its SSL object across reconnects and so resumes the previous session (nginx's default
# session tickets); these twins of the ports above turn tickets off so that every request of the
# bare client pays a full handshake, as every probe does.
BARE_TLS_PORTS = {"rsa": 9443, "ecdsa": 9444}
HOST_NAME = "bench.test"
STATUS_PATH = "/nginx_status"

_KEY_ARGS = {
    "rsa": ["-newkey", "rsa:2048"],
    "ecdsa": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
}


def addresses(first, count):
    """`count` distinct loopback addresses 127.x.y.z, starting with the `first`-th."""
    out = []
    for i in range(first, first + count):
        out.append(f"127.{10 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}")
    return out


class Chain:
    """A private root, an intermediate (pathlen 0) and a leaf for HOST_NAME, one key type."""

    def __init__(self, directory, kind):
        self.kind = kind
        base = os.path.join(directory, kind)
        self.root = base + "-root.pem"
        self.served = base + "-served.pem"  # leaf then intermediate: what nginx presents
        self.key = base + "-leaf.key"
        ca_ext = base + "-ca.ext"
        leaf_ext = base + "-leaf.ext"
        with open(ca_ext, "w") as f:
            f.write("basicConstraints=critical,CA:TRUE,pathlen:0\n"
                    "keyUsage=critical,keyCertSign,cRLSign\n")
        with open(leaf_ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    f"extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{HOST_NAME}\n")
        key_args = _KEY_ARGS[kind]
        _openssl("req", "-x509", *key_args, "-nodes", "-keyout", base + "-root.key", "-out",
                 self.root, "-days", "30", "-subj", f"/O=BHE Bench/CN=BHE Bench {kind} Root",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        for name, subject, issuer, ext in (
                ("int", f"/O=BHE Bench/CN=BHE Bench {kind} Intermediate", "root", ca_ext),
                ("leaf", f"/O=BHE Bench/CN={HOST_NAME}", "int", leaf_ext)):
            _openssl("req", *key_args, "-nodes", "-keyout", f"{base}-{name}.key", "-out",
                     f"{base}-{name}.csr", "-subj", subject)
            _openssl("x509", "-req", "-in", f"{base}-{name}.csr", "-CA", f"{base}-{issuer}.pem",
                     "-CAkey", f"{base}-{issuer}.key", "-CAcreateserial", "-days", "30",
                     "-extfile", ext, "-out", f"{base}-{name}.pem")
        with open(self.served, "w") as out:
            for name in ("leaf", "int"):
                with open(f"{base}-{name}.pem") as f:
                    out.write(f.read())


def _openssl(*args):
    p = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"openssl {' '.join(args[:2])} failed: {p.stderr.strip()}")


def start_nginx(chains, tls_log):
    """One nginx for every contender. Each TLS request is logged to `tls_log` as
    "PORT RESUMED PROTOCOL CURVE" so the report can show what each contender negotiated."""
    servers = []
    for kind, chain in chains.items():
        for port, extra in ((TLS_PORTS[kind], ""),
                            (BARE_TLS_PORTS[kind], "ssl_session_tickets off;")):
            servers.append(f"""
  server {{
    listen 0.0.0.0:{port} ssl backlog=4096;
    ssl_certificate {chain.served};
    ssl_certificate_key {chain.key};
    {extra}
    access_log {tls_log} bench_tls;
    location = / {{ return 200 "OK"; }}
  }}""")
    http_extra = ("log_format bench_tls '$server_port $ssl_session_reused $ssl_protocol "
                  "$ssl_curve';" + "".join(servers))
    locations = (f'location = / {{ return 200 "OK"; }}\n'
                 f'    location = {STATUS_PATH} {{ stub_status; }}')
    return Nginx(locations, listen=f"0.0.0.0:{HTTP_PORT}", http_extra=http_extra,
                 worker_processes=os.cpu_count() or 1)


def nginx_requests():
    """Requests nginx has handled so far (stub_status), not counting this one."""
    with socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=5) as s:
        s.sendall(f"GET {STATUS_PATH} HTTP/1.0\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    # "Active connections: 1\nserver accepts handled requests\n 10 10 12\n..."
    lines = data.split(b"\r\n\r\n", 1)[1].decode().splitlines()
    return int(lines[2].split()[2]) - 1


def read_tls_log(path, start, end):
    """Counter of (port, resumed, protocol, curve) for the log lines in bytes [start, end)."""
    counts = {}
    with open(path, "rb") as f:
        f.seek(start)
        for line in f.read(end - start).decode().splitlines():
            port, reused, protocol, curve = line.split()
            key = (int(port), reused == "r", protocol, curve)
            counts[key] = counts.get(key, 0) + 1
    return counts


def _hold_connections(port, ready):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(4096)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    ready.set()
    while True:
        for key, _ in selector.select():
            if key.fileobj is listener:
                while True:
                    try:
                        conn, _ = listener.accept()
                    except BlockingIOError:
                        break
                    conn.setblocking(False)
                    selector.register(conn, selectors.EVENT_READ)
                continue
            try:
                data = key.fileobj.recv(65536)
            except OSError:
                data = b""
            if not data:  # the prober gave up
                selector.unregister(key.fileobj)
                key.fileobj.close()


class HangingListener:
    """Accepts every connection on 0.0.0.0:HANGING_PORT, reads, never answers, and closes only
    when the client does: a probe of it ends in its timeout. Its own process, so that the
    benchmark's scrapes never delay an accept (a full accept queue would turn the hang into a
    refused or dropped connect)."""

    def __init__(self):
        context = multiprocessing.get_context("fork")
        ready = context.Event()
        self.process = context.Process(target=_hold_connections, args=(HANGING_PORT, ready),
                                       daemon=True)
        self.process.start()
        if not ready.wait(10):
            fail("the hanging listener did not start")

    def close(self):
        self.process.terminate()
        self.process.join(5)
