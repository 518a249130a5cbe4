#!/usr/bin/env python3
"""Negative self-test of the linters: broken inputs must be rejected, rule by rule.

A linter that silently passes everything would make the dashboard and rule lint tests worthless,
so this runs them on deliberately broken fixtures (tests/fixtures/) and checks that they exit 1
and report every rule the fixture breaks. The same goes for panel_data_test.py: a lint-clean
dashboard whose queries return nothing (a label value typo) or fail (a many-to-many join) must be
rejected, and its one good panel must not be blamed.

Usage: lint_negative_test.py --promtool PATH   (run from anywhere; paths are relative to this file)
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = sys.executable

# Rule id -> a fragment of the message that must accompany it.
DASHBOARD_EXPECTED = {
    "json": "not-json.json",
    "dashboard-uid": "also used by",
    "dashboard-schema": "below 39",
    "uneditable-dashboard": "editable",
    "template-datasource-rule": "2 datasource variables",
    "template-on-time-change-reload-rule": "refresh must be 2",
    "template-instance-rule": "multi-select",
    "template-query-variable-rule": "not label_values",
    "template-undefined-variable": "$cluster",
    "panel-id": "duplicate id",
    "panel-gridpos": "outside the 24-column grid",
    "panel-overlap": "overlaps",
    "panel-type": "'graph'",
    "panel-datasource-rule": "prometheus-prod",
    "panel-title-description-rule": "no description",
    "panel-units-rule": "no unit and no value mappings",
    "panel-no-targets-rule": "no target",
    "target-legend": "no legendFormat",
    "target-promql-rule": "promtool:",
    "target-rate-interval-rule": "[5m]",
    "target-counter-agg-rule": "backend_health_probes_total",
    "target-instance-rule": "hard-coded instance",
    "target-job-rule": "lacks job",
    "target-metric-exists": "backend_health_server_states",
    "link-uid": "no-such-dashboard",
}

BROKEN_ALERTS = """\
groups:
  - name: this-group-name-is-far-too-long-for-the-mixin-linter
    rules:
      - alert: backendHealthLowercase
        expr: backend_health_probe_success == 0
        labels:
          severity: page
        annotations:
          summary: Server {{ $labels.server }} is down
          description: A server is down.
          runbook_url: https://example.com/runbooks.md#wrong-anchor
      - alert: BackendHealthUntested
        expr: backend_health_dns_stal == 1
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: Never tested.
          description: Server {{ $labels.server }} is never tested.
          runbook_url: https://example.com/other.md#backendhealthuntested
"""
BROKEN_TESTS = """\
rule_files:
  - alerts.yaml
tests:
  - interval: 1m
    input_series:
      - series: 'backend_health_probe_success{server="a"}'
        values: '0x10'
    alert_rule_test:
      - eval_time: 5m
        alertname: backendHealthLowercase
        exp_alerts:
          - exp_labels:
              server: a
"""
BROKEN_RUNBOOK = ("# Runbook\n\n| Alert | Severity | for |\n|---|---|---|\n| BackendHealthUntested | critical | 5m |\n\n"
                  "## BackendHealthUntested\n\n**Meaning.** Something.\n\nSee [nowhere](#nowhere).\n")
# Rule files that the YAML reader itself must refuse: (file text, exit status, message fragment).
BROKEN_YAML = [
    ("groups:\n  - name: g\n    rules:\n      - alert: BackendHealthTwice\n        expr: up == 0\n"
     "        expr: up == 1\n", 2, "found duplicate key 'expr'"),
    ("groups: [\n", 2, "line 2"),
    ("groups: 5\n", 1, "[yaml] top level must be a mapping whose groups: is a list of mappings"),
    ("groups:\n  - name: g\n    rules:\n      - alert: BackendHealthOdd\n        expr: up == 0\n"
     "        for: 5\n", 1, "[yaml] rule 'BackendHealthOdd': for: must be a string"),
]
RULES_EXPECTED = {
    "group": "longer than 40",
    "alert-name": "not CamelCase",
    "severity": "'page'",
    "for": "no for:",
    "summary": "must be static",
    "description": "not templated",
    "runbook": "not the alert's own anchor",
    "runbook-links": "#nowhere",
    "test-coverage": "no unit test where the alert fires",
    "metric-exists": "backend_health_dns_stal ",
    "doc-table": "shown as critical/5m",
}


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout + r.stderr


def expect(name, code, out, expected):
    failures = []
    if code != 1:
        failures.append(f"{name}: exit status {code}, want 1")
    for rule, fragment in expected.items():
        if not any(f"[{rule}]" in line and fragment in line for line in out.splitlines()):
            failures.append(f"{name}: rule {rule} not reported (want a '[{rule}] ...{fragment}...' line)")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--promtool", required=True)
    args = ap.parse_args()
    failures = []

    fixtures = os.path.join(HERE, "fixtures")
    code, out = run([PY, os.path.join(ROOT, "tools", "lint_dashboards.py"),
                     "--metrics", os.path.join(fixtures, "exporter-metrics.prom"),
                     "--promtool", args.promtool,
                     *sorted(os.path.join(ROOT, "grafana", f) for f in os.listdir(os.path.join(ROOT, "grafana"))
                             if f.endswith(".json")),
                     os.path.join(fixtures, "broken-dashboard.json"),
                     os.path.join(fixtures, "not-json.json")])
    failures += expect("lint_dashboards", code, out, DASHBOARD_EXPECTED)
    # The good dashboards given alongside must not be blamed for anything.
    blamed = [l for l in out.splitlines() if "/grafana/" in l.split(":", 1)[0]]
    if blamed:
        failures.append("lint_dashboards blamed a good dashboard: " + "; ".join(blamed))

    tmp = tempfile.mkdtemp(prefix="lint-rules-negative-")
    try:
        for name, text in (("alerts.yaml", BROKEN_ALERTS), ("tests.yaml", BROKEN_TESTS), ("runbook.md", BROKEN_RUNBOOK)):
            with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
                f.write(text)
        code2, out2 = run([PY, os.path.join(ROOT, "tools", "lint_rules.py"),
                           "--alerts", os.path.join(tmp, "alerts.yaml"),
                           "--tests", os.path.join(tmp, "tests.yaml"),
                           "--runbook", os.path.join(tmp, "runbook.md"),
                           "--metrics", os.path.join(fixtures, "exporter-metrics.prom")])
        failures += expect("lint_rules", code2, out2, RULES_EXPECTED)
        for n, (text, want_code, fragment) in enumerate(BROKEN_YAML):
            path = os.path.join(tmp, f"yaml-{n}.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            code4, out4 = run([PY, os.path.join(ROOT, "tools", "lint_rules.py"), "--alerts", path,
                               "--tests", os.path.join(tmp, "tests.yaml"),
                               "--runbook", os.path.join(tmp, "runbook.md")])
            if code4 != want_code or fragment not in out4:
                failures.append(f"lint_rules on {text!r}: exit {code4} (want {want_code}), "
                                f"want a message with {fragment!r}:\n{out4}")
    finally:
        shutil.rmtree(tmp)

    code3, out3 = run([PY, os.path.join(ROOT, "tools", "panel_data_test.py"), "--promtool", args.promtool,
                       "--metrics", os.path.join(fixtures, "exporter-metrics.prom"),
                       os.path.join(fixtures, "empty-panels-dashboard.json")])
    failures += expect("panel_data_test", code3, out3, {"panel-returns-data": "returns no data"})
    for title, must in (("'Label value typo'", True), ("'Many-to-many join'", True), ("'Fine'", False)):
        reported = any(title in line and "[panel-returns-data]" in line for line in out3.splitlines())
        if reported != must:
            failures.append(f"panel_data_test: panel {title} {'not ' if must else ''}reported")

    if failures:
        print(out + "\n" + out2 + "\n" + out3)
        print("\n".join(failures), file=sys.stderr)
        print(f"lint_negative_test: FAILED ({len(failures)})", file=sys.stderr)
        return 1
    print(f"lint_negative_test: OK, the dashboard linter reported all {len(DASHBOARD_EXPECTED)} broken rules "
          f"and the rules linter all {len(RULES_EXPECTED)} and {len(BROKEN_YAML)} broken YAML files; "
          "panel_data_test caught the empty and failing panels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
