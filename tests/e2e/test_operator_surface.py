"""What an operator on call uses: live reload (SIGHUP, POST /-/reload, file watch) that keeps the
state and counters of untouched servers and rejects a broken file; /probe with and without
debug=true; arbitrary targets refused unless enabled; basic auth on every endpoint."""

import base64
import crypt
import os
import signal
import tempfile
import time

from harness import Exporter, Nginx, refused_port, run_cli, run_tests, wait_until


def config(nginx_port, closed_port, with_closed=True, extra=""):
    servers = '"127.0.0.1"'
    settings = '"good"' + (', "closed"' if with_closed else "")
    return f"""
[[backend_pool]]
name = "a"
servers = [{servers}]
backend_settings = [{settings}]

[[backend_settings]]
name = "good"
port = {nginx_port}
probe = "fast"

[[backend_settings]]
name = "closed"
port = {closed_port}
probe = "fast"

[[probe]]
name = "fast"
path = "/ok"
interval = "300ms"
timeout = "1s"
{extra}
"""


NEW_POOL = """
[[backend_pool]]
name = "b"
servers = ["127.0.0.1"]
backend_settings = ["b-settings"]

[[backend_settings]]
name = "b-settings"
port = {port}
probe = "b-probe"

[[probe]]
name = "b-probe"
path = "{path}"
interval = "300ms"
timeout = "1s"
"""


def test_reload_keeps_untouched_servers_and_rejects_broken_files():
    nginx = Nginx('location = /ok { return 200 "OK"; } location = /missing { return 404; }')
    closed = refused_port()
    try:
        with Exporter(config(nginx.port, closed)) as exporter:
            exporter.wait_for_state("a", "good", "127.0.0.1", "healthy")
            exporter.wait_for_state("a", "closed", "127.0.0.1", "unhealthy")
            m = exporter.scrape()
            probes_before = m.value("backend_health_probes_total", settings="good",
                                    result="success")
            since_before = exporter.json("/backend-health")["backendAddressPools"][0][
                "backendHttpSettingsCollection"][0]["servers"][0]["since"]

            # SIGHUP: drop "closed", add pool b (probing a 404 path).
            exporter.write_config(config(nginx.port, closed, with_closed=False) +
                                  NEW_POOL.format(port=nginx.port, path="/missing"))
            exporter.signal(signal.SIGHUP)
            m = exporter.wait_for(
                lambda m: m.value("backend_health_server_state", pool="b", state="unhealthy") == 1
                and not m.select("backend_health_server_state", settings="closed"),
                what="pool b probed and settings 'closed' gone")
            assert m.select("backend_health_probes_total", settings="closed") == []
            assert m.select("backend_health_pool_servers", settings="closed") == []
            assert m.value("backend_health_probes_total", settings="good",
                           result="success") >= probes_before, "counters of kept servers reset"
            assert m.value("backend_health_state_changes_total", settings="good") == 1
            good = exporter.json("/backend-health")["backendAddressPools"][0][
                "backendHttpSettingsCollection"][0]["servers"][0]
            assert good["since"] == since_before and good["health"] == "Healthy", good
            assert m.value("backend_health_exporter_config_last_reload_successful") == 1

            # POST /-/reload: change pool b's probe path -> it becomes healthy.
            exporter.write_config(config(nginx.port, closed, with_closed=False) +
                                  NEW_POOL.format(port=nginx.port, path="/ok"))
            status, body, _ = exporter.get("/-/reload", method="POST", data=b"")
            assert status == 200, (status, body)
            exporter.wait_for_state("b", "b-settings", "127.0.0.1", "healthy")

            # A broken file is rejected with FILE:LINE:COL; the running config keeps probing.
            exporter.write_config(config(nginx.port, closed) + "\n[[probe]]\nname = 7\n")
            status, body, _ = exporter.get("/-/reload", method="POST", data=b"")
            assert status == 500, (status, body)
            assert f"{exporter.config_path}:" in body and "name must be a string" in body, body
            m = exporter.scrape()
            assert m.value("backend_health_exporter_config_last_reload_successful") == 0
            before = m.value("backend_health_probes_total", pool="b", result="success")
            exporter.wait_for(lambda m: m.value("backend_health_probes_total", pool="b",
                                                result="success") > before,
                              what="the old config to keep probing")
            assert exporter.scrape().select("backend_health_server_state", settings="closed") == []
            rejected = exporter.log_events("config reload rejected, keeping the running config")
            assert any(f"{exporter.config_path}:" in e["error"] for e in rejected), rejected

            # SIGHUP with the same broken file: still rejected, still running.
            exporter.signal(signal.SIGHUP)
            wait_until(lambda: len(exporter.log_events(
                "config reload rejected, keeping the running config")) > len(rejected),
                what="the SIGHUP reload to be rejected")
            assert exporter.proc.poll() is None
    finally:
        nginx.close()


def test_config_file_watch_reloads_on_change():
    nginx = Nginx('location = /ok { return 200 "OK"; }')
    closed = refused_port()
    try:
        with Exporter(config(nginx.port, closed, with_closed=False),
                      extra_args=["--config.watch-interval=200ms"]) as exporter:
            exporter.wait_for_state("a", "good", "127.0.0.1", "healthy")
            time.sleep(1.1)  # let the mtime tick past a second, as a ConfigMap update would
            exporter.write_config(config(nginx.port, closed, with_closed=True))
            exporter.wait_for_state("a", "closed", "127.0.0.1", "unhealthy")
            assert exporter.log_events("config reloaded")[-1]["trigger"] == "config file changed"
    finally:
        nginx.close()


def test_probe_endpoint():
    nginx = Nginx('location = /ok { return 200 "OK"; } location = /missing { return 404; }')
    closed = refused_port()
    try:
        with Exporter(config(nginx.port, closed)) as exporter:
            status, body, _ = exporter.get("/probe?pool=a&settings=good&server=127.0.0.1")
            assert status == 200, body
            labels = 'pool="a",settings="good",server="127.0.0.1"'
            assert f"backend_health_probe_success{{{labels}}} 1" in body, body
            assert f"backend_health_probe_http_status_code{{{labels}}} 200" in body, body
            assert "backend_health_server_failure_reason" not in body.replace(
                "# HELP backend_health_server_failure_reason", "").replace(
                "# TYPE backend_health_server_failure_reason", ""), body

            status, body, _ = exporter.get("/probe?pool=a&settings=closed&server=127.0.0.1")
            labels = 'pool="a",settings="closed",server="127.0.0.1"'
            assert status == 200
            assert f"backend_health_probe_success{{{labels}}} 0" in body, body
            assert (f'backend_health_server_failure_reason{{{labels},category="tcp",'
                    f'reason="tcp_connect_error"}} 1') in body, body

            status, body, _ = exporter.get(
                "/probe?pool=a&settings=closed&server=127.0.0.1&debug=true")
            assert status == 200
            for expected in (f"connecting to 127.0.0.1:{closed}",
                             "Result: unhealthy tcp_connect_error (category tcp)",
                             f"Details: Connect to 127.0.0.1:{closed} failed: connection refused",
                             "What to check: Check that the application listens",
                             "Metrics:"):
                assert expected in body, (expected, body)

            status, body, _ = exporter.get("/probe?pool=a&settings=good&server=127.0.0.1"
                                           "&debug=true")
            for expected in ("sending GET /ok HTTP/1.1", "response status 200",
                             "Result: healthy: Received:200"):
                assert expected in body, (expected, body)

            status, body, _ = exporter.get("/probe?pool=a&settings=nope&server=127.0.0.1")
            assert status == 404 and 'settings="nope"' in body, (status, body)
            status, body, _ = exporter.get("/probe?pool=a")
            assert status == 400 and 'missing parameter "settings"' in body, body
            status, body, _ = exporter.get(
                f"/probe?target=http://127.0.0.1:{nginx.port}/ok")
            assert status == 403 and "--web.enable-arbitrary-probe" in body, (status, body)

        with Exporter(config(nginx.port, closed),
                      extra_args=["--web.enable-arbitrary-probe"]) as exporter:
            status, body, _ = exporter.get(f"/probe?target=http://127.0.0.1:{nginx.port}/ok")
            assert status == 200, body
            assert ('backend_health_probe_success{pool="arbitrary",settings="http",'
                    'server="127.0.0.1"} 1') in body, body
            status, body, _ = exporter.get("/probe?target=ftp://x")
            assert status == 400, body
            # A decoded CR LF in the path would end the request line and smuggle headers.
            status, body, _ = exporter.get(
                f"/probe?target=http://127.0.0.1:{nginx.port}/ok%0D%0AX-Injected:%20yes")
            assert status == 400 and "control characters" in body, (status, body)
    finally:
        nginx.close()


def test_basic_auth_on_every_endpoint():
    nginx = Nginx('location = /ok { return 200 "OK"; }')
    closed = refused_port()
    hashed = crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10))
    workdir = tempfile.mkdtemp(prefix="bhe-auth-")
    web_config = os.path.join(workdir, "web.toml")
    # /-/ready stays open too here: kubelet probes (and this harness) call it without credentials.
    with open(web_config, "w") as f:
        f.write(f'unauthenticated_paths = ["/-/healthy", "/-/ready"]\n[basic_auth_users]\n'
                f'prometheus = "{hashed}"\n')
    good = {"Authorization": "Basic " + base64.b64encode(b"prometheus:s3cret").decode()}
    bad = {"Authorization": "Basic " + base64.b64encode(b"prometheus:wrong").decode()}
    nobody = {"Authorization": "Basic " + base64.b64encode(b"mallory:s3cret").decode()}
    try:
        with Exporter(config(nginx.port, closed), workdir=workdir,
                      extra_args=[f"--web.config.file={web_config}"]) as exporter:
            protected = ["/metrics", "/", "/backend-health",
                         "/probe?pool=a&settings=good&server=127.0.0.1"]
            for path in protected:
                for headers in ({}, bad, nobody):
                    status, _, response_headers = exporter.get(path, headers=headers)
                    assert status == 401, (path, headers, status)
                    assert response_headers.get("WWW-Authenticate", "").startswith("Basic"), path
                status, _, _ = exporter.get(path, headers=good)
                assert status == 200, (path, status)
            assert exporter.get("/-/reload", method="POST", data=b"")[0] == 401
            assert exporter.get("/-/reload", method="POST", data=b"", headers=good)[0] == 200
            for path in ("/-/healthy", "/-/ready"):
                assert exporter.get(path)[0] == 200, path

        # A web config that is not usable stops the exporter at start-up, with the position.
        with open(web_config, "w") as f:
            f.write('[basic_auth_users]\nprometheus = "plaintext"\n')
        code, out, err = run_cli(f"--config.file={exporter.config_path}",
                                 f"--web.config.file={web_config}",
                                 "--web.listen-address=127.0.0.1:0")
        assert code == 1, (code, out, err)
        assert f"{web_config}:2:14: basic_auth_users.prometheus must be a crypt hash" in err, err
    finally:
        nginx.close()


if __name__ == "__main__":
    run_tests([test_reload_keeps_untouched_servers_and_rejects_broken_files,
               test_config_file_watch_reloads_on_change, test_probe_endpoint,
               test_basic_auth_on_every_endpoint])
