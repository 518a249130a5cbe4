"""The binary's modes: check-config (FILE:LINE:COL problems, exit 1; exit 0 when clean),
probe --once (a table, exit 0 only when every server is healthy), start-up with a bad config
(exit 1 with the errors logged), --version, the shipped default config."""

import os
import tempfile

from harness import Nginx, refused_port, run_cli, run_tests

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = os.path.join(HERE, "..", "..", "config", "default.toml")

BROKEN = """[[backend_pool]]
name = "api"
servers = ["127.0.0.1", "not a host"]
backend_settings = ["missing-settings"]
colour = "blue"

[[probe]]
name = "p"
path = "healthz"
interval = "5 sec"
[probe.match]
status_codes = ["500-200"]
"""


def write(text):
    fd, path = tempfile.mkstemp(suffix=".toml")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def test_check_config_reports_every_problem():
    path = write(BROKEN)
    code, out, _ = run_cli("check-config", f"--config.file={path}")
    assert code == 1, (code, out)
    assert out.splitlines() == [
        f'{path}:3:25: [[backend_pool]] "api": server "not a host" is neither an IPv4/IPv6 '
        'address nor a valid host name',
        f'{path}:4:21: [[backend_pool]] "api".backend_settings refers to unknown '
        'backend_settings "missing-settings" (none is defined)',
        f'{path}:5:1: unknown key "colour" in [backend_pool] (known keys: name, servers, '
        'backend_settings, labels, draining)',
        f'{path}:9:8: [[probe]] "p".path "healthz" must start with \'/\' (e.g. "/healthz")',
        f'{path}:10:12: [[probe]] "p".interval: bad duration "5 sec": unknown unit " sec" '
        '(use ms, s, m or h)',
        f'{path}:12:17: [[probe]] "p".match.status_codes: range "500-200" is inverted (the '
        'first code must not exceed the last)',
        f"6 problems found in {path}",
    ], out


def test_check_config_accepts_the_shipped_default():
    code, out, _ = run_cli("check-config", f"--config.file={DEFAULT_CONFIG}")
    assert code == 0, out
    assert "OK (2 pools, 2 servers to probe)" in out, out


def test_exporter_refuses_to_start_on_a_bad_config():
    path = write(BROKEN)
    code, out, err = run_cli(f"--config.file={path}", "--web.listen-address=127.0.0.1:0")
    assert code == 1, (code, out, err)
    assert f"{path}:5:1: unknown key" in err, err


def test_probe_once_prints_a_table_and_exit_code():
    nginx = Nginx('location = / { return 200 "OK"; }')
    closed = refused_port()
    config = f"""
[[backend_pool]]
name = "pool-a"
servers = ["127.0.0.1"]
backend_settings = ["up", "down"]
[[backend_settings]]
name = "up"
port = {nginx.port}
[[backend_settings]]
name = "down"
port = {closed}
"""
    try:
        code, out, _ = run_cli("probe", "--once", f"--config.file={write(config)}")
        assert code == 1, (code, out)
        lines = out.splitlines()
        assert lines[0].split() == ["POOL", "SETTINGS", "SERVER", "STATE", "REASON", "DETAILS"]
        assert lines[1].split() == ["pool-a", "up", "127.0.0.1", "healthy",
                                    "Received:200", "from", f"127.0.0.1:{nginx.port}"], lines[1]
        assert lines[2].split()[:5] == ["pool-a", "down", "127.0.0.1", "unhealthy",
                                        "tcp_connect_error"], lines[2]
        assert f"Connect to 127.0.0.1:{closed} failed: connection refused" in lines[2]
        assert "What to check:" in out and "tcp_connect_error: Check that the application" in out

        healthy_only = config.replace('backend_settings = ["up", "down"]',
                                      'backend_settings = ["up"]')
        code, out, _ = run_cli("probe", "--once", f"--config.file={write(healthy_only)}")
        assert code == 0, out
    finally:
        nginx.close()


def test_version():
    code, out, _ = run_cli("--version")
    assert code == 0 and out.startswith("backend-health-exporter "), out


if __name__ == "__main__":
    run_tests([test_check_config_reports_every_problem,
               test_check_config_accepts_the_shipped_default,
               test_exporter_refuses_to_start_on_a_bad_config,
               test_probe_once_prints_a_table_and_exit_code, test_version])
