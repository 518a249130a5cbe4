#!/usr/bin/env python3
"""Offline check that every dashboard query returns data on an exporter's /metrics.

The live end-to-end test runs the queries against a real Prometheus. This check needs no server.
It replays one /metrics scrape (a file or a URL) as 30 minutes of samples in a
`promtool test rules` file: gauges stay constant, counters grow. It adds the series that
Prometheus makes itself (up, scrape_*), with the job and instance labels that a scrape adds. Then
it evaluates every panel query and every variable query, with the template variables expanded
(all ".*" unless --var is given), as

    clamp_max(count((<query>)), 1)  ==  1

A query that returns nothing fails: for example a label value typo, a wrong join, or a metric
that the sample lacks. So does a query that fails while it is evaluated (many-to-many matching,
for instance). Each failure is reported with its dashboard, panel and refId.

Usage: panel_data_test.py --promtool PATH --metrics FILE|URL [--var NAME=VALUE]... DASHBOARD.json...
Exit status: 0 when every query returns data, 1 otherwise, 2 on usage or I/O errors.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lint_dashboards  # noqa: E402

SAMPLE_RE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?\s*$')
LABEL_RE = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
STEPS = 30          # samples, one per minute
EVAL_TIME = "20m"


def read(source):
    if re.match(r"^https?://", source):
        with urllib.request.urlopen(source, timeout=10) as r:
            return r.read().decode("utf-8", "replace")
    with open(source, encoding="utf-8") as f:
        return f.read()


def parse_exposition(text):
    """[(name, {labels}, value, type)] from the Prometheus text format."""
    types, out = {}, []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = re.match(r"#\s*TYPE\s+(\S+)\s+(\S+)", line)
            if m:
                types[m.group(1)] = m.group(2)
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise ValueError(f"cannot parse sample line: {line}")
        name, _, labels_text, value = m.group(1), m.group(2), m.group(3) or "", m.group(4)
        labels = {k: json.loads(f'"{v}"') for k, v in LABEL_RE.findall(labels_text)}
        base = re.sub(r"_(sum|count|bucket)$", "", name)
        typ = types.get(name) or types.get(base) or "untyped"
        out.append((name, labels, value, typ))
    return out


def series_string(name, labels):
    inner = ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def values_string(name, value, typ):
    v = float(value)
    if v != v or v in (float("inf"), float("-inf")):
        return " ".join([value] * (STEPS + 1))
    counter = typ == "counter" or (typ in ("summary", "histogram") and re.search(r"_(sum|count|bucket)$", name))
    if counter:
        return f"{v:g}+1x{STEPS}"
    return f"{v:g}x{STEPS}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dashboards", nargs="+")
    ap.add_argument("--promtool", required=True)
    ap.add_argument("--metrics", required=True, help="exporter /metrics text: file or http(s) URL")
    ap.add_argument("--job", default="backend-health-exporter", help="job label a scrape would add")
    ap.add_argument("--instance", default="127.0.0.1:9985", help="instance label a scrape would add")
    ap.add_argument("--var", action="append", metavar="NAME=VALUE")
    ap.add_argument("--keep", metavar="FILE", help="also write the generated promtool test file here")
    args = ap.parse_args(argv)

    try:
        samples = parse_exposition(read(args.metrics))
    except (OSError, ValueError) as e:
        print(f"panel_data_test: {e}", file=sys.stderr)
        return 2
    target = {"job": args.job, "instance": args.instance}
    input_series = []
    for name, labels, value, typ in samples:
        input_series.append({"series": series_string(name, {**labels, **target}),
                             "values": values_string(name, value, typ)})
    for name, value in (("up", "1"), ("scrape_duration_seconds", "0.004"), ("scrape_samples_scraped", str(len(samples)))):
        input_series.append({"series": series_string(name, target), "values": f"{value}x{STEPS}"})

    linter = lint_dashboards.Linter()
    linter.lint_files(args.dashboards)
    if linter.errors:
        for e in linter.errors:
            print(e, file=sys.stderr)
        print("panel_data_test: the dashboards do not pass the lint; fix that first", file=sys.stderr)
        return 1
    values = lint_dashboards.default_values()
    values.update(lint_dashboards.parse_vars(args.var))

    by_expr = {}
    tests = []
    for e in linter.exprs:
        wrapped = f"clamp_max(count(({lint_dashboards.expand(e['expr'], values)})), 1)"
        by_expr.setdefault(wrapped, []).append(e)
        tests.append({"expr": wrapped, "eval_time": EVAL_TIME, "exp_samples": [{"labels": "{}", "value": 1}]})
    doc = {"rule_files": [], "evaluation_interval": "1m",
           "tests": [{"name": "every dashboard query returns data", "interval": "1m",
                      "input_series": input_series, "promql_expr_test": tests}]}

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(doc, f, indent=1)
        path = f.name
    try:
        if args.keep:
            with open(args.keep, "w", encoding="utf-8") as k:
                json.dump(doc, k, indent=1)
        r = subprocess.run([args.promtool, "test", "rules", path], capture_output=True, text=True, timeout=300)
    finally:
        os.unlink(path)
    out = r.stdout + r.stderr
    if r.returncode == 0:
        print(f"panel_data_test: OK, all {len(tests)} queries of {len(args.dashboards)} dashboard(s) "
              f"return data on {len(samples)} samples from {args.metrics}")
        return 0

    failures = 0
    blocks = re.split(r"\n(?=\s*expr: )", out)
    for block in blocks:
        m = re.search(r'expr: ("(?:[^"\\]|\\.)*"), time: [^,\n]+,?(.*)', block, re.S)
        if not m:
            continue
        try:
            expr = json.loads(m.group(1))
        except ValueError:
            expr = m.group(1)
        detail = re.sub(r"\s+", " ", m.group(2)).strip()
        if "got: nil" in detail:
            detail = "returns no data"
        for e in by_expr.get(expr, [None]):
            failures += 1
            where = e["where"] if e else "?"
            print(f"{where}: [panel-returns-data] {detail}\n    {expr}", file=sys.stderr)
    if not failures:
        print(out, file=sys.stderr)
    print(f"panel_data_test: FAILED, {max(failures, 1)} query(ies) return no data or fail", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
