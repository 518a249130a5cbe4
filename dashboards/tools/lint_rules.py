#!/usr/bin/env python3
"""Checks the alert rules, their promtool unit tests and the runbook against each other.

promtool checks that the rules parse and that the tests pass; this script checks what promtool
cannot see (monitoring-mixin conventions, mixtool's lint rules, and coverage):

  alert-name        CamelCase (^([A-Z]+[a-z0-9]+)+$), at most 40 characters, shared prefix
  group             group names at most 40 characters, at most 20 rules per group
  severity          labels.severity is critical, warning or info
  for               every alert has a for: window
  summary           present, static (no templating), starts with a capital, ends with a period
  description       present and templated ({{ ... }})
  runbook           runbook_url = one shared base + '#' + lower-cased alert name, and that anchor
                    is a heading of the runbook whose section has Meaning/Impact/Diagnosis/Mitigation
  runbook-links     every in-page link (#anchor) of the runbook resolves
  doc-table         a Markdown table row that starts with an alert name (in the runbook or in a
                    --doc file) shows that alert's severity and for: window
  test-coverage     every alert has a test case where it fires (exp_alerts, with severity in
                    exp_labels and every annotation in exp_annotations) and one where it must not
  category          (with --reasons) every failure category of probe/classify/reason.cpp has exactly one
                    alert selecting category="<it>", and every reason has a runbook subsection
                    inside that alert's section
  yaml              every file parses, has no duplicate key, and has the shape read here
  metric-exists     (with --metrics FILE|URL) every metric of every alert and recording rule
                    expression is exposed by the exporter (up comes from Prometheus) or recorded
                    by one of the rules

The YAML files are read with PyYAML (Debian python3-yaml), with one check added: a key that
appears twice in a mapping is an error (PyYAML would silently keep the last one).

Usage: lint_rules.py --alerts FILE... --tests FILE... --runbook runbooks.md [--reasons reason.cpp]
                     [--metrics FILE|URL]
Exit status: 0 when clean, 1 when a check fails, 2 on usage or read errors.
"""

import argparse
import os
import re
import sys

try:
    import yaml
except ImportError:
    sys.exit("lint_rules: needs PyYAML (Debian package python3-yaml; scripts/setup.sh --test)")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lint_dashboards  # noqa: E402  (its PromQL scanner and /metrics reader)

ALERT_NAME_RE = re.compile(r"^([A-Z]+[a-z0-9]+)+$")
PREFIX = "BackendHealth"
SEVERITIES = ("critical", "warning", "info")
RUNBOOK_PARTS = ("Meaning", "Impact", "Diagnosis", "Mitigation")


def github_slug(heading):
    """The anchor GitHub generates for a Markdown heading."""
    text = heading.strip().lower()
    text = re.sub(r"[`*]", "", text)
    text = re.sub(r"[^\w\- ]", "", text, flags=re.UNICODE)
    return text.replace(" ", "-")


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a mapping key given twice: promtool does too, and a silently
    dropped duplicate (two `expr:` or `for:` lines) would be linted as something it is not."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool, type(None))):
                continue  # unhashable: SafeLoader reports it
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark,
                    f"found duplicate key {key!r} (first at line {seen[key].line + 1})",
                    key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_UniqueKeyLoader)


def _is_list_of_mappings(value):
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def rule_file_shape(doc):
    """What keeps a rule file from having the shape the checks read, or None. Only the fields
    this linter reads are checked; promtool check rules judges the rest."""
    if not isinstance(doc, dict) or not _is_list_of_mappings(doc.get("groups")):
        return "top level must be a mapping whose groups: is a list of mappings"
    for g in doc["groups"]:
        if not isinstance(g.get("name", ""), str) or not _is_list_of_mappings(g.get("rules", [])):
            return f"group {g.get('name')!r}: name must be a string and rules: a list of mappings"
        for r in g.get("rules", []):
            for key in ("alert", "record", "expr", "for"):
                if key in r and not isinstance(r[key], str):
                    return f"rule {r.get('alert') or r.get('record')!r}: {key}: must be a string"
            for key in ("labels", "annotations"):
                if key in r and not (isinstance(r[key], dict)
                                     and all(isinstance(v, str) for v in r[key].values())):
                    return f"rule {r.get('alert') or r.get('record')!r}: {key}: must map names to strings"
    return None


def test_file_shape(doc):
    """Like rule_file_shape, for a promtool rule test file."""
    if not isinstance(doc, dict) or not isinstance(doc.get("rule_files", []), list) \
            or not _is_list_of_mappings(doc.get("tests", [])):
        return "top level must be a mapping with a rule_files: list and a tests: list of mappings"
    for t in doc.get("tests", []):
        cases = t.get("alert_rule_test", [])
        if not _is_list_of_mappings(cases):
            return f"test {t.get('name')!r}: alert_rule_test: must be a list of mappings"
        for case in cases:
            exp = case.get("exp_alerts") or []
            if not _is_list_of_mappings(exp) or not all(
                    isinstance(e.get(k) or {}, dict) for e in exp for k in ("exp_labels", "exp_annotations")):
                return f"test {t.get('name')!r}: exp_alerts: must be a list of mappings with exp_labels/exp_annotations mappings"
    return None


class Report:
    def __init__(self):
        self.errors = []

    def error(self, rule, where, message):
        self.errors.append(f"{where}: [{rule}] {message}")


def parse_runbook(path):
    """Returns (sections, slugs, text): sections maps the slug of every ## heading to the text of
    that section (up to the next ## or #), slugs lists every heading's slug in order."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    sections, slugs, counts = {}, [], {}
    current, buf = None, []
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        m = None if in_code else re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m:
            slug = github_slug(m.group(2))
            n = counts.get(slug, 0)
            counts[slug] = n + 1
            if n:
                slug = f"{slug}-{n}"
            slugs.append(slug)
            if len(m.group(1)) <= 2:
                if current is not None:
                    sections[current] = "\n".join(buf)
                current, buf = slug, []
                continue
            buf.append(f"<<heading:{slug}>>")
        buf.append(line)
    if current is not None:
        sections[current] = "\n".join(buf)
    return sections, slugs, text


def parse_reasons(path):
    """(reason, category) pairs from probe/classify/reason.cpp's table: {kX, "name", "category", ...}."""
    with open(path, encoding="utf-8") as f:
        src = f.read()
    pairs = re.findall(r'\{\s*k[A-Za-z]+\s*,\s*"([a-z_]+)"\s*,\s*"([a-z_]+)"\s*,', src)
    return pairs


def check(args):
    rep = Report()

    alerts = {}   # name -> (rule dict, file)
    records = {}  # recorded metric name -> (rule dict, file)
    bases = set()
    for path in args.alerts:
        doc = load_yaml(path)
        problem = rule_file_shape(doc)
        if problem:
            rep.error("yaml", path, problem)
            continue
        groups = doc["groups"]
        if not groups:
            rep.error("group", path, "no rule groups")
        for g in groups:
            gname = g.get("name") or ""
            rules = g.get("rules") or []
            if len(gname) > 40:
                rep.error("group", path, f"group name {gname!r} is longer than 40 characters")
            if len(rules) > 20:
                rep.error("group", path, f"group {gname!r} has {len(rules)} rules (at most 20)")
            for r in rules:
                if "record" in r:
                    records[r["record"]] = (r, path)
                if "alert" not in r:
                    continue
                name = r["alert"]
                where = f"{path}: {name}"
                if name in alerts:
                    rep.error("alert-name", where, "duplicate alert name")
                alerts[name] = (r, path)
                if not ALERT_NAME_RE.match(name):
                    rep.error("alert-name", where, "name is not CamelCase (^([A-Z]+[a-z0-9]+)+$)")
                if len(name) > 40:
                    rep.error("alert-name", where, "name is longer than 40 characters")
                if not name.startswith(PREFIX) or name == PREFIX:
                    rep.error("alert-name", where, f"name does not start with the prefix {PREFIX}")
                sev = (r.get("labels") or {}).get("severity")
                if sev not in SEVERITIES:
                    rep.error("severity", where, f"severity {sev!r} is not one of {', '.join(SEVERITIES)}")
                if not r.get("for"):
                    rep.error("for", where, "no for: window (a single bad evaluation would fire it)")
                ann = r.get("annotations") or {}
                summary = ann.get("summary")
                if not summary:
                    rep.error("summary", where, "no summary annotation")
                else:
                    if "{{" in summary:
                        rep.error("summary", where, "summary must be static (no {{ templating }})")
                    if not summary[0].isupper() or not summary.rstrip().endswith("."):
                        rep.error("summary", where, "summary must start with a capital letter and end with a period")
                desc = ann.get("description")
                if not desc:
                    rep.error("description", where, "no description annotation")
                elif "{{" not in desc:
                    rep.error("description", where, "description is not templated ({{ $labels.x }} or {{ $value }})")
                url = ann.get("runbook_url")
                if not url or "#" not in url:
                    rep.error("runbook", where, "runbook_url missing or without #anchor")
                else:
                    base, anchor = url.split("#", 1)
                    bases.add(base)
                    if anchor != name.lower():
                        rep.error("runbook", where, f"runbook_url anchor {anchor!r} is not the alert's own anchor {name.lower()!r}")
    if len(bases) > 1:
        rep.error("runbook", "alerts", "runbook_url base differs between alerts: " + ", ".join(sorted(bases)))
    if args.runbook_base and bases and bases != {args.runbook_base}:
        rep.error("runbook", "alerts", f"runbook_url base is not {args.runbook_base}")

    # Runbook.
    sections, slugs, rb_text = parse_runbook(args.runbook)
    for name, (r, path) in sorted(alerts.items()):
        slug = name.lower()
        if slug not in sections:
            rep.error("runbook", args.runbook, f"no '## {name}' section (anchor #{slug}) for alert {name}")
            continue
        body = sections[slug]
        for part in RUNBOOK_PARTS:
            if not re.search(r"\*\*" + part + r"\b", body):
                rep.error("runbook", args.runbook, f"section {name} has no **{part}.** part")
    for link in sorted(set(re.findall(r"\]\(#([^)\s]+)\)", rb_text))):
        if link not in slugs:
            rep.error("runbook-links", args.runbook, f"link to #{link} matches no heading")

    # Alert tables in the runbook and the docs: | Name or [Name](#x) | severity | for | ...
    for doc in [args.runbook] + args.doc:
        with open(doc, encoding="utf-8") as f:
            for num, line in enumerate(f, start=1):
                m = re.match(r"^\|\s*\[?([A-Za-z]+)\]?(?:\([^)]*\))?\s*\|\s*([a-z]+)\s*\|\s*`?([0-9a-z]+)`?\s*\|", line)
                if not m or m.group(1) not in alerts:
                    continue
                r = alerts[m.group(1)][0]
                want = ((r.get("labels") or {}).get("severity"), r.get("for"))
                if (m.group(2), m.group(3)) != want:
                    rep.error("doc-table", f"{doc}:{num}", f"{m.group(1)} is shown as {m.group(2)}/{m.group(3)}, the rule says {want[0]}/{want[1]}")

    # Tests.
    fired, silent = {}, {}
    for path in args.tests:
        doc = load_yaml(path)
        problem = test_file_shape(doc)
        if problem:
            rep.error("yaml", path, problem)
            continue
        rule_files = [os.path.normpath(os.path.join(os.path.dirname(path), f)) for f in doc.get("rule_files") or []]
        wanted = {os.path.normpath(a) for a in args.alerts}
        if not wanted.intersection(rule_files):
            rep.error("test-coverage", path, "rule_files does not load any of the alert files")
        for t in doc.get("tests") or []:
            tname = t.get("name") or "(unnamed test)"
            for case in t.get("alert_rule_test") or []:
                name = case.get("alertname")
                where = f"{path}: {tname}: {name} at {case.get('eval_time')}"
                if name not in alerts:
                    rep.error("test-coverage", where, "tests an alert that does not exist")
                    continue
                exp = case.get("exp_alerts") or []
                if not exp:
                    silent.setdefault(name, []).append(where)
                    continue
                fired.setdefault(name, []).append(where)
                rule = alerts[name][0]
                for e in exp:
                    labels = e.get("exp_labels") or {}
                    if labels.get("severity") != (rule.get("labels") or {}).get("severity"):
                        rep.error("test-coverage", where, "exp_labels lacks the alert's severity")
                    want = set((rule.get("annotations") or {}).keys())
                    have = set((e.get("exp_annotations") or {}).keys())
                    if want - have:
                        rep.error("test-coverage", where, "exp_annotations lacks " + ", ".join(sorted(want - have)))
    for name in sorted(alerts):
        if name not in fired:
            rep.error("test-coverage", name, "no unit test where the alert fires")
        if name not in silent:
            rep.error("test-coverage", name, "no unit test where the alert must stay silent")

    # Failure categories and reasons.
    if args.reasons:
        pairs = parse_reasons(args.reasons)
        if len(pairs) < 2:
            rep.error("category", args.reasons, "could not read the reason table (format changed?)")
        by_category = {}
        for name, (r, _) in alerts.items():
            for cat in re.findall(r'\bcategory\s*=\s*"([a-z_]+)"', r.get("expr") or ""):
                by_category.setdefault(cat, []).append(name)
        for cat in sorted({c for _, c in pairs}):
            names = by_category.get(cat, [])
            if len(names) != 1:
                rep.error("category", args.reasons, f"category {cat!r} has {len(names)} alerts selecting it ({', '.join(names) or 'none'}); want exactly one")
                continue
            body = sections.get(names[0].lower(), "")
            for reason, c in pairs:
                if c == cat and f"<<heading:{reason}>>" not in body:
                    rep.error("category", args.runbook, f"reason {reason} (category {cat}) has no '### {reason}' subsection in section {names[0]}")
        for cat in by_category:
            if cat not in {c for _, c in pairs}:
                rep.error("category", args.reasons, f"alerts select category {cat!r}, which probe/classify/reason.cpp does not define")

    if args.metrics:
        metrics = lint_dashboards.load_metrics(args.metrics)
        for name, (r, path) in sorted(alerts.items()) + sorted(records.items()):
            try:
                selectors, _ = lint_dashboards.scan(r.get("expr") or "")
            except lint_dashboards.PromqlError as e:
                rep.error("metric-exists", f"{path}: {name}", f"cannot scan the expression: {e}")
                continue
            for s in selectors:
                if s.metric and s.metric not in metrics and s.metric not in records \
                        and s.metric not in lint_dashboards.PROMETHEUS_SYNTHETIC:
                    rep.error("metric-exists", f"{path}: {name}", f"metric {s.metric} is not exposed by the exporter")

    return rep, alerts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alerts", nargs="+", required=True, help="Prometheus alerting rule files")
    ap.add_argument("--tests", nargs="+", required=True, help="promtool rule test files")
    ap.add_argument("--runbook", required=True, help="runbooks.md")
    ap.add_argument("--reasons", help="probe/classify/reason.cpp: check categories and reasons against it")
    ap.add_argument("--runbook-base", help="the base URL every runbook_url must use")
    ap.add_argument("--doc", action="append", default=[], help="another Markdown file whose alert tables are checked")
    ap.add_argument("--metrics", help="exporter /metrics text (file or http(s) URL): check the metrics of every expression")
    args = ap.parse_args(argv)
    try:
        rep, alerts = check(args)
    except (OSError, yaml.YAMLError) as e:
        print(f"lint_rules: {e}", file=sys.stderr)
        return 2
    for e in rep.errors:
        print(e, file=sys.stderr)
    if rep.errors:
        print(f"lint_rules: FAILED, {len(rep.errors)} problem(s) in {len(alerts)} alerts", file=sys.stderr)
        return 1
    print(f"lint_rules: OK, {len(alerts)} alerts, each with a firing and a silent test and a runbook section")
    return 0


if __name__ == "__main__":
    sys.exit(main())
