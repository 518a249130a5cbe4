#!/usr/bin/env python3
"""Offline test of what two kinds of dashboard queries mean, on the real queries: the Overview's
team/tier pool filter, and the state encoding (with draining) of the state panels.

The filter joins every pool-level query with backend_health_pool_labels. What can go wrong, and
what this checks with promtool on a replayed /metrics sample:
  - a pool without labels must show while the filter is "All" (the variables' allValue ".*"
    matches an absent label; Grafana's default "All", a regex of the known values, would not);
  - once a team is picked, that pool must go;
  - several exporters probing the same pool (one sidecar per application pod) each publish the
    labels: the join must not find duplicates (`on (pool)` alone would);
  - an exporter that publishes no pool labels at all (an older version) keeps all its pools.

The state panels encode a server's state as 2 healthy, 1 unknown, 0 unhealthy, plus 3 while it
is draining; a server of an exporter without the draining series counts as in service.

The sample (tests/fixtures/exporter-metrics.prom: pool api labelled team=payments,
tier=critical; pool web without labels, whose failing server 10.0.1.5 is draining) is replayed
for two exporters, and once more, without backend_health_pool_labels and
backend_health_server_draining and with its pools renamed legacy-*, for a third one. Then:
  1. every Overview query that uses the filter evaluates without error and returns data, with the
     variables on All (as the dashboard defines All);
  2. the "Backend pools" table's total-servers query returns exactly the expected pools, with
     their team and tier, for All, for team=payments, and for a tier that no pool has;
  3. the Server dashboard's "State" query gives 2 for a healthy server, 3 for the draining
     unhealthy one, and 0 for the same server on the exporter without draining series.

Usage: query_semantics_test.py --promtool PATH
Exit status: 0 on success, 1 on a failed check, 2 on usage or I/O errors.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(os.path.dirname(HERE), "tools")
sys.path.insert(0, TOOLS)
import lint_dashboards  # noqa: E402
import panel_data_test  # noqa: E402  (its /metrics replay)

OVERVIEW = os.path.join(os.path.dirname(HERE), "grafana", "backend-health-overview.json")
SERVER = os.path.join(os.path.dirname(HERE), "grafana", "backend-health-server.json")
SAMPLE = os.path.join(HERE, "fixtures", "exporter-metrics.prom")
JOB = "backend-health-exporter"
LABELLED = ("10.1.0.4:9985", "10.1.0.5:9985")   # both probe pools api and web
LEGACY = "10.1.0.6:9985"                        # no pool labels; pools legacy-api, legacy-web
NOT_ON_LEGACY = ("backend_health_pool_labels", "backend_health_server_draining")
FILTER_LABELS = ("team", "tier")
TOTAL_QUERY = ("Backend pools", "D")            # sum by (pool, settings, team, tier) (servers)


def input_series(samples):
    out = []
    for instance in LABELLED + (LEGACY,):
        for name, labels, value, typ in samples:
            if instance == LEGACY:
                if name in NOT_ON_LEGACY:
                    continue
                if "pool" in labels:
                    labels = {**labels, "pool": "legacy-" + labels["pool"]}
            out.append({"series": panel_data_test.series_string(
                            name, {**labels, "job": JOB, "instance": instance}),
                        "values": panel_data_test.values_string(name, value, typ)})
    return out


def all_values(dashboard, samples):
    """What each filter variable expands to on "All": its allValue, else (as Grafana does) a
    regex of the values its query finds."""
    out = {}
    for v in dashboard["templating"]["list"]:
        if v.get("name") in FILTER_LABELS:
            found = sorted({labels[v["name"]] for name, labels, _, _ in samples
                            if name == "backend_health_pool_labels" and v["name"] in labels})
            out[v["name"]] = v.get("allValue") or "(" + "|".join(found) + ")"
    missing = set(FILTER_LABELS) - set(out)
    if missing:
        raise SystemExit(f"query_semantics_test: the Overview has no variable {sorted(missing)}")
    return out


def expected_totals(samples, keep):
    """exp_samples of the total-servers query: servers per pool/settings over the exporters, with
    the pool's team and tier; `keep(labels)` says whether a labelled pool passes the filter."""
    pool_labels = {l["pool"]: {k: v for k, v in l.items() if k in FILTER_LABELS}
                   for n, l, _, _ in samples if n == "backend_health_pool_labels"}
    totals = {}
    for name, labels, value, _ in samples:
        if name != "backend_health_pool_servers":
            continue
        for instance in LABELLED + (LEGACY,):
            if instance == LEGACY:
                key = {"pool": "legacy-" + labels["pool"], "settings": labels["settings"]}
            elif keep(pool_labels.get(labels["pool"], {})):
                key = {"pool": labels["pool"], "settings": labels["settings"],
                       **pool_labels.get(labels["pool"], {})}
            else:
                continue
            k = panel_data_test.series_string("", key)
            totals[k] = totals.get(k, 0) + float(value)
    return [{"labels": k, "value": v} for k, v in sorted(totals.items())]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--promtool", required=True)
    args = ap.parse_args(argv)
    try:
        with open(OVERVIEW, encoding="utf-8") as f:
            dashboard = json.load(f)
        samples = panel_data_test.parse_exposition(panel_data_test.read(SAMPLE))
    except (OSError, ValueError) as e:
        print(f"query_semantics_test: {e}", file=sys.stderr)
        return 2
    linter = lint_dashboards.Linter()
    linter.lint_files([OVERVIEW])
    exprs = [e for e in linter.exprs if e["kind"] == "panel"]
    total = [e for e in exprs if (e["title"], e["ref_id"]) == TOTAL_QUERY]
    if len(total) != 1:
        print(f"query_semantics_test: no single query {TOTAL_QUERY} in {OVERVIEW}", file=sys.stderr)
        return 1
    filtered = [e for e in exprs if "backend_health_pool_labels" in e["expr"]]
    if len(filtered) < 10:
        print(f"query_semantics_test: only {len(filtered)} Overview queries use the pool filter",
              file=sys.stderr)
        return 1

    everything = all_values(dashboard, samples)
    base = lint_dashboards.default_values()
    cases = []   # (what, expr, exp_samples)
    for e in filtered:
        expanded = lint_dashboards.expand(e["expr"], {**base, **everything})
        cases.append((f"{e['where']} (All)", f"clamp_max(count(({expanded})), 1)",
                      [{"labels": "{}", "value": 1}]))
    for what, values, keep in (
            ("All", everything, lambda labels: True),
            ("team=payments", {**everything, "team": "payments"},
             lambda labels: labels.get("team") == "payments"),
            ("tier=none", {**everything, "tier": "none"}, lambda labels: False)):
        cases.append((f"{TOTAL_QUERY} with {what}",
                      lint_dashboards.expand(total[0]["expr"], {**base, **values}),
                      expected_totals(samples, keep)))

    server = lint_dashboards.Linter()
    server.lint_files([SERVER])
    state = [e for e in server.exprs if e["kind"] == "panel" and e["title"] == "State"
             and "min by" in e["expr"] and e["instant"]]
    if len(state) != 1:
        print(f"query_semantics_test: no single instant 'State' query in {SERVER}", file=sys.stderr)
        return 1
    for srv, exp in (("10.0.0.5", [("api", "api-https", 2), ("legacy-api", "api-https", 2)]),
                     ("10.0.1.5", [("legacy-web", "web-http", 0), ("web", "web-http", 3)])):
        cases.append((f"Server dashboard State of {srv}",
                      lint_dashboards.expand(state[0]["expr"], {**base, "server": srv}),
                      [{"labels": panel_data_test.series_string("", {"pool": p, "settings": st, "server": srv}),
                        "value": v} for p, st, v in exp]))

    doc = {"rule_files": [], "evaluation_interval": "1m",
           "tests": [{"name": what, "interval": "1m", "input_series": input_series(samples),
                      "promql_expr_test": [{"expr": expr, "eval_time": "20m", "exp_samples": exp}]}
                     for what, expr, exp in cases]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(doc, f, indent=1)
        path = f.name
    try:
        r = subprocess.run([args.promtool, "test", "rules", path], capture_output=True, text=True,
                           timeout=300)
    finally:
        os.unlink(path)
    if r.returncode != 0:
        print(r.stdout + r.stderr, file=sys.stderr)
        print(f"query_semantics_test: FAILED (see the test names above: {len(cases)} cases)",
              file=sys.stderr)
        return 1
    print(f"query_semantics_test: OK, {len(filtered)} filtered Overview queries evaluate with two "
          f"exporters per pool and one without pool labels; the pool set is right for All, a "
          f"picked team and an unknown tier; the State encoding shows draining, and counts a "
          f"server without draining series as in service")
    return 0


if __name__ == "__main__":
    sys.exit(main())
