#!/usr/bin/env python3
"""Lints Grafana dashboards (classic JSON model) against the grafana/dashboard-linter rules.

No dashboard-linter binary can be installed here, so this reimplements its rules, plus a few more,
with the Python standard library only. Rule ids follow dashboard-linter where one exists:

  json                                  the file is a JSON object
  dashboard-uid                         fixed uid ([A-Za-z0-9_-]{1,40}), unique over all files given
  dashboard-title / dashboard-schema    a title; schemaVersion >= 39
  uneditable-dashboard                  "editable": false
  template-datasource-rule              exactly one datasource variable, named `datasource`,
                                        labelled `Data source`, of type prometheus
  template-job-rule / template-instance-rule
                                        query variables `job` and `instance` (multi-select)
  template-query-variable-rule          every query variable uses ${datasource}, multi, includeAll,
                                        and label_values(<selector>, <label>)
  template-on-time-change-reload-rule   query variables have refresh: 2
  template-undefined-variable           every $var used in a query or link is defined
  panel-id                              panel ids are unique integers (rows and nested panels too)
  panel-gridpos                         gridPos inside the 24-column grid; panel-overlap: no overlap
  panel-type                            row, stat, table, timeseries, state-timeline, bargauge, gauge
  panel-datasource-rule                 every panel and every target uses ${datasource}
  panel-title-description-rule          every panel has a title and a description
  panel-units-rule                      a known unit or value mappings on every panel
  panel-no-targets-rule                 every panel has at least one target with an expression
  target-refid                          refIds present and unique within a panel
  target-legend                         time series and state timelines set legendFormat
  target-promql-rule                    the expression parses (brackets here; fully with --promtool)
  target-rate-interval-rule             rate/irate/increase use [$__rate_interval]
  target-counter-agg-rule               *_total, *_sum, *_count and *_bucket only inside
                                        rate/irate/increase
  target-job-rule / target-instance-rule
                                        every selector has job=~"$job" and instance=~"$instance";
                                        no hard-coded job or instance
  target-metric-exists                  (with --metrics) every metric exists in the exporter's
                                        /metrics (up and scrape_* come from Prometheus itself)
  link-uid                              links to /d/<uid> point at one of the dashboards given

Modes:
  lint_dashboards.py [--metrics FILE|URL] [--promtool PATH] DASHBOARD.json...
  lint_dashboards.py --print-exprs [--var NAME=VALUE]... [--json] DASHBOARD.json...
      prints every panel query (and variable query) with the template variables expanded;
      multi-value variables become ".*" unless --var gives a value.
  --rules-out FILE   also writes the expanded expressions as a Prometheus recording-rules file
                     (JSON, which promtool reads as YAML).
Exit status: 0 clean, 1 lint errors, 2 usage or I/O errors.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.request

GRID_COLUMNS = 24
MIN_SCHEMA = 39
PANEL_TYPES = {"row", "stat", "table", "timeseries", "state-timeline", "bargauge", "gauge"}
RANGE_FUNCS = {"rate", "irate", "increase"}
COUNTER_SUFFIXES = ("_total", "_sum", "_count", "_bucket")
PROMETHEUS_SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                        "scrape_samples_post_metric_relabeling", "scrape_series_added"}
# Grafana unit ids accepted (a subset of Grafana's list: what a prober's dashboards may need).
KNOWN_UNITS = {
    "none", "short", "percent", "percentunit", "string", "bool", "bool_yes_no", "bool_on_off",
    "ns", "µs", "us", "ms", "s", "m", "h", "d", "dtdurationms", "dtdurations", "dthms", "dtdhms",
    "clockms", "clocks", "dateTimeAsIso", "dateTimeAsIsoNoDateIfToday", "dateTimeAsUS",
    "dateTimeAsUSNoDateIfToday", "dateTimeAsLocal", "dateTimeAsSystem", "dateTimeFromNow",
    "ops", "reqps", "rps", "wps", "iops", "opm", "rpm", "wpm", "cps", "hertz",
    "bytes", "decbytes", "bits", "decbits", "kbytes", "mbytes", "Bps", "binBps", "bps", "binbps",
    "pps", "celsius",
}
GRAFANA_BUILTIN_VARS = {
    "__rate_interval", "__interval", "__interval_ms", "__range", "__range_s", "__range_ms",
    "__url_time_range", "__data", "__field", "__value", "__series", "__from", "__to",
    "__dashboard", "__user", "__org", "__name", "__timeFilter", "__all",
}
BUILTIN_EXPANSION = {
    "__rate_interval": "2m", "__interval": "30s", "__interval_ms": "30000", "__range": "1h",
    "__range_s": "3600", "__range_ms": "3600000",
}
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "offset", "bool", "atan2", "inf", "nan", "start", "end"}
GROUPING_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
AGGREGATIONS = {"sum", "min", "max", "avg", "count", "group", "stddev", "stdvar", "topk",
                "bottomk", "quantile", "count_values", "limitk", "limit_ratio"}
VAR_RE = re.compile(r"\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\]")
UID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
DS_UIDS = {"${datasource}", "$datasource"}


# ------------------------------------------------------------------------------------------
# A small PromQL scanner: enough to find selectors, their matchers, the functions around them
# and range durations. Full parsing is promtool's job (--promtool).
# ------------------------------------------------------------------------------------------
TOKEN_RE = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<var>\$\{[^}]*\}|\$[A-Za-z0-9_]+)
  | (?P<number>(?:0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)(?:[smhdwy]|ms)?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=(){},])
""", re.VERBOSE)


class PromqlError(ValueError):
    pass


def tokenize(expr):
    pos, out = 0, []
    while pos < len(expr):
        m = TOKEN_RE.match(expr, pos)
        if not m:
            raise PromqlError(f"unexpected character {expr[pos]!r} at offset {pos}")
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group(kind), pos))
        pos = m.end()
    return out


class Selector:
    def __init__(self, metric, matchers, funcs):
        self.metric = metric          # str
        self.matchers = matchers      # list of (label, op, value)
        self.funcs = funcs            # enclosing function names, innermost last


def scan(expr):
    """Returns (selectors, ranges) where ranges lists (content, innermost function)."""
    toks = tokenize(expr)
    selectors, ranges = [], []
    stack = []           # one entry per open '(' : function name, "" or "__labels__"
    brace_depth = 0
    i = 0
    pending_labels = False
    pending_func = None  # `sum by (x) (...)`: the aggregation whose '(' comes after the labels
    while i < len(toks):
        kind, text, pos = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else (None, None, None)
        if kind == "op" and text == "(":
            if pending_labels:
                stack.append("__labels__")
                pending_labels = False
            elif pending_func:
                stack.append(pending_func)
                pending_func = None
            else:
                stack.append("")
        elif kind == "op" and text == ")":
            if not stack:
                raise PromqlError(f"unbalanced ')' at offset {pos}")
            stack.pop()
        elif kind == "op" and text == "{" and brace_depth == 0 and not (i > 0 and toks[i - 1][0] == "ident"):
            # Selector without a metric name: {__name__="x", ...}
            matchers, i = _matchers(toks, i, expr)
            name = next((v for l, o, v in matchers if l == "__name__" and o == "="), None)
            selectors.append(Selector(name, matchers, [f for f in stack if f and f != "__labels__"]))
            continue
        elif kind == "op" and text in "{}":
            raise PromqlError(f"unexpected {text!r} at offset {pos}")
        elif kind == "range":
            inner = next((f for f in reversed(stack) if f != "__labels__"), "")
            ranges.append((text[1:-1].strip(), inner))
        elif kind == "ident":
            low = text.lower()
            if stack and stack[-1] == "__labels__":
                pass  # a label name in by (...) / on (...)
            elif low in GROUPING_KEYWORDS:
                if nxt[0] == "op" and nxt[1] == "(":
                    pending_labels = True
            elif low in KEYWORDS:
                pass
            elif low in AGGREGATIONS and nxt[0] == "ident" and nxt[1].lower() in ("by", "without"):
                pending_func = text
            elif nxt[0] == "op" and nxt[1] == "(":
                stack.append(text)
                i += 2
                continue
            else:
                funcs = [f for f in stack if f and f != "__labels__"]
                if nxt[0] == "op" and nxt[1] == "{":
                    matchers, i = _matchers(toks, i + 1, expr)
                    selectors.append(Selector(text, matchers, funcs))
                    continue
                selectors.append(Selector(text, [], funcs))
        i += 1
    if stack:
        raise PromqlError("unbalanced '(': missing ')'")
    return selectors, ranges


def _matchers(toks, i, expr):
    """toks[i] is '{'; returns (matchers, index after '}')."""
    out = []
    i += 1
    while i < len(toks):
        kind, text, pos = toks[i]
        if kind == "op" and text == "}":
            return out, i + 1
        if kind == "op" and text == ",":
            i += 1
            continue
        if kind != "ident" or i + 2 >= len(toks):
            raise PromqlError(f"bad label matcher at offset {pos}")
        op, val = toks[i + 1], toks[i + 2]
        if op[0] != "op" or op[1] not in ("=", "!=", "=~", "!~") or val[0] != "string":
            raise PromqlError(f"bad label matcher at offset {pos}")
        out.append((text, op[1], _unquote(val[1])))
        i += 3
    raise PromqlError("unterminated '{'")


def _unquote(s):
    if s[0] == "`":
        return s[1:-1]
    if s[0] == "'":
        s = '"' + s[1:-1].replace('"', '\\"') + '"'
    try:
        return json.loads(s)
    except ValueError:
        return s[1:-1]


# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------
def variables_used(text):
    names = set()
    for m in VAR_RE.finditer(text or ""):
        name = m.group(1) or m.group(2) or m.group(3)
        if not name.isdigit():  # $1: a regex back-reference (label_replace), not a variable
            names.add(name)
    return names


def expand(expr, values):
    def sub(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in values:
            return values[name]
        if name in BUILTIN_EXPANSION:
            return BUILTIN_EXPANSION[name]
        return m.group(0)
    return VAR_RE.sub(sub, expr)


def walk_panels(panels):
    for p in panels or []:
        yield p
        if p.get("type") == "row":
            yield from walk_panels(p.get("panels"))


def load_metrics(source):
    if re.match(r"^https?://", source):
        with urllib.request.urlopen(source, timeout=10) as r:
            text = r.read().decode("utf-8", "replace")
    else:
        with open(source, encoding="utf-8") as f:
            text = f.read()
    names = set()
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = re.match(r"#\s*TYPE\s+(\S+)\s+(\S+)", line)
            if m:
                name, typ = m.groups()
                names.add(name)
                if typ == "summary":
                    names.update({name + "_sum", name + "_count"})
                elif typ == "histogram":
                    names.update({name + "_sum", name + "_count", name + "_bucket"})
            continue
        m = re.match(r"^([A-Za-z_:][A-Za-z0-9_:]*)", line)
        if m:
            names.add(m.group(1))
    return names


def label_values_selector(query):
    """The selector of label_values(<selector>, <label>); None when there is none."""
    m = re.match(r"^\s*label_values\s*\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$", query or "", re.S)
    if m:
        return m.group(1).strip(), m.group(2)
    m = re.match(r"^\s*label_values\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$", query or "")
    if m:
        return None, m.group(1)
    return None


def variable_query(v):
    q = v.get("query")
    if isinstance(q, dict):
        q = q.get("query")
    return q or ""


class Linter:
    def __init__(self, metrics=None):
        self.errors = []
        self.metrics = metrics
        self.exprs = []     # (file, dashboard uid, kind, panel id, title, refId, expr, instant)

    def err(self, where, rule, msg):
        self.errors.append(f"{where}: [{rule}] {msg}")

    # -- dashboards ---------------------------------------------------------------------------
    def lint_files(self, paths):
        docs = []
        for path in paths:
            try:
                with open(path, encoding="utf-8") as f:
                    doc = json.load(f)
            except ValueError as e:
                self.err(path, "json", f"not valid JSON: {e}")
                continue
            except OSError as e:
                self.err(path, "json", f"cannot read: {e}")
                continue
            if not isinstance(doc, dict):
                self.err(path, "json", "top level is not a JSON object")
                continue
            docs.append((path, doc))
        uids = {}
        for path, doc in docs:
            uid = doc.get("uid")
            if not isinstance(uid, str) or not UID_RE.match(uid):
                self.err(path, "dashboard-uid", f"uid {uid!r} is missing or not a fixed [A-Za-z0-9_-]{{1,40}} id")
            elif uid in uids:
                self.err(path, "dashboard-uid", f"uid {uid!r} is also used by {uids[uid]}")
            else:
                uids[uid] = path
        for path, doc in docs:
            self.lint_dashboard(path, doc, set(uids))

    def lint_dashboard(self, path, d, known_uids):
        uid = d.get("uid") or "?"
        if not d.get("title"):
            self.err(path, "dashboard-title", "no title")
        sv = d.get("schemaVersion")
        if not isinstance(sv, int) or sv < MIN_SCHEMA:
            self.err(path, "dashboard-schema", f"schemaVersion {sv!r} is below {MIN_SCHEMA}")
        if d.get("editable") is not False:
            self.err(path, "uneditable-dashboard", '"editable" must be false (dashboards are provisioned from git)')

        variables = (d.get("templating") or {}).get("list") or []
        defined = {v.get("name") for v in variables}
        ds_vars = [v for v in variables if v.get("type") == "datasource"]
        if len(ds_vars) != 1:
            self.err(path, "template-datasource-rule", f"{len(ds_vars)} datasource variables; want exactly one")
        for v in ds_vars:
            if v.get("name") != "datasource" or v.get("label") != "Data source" or v.get("query") != "prometheus":
                self.err(path, "template-datasource-rule",
                         "the datasource variable must be named 'datasource', labelled 'Data source', query 'prometheus'")
        by_name = {v.get("name"): v for v in variables}
        for name, rule in (("job", "template-job-rule"), ("instance", "template-instance-rule")):
            v = by_name.get(name)
            if not v or v.get("type") != "query":
                self.err(path, rule, f"no query variable '{name}'")
            elif not v.get("multi"):
                self.err(path, rule, f"variable '{name}' must be multi-select")
        for v in variables:
            if v.get("type") != "query":
                continue
            where = f"{path}: variable {v.get('name')}"
            if (v.get("datasource") or {}).get("uid") not in DS_UIDS:
                self.err(where, "template-query-variable-rule", "datasource must be ${datasource}")
            if v.get("refresh") != 2:
                self.err(where, "template-on-time-change-reload-rule", "refresh must be 2 (on time range change)")
            if not v.get("multi") or not v.get("includeAll"):
                self.err(where, "template-query-variable-rule", "must be multi-select with an All option")
            q = variable_query(v)
            lv = label_values_selector(q)
            if lv is None:
                self.err(where, "template-query-variable-rule", f"query {q!r} is not label_values(<selector>, <label>)")
                continue
            sel, _label = lv
            for name in variables_used(q) - defined - GRAFANA_BUILTIN_VARS:
                self.err(where, "template-undefined-variable", f"uses ${name}, which is not defined")
            if sel:
                self.lint_expr(where, sel, uid, "variable", None, v.get("name"), None, True, check_scope=False)

        panels = d.get("panels") or []
        ids = {}
        boxes = []
        for p in walk_panels(panels):
            pid = p.get("id")
            title = p.get("title") or ""
            where = f"{path}: panel {pid} {title!r}"
            if not isinstance(pid, int):
                self.err(where, "panel-id", "id is not an integer")
            elif pid in ids:
                self.err(where, "panel-id", f"duplicate id (also {ids[pid]!r})")
            else:
                ids[pid] = title
            gp = p.get("gridPos") or {}
            try:
                x, y, w, h = (int(gp[k]) for k in ("x", "y", "w", "h"))
                if x < 0 or y < 0 or w < 1 or h < 1 or x + w > GRID_COLUMNS:
                    self.err(where, "panel-gridpos", f"gridPos {gp} is outside the {GRID_COLUMNS}-column grid")
                else:
                    for (bx, by, bw, bh, bt) in boxes:
                        if x < bx + bw and bx < x + w and y < by + bh and by < y + h:
                            self.err(where, "panel-overlap", f"overlaps panel {bt!r}")
                    boxes.append((x, y, w, h, title))
            except (KeyError, TypeError, ValueError):
                self.err(where, "panel-gridpos", f"gridPos {gp} lacks integer x, y, w, h")
            ptype = p.get("type")
            if ptype not in PANEL_TYPES:
                self.err(where, "panel-type", f"panel type {ptype!r} is not one of {', '.join(sorted(PANEL_TYPES))}")
            if ptype == "row":
                if not title:
                    self.err(where, "panel-title-description-rule", "row without a title")
                continue
            self.lint_panel(path, where, uid, p, defined, known_uids)

        for link in d.get("links") or []:
            self.lint_link(f"{path}: dashboard link", link.get("url") or "", defined, known_uids)

    def lint_link(self, where, url, defined, known_uids):
        for name in variables_used(url) - defined - GRAFANA_BUILTIN_VARS:
            self.err(where, "template-undefined-variable", f"link uses ${name}, which is not defined")
        m = re.search(r"/d/([^/?#]+)", url)
        if m and m.group(1) not in known_uids:
            self.err(where, "link-uid", f"link to /d/{m.group(1)}, which is none of the linted dashboards")

    def lint_panel(self, path, where, uid, p, defined, known_uids):
        if not p.get("title"):
            self.err(where, "panel-title-description-rule", "no title")
        if not p.get("description"):
            self.err(where, "panel-title-description-rule", "no description")
        ds = p.get("datasource") or {}
        if not isinstance(ds, dict) or ds.get("uid") not in DS_UIDS or ds.get("type") != "prometheus":
            self.err(where, "panel-datasource-rule", f"panel datasource {ds!r} is not the ${{datasource}} variable")
        defaults = (p.get("fieldConfig") or {}).get("defaults") or {}
        unit = defaults.get("unit")
        if defaults.get("mappings"):
            pass
        elif not unit:
            self.err(where, "panel-units-rule", "no unit and no value mappings")
        elif unit not in KNOWN_UNITS:
            self.err(where, "panel-units-rule", f"unit {unit!r} is not a known Grafana unit id")
        for ov in (p.get("fieldConfig") or {}).get("overrides") or []:
            for prop in ov.get("properties") or []:
                if prop.get("id") == "unit" and prop.get("value") not in KNOWN_UNITS:
                    self.err(where, "panel-units-rule", f"override unit {prop.get('value')!r} is not a known Grafana unit id")
                if prop.get("id") == "links":
                    for link in prop.get("value") or []:
                        self.lint_link(where, link.get("url") or "", defined, known_uids)
        for link in p.get("links") or []:
            self.lint_link(where, link.get("url") or "", defined, known_uids)
        targets = [t for t in p.get("targets") or [] if not t.get("hide")]
        if not targets or not all((t.get("expr") or "").strip() for t in targets):
            self.err(where, "panel-no-targets-rule", "no target, or a target without an expression")
        refs = set()
        for t in targets:
            ref = t.get("refId")
            twhere = f"{where} target {ref}"
            if not ref or ref in refs:
                self.err(twhere, "target-refid", "refId missing or duplicated")
            refs.add(ref)
            tds = t.get("datasource") or {}
            if not isinstance(tds, dict) or tds.get("uid") not in DS_UIDS:
                self.err(twhere, "panel-datasource-rule", f"target datasource {tds!r} is not the ${{datasource}} variable")
            if p.get("type") in ("timeseries", "state-timeline") and not t.get("legendFormat"):
                self.err(twhere, "target-legend", "no legendFormat")
            expr = t.get("expr") or ""
            for name in variables_used(expr) - defined - GRAFANA_BUILTIN_VARS:
                self.err(twhere, "template-undefined-variable", f"uses ${name}, which is not defined")
            if expr.strip():
                self.lint_expr(twhere, expr, uid, "panel", p.get("id"), p.get("title"), ref,
                               bool(t.get("instant")) and not t.get("range"))

    # -- PromQL ------------------------------------------------------------------------------
    def lint_expr(self, where, expr, uid, kind, pid, title, ref, instant, check_scope=True):
        self.exprs.append({"dashboard": uid, "kind": kind, "panel_id": pid, "title": title,
                           "ref_id": ref, "expr": expr, "instant": instant, "where": where})
        try:
            selectors, ranges = scan(expr)
        except PromqlError as e:
            self.err(where, "target-promql-rule", f"expression does not parse: {e}")
            return
        for content, func in ranges:
            if func in RANGE_FUNCS and content != "$__rate_interval":
                self.err(where, "target-rate-interval-rule", f"{func}() uses [{content}], not [$__rate_interval]")
        for s in selectors:
            name = s.metric or "?"
            if name.endswith(COUNTER_SUFFIXES) and not RANGE_FUNCS.intersection(s.funcs):
                self.err(where, "target-counter-agg-rule", f"counter {name} is used outside rate()/irate()/increase()")
            matchers = {(l): (o, v) for l, o, v in s.matchers}
            for label, rule in (("job", "target-job-rule"), ("instance", "target-instance-rule")):
                got = matchers.get(label)
                if got and "$" not in got[1]:
                    self.err(where, rule, f"hard-coded {label}{got[0]}{json.dumps(got[1])} on {name}; use {label}=~\"${label}\"")
                elif check_scope and got != ("=~", f"${label}"):
                    self.err(where, rule, f"selector {name} lacks {label}=~\"${label}\"")
            if self.metrics is not None and s.metric and s.metric not in self.metrics \
                    and s.metric not in PROMETHEUS_SYNTHETIC:
                self.err(where, "target-metric-exists", f"metric {s.metric} is not exposed by the exporter")

    # -- promtool ---------------------------------------------------------------------------
    def rules_document(self, values):
        groups = {}
        for n, e in enumerate(self.exprs):
            uid = re.sub(r"[^A-Za-z0-9_]", "_", e["dashboard"] or "dashboard")
            what = f"panel_{e['panel_id']}_{e['ref_id']}" if e["kind"] == "panel" else f"variable_{e['title']}"
            groups.setdefault(uid, []).append({
                "record": f"lint:{uid}:{re.sub(r'[^A-Za-z0-9_]', '_', str(what))}_{n}",
                "expr": expand(e["expr"], values)})
        return {"groups": [{"name": f"lint-{g}", "rules": r} for g, r in groups.items()]}

    def check_with_promtool(self, promtool, values):
        def run(doc):
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump(doc, f, indent=1)
                name = f.name
            try:
                r = subprocess.run([promtool, "check", "rules", "--lint=none", name],
                                   capture_output=True, text=True, timeout=120)
            finally:
                os.unlink(name)
            return r.returncode, (r.stdout + r.stderr).strip()
        if not self.exprs:
            return
        code, out = run(self.rules_document(values))
        if code == 0:
            return
        # Find the failing expressions one by one, so each error names its panel.
        failing = 0
        for e in self.exprs:
            doc = {"groups": [{"name": "one", "rules": [{"record": "lint:one", "expr": expand(e["expr"], values)}]}]}
            c, o = run(doc)
            if c != 0:
                failing += 1
                msg = re.sub(r"\s+", " ", o.split("could not parse expression:", 1)[-1]).strip()
                self.err(e["where"], "target-promql-rule", f"promtool: {msg}")
        if not failing:
            self.err("promtool", "target-promql-rule", f"promtool check rules failed: {out}")


def parse_vars(pairs):
    values = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise SystemExit(f"--var {pair!r}: expected NAME=VALUE")
        k, v = pair.split("=", 1)
        values[k] = v
    return values


def default_values():
    """Multi/All variables expand to .* (the target-job/instance rules make them =~ only)."""
    return {"job": ".*", "instance": ".*", "team": ".*", "tier": ".*", "pool": ".*",
            "settings": ".*", "server": ".*", "datasource": "prometheus"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dashboards", nargs="+", help="dashboard JSON files")
    ap.add_argument("--metrics", help="exporter /metrics text: a file or an http(s) URL")
    ap.add_argument("--promtool", help="promtool binary: parse every expression with `promtool check rules`")
    ap.add_argument("--print-exprs", action="store_true", help="print every expression with variables expanded and exit")
    ap.add_argument("--json", action="store_true", help="with --print-exprs: one JSON object per line")
    ap.add_argument("--var", action="append", metavar="NAME=VALUE", help="value of a template variable (repeatable)")
    ap.add_argument("--rules-out", metavar="FILE", help="write the expanded expressions as a recording-rules file")
    args = ap.parse_args(argv)

    metrics = None
    if args.metrics:
        try:
            metrics = load_metrics(args.metrics)
        except (OSError, ValueError) as e:
            print(f"lint_dashboards: cannot read metrics from {args.metrics}: {e}", file=sys.stderr)
            return 2
        if not metrics:
            print(f"lint_dashboards: no metric in {args.metrics}", file=sys.stderr)
            return 2
    linter = Linter(metrics)
    linter.lint_files(args.dashboards)
    values = default_values()
    values.update(parse_vars(args.var))

    if args.print_exprs:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` is fine
        for e in linter.exprs:
            expanded = expand(e["expr"], values)
            if args.json:
                print(json.dumps({k: e[k] for k in ("dashboard", "kind", "panel_id", "title", "ref_id", "instant")}
                                 | {"expr": expanded}))
            else:
                label = f"panel {e['panel_id']} {e['title']!r} {e['ref_id']}" if e["kind"] == "panel" else f"variable {e['title']}"
                print(f"# {e['dashboard']}: {label}{' (instant)' if e['instant'] else ''}\n{expanded}\n")
        for e in linter.errors:
            print(e, file=sys.stderr)
        return 1 if linter.errors else 0
    if args.rules_out:
        with open(args.rules_out, "w", encoding="utf-8") as f:
            json.dump(linter.rules_document(values), f, indent=1)
    if args.promtool:
        linter.check_with_promtool(args.promtool, values)

    for e in linter.errors:
        print(e, file=sys.stderr)
    n_panels = sum(1 for e in linter.exprs if e["kind"] == "panel")
    if linter.errors:
        print(f"lint_dashboards: FAILED, {len(linter.errors)} problem(s)", file=sys.stderr)
        return 1
    checks = []
    checks.append("metrics checked against " + args.metrics if metrics is not None else "metric existence NOT checked (no --metrics)")
    checks.append("PromQL parsed by promtool" if args.promtool else "PromQL NOT parsed by promtool (no --promtool)")
    print(f"lint_dashboards: OK, {len(args.dashboards)} dashboard(s), {n_panels} panel queries; " + "; ".join(checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
