"""Claims of SECURITY.md that no other test makes: what the exporter logs, that it listens on
one socket only, and that a probe never follows a redirect.

At the most verbose log level, through requests with right and wrong passwords, request bodies,
query strings, reloads, a reload refused for a client key that does not match its certificate, a
web config with a clear-text password and a backend whose response body fails the match, the log
never contains a password, a password hash, an Authorization header, a request body, a query
string, a private key or a backend's response body."""

import base64
import crypt
import os
import subprocess
import tempfile

from harness import Exporter, TcpPeer, read_request, run_cli, run_tests

PASSWORD = "Pa55-w0rd-in-clear"
WRONG_PASSWORD = "Wr0ng-Pa55-in-clear"
REQUEST_BODY = "REQUEST-BODY-MARKER-3141"
QUERY_MARKER = "QUERY-MARKER-2718"
BACKEND_BODY = "BACKEND-BODY-MARKER-1618"


def backend_body(conn):
    read_request(conn)
    body = f"<html>{BACKEND_BODY}</html>".encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                 % (len(body), body))


def config(port):
    return f"""
[exporter]
dns_servers = ["127.0.0.1:9"]

[[backend_pool]]
name = "p"
servers = ["127.0.0.1"]
backend_settings = ["s"]

[[backend_settings]]
name = "s"
port = {port}
probe = "body"

[[probe]]
name = "body"
interval = "200ms"
timeout = "1s"
unhealthy_threshold = 1
[probe.match]
body = "the text the backend does not send"
"""


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def client_files(directory):
    """A client certificate and a private key of another pair; the key's base64 lines."""
    cert, key = os.path.join(directory, "client.pem"), os.path.join(directory, "other.key")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", os.path.join(directory, "client.key"), "-out", cert, "-days", "2",
            "-subj", "/CN=security test client")
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
    with open(key) as f:
        lines = [line.strip() for line in f if line.strip() and not line.startswith("-----")]
    return cert, key, lines


def client_settings(port, cert, key):
    return f"""
[[backend_pool]]
name = "mtls"
servers = ["127.0.0.1"]
backend_settings = ["mtls"]

[[backend_settings]]
name = "mtls"
protocol = "https"
port = {port}
client_certificate = "{cert}"
client_key = "{key}"
"""


def test_logs_carry_no_secrets_or_bodies():
    peer = TcpPeer(backend_body)
    workdir = tempfile.mkdtemp(prefix="bhe-security-")
    hashed = crypt.crypt(PASSWORD, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10))
    web_config = os.path.join(workdir, "web.toml")
    with open(web_config, "w") as f:
        f.write(f'unauthenticated_paths = ["/-/ready"]\n[basic_auth_users]\n'
                f'prometheus = "{hashed}"\n')
    good_token = base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()
    bad_token = base64.b64encode(f"prometheus:{WRONG_PASSWORD}".encode()).decode()
    good = {"Authorization": f"Basic {good_token}"}
    bad = {"Authorization": f"Basic {bad_token}"}
    secrets = [PASSWORD, WRONG_PASSWORD, good_token, bad_token, hashed, hashed.split("$")[-1],
               REQUEST_BODY, QUERY_MARKER, BACKEND_BODY]
    try:
        with Exporter(config(peer.port), workdir=workdir,
                      extra_args=[f"--web.config.file={web_config}", "--log.level=debug"]) \
                as exporter:
            for headers in (good, bad, {}):
                for path in ("/metrics", "/backend-health", f"/?q={QUERY_MARKER}",
                             f"/probe?pool=p&settings=s&server=127.0.0.1&debug=true"
                             f"&x={QUERY_MARKER}", f"/nowhere/{QUERY_MARKER}"):
                    exporter.get(path, headers=headers)
                exporter.get("/-/reload", method="POST", headers=headers,
                             data=REQUEST_BODY.encode())
            # A debug probe answers with the backend's status and headers to the caller, never
            # to the log.
            status, body, _ = exporter.get("/probe?pool=p&settings=s&server=127.0.0.1&debug=true",
                                           headers=good)
            assert status == 200 and "http_body_mismatch" in body, (status, body)
            # A client key that does not belong to its certificate: the reload is refused,
            # and the log names the files, never the key.
            cert, key, key_lines = client_files(workdir)
            exporter.write_config(config(peer.port) + client_settings(peer.port, cert, key))
            status, body, _ = exporter.get("/-/reload", method="POST", headers=good)
            assert status == 500 and "client_key" in body, (status, body)
            secrets += key_lines
            changes = exporter.state_changes(pool="p")
            assert changes and changes[-1]["reason"] == "http_body_mismatch", changes
            log = exporter.stop()
        # A web config with a clear-text password is refused without echoing it.
        exporter.write_config(config(peer.port))
        with open(web_config, "w") as f:
            f.write(f'[basic_auth_users]\nprometheus = "{PASSWORD}"\n')
        code, out, err = run_cli(f"--config.file={exporter.config_path}",
                                 f"--web.config.file={web_config}",
                                 "--web.listen-address=127.0.0.1:0", "--log.level=debug")
        assert code == 1, (code, out, err)
        log += out + err
        assert "basic_auth_users.prometheus must be a crypt hash" in log, log
        leaked = [s for s in secrets if s in log]
        assert not leaked, f"the log contains {leaked}:\n{log}"
        print(f"{len(log.splitlines())} log lines, none with a password, hash, "
              f"Authorization value, request body, query marker or backend body")
    finally:
        peer.close()


def sockets_of(pid):
    """The inodes of the sockets the process holds."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def socket_table(pid, name):
    """Rows (local address, remote address, state, inode) of /proc/PID/net/NAME."""
    rows = []
    with open(f"/proc/{pid}/net/{name}") as f:
        next(f)
        for line in f:
            fields = line.split()
            rows.append((fields[1], fields[2], fields[3], fields[9]))
    return rows


def test_listens_on_one_socket_only():
    peer = TcpPeer(backend_body)
    try:
        text = config(peer.port).replace('body = "the text the backend does not send"', "")
        text += """
[[backend_pool]]
name = "named"
servers = ["a-name.security.test"]
backend_settings = ["s"]
"""
        with Exporter(text) as exporter:
            exporter.wait_for_state("p", "s", "127.0.0.1", "healthy")
            exporter.wait_for(lambda m: m.select("backend_health_server_state",
                                                 server="a-name.security.test", state="unknown"),
                              what="the named server to have been looked up")
            pid = exporter.proc.pid
            mine = sockets_of(pid)
            listening = [(local, inode) for table in ("tcp", "tcp6")
                         for local, _, state, inode in socket_table(pid, table)
                         if state == "0A" and inode in mine]
            assert len(listening) == 1, listening
            assert listening[0][0].endswith(f":{exporter.port:04X}"), listening
            # UDP (DNS) sockets are connected to a resolver, never bound to receive from anyone.
            for table in ("udp", "udp6"):
                for local, remote, _, inode in socket_table(pid, table):
                    if inode in mine:
                        assert not remote.endswith(":0000"), (table, local, remote)
            print(f"listening: {listening}")
    finally:
        peer.close()


def test_a_probe_never_follows_a_redirect():
    elsewhere = TcpPeer(backend_body, host="127.0.0.2")

    def redirect(conn):
        read_request(conn)
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:%d/\r\n"
                     b"Content-Length: 0\r\nConnection: close\r\n\r\n" % elsewhere.port)

    peer = TcpPeer(redirect)
    try:
        text = config(peer.port).replace('body = "the text the backend does not send"', "")
        with Exporter(text) as exporter:
            exporter.wait_for(
                lambda m: (m.value("backend_health_probes_total", pool="p", settings="s",
                                   server="127.0.0.1", result="success") or 0) >= 5,
                what="five probes of the redirecting server")
            m = exporter.scrape()
            assert m.value("backend_health_probe_http_status_code", pool="p", settings="s",
                           server="127.0.0.1") == 302
            assert elsewhere.connections == 0, "a probe followed the redirect"
    finally:
        peer.close()
        elsewhere.close()


if __name__ == "__main__":
    run_tests([test_logs_carry_no_secrets_or_bodies, test_listens_on_one_socket_only,
               test_a_probe_never_follows_a_redirect])
