#!/usr/bin/env python3
"""End-to-end test of the monitoring pieces: a real Prometheus scrapes a real exporter.

What runs, all on 127.0.0.1 and started by this test:
  - peers: nginx (/ok answers 200 "OK", /missing answers 404), a TCP peer that answers garbage, a
    TCP peer that never answers, a port nothing listens on, and a DNS server (tests/e2e/harness.py)
    answering, NXDOMAIN-ing or dropping queries per name; the exporter's `dns_servers` points at it
    (the system resolvers are never used);
  - HTTPS peers: `openssl s_server` of tests/fixtures/tls/scenarios.py, one per TLS scenario,
    presenting certificates that tests/fixtures/tls/make-pki.sh generates into the temp dir at
    test time (private CA; a healthy chain, one whose leaf expires in 7 days, a wrong name, an
    expired leaf, an expired intermediate);
  - the exporter binary ($BHE_BINARY) probing every scenario of SCENARIOS below once a second;
  - Prometheus ($PROMETHEUS, default /usr/bin/prometheus) with a temporary TSDB, scraping the
    exporter as job "backend-health-exporter" every second and evaluating the rules of
    dashboards/alerts/ every second.

What it proves:
  1. The exporter reaches the expected state and failure reason for every scenario (so the rest
     of the test runs on the categories it claims to cover).
  2. The hand-written /metrics sample (tests/fixtures/exporter-metrics.prom, used by the offline
     lint and data tests) has the same metric families and, per metric, the same label names as
     the live exposition.
  3. Prometheus scrapes the exporter without error and loads every alert rule; every rule
     evaluates without error ("health": "ok") against the live series.
  4. Exactly the expected alerts are active, all of them firing: one category alert per failing
     scenario (labels job, instance, pool, settings, server, category, reason and severity),
     BackendHealthPoolDown / BackendHealthPoolDegraded for the pool/settings pairs that have no /
     some healthy server, with the expected value, and BackendHealthTlsCertificateExpired /
     BackendHealthTlsCertificateExpiringSoon for the https scenarios whose presented chain has
     its earliest notAfter in the past / within 14 days (read from the PKI files with openssl),
     with the value in seconds since / until it. No other alert is pending or firing, and the
     set stays the same for a few more evaluations. Annotations are rendered (no "<no value>"),
     the summary is the rule's, the description names the alert's pool, settings, server, reason
     and instance (except the gaps of DESCRIPTION_GAPS), and runbook_url points at the alert's
     anchor.
  5. Every query of every dashboard panel and template variable (`lint_dashboards.py
     --print-exprs --json`, variables set to the live job and instance, once with every other
     variable on "All" and once drilled down on each server of DRILL_DOWNS, a failing http one
     and a failing https one) returns data through /api/v1/query without error; the time-series
     panels also through /api/v1/query_range. The conditional queries (CONDITIONAL_QUERIES) must
     return data wherever their kind of server (https, FQDN, presenting a client certificate) is
     selected, and must be empty in the drill-downs that select none.
  6. `lint_dashboards.py --metrics` and `lint_rules.py --metrics` pass against the live
     exporter's /metrics: every metric that a dashboard or an alert references is exposed
     (AWAITING_EXPORTER lists the families the exporter does not publish yet; each is checked to
     be absent live, and the queries that read only them, AWAITING_QUERIES, to be empty).

Alert `for:` windows. The committed rules hold an alert for 2 to 60 minutes. This test loads a
copy of dashboards/alerts/*.yaml into its temp dir in which every `for:` line, and nothing else,
is replaced by SHORT_FOR (3s); it checks that the copy differs from the original only there. It
does not settle for "pending", because pending only shows that the expression matched once.
Firing shows that the alert's label set stayed the same for three evaluations in a row. If a label
took a new value at each scrape (a reason that flips, a value used as a label), the alert would
restart its pending window every time and never fire, with any `for:`. The committed files stay
untouched; their `for:` windows are covered by the promtool unit tests (dashboards/tests/*-test.yaml).

Adding a scenario: an http one needs a backend factory in start_backends() and a Scenario line in
SCENARIOS; an https one only a Scenario line whose backend names a scenario of
tests/fixtures/tls/scenarios.py (state and reason must agree with that table). The expected
alerts follow from the scenarios (expected_alerts()).

Usage (CTest sets both): BHE_BINARY=build/backend-health-exporter \
    PYTHONPATH=tests/e2e python3 dashboards/tests/live_prometheus_test.py
Python standard library, PyYAML and the openssl CLI; runs in about 20 s.
"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import namedtuple
from datetime import datetime, timezone

import yaml

from harness import (DnsServer, Exporter, Metrics, Nginx, TcpPeer, fail, free_port, garbage,
                     http_get, run_tests, silent, wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
DASH = os.path.dirname(HERE)
TOOLS = os.path.join(DASH, "tools")
sys.path.insert(0, TOOLS)
import lint_dashboards  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(DASH), "tests", "fixtures", "tls"))
import scenarios as tls_scenarios  # noqa: E402  (the TLS peers: tests/fixtures/tls/scenarios.py)

PROMETHEUS = os.environ.get("PROMETHEUS") or shutil.which("prometheus") or "/usr/bin/prometheus"
JOB = "backend-health-exporter"   # the job name the exporter alerts select
SHORT_FOR = "3s"                  # every alert's `for:` in the loaded copy of the rules
SCRAPE_INTERVAL = "1s"
PROBE_INTERVAL = "1s"
PROBE_TIMEOUT = "1s"
RATE_INTERVAL = "1m"              # what $__rate_interval becomes in the panel queries
ALERT_RULES = sorted(glob.glob(os.path.join(DASH, "alerts", "*.yaml")))
DASHBOARDS = sorted(glob.glob(os.path.join(DASH, "grafana", "*.json")))
SAMPLE = os.path.join(HERE, "fixtures", "exporter-metrics.prom")

# --- scenarios ----------------------------------------------------------------------------------

# One (pool, settings, server) triple each, and what the exporter must report for it. All the
# scenarios of a pool share one settings (so the pool's servers x settings are exactly these
# triples). `dns` is the test DNS server's answer for an FQDN server ("1.2.3.4", "NXDOMAIN",
# "DROP", ...; see harness.DnsServer); `backend` names a peer of start_backends(). With protocol
# "https", `backend` is a scenario of tests/fixtures/tls/scenarios.py: its server presents that
# scenario's chain, and the settings get its host_name and trusted roots. Its state and reason
# must be the ones the TLS fixture table expects, and the certificate alerts it raises follow
# from the notAfter dates of the certificates it presents (expected_alerts()).
# `draining`: listed in its pool's `draining` (no per-server alert may fire for it). `partial`:
# an FQDN server whose `dns` answer has a healthy and a refusing address
# (BackendHealthServerAddressesDegraded, value: its failing addresses).
Scenario = namedtuple("Scenario", "pool settings server backend path state category reason "
                                  "protocol dns draining partial",
                      defaults=(None, None, "http", None, False, 0))

# Pool labels (backend_health_pool_labels); the pools without an entry have none, and the team
# filter pass (TEAM_FILTER) must show exactly the pools of that team.
POOL_LABELS = {"web": {"team": "payments", "tier": "gold"}}
TEAM_FILTER = "payments"

SCENARIOS = [
    Scenario("web", "web-http", "127.0.0.1", "nginx", "/ok", "healthy"),
    Scenario("status", "status-http", "127.0.0.1", "nginx", "/missing",
             "unhealthy", "http", "http_status_mismatch"),
    Scenario("garbage", "garbage-http", "127.0.0.1", "garbage", "/",
             "unhealthy", "http", "http_invalid_response"),
    Scenario("refused", "refused-http", "127.0.0.1", "closed", "/",
             "unhealthy", "tcp", "tcp_connect_error"),
    Scenario("silent", "silent-http", "127.0.0.1", "silent", "/",
             "unhealthy", "timeout", "backend_timeout"),
    # One pool/settings with a healthy and two failing servers: BackendHealthPoolDegraded.
    Scenario("names", "names-http", "ok.test", "nginx", "/ok", "healthy", dns="127.0.0.1"),
    Scenario("names", "names-http", "nx.test", "nginx", "/ok",
             "unhealthy", "dns", "dns_resolution_error", dns="NXDOMAIN"),
    Scenario("names", "names-http", "dropped.test", "nginx", "/ok",
             "unknown", "dns", "dns_server_unreachable", dns="DROP"),
    # nginx listens on 127.0.0.1 only: the name's second address refuses.
    Scenario("names", "names-http", "multi.test", "nginx", "/ok",
             "unhealthy", "tcp", "tcp_connect_error", dns=["127.0.0.1", "127.0.0.2"], partial=1),
    # Being taken out of service: probed and published, but it raises no alert, and a pool of
    # draining servers is neither down nor degraded.
    Scenario("drain", "drain-http", "127.0.0.1", "closed", "/",
             "unhealthy", "tcp", "tcp_connect_error", draining=True),
    # HTTPS, private CA (leaf + intermediate + root, the root uploaded): healthy, chain valid for
    # years, so no certificate alert.
    Scenario("tls", "tls-https", "127.0.0.1", "healthy_private", "/", "healthy",
             protocol="https"),
    # Healthy chain whose leaf expires in 7 days: BackendHealthTlsCertificateExpiringSoon only.
    Scenario("tls-soon", "tls-soon-https", "127.0.0.1", "healthy_expiring_soon", "/", "healthy",
             protocol="https"),
    # The leaf names wrong.test: BackendHealthTlsFailure (tls_cn_mismatch), no certificate alert.
    Scenario("tls-name", "tls-name-https", "127.0.0.1", "cn_mismatch", "/",
             "unhealthy", "tls", "tls_cn_mismatch", protocol="https"),
    # Mutual TLS with a client certificate that expires in 7 days:
    # BackendHealthTlsClientCertExpiringSoon (per settings).
    Scenario("mtls", "mtls-https", "127.0.0.1", "healthy_mutual_tls", "/", "healthy",
             protocol="https"),
    # Leaf expired in 2021: BackendHealthTlsFailure (tls_cert_expired) and
    # BackendHealthTlsCertificateExpired.
    Scenario("tls-expired", "tls-expired-https", "127.0.0.1", "expired_leaf", "/",
             "unhealthy", "tls", "tls_cert_expired", protocol="https"),
    # Leaf valid, intermediate expired: the certificate alert is on the earliest of the chain.
    Scenario("tls-expired-int", "tls-expired-int-https", "127.0.0.1", "expired_intermediate", "/",
             "unhealthy", "tls", "tls_cert_expired", protocol="https"),
]

# The servers the drill-down passes select (pool, settings, server variables): a failing http
# server and a failing https one.
DRILL_DOWNS = [("status", "status-http", "127.0.0.1"),
               ("tls-expired", "tls-expired-https", "127.0.0.1"),
               ("names", "names-http", "multi.test")]

# Panel queries that have data only where the selected servers have a certain kind of series.
# In a pass whose variables select such a server (or "All", once a scenario has one) every query
# must return data, these included; in a pass that selects none, exactly these may be empty, and
# must be: data there would be a series on the wrong kind of server. An entry that matches no
# query fails the test (a stale entry cannot hide a regression).
# Key: (dashboard uid, panel id, refId) -> (panel title (checked, so a renumbered panel shows
# up), condition); the conditions are CONDITIONS below.
CONDITIONAL_QUERIES = {
    # backend_health_tls_cert_not_after_timestamp_seconds: a server whose last probe received a
    # certificate chain.
    ("backend-health-overview", 21, "A"): ("Certificates by days to expiry", "https"),
    ("backend-health-overview", 21, "B"): ("Certificates by days to expiry", "https"),
    ("backend-health-server", 7, "A"): ("Certificate expires in", "https"),
    ("backend-health-server", 20, "A"): ("Certificate expiry", "https"),
    ("backend-health-server", 21, "A"): ("Days to certificate expiry", "https"),
    # backend_health_address_state: FQDN servers only (an IP-literal server is its own single
    # address).
    ("backend-health-server", 9, "A"): ("Addresses", "fqdn"),
    # backend_health_tls_client_cert_not_after_timestamp_seconds: settings presenting a client
    # certificate.
    ("backend-health-overview", 22, "A"): ("Client certificates by days to expiry",
                                          "client_certificate"),
}

CONDITIONS = {
    "https": lambda s: s.protocol == "https",
    "fqdn": lambda s: s.dns is not None,
    "client_certificate": lambda s: s.protocol == "https" and bool(tls_fixture(s).client),
}

# Metric families that the sample, the dashboards and the rules use but that this exporter does
# not publish yet. They are left out of the sample-versus-live comparison, and each must be absent
# from the live /metrics: once the exporter publishes one, this test fails until the entry is
# removed here (and live checks for it are added).
AWAITING_EXPORTER = set()

# The queries that read nothing but AWAITING_EXPORTER families: they must be empty live (data
# there means the exporter now publishes the family). Every other query must return data, also
# those that use these families only to filter or annotate (the team/tier join falls back to
# every pool, the draining encoding to "in service"). Same keys as CONDITIONAL_QUERIES; a variable
# is (dashboard uid, None, variable name). An entry that matches no query fails the test.
AWAITING_QUERIES = {}


def start_backends(stack, scenarios, pki):
    """Starts the peers; returns {backend name: port}. Every peer is closed by `stack`.

    An https scenario's backend is a TLS server of tests/fixtures/tls/scenarios.py presenting the
    PKI in `pki` (one server per TLS scenario name)."""
    ports = {}
    for name in sorted({s.backend for s in scenarios if s.protocol == "https"}):
        # die_with_parent: the main thread outlives the servers; a killed test leaves none behind.
        server = tls_scenarios.start(name, pki, die_with_parent=True)
        stack.append(server.stop)
        ports[name] = server.port
    nginx = Nginx("""
      location = /ok { return 200 "OK\\n"; }
      location = /missing { return 404 "nope\\n"; }
    """)
    stack.append(nginx.close)
    garbage_peer = TcpPeer(garbage)
    stack.append(garbage_peer.close)
    silent_peer = TcpPeer(silent)
    stack.append(silent_peer.close)
    ports.update({"nginx": nginx.port, "garbage": garbage_peer.port, "silent": silent_peer.port,
                  "closed": free_port()})
    return ports


def tls_fixture(s):
    """The scenarios.py Scenario of an https scenario; checks that both expect the same result."""
    assert s.protocol == "https", s
    sc = tls_scenarios.SCENARIOS.get(s.backend)
    assert sc is not None, f"scenario {s}: no TLS scenario {s.backend!r} in scenarios.py"
    if s.reason != sc.reason or (s.state == "healthy") != sc.healthy:
        fail(f"scenario {s}: the TLS fixture expects {sc.reason or 'healthy'}")
    return sc


def toml_value(v):
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def exporter_config(scenarios, ports, dns_address, pki):
    pools, settings = {}, {}
    for s in scenarios:
        pool = pools.setdefault(s.pool, {"servers": [], "settings": set()})
        if s.server in pool["servers"]:
            fail(f"scenario {s}: server listed twice in pool {s.pool}")
        pool["servers"].append(s.server)
        pool["settings"].add(s.settings)
        spec = (s.backend, s.path, s.protocol)
        if settings.setdefault(s.settings, spec) != spec:
            fail(f"scenario {s}: settings {s.settings} used with two backends or paths")
    bundle = os.path.join(pki, tls_scenarios.WELL_KNOWN_BUNDLE)
    out = [f'[exporter]\ndns_servers = ["{dns_address}"]\n'
           f'well_known_ca_bundle = {toml_value(bundle)}\n']
    for name, pool in pools.items():
        if len(pool["settings"]) != 1:
            fail(f"pool {name} has several settings: every server x settings would be probed")
        servers = ", ".join(f'"{s}"' for s in pool["servers"])
        draining = [s.server for s in scenarios if s.pool == name and s.draining]
        labels = ", ".join(f'{k} = {toml_value(v)}' for k, v in POOL_LABELS.get(name, {}).items())
        out.append(f'[[backend_pool]]\nname = "{name}"\nservers = [{servers}]\n'
                   f'backend_settings = ["{next(iter(pool["settings"]))}"]\n'
                   + (f"labels = {{ {labels} }}\n" if labels else "")
                   + (f"draining = {toml_value(draining)}\n" if draining else ""))
    for name, (backend, path, protocol) in settings.items():
        keys = {"protocol": protocol}
        if protocol == "https":  # protocol, host_name, trusted_root_certificates
            keys = tls_scenarios.backend_settings(tls_scenarios.SCENARIOS[backend], pki)
        out.append(f'[[backend_settings]]\nname = "{name}"\nport = {ports[backend]}\n'
                   f'probe = "{name}"\n'
                   + "".join(f"{k} = {toml_value(v)}\n" for k, v in keys.items()))
        out.append(f'[[probe]]\nname = "{name}"\npath = "{path}"\ninterval = "{PROBE_INTERVAL}"\n'
                   f'timeout = "{PROBE_TIMEOUT}"\n[probe.match]\nstatus_codes = ["200-399"]\n')
    return "\n".join(out)


def scenarios_reached(m):
    """True when every scenario shows its state, its reason series, and a probe with that result."""
    for s in SCENARIOS:
        key = dict(pool=s.pool, settings=s.settings, server=s.server)
        if m.value("backend_health_server_state", state=s.state, **key) != 1:
            return False
        if m.value("backend_health_server_draining", **key) != (1 if s.draining else 0):
            return False
        failing = m.value("backend_health_server_addresses", state="unhealthy", **key)
        if s.partial and failing != s.partial:
            return False
        reasons = m.select("backend_health_server_failure_reason", **key)
        want = [] if s.reason is None else [({**key, "category": s.category, "reason": s.reason}, 1)]
        if reasons != want:
            return False
        if not m.value("backend_health_probes_total", result=s.reason or "success", **key):
            return False
    return True


# --- alert rules --------------------------------------------------------------------------------

def load_rule_files():
    """{alert name: rule dict} of the committed rule files."""
    alerts = {}
    for path in ALERT_RULES:
        with open(path, encoding="utf-8") as f:
            groups = yaml.safe_load(f)["groups"]
        for group in groups:
            for rule in group["rules"]:
                if "alert" in rule:
                    alerts[rule["alert"]] = rule
    return alerts


FOR_LINE = re.compile(r"^(\s*)for:\s*\S+\s*$")


def write_short_for_rules(directory, alert_count):
    """Copies the rule files with every `for:` replaced by SHORT_FOR; returns the new paths."""
    out, replaced = [], 0
    for path in ALERT_RULES:
        original = open(path, encoding="utf-8").read().splitlines(keepends=True)
        copy = []
        for line in original:
            m = FOR_LINE.match(line)
            if m:
                line = f"{m.group(1)}for: {SHORT_FOR}\n"
                replaced += 1
            copy.append(line)
        # Same number of lines, and only `for:` lines differ.
        assert len(copy) == len(original)
        for a, b in zip(original, copy):
            assert a == b or (FOR_LINE.match(a) and FOR_LINE.match(b)), (a, b)
        target = os.path.join(directory, os.path.basename(path))
        with open(target, "w", encoding="utf-8") as f:
            f.writelines(copy)
        out.append(target)
    assert replaced == alert_count, f"{replaced} for: lines for {alert_count} alerts"
    return out


def category_alerts(rules):
    """{category: alert name} from the rules that select failure_reason{category="..."}."""
    out = {}
    for name, rule in rules.items():
        m = re.search(r'backend_health_server_failure_reason\{category="(\w+)"\} == 1', rule["expr"])
        if m:
            assert m.group(1) not in out, f"two alerts for category {m.group(1)}"
            out[m.group(1)] = name
    return out


EXPIRING_SOON = 14 * 86400  # BackendHealthTlsCertificateExpiringSoon's window (checked below)
PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?", re.S)


def presented_not_after(sc, pki):
    """notAfter (unix time) of every certificate a TLS scenario's server presents, read from its
    PKI files with the openssl CLI; [] when the server presents no chain (handshake failures)."""
    if sc.kind != "tls" or sc.reason == "tls_handshake_error":
        return []
    out = []
    for name in tls_scenarios.presented_files(sc):
        with open(os.path.join(pki, name), encoding="ascii") as f:
            pems = PEM_CERT.findall(f.read())
        assert pems, f"{name}: no certificate"
        for pem in pems:
            p = subprocess.run(["openssl", "x509", "-noout", "-enddate"], input=pem, text=True,
                               capture_output=True, check=True,
                               env=dict(os.environ, OPENSSL_CONF="/dev/null"))
            date = p.stdout.strip().removeprefix("notAfter=")  # "Dec  1 16:03:04 2026 GMT"
            out.append(datetime.strptime(date, "%b %d %H:%M:%S %Y GMT")
                       .replace(tzinfo=timezone.utc).timestamp())
    return out


def certificate_alert_rules(rules):
    """(expiring-soon alert, expired alert); fails if the rules no longer say what this test
    assumes (earliest notAfter of the chain, a 14-day window)."""
    soon, expired = "BackendHealthTlsCertificateExpiringSoon", "BackendHealthTlsCertificateExpired"

    def squash(name):
        return re.sub(r"\s+", " ", rules[name]["expr"]).strip()

    metric = "min without (position) (backend_health_tls_cert_not_after_timestamp_seconds)"
    # Draining servers are left out (no scenario drains); routing labels are joined on.
    in_service = ("unless on (job, instance, pool, settings, server) "
                  "(backend_health_server_draining == 1)")
    routing = "* on (job, instance, pool) group_left (team, tier) pool:backend_health_pool_labels:info"
    assert squash(soon) == (f"( ( ({metric} - time() < 14 * 86400) and ({metric} - time() > 0) ) "
                            f"{in_service} ) {routing}"), squash(soon)
    assert squash(expired) == f"( (time() - {metric} >= 0) {in_service} ) {routing}", \
        squash(expired)
    return soon, expired


def expected_alerts(scenarios, rules, instance, pki, now):
    """{frozenset(labels): expected value} of every alert the scenarios must raise. The value is
    None (not checked), a number, or ("until"|"since", unix time): the seconds from the
    evaluation time to that time, or since it."""
    by_category = category_alerts(rules)
    soon, expired = certificate_alert_rules(rules)
    common = {"job": JOB, "instance": instance}
    out = {}

    def add(name, labels, value=None):
        labels = {"alertname": name, "severity": rules[name]["labels"]["severity"], **common,
                  **labels}
        out[frozenset(labels.items())] = value

    groups = {}
    for s in scenarios:
        groups.setdefault((s.pool, s.settings), [])
        if s.draining:
            continue  # no per-server alert, and not counted by the pool alerts
        groups[(s.pool, s.settings)].append(s)
        where = {"pool": s.pool, "settings": s.settings, "server": s.server,
                 **POOL_LABELS.get(s.pool, {})}
        if s.partial:
            add("BackendHealthServerAddressesDegraded", where, s.partial)
        if s.reason is not None:
            assert s.category in by_category, f"no alert for category {s.category}"
            add(by_category[s.category], {**where, "category": s.category, "reason": s.reason})
        # Certificate alerts: on the earliest notAfter of the presented chain, whatever the
        # verdict (the exporter exports the expiry also when verification fails).
        not_after = presented_not_after(tls_fixture(s), pki) if s.protocol == "https" else []
        if not_after:
            earliest = min(not_after)
            if earliest <= now:
                add(expired, where, ("since", earliest))
            elif earliest - now < EXPIRING_SOON:
                add(soon, where, ("until", earliest))
    # The client certificate a settings presents (mutual TLS), per settings.
    client_soon = "BackendHealthTlsClientCertExpiringSoon"
    for settings in sorted({s.settings for s in scenarios if s.protocol == "https"
                            and tls_fixture(s).client}):
        sc = tls_fixture(next(s for s in scenarios if s.settings == settings))
        with open(os.path.join(pki, sc.client), encoding="ascii") as f:
            leaf_pem = PEM_CERT.findall(f.read())[0]
        p = subprocess.run(["openssl", "x509", "-noout", "-enddate"], input=leaf_pem, text=True,
                           capture_output=True, check=True,
                           env=dict(os.environ, OPENSSL_CONF="/dev/null"))
        expires = datetime.strptime(p.stdout.strip().removeprefix("notAfter="),
                                    "%b %d %H:%M:%S %Y GMT").replace(tzinfo=timezone.utc).timestamp()
        if 0 < expires - now < EXPIRING_SOON:
            add(client_soon, {"settings": settings}, ("until", expires))
    for (pool, settings), members in groups.items():
        healthy = sum(1 for s in members if s.state == "healthy")
        failing = sum(1 for s in members if s.reason not in (None, "not_yet_probed"))
        where = {"pool": pool, "settings": settings, **POOL_LABELS.get(pool, {})}
        if failing and not healthy:  # value: servers of the pool, none healthy
            add("BackendHealthPoolDown", where, len(members))
        elif failing:                # value: failing servers of a pool that has a healthy one
            add("BackendHealthPoolDegraded", where, failing)
    return out


# --- Prometheus ---------------------------------------------------------------------------------

class Prometheus:
    """A real Prometheus on a free loopback port with a temporary TSDB."""

    def __init__(self, directory, targets, rule_files):
        self.dir = directory
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": SCRAPE_INTERVAL, "scrape_timeout": SCRAPE_INTERVAL,
                       "evaluation_interval": SCRAPE_INTERVAL},
            "rule_files": rule_files,
            "scrape_configs": [{"job_name": JOB, "static_configs": [{"targets": targets}]}],
        }
        self.config_path = os.path.join(directory, "prometheus.yml")
        with open(self.config_path, "w") as f:
            json.dump(config, f, indent=2)  # JSON is YAML
        self.log_path = os.path.join(directory, "prometheus.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.config_path}",
             f"--storage.tsdb.path={os.path.join(directory, 'tsdb')}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self._log, stderr=subprocess.STDOUT)
        try:
            wait_until(self._ready, timeout=20, what="Prometheus to become ready")
        except AssertionError:
            self.stop()
            raise AssertionError("Prometheus did not start:\n" + self.log_text())

    def _ready(self):
        if self.proc.poll() is not None:
            fail(f"Prometheus exited with {self.proc.returncode}:\n{self.log_text()}")
        try:
            return http_get(self.base + "/-/ready", timeout=1)[0] == 200
        except OSError:
            return False

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def api(self, path, **params):
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        status, body, _ = http_get(url)
        try:
            doc = json.loads(body)
        except ValueError:
            fail(f"{path} {params}: HTTP {status}, not JSON: {body[:500]}")
        return doc

    def data(self, path, **params):
        doc = self.api(path, **params)
        if doc.get("status") != "success":
            fail(f"{path} {params}: {doc.get('errorType')}: {doc.get('error')}")
        return doc["data"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                fail("Prometheus did not stop within 15s of SIGTERM")
        self._log.close()


def active_alerts(prom):
    return prom.data("/api/v1/alerts")["alerts"]


def alert_key(alert):
    return frozenset(alert["labels"].items())


def describe(keys):
    return "\n  ".join(sorted(",".join(f"{k}={v}" for k, v in sorted(key)) for key in keys)) or "-"


# --- the checks ---------------------------------------------------------------------------------

def check_sample_matches_live(live_text):
    """The hand-written sample has the live metric families and, per metric, its label names."""
    def shape(text):
        m = Metrics(text)
        families = set(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
        labels = {}
        for name, l, _ in m.samples:
            labels.setdefault(name, set()).add(tuple(sorted(l)))
        return families, labels

    live_families, live_labels = shape(live_text)
    with open(SAMPLE, encoding="utf-8") as f:
        sample_families, sample_labels = shape(f.read())
    problems = [f"{name}: published live, so remove it from AWAITING_EXPORTER (and add its live "
                "checks)" for name in sorted(AWAITING_EXPORTER)
                if name in live_labels or any(n == name for n, _ in live_families)]
    sample_families = {(n, t) for n, t in sample_families if n not in AWAITING_EXPORTER}
    sample_labels = {n: l for n, l in sample_labels.items() if n not in AWAITING_EXPORTER}
    if live_families != sample_families:
        problems.append(f"metric families (name, type) only live: "
                        f"{sorted(live_families - sample_families)}, only in the sample: "
                        f"{sorted(sample_families - live_families)}")
    # The scenarios give every metric of the sample live series (TLS included), so the label
    # names of every metric are compared.
    for name in sorted(set(live_labels) | set(sample_labels)):
        if name in live_labels and name in sample_labels and live_labels[name] != sample_labels[name]:
            problems.append(f"{name}: label names live {sorted(live_labels[name])}, "
                            f"sample {sorted(sample_labels[name])}")
        elif name in live_labels and name not in sample_labels:
            problems.append(f"{name}: series live, none in the sample")
        elif name not in live_labels:
            problems.append(f"{name}: series in the sample, none live (add a scenario that "
                            "produces it)")
    if problems:
        fail(f"{SAMPLE} differs from the live exporter's /metrics:\n  " + "\n  ".join(problems))
    print(f"sample matches the live exposition ({len(live_families)} families, {len(live_labels)} "
          f"metrics with their label names; {len(AWAITING_EXPORTER)} families awaiting the "
          "exporter)")


def check_rules_loaded(prom, rules):
    def evaluated():
        loaded = [r for g in prom.data("/api/v1/rules")["groups"] for r in g["rules"]]
        return loaded if all(r.get("health") != "unknown" for r in loaded) else None

    loaded = wait_until(evaluated, timeout=10, what="every rule to be evaluated")
    names = sorted(r["name"] for r in loaded if r["type"] == "alerting")
    assert names == sorted(rules), f"loaded alerts {names}, rule files {sorted(rules)}"
    bad = [f"{r['name']}: {r['health']} {r.get('lastError')}" for r in loaded if r["health"] != "ok"]
    assert not bad, "rules failing to evaluate:\n  " + "\n  ".join(bad)
    short = float(SHORT_FOR.rstrip("s"))
    assert all(r["duration"] == short for r in loaded if r["type"] == "alerting"), loaded
    print(f"{len(names)} alert rules loaded, all evaluating without error")


# Labels an alert's description does not name (yet). The certificate alerts do not say which
# exporter saw the chain; fixing the text also needs deploy/tools/generate.py to regenerate the
# PrometheusRule in deploy/. An entry whose label the description does name fails the test.
DESCRIPTION_GAPS = {}


def check_alerts(prom, rules, expected):
    def converged():
        alerts = active_alerts(prom)
        got = {alert_key(a): a for a in alerts}
        missing = set(expected) - set(got)
        unexpected = set(got) - set(expected)
        not_firing = [k for k, a in got.items() if a["state"] != "firing"]
        if missing or unexpected or not_firing:
            fail(f"\nmissing:\n  {describe(missing)}\nunexpected:\n  {describe(unexpected)}\n"
                 f"not firing yet:\n  {describe(not_firing)}")
        return got

    wait_until(converged, timeout=25, interval=0.25,
               what="exactly the expected alerts to fire")
    # The same set, all firing, over a few more evaluations: no alert comes and goes.
    time.sleep(2.5)
    got = converged()
    for key, alert in got.items():
        labels, ann = alert["labels"], alert["annotations"]
        name = labels["alertname"]
        where = f"{name} {labels.get('pool')}/{labels.get('settings')}/{labels.get('server')}"
        assert set(ann) == set(rules[name]["annotations"]), (where, ann)
        assert ann["summary"] == rules[name]["annotations"]["summary"], (where, ann["summary"])
        for text in ann.values():
            assert "<no value>" not in text and "{{" not in text, (where, text)
        gaps = DESCRIPTION_GAPS.get(name, set())
        for label in ("pool", "settings", "server", "reason", "instance"):
            if label in labels:
                named = labels[label] in ann["description"]
                assert named != (label in gaps), (where, label, ann["description"], gaps)
        assert ann["runbook_url"].endswith("/dashboards/runbooks.md#" + name.lower()), \
            (where, ann["runbook_url"])
        want, tolerance = expected[key], 0
        if isinstance(want, tuple):  # seconds until / since a notAfter at the last evaluation
            kind, at = want
            want, tolerance = (at - time.time()) if kind == "until" else (time.time() - at), 30
        if want is not None:
            assert abs(float(alert["value"]) - want) <= tolerance, (where, alert["value"], want)
    counts = {}
    for key in got:
        name = dict(key)["alertname"]
        counts[name] = counts.get(name, 0) + 1
    print("firing, and nothing else active: "
          + ", ".join(f"{n} x{c}" for n, c in sorted(counts.items())))


def panel_queries(variables):
    args = [sys.executable, os.path.join(TOOLS, "lint_dashboards.py"), "--print-exprs", "--json"]
    for k, v in variables.items():
        args += ["--var", f"{k}={v}"]
    p = subprocess.run(args + DASHBOARDS, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, f"--print-exprs failed ({p.returncode}):\n{p.stderr}"
    queries = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    assert queries, "--print-exprs printed no query"
    for q in queries:
        unexpanded = lint_dashboards.variables_used(q["expr"])  # ($1 of label_replace is not one)
        assert not unexpanded, f"unexpanded variables {unexpanded} in {q}"
    return queries


def check_panel_queries(prom, instance, scenarios):
    """Every panel and variable query returns data, in one pass with every variable on "All" and
    one pass per server of DRILL_DOWNS; the CONDITIONAL_QUERIES only where their kind of server
    is selected (and they must be empty where none is)."""
    base = {"job": JOB, "instance": instance, "__rate_interval": RATE_INTERVAL}

    def holding(selected):
        return {name for name, holds in CONDITIONS.items() if any(holds(s) for s in selected)}

    passes = [("all", base, holding(scenarios))]
    for pool, settings, server in DRILL_DOWNS:
        selected = [s for s in scenarios
                    if (s.pool, s.settings, s.server) == (pool, settings, server)]
        assert selected, f"drill-down {pool}/{settings}/{server} is no scenario"
        passes.append((f"drill-down {pool}/{settings}/{server}",
                       {**base, "pool": pool, "settings": settings, "server": server},
                       holding(selected)))
    failures, results, seen_conditional, seen_awaiting, ran = [], {}, set(), set(), 0
    now = time.time()

    def run(q):
        """(error or None, has data); each distinct query runs once."""
        nonlocal ran
        doc = prom.api("/api/v1/query", query=q["expr"], time=f"{now:.3f}")
        ran += 1
        if doc.get("status") != "success":
            return f"error: {doc.get('error')}", False
        has_data = bool(doc["data"]["result"])
        if not q["instant"] and q["kind"] == "panel":
            rng = prom.api("/api/v1/query_range", query=q["expr"], start=f"{now - 10:.3f}",
                           end=f"{now:.3f}", step="1")
            ran += 1
            if rng.get("status") != "success":
                return f"query_range error: {rng.get('error')}", False
            has_data = has_data and bool(rng["data"]["result"])
        return None, has_data

    for pass_name, variables, conditions in passes:
        for q in panel_queries(variables):
            cache_key = (q["expr"], q["instant"], q["kind"])
            if cache_key not in results:
                results[cache_key] = run(q)
            error, has_data = results[cache_key]
            key = (q["dashboard"], q["panel_id"], q["ref_id"])  # "dashboard" is the uid
            what = (f"[{pass_name}] {q['dashboard']} {q['kind']} {q['panel_id']} "
                    f"{q['title']!r} {q['ref_id'] or ''}: {q['expr']}")
            if error:
                failures.append(f"{what}\n    {error}")
                continue
            awaiting_key = key if q["kind"] == "panel" else (q["dashboard"], None, q["title"])
            if awaiting_key in AWAITING_QUERIES:
                assert AWAITING_QUERIES[awaiting_key] == q["title"], \
                    f"AWAITING_QUERIES entry {awaiting_key} is titled {q['title']!r}"
                seen_awaiting.add(awaiting_key)
                if has_data:
                    failures.append(f"{what}\n    returns data: the exporter publishes its series "
                                    "now, so remove it from AWAITING_QUERIES")
                continue
            if q["kind"] == "panel" and key in CONDITIONAL_QUERIES:
                title, condition = CONDITIONAL_QUERIES[key]
                assert title == q["title"], \
                    f"CONDITIONAL_QUERIES entry {key} is titled {q['title']!r}"
                seen_conditional.add(key)
                if condition not in conditions:
                    if has_data:
                        failures.append(f"{what}\n    returns data although no server selected "
                                        f"has {condition} series")
                    continue
            if not has_data:
                failures.append(f"{what}\n    returned no data")
    stale = set(CONDITIONAL_QUERIES) - seen_conditional
    if stale:
        failures.append(f"CONDITIONAL_QUERIES entries that match no query: {sorted(stale)}")
    stale = set(AWAITING_QUERIES) - seen_awaiting
    if stale:
        failures.append(f"AWAITING_QUERIES entries that match no query: {sorted(stale, key=str)}")
    if failures:
        fail(f"{len(failures)} dashboard queries failed:\n  " + "\n  ".join(failures))
    print(f"{len(results)} distinct panel and variable queries ({ran} API calls) in "
          f"{len(passes)} passes returned data; the {len(CONDITIONAL_QUERIES)} conditional queries "
          f"with data exactly where their kind of server is selected; the "
          f"{len(AWAITING_QUERIES)} queries awaiting the exporter empty")


def check_team_filter(prom, instance, scenarios):
    """With the overview's team variable set, the pool-level queries that use it show exactly the
    pools of that team (the pool-labels join), and still show them."""
    base = {"job": JOB, "instance": instance, "__rate_interval": RATE_INTERVAL}
    unfiltered = {(q["dashboard"], q["panel_id"], q["ref_id"]): q["expr"]
                  for q in panel_queries(base)}
    team_pools = {p for p, labels in POOL_LABELS.items() if labels.get("team") == TEAM_FILTER}
    assert team_pools and any(s.pool not in team_pools for s in scenarios)
    filtered, shown = 0, set()
    for q in panel_queries({**base, "team": TEAM_FILTER}):
        key = (q["dashboard"], q["panel_id"], q["ref_id"])
        if q["kind"] != "panel" or unfiltered.get(key) == q["expr"]:
            continue  # does not use $team
        filtered += 1
        result = prom.data("/api/v1/query", query=q["expr"])["result"]
        pools = {r["metric"]["pool"] for r in result if "pool" in r["metric"]}
        assert pools <= team_pools, (q["title"], q["expr"], pools)
        shown |= pools
    assert filtered, "no panel query uses the team variable"
    assert shown == team_pools, (shown, team_pools)
    print(f"team={TEAM_FILTER}: {filtered} filtered queries show exactly pools {sorted(shown)}")


def check_linters_against(metrics_url, directory):
    """Both linters against the live /metrics, plus the AWAITING_EXPORTER families (declared only:
    check_sample_matches_live has made sure that they are not live)."""
    status, body, _ = http_get(metrics_url)
    assert status == 200, status
    metrics = os.path.join(directory, "live-metrics.prom")
    with open(metrics, "w", encoding="utf-8") as f:
        f.write(body)
        f.writelines(f"# TYPE {name} gauge\n" for name in sorted(AWAITING_EXPORTER))
    runs = [
        [os.path.join(TOOLS, "lint_dashboards.py"), "--metrics", metrics, *DASHBOARDS],
        [os.path.join(TOOLS, "lint_rules.py"), "--alerts", *ALERT_RULES,
         "--tests", *sorted(glob.glob(os.path.join(HERE, "*-test.yaml"))),
         "--runbook", os.path.join(DASH, "runbooks.md"), "--metrics", metrics],
    ]
    for args in runs:
        p = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60)
        name = os.path.basename(args[0])
        assert p.returncode == 0, f"{name} --metrics {metrics} failed:\n{p.stdout}{p.stderr}"
        print(f"{name} --metrics <live exporter + awaited families>: "
              f"{p.stdout.strip().splitlines()[-1]}")


# --- the test -----------------------------------------------------------------------------------

def test_live_prometheus():
    rules = load_rule_files()
    tmp = tempfile.mkdtemp(prefix="bhe-live-prom-")
    cleanup = []
    ok = False
    try:
        for s in SCENARIOS:
            if s.protocol == "https":
                tls_fixture(s)
        pki = tls_scenarios.make_pki(os.path.join(tmp, "pki"))
        ports = start_backends(cleanup, SCENARIOS, pki)
        dns = DnsServer({s.server: s.dns for s in SCENARIOS if s.dns is not None})
        cleanup.append(dns.close)
        config = exporter_config(SCENARIOS, ports, dns.address, pki)
        exporter = Exporter(config, workdir=tmp)
        try:
            live = exporter.wait_for(scenarios_reached, timeout=15,
                                     what="every scenario's state and reason")
            print(f"exporter on {exporter.base}: {len(SCENARIOS)} scenarios reached their state")
            check_sample_matches_live(live.text)

            rules_dir = os.path.join(tmp, "rules")
            os.mkdir(rules_dir)
            rule_files = write_short_for_rules(rules_dir, len(rules))
            prom_dir = os.path.join(tmp, "prometheus")
            os.mkdir(prom_dir)
            instance = f"127.0.0.1:{exporter.port}"
            prom = Prometheus(prom_dir, [instance], rule_files)
            try:
                def scraped():
                    targets = prom.data("/api/v1/targets")["activeTargets"]
                    assert len(targets) == 1, targets
                    t = targets[0]
                    assert t["lastError"] == "", t["lastError"]
                    return t["health"] == "up" and t["labels"] == {"job": JOB, "instance": instance}

                wait_until(scraped, timeout=10, what="Prometheus to scrape the exporter")
                check_rules_loaded(prom, rules)
                check_alerts(prom, rules,
                             expected_alerts(SCENARIOS, rules, instance, pki, time.time()))
                check_panel_queries(prom, instance, SCENARIOS)
                check_team_filter(prom, instance, SCENARIOS)
                wait_until(lambda: prom.data("/api/v1/targets")["activeTargets"][0]["lastError"]
                           == "", timeout=5, what="scrapes without error")
            except BaseException:
                sys.stderr.write("--- prometheus log ---\n" + prom.log_text())
                raise
            finally:
                prom.stop()
            check_linters_against(exporter.base + "/metrics", tmp)
        except BaseException:
            sys.stderr.write("--- exporter log ---\n" + exporter.log_text())
            exporter.stop(expect_code=None)
            raise
        exporter.stop()
        ok = True
    finally:
        for close in reversed(cleanup):
            close()
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            sys.stderr.write(f"(files kept in {tmp})\n")


if __name__ == "__main__":
    started = time.monotonic()
    run_tests([test_live_prometheus])
    print(f"total {time.monotonic() - started:.1f}s")
