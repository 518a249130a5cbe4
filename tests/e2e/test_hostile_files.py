"""Hostile input files: TOML nested tens of thousands of levels deep (it segfaulted inside the TOML
parser), and a FIFO, /dev/zero or a directory where the config, a trusted root certificate or the
CA bundle should be (a FIFO hung check-config and froze probing on reload, /dev/zero grew the
process to gigabytes, a directory read as an empty config). Each is tried through check-config,
at start-up and, for the config, on the reload of a running exporter: every one must be a prompt,
clear error, and a running exporter must keep probing with its old config."""

import json
import os
import shutil
import signal
import subprocess
import tempfile

from harness import BINARY, Exporter, TcpPeer, fail, free_port, run_tests, scripted_http, wait_until

# A hang must fail the test, not stall it: every run of the binary gets this long.
PROMPTLY = 20
TOO_DEEP = "nested more than 32 levels deep"
LEVELS = 40000  # about 80 KB of text per shape, as in the issue


def nested_shapes():
    """(name, text, expected "LINE:COL: what") of each construct the issue named."""
    parts = ".".join(["a"] * LEVELS)
    return [
        ("table headers", f"[{parts}]\n", "1:66: table header"),
        ("array-of-tables headers", f"[[{parts}]]\n", "1:67: table header"),
        ("dotted keys", f"{parts} = 1\n", "1:65: dotted key"),
        ("nested arrays", "x = " + "[" * LEVELS + "]" * LEVELS + "\n", "1:37: array"),
        ("nested inline tables", "x = " + "{a = " * LEVELS + "1" + "}" * LEVELS + "\n",
         "1:161: inline table"),
    ]


def run(*args):
    try:
        p = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=PROMPTLY)
    except subprocess.TimeoutExpired:
        fail(f"{' '.join(args)} did not finish within {PROMPTLY}s (blocked on its input?)")
    return p.returncode, p.stdout, p.stderr


def check_config(path):
    return run("check-config", f"--config.file={path}")


def start(path):
    """Starts the exporter on a config that must be refused: (exit code, logged errors)."""
    code, _, err = run(f"--config.file={path}", "--web.listen-address=127.0.0.1:0",
                       "--log.format=json")
    errors = []
    for line in err.splitlines():
        event = json.loads(line)
        if event["level"] == "info":
            continue  # start-up facts such as the descriptor limit
        assert event["msg"] == "invalid configuration", event
        errors.append(event["error"])
    return code, errors


def config_text(backend_port, dns_port, settings_extra="", exporter_extra="", protocol="http"):
    return f"""[exporter]
dns_servers = ["127.0.0.1:{dns_port}"]
{exporter_extra}
[[backend_pool]]
name = "p"
servers = ["127.0.0.1"]
backend_settings = ["s"]

[[backend_settings]]
name = "s"
protocol = "{protocol}"
port = {backend_port}
probe = "fast"
{settings_extra}
[[probe]]
name = "fast"
path = "/"
interval = "200ms"
timeout = "1s"
"""


class Hostiles:
    """A FIFO (nobody writes to it), a symlink to /dev/zero, and a directory, in a temp dir."""

    def __init__(self, suffix):
        self.dir = tempfile.mkdtemp(prefix="bhe-hostile-")
        self.fifo = os.path.join(self.dir, "fifo" + suffix)
        os.mkfifo(self.fifo)
        self.zero = os.path.join(self.dir, "zero" + suffix)
        os.symlink("/dev/zero", self.zero)
        self.directory = os.path.join(self.dir, "dir" + suffix)
        os.mkdir(self.directory)

    def cases(self):
        return [(self.fifo, "it is a FIFO (named pipe), not a regular file"),
                (self.zero, "it is a character device, not a regular file"),
                ("/dev/zero", "it is a character device, not a regular file"),
                (self.directory, "it is a directory, not a regular file")]

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_nested_toml_in_check_config_and_at_start():
    work = tempfile.mkdtemp(prefix="bhe-nested-")
    try:
        good = config_text(free_port(), free_port())
        for name, nested, where in nested_shapes():
            # The nesting first (top-level keys must precede the tables), a valid config after it.
            path = write(work, "nested.toml", nested + good)
            assert os.path.getsize(path) > 80000, name
            code, out, err = check_config(path)
            assert code == 1, (name, code, out[:500], err[-2000:])
            lines = out.splitlines()
            assert len(lines) == 2, (name, out[:2000])
            assert lines[0].startswith(f"{path}:{where} {TOO_DEEP}"), (name, lines[0])
            assert lines[1] == f"1 problem found in {path}", (name, lines[1])

            code, errors = start(path)
            assert code == 1, (name, code, errors)
            assert len(errors) == 1 and errors[0].startswith(f"{path}:{where} {TOO_DEEP}"), \
                (name, errors)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_config_that_is_not_a_file():
    hostiles = Hostiles(".toml")
    try:
        for path, why in hostiles.cases():
            code, out, _ = check_config(path)
            assert code == 1, (path, code, out)
            assert out.splitlines() == [f"{path}: cannot read the config file: {why}",
                                        f"1 problem found in {path}"], (path, out)
            code, errors = start(path)
            assert (code, errors) == (1, [f"{path}: cannot read the config file: {why}"]), \
                (path, code, errors)
    finally:
        hostiles.close()


def test_web_config_that_is_not_a_file_or_nests_too_deep():
    """--web.config.file (basic auth) is read the same way as the config."""
    directory = tempfile.mkdtemp(prefix="bhe-hostile-web-")
    config = write(directory, "config.toml", config_text(free_port(), free_port()))
    hostiles = Hostiles(".toml")
    try:
        for path, why in hostiles.cases():
            code, _, err = run(f"--config.file={config}", f"--web.config.file={path}",
                               "--web.listen-address=127.0.0.1:0", "--log.format=json")
            assert code == 1, (path, code, err)
            assert f"{path}: cannot read the web config file: {why}" in err, (path, err)
        for name, text, where in nested_shapes():
            path = write(directory, "web.toml", text)
            code, _, err = run(f"--config.file={config}", f"--web.config.file={path}",
                               "--web.listen-address=127.0.0.1:0", "--log.format=json")
            assert code == 1 and f"{path}:{where}" in err, (name, code, err[:500])
    finally:
        hostiles.close()
        shutil.rmtree(directory, ignore_errors=True)


def test_certificate_and_bundle_that_are_not_files():
    hostiles = Hostiles(".pem")
    try:
        for path, why in hostiles.cases():
            root = config_text(free_port(), free_port(), protocol="https",
                               settings_extra=f'trusted_root_certificates = ["{path}"]\n')
            config = write(hostiles.dir, "roots.toml", root)
            code, out, _ = check_config(config)
            assert code == 1, (path, code, out)
            assert out.splitlines() == [
                f'{config}:14:30: [[backend_settings]] "s".trusted_root_certificates: "{path}": '
                f"cannot read: {why}", f"1 problem found in {config}"], (path, out)
            code, errors = start(config)
            assert (code, errors) == (1, out.splitlines()[:1]), (path, code, errors)

            # Without trusted roots, HTTPS settings are verified against the well-known bundle.
            bundle = config_text(free_port(), free_port(), protocol="https",
                                 exporter_extra=f'well_known_ca_bundle = "{path}"')
            config = write(hostiles.dir, "bundle.toml", bundle)
            code, out, _ = check_config(config)
            assert code == 1, (path, code, out)
            assert out.splitlines() == [
                f'{config}:3:24: exporter.well_known_ca_bundle "{path}": cannot read: {why}',
                f"1 problem found in {config}"], (path, out)
            code, errors = start(config)
            assert (code, errors) == (1, out.splitlines()[:1]), (path, code, errors)
    finally:
        hostiles.close()


def probes_done(metrics):
    return sum(v for _, v in metrics.select("backend_health_probes_total", pool="p"))


def test_running_exporter_rejects_hostile_reloads_and_keeps_probing():
    backend = TcpPeer(scripted_http([]))
    hostiles = Hostiles(".pem")
    good = config_text(backend.port, free_port())
    try:
        with Exporter(good) as exporter:
            exporter.wait_for_state("p", "s", "127.0.0.1", "healthy")
            rejections = 0

            def reload_is_rejected(trigger, expected_error):
                nonlocal rejections
                before = probes_done(exporter.scrape())
                if trigger == "SIGHUP":
                    exporter.signal(signal.SIGHUP)
                    wait_until(lambda: len(exporter.log_events(
                        "config reload rejected, keeping the running config")) > rejections,
                        timeout=PROMPTLY, what="the SIGHUP reload to be rejected")
                else:
                    status, body, _ = exporter.get("/-/reload", method="POST", data=b"",
                                                   timeout=PROMPTLY)
                    assert status == 500 and expected_error in body, (status, body)
                events = exporter.log_events("config reload rejected, keeping the running config")
                assert any(expected_error in e.get("error", "") for e in events[rejections:]), \
                    (expected_error, events[rejections:])
                rejections = len(events)
                assert exporter.proc.poll() is None, "the exporter died:\n" + exporter.log_text()
                m = exporter.wait_for(lambda m: probes_done(m) >= before + 3, timeout=PROMPTLY,
                                      what="the old config to go on probing")
                assert m.value("backend_health_exporter_config_last_reload_successful") == 0
                assert m.value("backend_health_server_state", pool="p", settings="s",
                               server="127.0.0.1", state="healthy") == 1

            path = exporter.config_path
            for name, nested, where in nested_shapes():
                exporter.write_config(nested + good)
                reload_is_rejected("SIGHUP", f"{path}:{where} {TOO_DEEP}")
            exporter.write_config(nested_shapes()[2][1] + good)
            reload_is_rejected("POST", f"{path}:1:65: dotted key {TOO_DEEP}")

            # The config file itself replaced by a FIFO, /dev/zero, a directory.
            for hostile, why in hostiles.cases():
                os.remove(path)
                os.symlink(hostile, path)
                reload_is_rejected("SIGHUP", f"{path}: cannot read the config file: {why}")
            os.remove(path)

            # A valid config naming a FIFO as its trusted root.
            exporter.write_config(config_text(
                backend.port, free_port(), protocol="https",
                settings_extra=f'trusted_root_certificates = ["{hostiles.fifo}"]\n'))
            reload_is_rejected("SIGHUP", f'"{hostiles.fifo}": cannot read: it is a FIFO')

            # And a good config is taken again afterwards.
            exporter.write_config(good)
            status, body, _ = exporter.get("/-/reload", method="POST", data=b"", timeout=PROMPTLY)
            assert status == 200, (status, body)
            assert exporter.scrape().value(
                "backend_health_exporter_config_last_reload_successful") == 1
    finally:
        backend.close()
        hostiles.close()


if __name__ == "__main__":
    run_tests([test_nested_toml_in_check_config_and_at_start, test_config_that_is_not_a_file,
               test_web_config_that_is_not_a_file_or_nests_too_deep,
               test_certificate_and_bundle_that_are_not_files,
               test_running_exporter_rejects_hostile_reloads_and_keeps_probing])
