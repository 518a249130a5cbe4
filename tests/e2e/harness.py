"""End-to-end test harness: starts the real exporter binary and real peers on loopback.

Everything here is started by the tests themselves and only ever talks to 127.0.0.0/8 (or to a
network namespace the test created). Python standard library only (Debian's python3).

    exporter = Exporter(config_text)          # writes the config, starts the binary, waits ready
    exporter.wait_for(lambda m: m.value("backend_health_server_state", pool="p", ...) == 1)
    exporter.stop()                            # SIGTERM, asserts a clean exit

The binary comes from $BHE_BINARY (set by CTest).
"""

import fcntl
import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BINARY = os.environ.get("BHE_BINARY", "")
DEFAULT_TIMEOUT = 20.0


def fail(message):
    raise AssertionError(message)


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


_RESERVED_PORTS = {}  # port -> the open lock file that reserves it for this process


def free_port(host="127.0.0.1", also_free_on=()):
    """A TCP port for a server this test starts: nothing listens on it now (on `host`, nor on
    the addresses of `also_free_on`), and neither the kernel nor another test hands it out
    meanwhile. It is taken below the kernel's ephemeral range (which bind(0) and every
    outgoing connection's source port draw from), and reserved
    against the other test processes of a parallel ctest by an flock held until this process
    exits. (A port from bind(0) that is closed again can be the next one the kernel hands to
    anyone: under a parallel ctest another test's nginx once answered on a port a test expected
    to be its own or closed.)"""
    low, high = _ephemeral_range()
    if low > 12000:
        first, last = 10000, low - 1
    elif high < 64000:
        first, last = high + 1, 65535
    else:  # the ephemeral range is nearly everything: only the reservation is left
        first, last = 10000, 65535
    directory = os.path.join(tempfile.gettempdir(), "bhe-test-ports")
    os.makedirs(directory, exist_ok=True)
    rng = random.Random()
    for _ in range(2000):
        port = rng.randint(first, last)
        if port in _RESERVED_PORTS:
            continue
        lock = open(os.path.join(directory, str(port)), "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        try:
            for address in (host, *also_free_on):
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                with socket.socket(family, socket.SOCK_STREAM) as s:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind((address, port))
        except OSError:
            lock.close()
            continue
        _RESERVED_PORTS[port] = lock
        return port
    fail(f"no free port for {host} in {first}-{last}")


_HELD_PORTS = []


def refused_port(host="127.0.0.1"):
    """A TCP port that refuses connections for the rest of this test process: bound, never
    listening, and held, so that no other test's server can take it meanwhile. (A port bound
    and closed again can be handed to the next bind of any process: under a parallel ctest
    another test's nginx once answered 404 on a port a test expected to refuse.)"""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((host, 0))
    _HELD_PORTS.append(s)
    return s.getsockname()[1]


def wait_until(predicate, timeout=DEFAULT_TIMEOUT, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except AssertionError as e:  # predicates may assert; keep the last message
            last_error = e
        time.sleep(interval)
    fail(f"timed out after {timeout}s waiting for {what}" + (f": {last_error}" if last_error else ""))


def http_get(url, timeout=10.0, method="GET", data=None, headers=None):
    """Returns (status, body text, headers); never raises on HTTP error statuses."""
    request = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace"), dict(response.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace"), dict(e.headers)


# --- Prometheus text exposition -----------------------------------------------------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Metrics:
    """Parsed /metrics text: samples as (name, labels dict, float value)."""

    def __init__(self, text):
        self.text = text
        self.samples = []
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            m = _SAMPLE.match(line)
            if not m:
                fail(f"unparsable exposition line: {line!r}")
            labels = {}
            if m.group(3):
                for lm in _LABEL.finditer(m.group(3)):
                    labels[lm.group(1)] = bytes(lm.group(2), "utf-8").decode("unicode_escape")
            self.samples.append((m.group(1), labels, float(m.group(4))))

    def select(self, name, **labels):
        return [(l, v) for (n, l, v) in self.samples
                if n == name and all(l.get(k) == str(val) for k, val in labels.items())]

    def value(self, name, **labels):
        found = self.select(name, **labels)
        if len(found) != 1:
            return None
        return found[0][1]

    def series(self, name, **labels):
        """Sorted exposition lines of one metric (for exact comparisons)."""
        out = []
        for l, v in self.select(name, **labels):
            rendered = ",".join(f'{k}="{l[k]}"' for k in l)
            out.append(f"{name}{{{rendered}}} {v:g}")
        return sorted(out)


def server_labels(pool, settings, server):
    return {"pool": pool, "settings": settings, "server": server}


def expected_state_series(pool, settings, server, state):
    labels = f'pool="{pool}",settings="{settings}",server="{server}"'
    return sorted(f'backend_health_server_state{{{labels},state="{s}"}} {1 if s == state else 0}'
                  for s in ("healthy", "unhealthy", "unknown"))


def expected_reason_series(pool, settings, server, category, reason):
    labels = f'pool="{pool}",settings="{settings}",server="{server}"'
    return [f'backend_health_server_failure_reason{{{labels},category="{category}",reason="{reason}"}} 1']


# --- the exporter -------------------------------------------------------------------------------

class Exporter:
    """The real binary with a config written to a temp dir, listening on a free loopback port."""

    def __init__(self, config_text, extra_args=(), workdir=None, env=None, preexec_fn=None):
        if not BINARY or not os.path.exists(BINARY):
            fail(f"BHE_BINARY={BINARY!r} does not point at the exporter binary")
        self.dir = workdir or tempfile.mkdtemp(prefix="bhe-e2e-")
        self.config_path = os.path.join(self.dir, "config.toml")
        self.write_config(config_text)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(self.dir, "exporter.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [BINARY, f"--config.file={self.config_path}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.format=json", *extra_args],
            stdout=self._log, stderr=subprocess.STDOUT, env=env, preexec_fn=preexec_fn)
        try:
            wait_until(self._ready, timeout=15, what="the exporter to become ready")
        except AssertionError:
            self.proc.kill()
            raise AssertionError("exporter did not start:\n" + self.log_text())

    def write_config(self, text):
        with open(self.config_path, "w") as f:
            f.write(text)

    def _ready(self):
        if self.proc.poll() is not None:
            fail(f"exporter exited with {self.proc.returncode}:\n{self.log_text()}")
        try:
            status, _, _ = http_get(self.base + "/-/ready", timeout=1)
            return status == 200
        except OSError:
            return False

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_events(self, msg=None):
        events = []
        for line in self.log_text().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if msg is None or event.get("msg") == msg:
                events.append(event)
        return events

    def state_changes(self, **labels):
        return [e for e in self.log_events("backend state changed")
                if all(e.get(k) == v for k, v in labels.items())]

    def scrape(self):
        status, body, headers = http_get(self.base + "/metrics")
        if status != 200:
            fail(f"/metrics answered {status}: {body}")
        return Metrics(body)

    def get(self, path, **kwargs):
        return http_get(self.base + path, **kwargs)

    def json(self, path):
        status, body, _ = self.get(path)
        if status != 200:
            fail(f"{path} answered {status}: {body}")
        return json.loads(body)

    def wait_for(self, predicate, timeout=DEFAULT_TIMEOUT, what="metrics condition"):
        """Scrapes until predicate(Metrics) is true; returns that scrape."""
        holder = {}

        def check():
            holder["m"] = self.scrape()
            return predicate(holder["m"])

        wait_until(check, timeout=timeout, interval=0.1, what=what)
        return holder["m"]

    def wait_for_state(self, pool, settings, server, state, timeout=DEFAULT_TIMEOUT):
        return self.wait_for(
            lambda m: m.value("backend_health_server_state", pool=pool, settings=settings,
                              server=server, state=state) == 1,
            timeout=timeout, what=f"{pool}/{settings}/{server} to become {state}")

    def signal(self, signum):
        self.proc.send_signal(signum)

    def stop(self, expect_code=0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                fail("exporter did not stop within 15s of SIGTERM:\n" + self.log_text())
        self._log.close()
        if expect_code is not None and self.proc.returncode != expect_code:
            fail(f"exporter exited with {self.proc.returncode}, expected {expect_code}:\n"
                 + self.log_text())
        return self.log_text()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.stop()
        else:
            if self.proc.poll() is None:
                self.proc.kill()
            sys.stderr.write("--- exporter log ---\n" + self.log_text())


def run_cli(*args, timeout=60):
    """Runs the binary with arguments; returns (exit code, stdout, stderr)."""
    p = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def proc_usage(pid):
    """(CPU seconds used, resident set size in KiB) of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss_kib = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_kib = int(line.split()[1])
    return cpu, rss_kib


# "asan" or "tsan" when the binary is a sanitizer build (set by tests/e2e/CMakeLists.txt).
INSTRUMENTED = os.environ.get("BHE_INSTRUMENTED", "")


def memory_report(pid):
    """Where a process's resident memory is: its smaps totals and its five largest mappings."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        totals = [line.rstrip() for line in f if line.split(":")[0] in
                  ("Rss", "Anonymous", "AnonHugePages", "Shared_Clean", "Private_Clean",
                   "Private_Dirty")]
    mappings, current = [], None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                current = line.split(None, 5)[-1].strip() if len(line.split()) > 5 else "[anon]"
                current = (line.split()[0], current)
            elif line.startswith("Rss:") and current:
                mappings.append((int(line.split()[1]), *current))
    largest = sorted(mappings, reverse=True)[:5]
    return "\n".join(totals + [f"{kib} KiB {rng} {name}" for kib, rng, name in largest])


# --- peers --------------------------------------------------------------------------------------

class TcpPeer:
    """A loopback TCP listener whose per-connection behaviour is a Python function."""

    def __init__(self, behaviour, host="127.0.0.1", port=0):
        self.behaviour = behaviour
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.active = 0      # connections open right now
        self.max_active = 0  # the most that were ever open at once
        self._lock = threading.Lock()
        self._stop = False
        self._threads = []
        self._accept_thread = threading.Thread(target=self._accept, daemon=True)
        self._accept_thread.start()

    def _accept(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()

    def _serve(self, conn):
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            self.behaviour(conn)
        except OSError:
            pass
        finally:
            with self._lock:
                self.active -= 1
            try:
                conn.close()
            except OSError:
                pass

    def close(self):
        self._stop = True
        self.sock.close()


def read_request(conn, limit=65536):
    data = b""
    conn.settimeout(10)
    while b"\r\n\r\n" not in data and len(data) < limit:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def silent(conn):
    """Accepts and never answers (holds the connection until the client gives up)."""
    conn.settimeout(60)
    while conn.recv(4096):
        pass


GARBAGE_BYTES = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\x00\x01\x02 not http at all\r\n"
PARTIAL_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"


def garbage(conn):
    read_request(conn)
    conn.sendall(GARBAGE_BYTES)
    time.sleep(0.2)


def close_early(conn):
    read_request(conn)
    conn.sendall(PARTIAL_RESPONSE)


def reset_after_request(conn):
    read_request(conn)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def http_ok(conn):
    """Answers every request with 200 OK."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK")


def scripted_http(statuses, default=200):
    """A behaviour answering the n-th request with statuses[n] (then `default`)."""
    lock = threading.Lock()
    served = []

    def behaviour(conn):
        read_request(conn)
        with lock:
            status = statuses[len(served)] if len(served) < len(statuses) else default
            served.append(status)
        body = b"OK" if status < 400 else b"failing"
        conn.sendall(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                     % (status, len(body), body))

    behaviour.served = served
    return behaviour


class Nginx:
    """A real nginx serving `locations` (nginx config text) on a loopback port."""

    def __init__(self, locations, listen=None, http_extra="", worker_processes=1):
        self.dir = tempfile.mkdtemp(prefix="bhe-nginx-")
        self.port = free_port()
        listen = listen or f"127.0.0.1:{self.port}"
        conf = f"""
worker_processes {worker_processes};
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {self.dir}/body;
  proxy_temp_path {self.dir}/proxy;
  fastcgi_temp_path {self.dir}/fastcgi;
  uwsgi_temp_path {self.dir}/uwsgi;
  scgi_temp_path {self.dir}/scgi;
  default_type text/plain;
  {http_extra}
  server {{
    listen {listen} backlog=4096;
    {locations}
  }}
}}
"""
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([nginx, "-p", self.dir, "-c", self.conf, "-e",
                                      f"{self.dir}/error.log"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        host, port = listen.rsplit(":", 1)
        host = "127.0.0.1" if host in ("0.0.0.0", "*") else host

        def up():
            if self.proc.poll() is not None:
                fail("nginx exited: " + self.proc.stderr.read().decode())
            try:
                with socket.create_connection((host, int(port)), timeout=0.5):
                    return True
            except OSError:
                return False

        wait_until(up, timeout=10, what="nginx to listen")

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


# --- DNS ----------------------------------------------------------------------------------------

class DnsServer:
    """An authoritative-ish DNS server on a loopback UDP port, answering from `records`:
    name -> "1.2.3.4" (A), a list of addresses (A and AAAA records: ["127.0.0.1", "::1"]),
    "NXDOMAIN", "SERVFAIL", "REFUSED", "DROP" (never answers) or "NODATA". Unknown names get
    NXDOMAIN. `records` may be changed while it runs."""

    def __init__(self, records, ttl=0):
        self.records = dict(records)
        self.ttl = ttl
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                packet, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                reply = self._answer(packet)
            except Exception:  # malformed query: ignore it, like a real server would
                continue
            if reply is not None:
                self.sock.sendto(reply, peer)

    def _answer(self, packet):
        qid, flags, qdcount = struct.unpack("!HHH", packet[:6])
        pos = 12
        labels = []
        while packet[pos] != 0:
            n = packet[pos]
            labels.append(packet[pos + 1:pos + 1 + n].decode("ascii").lower())
            pos += 1 + n
        question_end = pos + 5
        qtype = struct.unpack("!H", packet[pos + 1:pos + 3])[0]
        name = ".".join(labels)
        self.queries.append((name, qtype))
        rule = self.records.get(name, "NXDOMAIN")
        rd = flags & 0x0100
        rcode = {"NXDOMAIN": 3, "SERVFAIL": 2, "REFUSED": 5}.get(rule, 0) if isinstance(rule, str) else 0
        if rule == "DROP":
            return None
        answers = b""
        ancount = 0
        if rcode == 0 and rule != "NODATA":
            for address in [rule] if isinstance(rule, str) else rule:
                family, rtype = (socket.AF_INET6, 28) if ":" in address else (socket.AF_INET, 1)
                if qtype != rtype:
                    continue
                data = socket.inet_pton(family, address)
                answers += (b"\xc0\x0c" + struct.pack("!HHIH", rtype, 1, self.ttl, len(data))
                            + data)
                ancount += 1
        header = struct.pack("!HHHHHH", qid, 0x8400 | rd | rcode, qdcount, ancount, 0, 0)
        return header + packet[12:question_end] + answers

    def close(self):
        self.sock.close()


# --- network namespaces -------------------------------------------------------------------------

def in_private_netns():
    return os.environ.get("BHE_IN_NETNS") == "1"


def reexec_in_netns():
    """Re-runs this test script inside a new network namespace (loopback only, brought up), so
    it may bind 0.0.0.0 and use routes of its own without touching the host's network."""
    if in_private_netns():
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        fail("unshare (util-linux) and ip (iproute2) are needed: run scripts/setup.sh --test")
    env = dict(os.environ, BHE_IN_NETNS="1")
    p = subprocess.run(["unshare", "--net", "--", sys.executable, *sys.argv], env=env)
    sys.exit(p.returncode)


def run_tests(tests):
    """Runs test functions in order; prints a summary; exits non-zero on the first failure."""
    for t in tests:
        start = time.monotonic()
        print(f"=== {t.__name__}", flush=True)
        t()
        print(f"--- ok {t.__name__} ({time.monotonic() - start:.1f}s)", flush=True)
    print(f"all {len(tests)} passed")
