"""Probing keeps its cadence while a reload is slow or refused: reading, parsing and validating
the configuration runs off the probe loop.

The slow reload is a configuration file (or a certificate file it names) that is a FIFO nobody
writes to: opening it for reading blocks until a writer comes. Where the exporter refuses such
a file at once instead, the reload is refused, and the same things must hold. During it a
control server, probed every 200 ms, is counted by the server itself over a window; /metrics
answers; the running configuration stays. Requests that arrive during a blocked reload are
folded into one reload after it, and a shutdown does not wait for the blocked one.

No timing is asserted beyond generous counted bounds."""

import errno
import os
import signal
import subprocess
import threading
import time

from harness import Exporter, TcpPeer, fail, http_ok, run_tests, wait_until

INTERVAL_S = 0.2
WINDOW_S = 3.0


def config(port, extra_server=None, roots=None):
    servers = '"127.0.0.1"' + (f', "{extra_server}"' if extra_server else "")
    https = ""
    if roots is not None:
        https = f"""
[[backend_pool]]
name = "tls"
servers = ["127.0.0.1"]
backend_settings = ["private"]

[[backend_settings]]
name = "private"
protocol = "https"
port = {port}
trusted_root_certificates = ["{roots}"]
probe = "fast"
"""
    return f"""
[exporter]
dns_servers = ["127.0.0.1:9"]

[[backend_pool]]
name = "control"
servers = [{servers}]
backend_settings = ["web"]

[[backend_settings]]
name = "web"
port = {port}
probe = "fast"

[[probe]]
name = "fast"
interval = "{int(INTERVAL_S * 1000)}ms"
timeout = "1s"
{https}"""


def reloads(exporter):
    """(reloads applied, reloads rejected) so far, from the log."""
    return (len(exporter.log_events("config reloaded")),
            len(exporter.log_events("config reload rejected, keeping the running config")))


def blocked_or_refused(exporter, fifo, rejected_before):
    """Waits until the reload either blocks reading `fifo` or is refused. Blocked: returns the
    FIFO's write end, held open without writing, so that the reader, woken from its open, now
    waits in read; refused: None."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if reloads(exporter)[1] > rejected_before:
            return None
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:  # ENXIO: nobody has it open for reading (yet)
            if e.errno != errno.ENXIO:
                raise
            time.sleep(0.05)
            continue
        time.sleep(0.3)
        if reloads(exporter)[1] > rejected_before:  # opened only to be refused
            os.close(fd)
            return None
        return fd
    fail("the reload neither blocked on the FIFO nor was refused")


def feed(fd, data):
    """Ends the blocked read: `data`, then end of file."""
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def count_probes(exporter, peer):
    """Probes the control server answered over the window; /metrics is scraped meanwhile."""
    before = peer.connections
    started = time.monotonic()
    scrapes = 0
    while time.monotonic() - started < WINDOW_S:
        m = exporter.scrape()
        if m.value("backend_health_server_state", pool="control", settings="web",
                   server="127.0.0.1", state="healthy") != 1:
            fail("the control server is no longer healthy:\n" + m.text[:2000])
        scrapes += 1
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    probes = peer.connections - before
    expected = elapsed / INTERVAL_S
    print(f"  {probes} probes in {elapsed:.1f}s (due: {expected:.0f}), {scrapes} scrapes answered")
    # Generous: a loaded machine may delay some; a blocked loop makes none at all.
    assert probes >= expected * 0.5, f"only {probes} probes in {elapsed:.1f}s, {expected:.0f} due"
    return probes


def make_root(directory):
    """A CA certificate (PEM bytes), generated now."""
    pem = os.path.join(directory, "generated-root.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                    os.path.join(directory, "generated-root.key"), "-out", pem, "-days", "2",
                    "-subj", "/CN=Reload Cadence Root", "-addext",
                    "basicConstraints=critical,CA:TRUE", "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign"], check=True, capture_output=True)
    with open(pem, "rb") as f:
        return f.read()


def replace_with_fifo(path):
    """Puts a FIFO where `path` is (atomically); returns a second name for that FIFO."""
    fifo = path + ".fifo"
    os.mkfifo(fifo)
    link = path + ".fifo-link"
    os.link(fifo, link)
    os.rename(fifo, path)
    return link


def replace_with_text(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def test_config_file_is_a_fifo():
    peer = TcpPeer(http_ok)
    try:
        with Exporter(config(peer.port)) as exporter:
            exporter.wait_for_state("control", "web", "127.0.0.1", "healthy")
            link = replace_with_fifo(exporter.config_path)
            ok0, rejected0 = reloads(exporter)
            exporter.signal(signal.SIGHUP)
            writer = blocked_or_refused(exporter, link, rejected0)
            blocked = writer is not None
            print(f"reload of a FIFO config: {'blocked reading it' if blocked else 'refused'}")
            answers = []
            poster = None
            if blocked:
                # Requests during the blocked reload: folded into one reload after it.
                poster = threading.Thread(target=lambda: answers.append(
                    exporter.get("/-/reload", method="POST", data=b"", timeout=90)))
                poster.start()
                for _ in range(5):
                    exporter.signal(signal.SIGHUP)
                    time.sleep(0.05)
                # A second POST while the first waits: refused, not queued.
                second = wait_until(lambda: (lambda r: r if r[0] == 429 else None)(
                    exporter.get("/-/reload", method="POST", data=b"")), timeout=10,
                    what="a second POST /-/reload to be refused while the first waits")
                assert "already running" in second[1], second
            count_probes(exporter, peer)
            m = exporter.scrape()
            assert not m.select("backend_health_server_state", server="127.0.0.2")
            if not blocked:
                wait_until(lambda: reloads(exporter)[1] > rejected0, what="the refusal")
                assert m.value("backend_health_exporter_config_last_reload_successful") == 0
                return
            assert reloads(exporter) == (ok0, rejected0), "a reload finished while blocked"
            assert m.value("backend_health_exporter_config_last_reload_successful") == 1
            # The file becomes a valid config with one more server; the blocked reader gets
            # garbage and is rejected, the reload folded behind it reads the new file.
            replace_with_text(exporter.config_path, config(peer.port, extra_server="127.0.0.2"))
            feed(writer, b"this is [not toml")
            poster.join(60)
            assert answers and answers[0][0] == 200, answers
            # Nothing listens there: that the server exists is what counts.
            exporter.wait_for_state("control", "web", "127.0.0.2", "unhealthy")
            ok1, rejected1 = reloads(exporter)
            assert (ok1 - ok0, rejected1 - rejected0) == (1, 1), (ok1 - ok0, rejected1 - rejected0)
            folded = exporter.log_events("config reloaded")[-1]["trigger"]
            assert folded == "POST /-/reload, SIGHUP", folded
            os.unlink(link)
    finally:
        peer.close()


def test_certificate_file_is_a_fifo():
    peer = TcpPeer(http_ok)
    try:
        with Exporter(config(peer.port)) as exporter:
            exporter.wait_for_state("control", "web", "127.0.0.1", "healthy")
            roots = os.path.join(exporter.dir, "root.pem")
            os.mkfifo(roots)
            exporter.write_config(config(peer.port, roots=roots))
            ok0, rejected0 = reloads(exporter)
            exporter.signal(signal.SIGHUP)
            writer = blocked_or_refused(exporter, roots, rejected0)
            blocked = writer is not None
            print(f"reload with a FIFO certificate: {'blocked reading it' if blocked else 'refused'}")
            count_probes(exporter, peer)
            if blocked:
                assert reloads(exporter) == (ok0, rejected0)
                feed(writer, make_root(exporter.dir))
                wait_until(lambda: reloads(exporter)[0] > ok0, what="the reload to finish")
                m = exporter.scrape()
                assert m.value("backend_health_exporter_config_last_reload_successful") == 1
            else:
                wait_until(lambda: reloads(exporter)[1] > rejected0, what="the refusal")
    finally:
        peer.close()


def test_shutdown_does_not_wait_for_a_blocked_reload():
    peer = TcpPeer(http_ok)
    try:
        exporter = Exporter(config(peer.port))
        exporter.wait_for_state("control", "web", "127.0.0.1", "healthy")
        link = replace_with_fifo(exporter.config_path)
        rejected0 = reloads(exporter)[1]  # before the signal: a quick refusal must count
        exporter.signal(signal.SIGHUP)
        writer = blocked_or_refused(exporter, link, rejected0)
        started = time.monotonic()
        log = exporter.stop()  # asserts exit code 0 within 15 s
        print(f"stopped in {time.monotonic() - started:.2f}s with the reload "
              f"{'blocked' if writer is not None else 'refused'}")
        if writer is not None:
            assert "still reading its files at shutdown" in log, log
            os.close(writer)
        os.unlink(link)
    finally:
        peer.close()


if __name__ == "__main__":
    run_tests([test_config_file_is_a_fifo, test_certificate_file_is_a_fifo,
               test_shutdown_does_not_wait_for_a_blocked_reload])
