"""The web listener cannot be starved: with 50 idle connections, 100 connections that send one
header byte per second and 8 /probe calls hanging on a backend that never answers, a /metrics
scrape still completes within 1 s, a 9th /probe is refused with 429, and 200 concurrent scrapes
all get complete bodies. Idle and slow clients are closed after the header deadline. Also: the
request limits (body, header size, malformed requests), HEAD, and listening on IPv6."""

import os
import socket
import struct
import subprocess
import tempfile
import threading
import time

from harness import (DnsServer, Exporter, Metrics, TcpPeer, fail, free_port, http_get, run_tests,
                     silent, wait_until)

SCRAPE_BOUND_S = 1.0        # the target: a scrape completes within 1 s during the storm
HEADER_DEADLINE_S = 5.0     # the exporter's header-read deadline
PROBE_TIMEOUT_S = 20        # the silent backend's probe timeout: on-demand probes hang this long


def config(silent_port, dns_address):
    return f"""
[exporter]
dns_servers = ["{dns_address}"]

[[backend_pool]]
name = "p"
servers = ["127.0.0.1"]
backend_settings = ["silent"]

[[backend_settings]]
name = "silent"
port = {silent_port}
probe = "slow"

[[probe]]
name = "slow"
path = "/"
interval = "1m"
timeout = "{PROBE_TIMEOUT_S}s"
"""


PROBE_PATH = "/probe?pool=p&settings=silent&server=127.0.0.1"


def timed_scrape(base):
    start = time.monotonic()
    status, body, headers = http_get(base + "/metrics", timeout=30)
    elapsed = time.monotonic() - start
    return status, body, headers, elapsed


def check_complete_metrics(status, body, headers):
    assert status == 200, (status, body[:200])
    # Streamed in chunks: a body cut off mid-way raises in the client (IncompleteRead) instead of
    # arriving shorter, so one that arrived is whole.
    assert headers.get("Transfer-Encoding") == "chunked", headers
    assert body.endswith("\n"), body[-200:]
    m = Metrics(body)
    assert m.value("backend_health_exporter_build_info") == 1, body[:500]
    assert m.value("backend_health_server_state", pool="p", state="unknown") is not None, body


class SlowClients:
    """`idle` connections that never send a byte and `drip` connections that send one header byte
    per second (never finishing the request); records when the exporter closes each of them."""

    def __init__(self, port, idle, drip):
        self.opened_at = time.monotonic()
        self.idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(idle)]
        self.drip = [socket.create_connection(("127.0.0.1", port)) for _ in range(drip)]
        self.closed_after = {}  # socket -> seconds from opening until the exporter closed it
        self._stop = False
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._watch, daemon=True),
                         threading.Thread(target=self._drip, daemon=True)]
        for t in self._threads:
            t.start()

    def _closed(self, s):
        with self._lock:
            self.closed_after.setdefault(s, time.monotonic() - self.opened_at)

    def _watch(self):
        """Notices EOF (or a reset) on the idle connections."""
        for s in self.idle:
            s.setblocking(False)
        while not self._stop and len(self.closed_after) < len(self.idle) + len(self.drip):
            for s in self.idle:
                if s in self.closed_after:
                    continue
                try:
                    if s.recv(4096) == b"":
                        self._closed(s)
                except BlockingIOError:
                    pass
                except OSError:
                    self._closed(s)
            time.sleep(0.1)

    def _drip(self):
        request = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
        for s in self.drip:
            s.setblocking(False)
        i = 0
        while not self._stop:
            for s in self.drip:
                if s in self.closed_after:
                    continue
                try:
                    if s.recv(4096) == b"":  # 408 or plain EOF: the exporter gave up on us
                        self._closed(s)
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    self._closed(s)
                    continue
                try:
                    s.send(request[i % len(request):i % len(request) + 1])
                except OSError:
                    self._closed(s)
            i += 1
            time.sleep(1.0)

    def open_count(self):
        with self._lock:
            return len(self.idle) + len(self.drip) - len(self.closed_after)

    def close(self):
        self._stop = True
        for s in self.idle + self.drip:
            s.close()


def test_scrapes_are_not_starved():
    backend = TcpPeer(silent)
    dns = DnsServer({})
    try:
        with Exporter(config(backend.port, dns.address)) as exporter:
            clients = SlowClients(exporter.port, idle=50, drip=100)

            probes = []

            def probe():
                probes.append(http_get(exporter.base + PROBE_PATH, timeout=PROBE_TIMEOUT_S + 30))

            probe_threads = [threading.Thread(target=probe, daemon=True) for _ in range(8)]
            for t in probe_threads:
                t.start()
            # All 8 reach the backend: none of them waits for a web thread the others hold. (The
            # scheduled probe may hang there too, at a jittered moment within its first interval.)
            wait_until(lambda: backend.active >= 8, timeout=10,
                       what="8 on-demand probes hanging on the silent backend")
            assert clients.open_count() == 150, "slow clients closed before the deadline"

            elapsed = []
            for _ in range(5):
                status, body, headers, seconds = timed_scrape(exporter.base)
                check_complete_metrics(status, body, headers)
                elapsed.append(seconds)
            print(f"scrapes during the storm: {', '.join(f'{s:.3f}s' for s in elapsed)}")
            assert max(elapsed) < SCRAPE_BOUND_S, elapsed

            status, body, headers = http_get(exporter.base + PROBE_PATH, timeout=10)
            assert status == 429, (status, body)
            assert int(headers["Retry-After"]) >= 1, headers
            assert "8 on-demand probes are already running" in body, body

            # 200 scrapes at once, while the storm goes on.
            results = [None] * 200
            barrier = threading.Barrier(200)

            def scrape(i):
                barrier.wait()
                results[i] = timed_scrape(exporter.base)

            threads = [threading.Thread(target=scrape, args=(i,)) for i in range(200)]
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            for status, body, headers, _ in results:
                check_complete_metrics(status, body, headers)
            slowest = max(r[3] for r in results)
            print(f"200 concurrent scrapes: all complete in {time.monotonic() - started:.2f}s, "
                  f"slowest {slowest:.2f}s")

            # The header deadline closes every idle and dripping connection.
            wait_until(lambda: clients.open_count() == 0, timeout=HEADER_DEADLINE_S + 15,
                       what="the exporter to close idle and slow connections")
            first = min(clients.closed_after.values())
            last = max(clients.closed_after.values())
            print(f"slow clients closed {first:.1f}s to {last:.1f}s after they connected")
            assert first >= HEADER_DEADLINE_S - 0.5, first
            clients.close()

            # The hung probes end with the backend's timeout and free their slots.
            for t in probe_threads:
                t.join(timeout=PROBE_TIMEOUT_S + 30)
            assert len(probes) == 8
            for status, body, _ in probes:
                assert status == 200, (status, body)
                assert 'reason="backend_timeout"' in body, body
            status, body, headers, seconds = timed_scrape(exporter.base)
            check_complete_metrics(status, body, headers)
            status, _, _ = http_get(exporter.base + "/probe?pool=p&settings=nope&server=x")
            assert status == 404, status
    finally:
        backend.close()
        dns.close()


def raw_request(port, data, host="127.0.0.1", read_timeout=10):
    """Sends raw bytes, returns everything the exporter answers until it closes."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(read_timeout)
        s.connect((host, port))
        s.sendall(data)
        reply = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            reply += chunk
        return reply


def status_of(reply):
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else None


def test_request_limits_and_protocol():
    backend = TcpPeer(silent)
    dns = DnsServer({})
    try:
        with Exporter(config(backend.port, dns.address)) as exporter:
            port = exporter.port
            reply = raw_request(port, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            head, _, body = reply.partition(b"\r\n\r\n")
            assert status_of(reply) == 200 and body == b"", reply[:300]
            assert b"Transfer-Encoding: chunked" in head and b"Cache-Control: no-store" in head, head
            # An HTTP/1.0 client cannot take chunks: it gets the whole text with its length.
            reply = raw_request(port, b"GET /metrics HTTP/1.0\r\n\r\n")
            head, _, body = reply.partition(b"\r\n\r\n")
            assert status_of(reply) == 200 and b"Transfer-Encoding" not in head, head
            assert b"Content-Length: %d\r\n" % len(body) in head, head
            assert b"\nbackend_health_exporter_build_info{" in body, body[-300:]

            # Percent-decoded path; '+' in a path stays '+'; the query decodes '+' to a space.
            reply = raw_request(port, b"GET /%6Detrics HTTP/1.1\r\nHost: x\r\n\r\n")
            assert status_of(reply) == 200, reply[:300]
            reply = raw_request(port, b"GET /pro+be HTTP/1.1\r\nHost: x\r\n\r\n")
            assert status_of(reply) == 404 and b"404 page not found: /pro+be" in reply, reply
            reply = raw_request(port, b"GET /probe?pool=p&settings=no+pe&server=127.0.0.1 "
                                      b"HTTP/1.1\r\nHost: x\r\n\r\n")
            assert status_of(reply) == 404 and b'settings="no pe"' in reply, reply

            reply = raw_request(port, b"DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            assert status_of(reply) == 405 and b"Allow: GET, HEAD\r\n" in reply, reply
            assert b"method DELETE not allowed on /metrics\n" in reply, reply

            # A body over 64 KiB is refused, announced or not.
            reply = raw_request(port, b"POST /-/reload HTTP/1.1\r\nHost: x\r\n"
                                      b"Content-Length: 1000000\r\n\r\n" + b"x" * 70000)
            assert status_of(reply) == 413, reply[:300]
            chunked = b"".join(b"%x\r\n%s\r\n" % (8192, b"x" * 8192) for _ in range(9))
            reply = raw_request(port, b"POST /-/reload HTTP/1.1\r\nHost: x\r\n"
                                      b"Transfer-Encoding: chunked\r\n\r\n" + chunked + b"0\r\n\r\n")
            assert status_of(reply) == 413, reply[:300]

            # Request line and headers together are bounded.
            reply = raw_request(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: "
                                + b"y" * 20000 + b"\r\n\r\n")
            assert status_of(reply) == 431, reply[:300]
            reply = raw_request(port, b"GET /" + b"m" * 20000 + b" HTTP/1.1\r\n\r\n")
            assert status_of(reply) == 431, reply[:300]

            # Not HTTP at all: 400, and the connection is closed.
            reply = raw_request(port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage")
            assert status_of(reply) == 400, reply[:300]

            # A request that stops half-way is answered 408 at the header deadline.
            started = time.monotonic()
            reply = raw_request(port, b"GET /metrics HTTP/1.1\r\nHost:", read_timeout=30)
            waited = time.monotonic() - started
            assert status_of(reply) == 408, reply[:300]
            assert HEADER_DEADLINE_S - 0.5 <= waited < HEADER_DEADLINE_S + 10, waited

            # Keep-alive is not offered: every response closes its connection.
            reply = raw_request(port, b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"
                                      b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
            assert reply.count(b"HTTP/1.1 200") == 1 and b"Connection: close" in reply, reply

            # Clients that reset the connection before (or while) their response is written
            # cost an error on that socket only.
            for _ in range(20):
                with socket.create_connection(("127.0.0.1", port)) as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            assert exporter.proc.poll() is None, exporter.log_text()

            # HTTP/1.0 works too.
            reply = raw_request(port, b"GET /-/ready HTTP/1.0\r\n\r\n")
            assert status_of(reply) == 200 and reply.endswith(b"Ready\n"), reply
            assert exporter.scrape().value("backend_health_exporter_build_info") == 1
    finally:
        backend.close()
        dns.close()


def test_max_concurrent_probes_flag():
    backend = TcpPeer(silent)
    dns = DnsServer({})
    try:
        hung = []
        with Exporter(config(backend.port, dns.address),
                      extra_args=["--web.max-concurrent-probes=1"]) as exporter:
            first = threading.Thread(target=lambda: hung.append(
                http_get(exporter.base + PROBE_PATH, timeout=PROBE_TIMEOUT_S + 30)), daemon=True)
            first.start()
            wait_until(lambda: backend.connections >= 1, what="the on-demand probe to hang")
            status, body, headers = http_get(exporter.base + PROBE_PATH, timeout=10)
            assert status == 429 and "1 on-demand probe is already running" in body, (status, body)
            assert headers.get("Retry-After"), headers
            assert exporter.get("/-/healthy")[0] == 200
            # Leaving the block stops the exporter (within the harness's 15 s, less than the
            # hung probe's timeout): shutdown does not wait for the probe, the client gets 503.
        first.join(timeout=10)
        assert hung and hung[0][0] == 503 and "shutting down" in hung[0][1], hung
    finally:
        backend.close()
        dns.close()
    code = subprocess.run([os.environ["BHE_BINARY"], "--config.file=/nonexistent",
                           "--web.max-concurrent-probes=0"], capture_output=True, text=True)
    assert code.returncode != 0 and "max-concurrent-probes" in code.stderr, code


def test_ipv6_listener():
    dns = DnsServer({})
    workdir = tempfile.mkdtemp(prefix="bhe-web6-")
    config_path = os.path.join(workdir, "config.toml")
    with open(config_path, "w") as f:
        f.write(config(free_port(), dns.address))
    # Free on 127.0.0.1 too, and reserved: the IPv4 check below needs a port no other test's
    # server can be listening on (a bind(0) on ::1 once shared its number with one).
    port = free_port("::1", also_free_on=("127.0.0.1",))
    log = open(os.path.join(workdir, "exporter.log"), "wb")
    proc = subprocess.Popen([os.environ["BHE_BINARY"], f"--config.file={config_path}",
                             f"--web.listen-address=[::1]:{port}"], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        def ready():
            if proc.poll() is not None:
                fail("exporter exited: " + open(log.name).read())
            try:
                return http_get(f"http://[::1]:{port}/-/ready", timeout=1)[0] == 200
            except OSError:
                return False

        wait_until(ready, timeout=15, what="the exporter to listen on [::1]")
        status, body, headers = http_get(f"http://[::1]:{port}/metrics")
        check_complete_metrics(status, body, headers)
        reply = raw_request(port, b"GET /-/healthy HTTP/1.1\r\nHost: [::1]\r\n\r\n", host="::1")
        assert status_of(reply) == 200, reply
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                fail("an [::1] listener must not accept IPv4 connections")
        except ConnectionRefusedError:
            pass
    finally:
        proc.terminate()
        assert proc.wait(timeout=15) == 0, open(log.name).read()
        log.close()
        dns.close()


if __name__ == "__main__":
    run_tests([test_scrapes_are_not_starved, test_request_limits_and_protocol,
               test_max_concurrent_probes_flag, test_ipv6_listener])
