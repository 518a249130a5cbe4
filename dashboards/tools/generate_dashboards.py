#!/usr/bin/env python3
"""Generates the Grafana dashboards in dashboards/grafana/ (classic JSON model, schemaVersion 39).

The JSON files are committed and can be imported as they are; this script only keeps them
consistent (same variables, datasource, links, value mappings and selectors everywhere). Edit the
panels here, run it, and commit both files:

    python3 dashboards/tools/generate_dashboards.py           # rewrite grafana/*.json
    python3 dashboards/tools/generate_dashboards.py --check   # exit 1 if a file is out of date

Standard library only.
"""

import argparse
import difflib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.normpath(os.path.join(HERE, "..", "grafana"))

DS = {"type": "prometheus", "uid": "${datasource}"}
TAGS = ["backend-health", "backend-health-mixin"]
UID_OVERVIEW = "backend-health-overview"
UID_SERVER = "backend-health-server"
UID_EXPORTER = "backend-health-exporter"

# Label matchers. Every selector carries job and instance; per-server series also pool, settings
# and server (backend_health_pool_servers has no server label).
EXP = 'job=~"$job", instance=~"$instance"'
POOL = EXP + ', pool=~"$pool", settings=~"$settings"'
SRV = POOL + ', server=~"$server"'

# The Overview's pool filter: user labels of backend_health_pool_labels (an info metric, value 1,
# one series per pool and exporter) offered as template variables. Their All value is ".*", which
# also matches a pool that lacks the label, so an unlabelled pool shows until a value is picked.
# The join is on job and instance as well as pool: with several exporters probing the same pool
# (one sidecar per application pod) `on (pool)` alone finds duplicates on the right-hand side.
# The `or` branch keeps the pools of an exporter that publishes no pool labels at all (older
# versions), whatever the filter: without it, such a fleet would show an empty Overview.
POOL_FILTER_LABELS = ("team", "tier")
POOL_FILTER = ", ".join(f'{label}=~"${label}"' for label in POOL_FILTER_LABELS)
POOL_LABELS = ("(\n"
               f"    backend_health_pool_labels{{{EXP}, {POOL_FILTER}}}\n"
               "    or on (job, instance, pool)\n"
               f"    group by (job, instance, pool) (backend_health_pool_servers{{{EXP}}})\n"
               f"    unless on (job, instance, pool) backend_health_pool_labels{{{EXP}}}\n"
               "  )")


def in_filtered_pools(vector):
    """The series of `vector` (which has job, instance and pool labels) of the pools the team/tier
    filter selects, with those labels added."""
    vector = vector.replace("\n", "\n   ")
    return (f"(\n  ({vector})\n  * on (job, instance, pool) group_left ({', '.join(POOL_FILTER_LABELS)})\n"
            f"  {POOL_LABELS}\n)")


def in_service(vector, sel):
    """`vector` without the servers that are draining (per exporter)."""
    return (f"{vector}\nunless on (job, instance, pool, settings, server)"
            f" (backend_health_server_draining{{{sel}}} == 1)")

CATEGORY_COLORS = {
    "timeout": "purple", "dns": "blue", "tcp": "orange", "http": "yellow", "tls": "red",
    "network": "dark-red", "unknown": "text", "exporter": "dark-purple",
}
STATE_COLORS = {"healthy": "green", "unhealthy": "red", "unknown": "orange"}

# 2 = healthy, 1 = unknown, 0 = unhealthy, plus 3 while draining: min() over servers/exporters
# gives the worst state, and a server in service ranks below the same state draining.
STATE_MAPPINGS = [{"type": "value", "options": {
    "2": {"text": "Healthy", "color": "green", "index": 0},
    "1": {"text": "Unknown", "color": "orange", "index": 1},
    "0": {"text": "Unhealthy", "color": "red", "index": 2},
    "5": {"text": "Healthy, draining", "color": "blue", "index": 3},
    "4": {"text": "Unknown, draining", "color": "purple", "index": 4},
    "3": {"text": "Unhealthy, draining", "color": "dark-purple", "index": 5},
}}]
DRAINING_MAPPINGS = [{"type": "value", "options": {
    "0": {"text": "In service", "color": "text", "index": 0},
    "1": {"text": "Draining", "color": "blue", "index": 1},
}}]
STATE_TEXT_MAPPINGS = [{"type": "value", "options": {
    s: {"text": s, "color": c, "index": i} for i, (s, c) in enumerate(STATE_COLORS.items())}}]
CATEGORY_TEXT_MAPPINGS = [{"type": "value", "options": {
    c: {"text": c, "color": col, "index": i} for i, (c, col) in enumerate(CATEGORY_COLORS.items())}}]
SUCCESS_MAPPINGS = [{"type": "value", "options": {
    "1": {"text": "Success", "color": "green", "index": 0},
    "0": {"text": "Failed", "color": "red", "index": 1},
}}]


def state_expr(sel, by, wrap=lambda vector: vector):
    """Encodes the state set and draining as one number per server (see STATE_MAPPINGS). A server
    without a draining series (an exporter that predates it) counts as in service. `wrap` applies
    to the per-exporter values before min() folds the exporters."""
    healthy = f"sum without (state) (backend_health_server_state{{{sel}, state=\"healthy\"}})"
    encoded = (f"2 * {healthy}\n"
               f"+ sum without (state) (backend_health_server_state{{{sel}, state=\"unknown\"}})\n"
               f"+ 3 * (\n"
               f"  backend_health_server_draining{{{sel}}}\n"
               f"  or on (job, instance, pool, settings, server) 0 * {healthy}\n"
               f")")
    return f"min by ({by}) (\n{wrap(encoded)}\n)"


def thresholds(*steps):
    out = []
    for i, (color, value) in enumerate(steps):
        out.append({"color": color, "value": None if i == 0 else value})
    return {"mode": "absolute", "steps": out}


def target(expr, ref="A", legend=None, instant=False, table=False):
    t = {"refId": ref, "datasource": DS, "expr": expr, "range": not instant, "instant": instant}
    if legend is not None:
        t["legendFormat"] = legend
    if table:
        t["format"] = "table"
    return t


class Layout:
    """Hands out panel ids and grid positions row by row (24-column grid)."""

    def __init__(self):
        self.next_id = 1
        self.y = 0
        self.x = 0
        self.row_h = 0
        self.panels = []

    def _id(self):
        i = self.next_id
        self.next_id += 1
        return i

    def row(self, title):
        self.newline()
        self.panels.append({"id": self._id(), "type": "row", "title": title, "collapsed": False,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.y += 1

    def newline(self):
        self.y += self.row_h
        self.x = 0
        self.row_h = 0

    def add(self, panel, w, h):
        if self.x + w > 24:
            self.newline()
        panel = dict(panel)
        panel = {"id": self._id(), **panel}
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.x += w
        self.row_h = max(self.row_h, h)
        self.panels.append(panel)


def field_config(unit=None, mappings=None, thresh=None, custom=None, overrides=None, decimals=None,
                 no_value=None, color=None):
    d = {}
    if unit:
        d["unit"] = unit
    if decimals is not None:
        d["decimals"] = decimals
    d["mappings"] = mappings or []
    d["thresholds"] = thresh or thresholds(("green", None))
    d["color"] = color or {"mode": "thresholds"}
    if no_value:
        d["noValue"] = no_value
    if custom:
        d["custom"] = custom
    return {"defaults": d, "overrides": overrides or []}


def stat(title, desc, targets, unit=None, mappings=None, thresh=None, text_mode="auto",
         color_mode="background", no_value=None, decimals=None, links=None):
    p = {
        "type": "stat", "title": title, "description": desc, "datasource": DS,
        "targets": targets,
        "fieldConfig": field_config(unit, mappings, thresh, no_value=no_value, decimals=decimals),
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "orientation": "auto", "textMode": text_mode, "colorMode": color_mode,
            "graphMode": "none", "justifyMode": "auto", "wideLayout": True,
        },
    }
    if links:
        p["links"] = links
    return p


def timeseries(title, desc, targets, unit, stack=False, overrides=None, min0=True, draw="line",
               legend_calcs=None, thresh=None):
    custom = {
        "drawStyle": draw, "lineWidth": 1, "fillOpacity": 20 if stack else 10,
        "showPoints": "never", "spanNulls": False, "axisSoftMin": 0 if min0 else None,
        "stacking": {"mode": "normal" if stack else "none", "group": "A"},
    }
    if custom["axisSoftMin"] is None:
        del custom["axisSoftMin"]
    return {
        "type": "timeseries", "title": title, "description": desc, "datasource": DS,
        "targets": targets,
        "fieldConfig": field_config(unit, thresh=thresh, custom=custom, overrides=overrides,
                                    color={"mode": "palette-classic"}),
        "options": {
            "legend": {"showLegend": True, "displayMode": "table" if legend_calcs else "list",
                       "placement": "bottom", "calcs": legend_calcs or []},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    }


def state_timeline(title, desc, targets, mappings):
    return {
        "type": "state-timeline", "title": title, "description": desc, "datasource": DS,
        "targets": targets,
        "fieldConfig": field_config(None, mappings, custom={"lineWidth": 0, "fillOpacity": 75}),
        "options": {
            "mergeValues": True, "showValue": "never", "alignValue": "left", "rowHeight": 0.85,
            "legend": {"showLegend": False, "displayMode": "list", "placement": "bottom"},
            "tooltip": {"mode": "single", "sort": "none"},
        },
    }


def table(title, desc, targets, unit="none", mappings=None, overrides=None, transformations=None,
          sort_by=None, no_value=None, thresh=None):
    p = {
        "type": "table", "title": title, "description": desc, "datasource": DS,
        "targets": targets,
        "fieldConfig": field_config(unit, mappings, thresh, overrides=overrides, no_value=no_value,
                                    custom={"align": "auto", "cellOptions": {"type": "auto"},
                                            "filterable": True}),
        "options": {"showHeader": True, "cellHeight": "sm",
                    "footer": {"show": False, "reducer": ["sum"], "fields": "", "countRows": False}},
        "transformations": transformations or [],
    }
    if sort_by:
        p["options"]["sortBy"] = sort_by
    return p


def organize(exclude=(), order=(), rename=None):
    return {"id": "organize", "options": {
        "excludeByName": {k: True for k in exclude},
        "indexByName": {k: i for i, k in enumerate(order)},
        "renameByName": rename or {},
    }}


def color_override(field, color):
    return {"matcher": {"id": "byName", "options": field},
            "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": color}}]}


def server_link(title="Open server dashboard"):
    return {"title": title, "url": (
        f"/d/{UID_SERVER}/backend-health-server?${{__url_time_range}}&${{datasource:queryparam}}"
        "&${job:queryparam}&${instance:queryparam}&var-pool=${__data.fields.pool}"
        "&var-settings=${__data.fields.settings}&var-server=${__data.fields.server}")}


def variables(with_servers, with_pool_filter):
    def query_var(name, label, query, all_value=None):
        v = {
            "name": name, "label": label, "type": "query", "datasource": DS,
            "query": query, "definition": query, "refresh": 2, "multi": True, "includeAll": True,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "options": [], "regex": "", "sort": 1, "hide": 0,
        }
        if all_value:
            v["allValue"] = all_value
        return v

    out = [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "options": [], "refresh": 1, "regex": "", "hide": 0},
        # No allValue: ".*" would also match every other job of the Prometheus server (up{}).
        query_var("job", "job", "label_values(backend_health_exporter_build_info, job)"),
        query_var("instance", "instance",
                  'label_values(backend_health_exporter_build_info{job=~"$job"}, instance)'),
    ]
    if with_pool_filter:
        # Chained: each label's values are those of the pools the previous labels select.
        chain = EXP
        for label in POOL_FILTER_LABELS:
            out.append(query_var(label, label,
                                 f"label_values(backend_health_pool_labels{{{chain}}}, {label})", ".*"))
            chain += f', {label}=~"${label}"'
    if with_servers:
        out += [
            query_var("pool", "pool",
                      f"label_values(backend_health_server_state{{{EXP}}}, pool)", ".*"),
            query_var("settings", "settings",
                      f'label_values(backend_health_server_state{{{EXP}, pool=~"$pool"}}, settings)',
                      ".*"),
            query_var("server", "server",
                      f"label_values(backend_health_server_state{{{POOL}}}, server)", ".*"),
        ]
    return {"list": out}


def dashboard(uid, title, description, layout, with_servers, with_pool_filter=False):
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": TAGS,
        "editable": False,
        "schemaVersion": 39,
        "version": 1,
        "id": None,
        "graphTooltip": 1,
        "timezone": "utc",
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "weekStart": "",
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard"}]},
        "links": [{"title": "Backend Health", "type": "dashboards", "tags": ["backend-health"],
                   "asDropdown": True, "includeVars": True, "keepTime": True, "icon": "external link",
                   "targetBlank": False, "tooltip": "", "url": ""}],
        "templating": variables(with_servers, with_pool_filter),
        "panels": layout.panels,
    }


# --------------------------------------------------------------------------------------------
# Backend Health / Overview
# --------------------------------------------------------------------------------------------
def overview():
    L = Layout()
    L.row("Backend pools")
    L.add(stat("Pools with no healthy server",
               "Pool/settings pairs in which no server in service is healthy: a gateway using them "
               "answers 502 Bad Gateway. A draining server gets no new requests, so it does not "
               "count as healthy; a pool whose servers all drain is not counted. Pools that are "
               "still at not_yet_probed right after start-up count here too (the "
               "BackendHealthPoolDown alert ignores those).",
               [target("count(\n  sum by (job, instance, pool, settings) "
                       + in_filtered_pools(in_service(f'backend_health_server_state{{{POOL}, state="healthy"}}', POOL))
                       + "\n  == 0\n) or vector(0)", instant=True)],
               unit="none", thresh=thresholds(("green", None), ("red", 1))), 6, 4)
    L.add(stat("Servers not healthy",
               "Servers whose state is unhealthy or unknown (one per pool/settings/server and "
               "exporter), draining ones included.",
               [target("sum" + in_filtered_pools(f'backend_health_server_state{{{SRV}, state!="healthy"}}') + " or vector(0)", instant=True)],
               unit="none", thresh=thresholds(("green", None), ("orange", 1))), 6, 4)
    L.add(stat("Healthy servers",
               "Servers whose state is healthy (one per pool/settings/server and exporter).",
               [target("sum" + in_filtered_pools(f'backend_health_server_state{{{SRV}, state="healthy"}}') + " or vector(0)", instant=True)],
               unit="none", thresh=thresholds(("blue", None))), 6, 4)
    L.add(stat("Failed probes per second",
               "Probes that ended with a failure reason, per second, over all selected servers.",
               [target("sum" + in_filtered_pools(f'rate(backend_health_probes_total{{{SRV}, result!="success"}}[$__rate_interval])') + " or vector(0)")],
               unit="ops", decimals=2, thresh=thresholds(("green", None), ("orange", 0.001))), 6, 4)
    L.add(stat("Healthy share per pool",
               "Share of the servers of each pool/settings pair that are healthy: green when all "
               "are, orange when some are not, red when none is (clients get 502 Bad Gateway).",
               [target("sum by (pool, settings) " + in_filtered_pools(f'backend_health_pool_servers{{{POOL}, state="healthy"}}')
                       + "\n/\nsum by (pool, settings) " + in_filtered_pools(f"backend_health_pool_servers{{{POOL}}}"),
                       legend="{{pool}} / {{settings}}", instant=True)],
               unit="percentunit", text_mode="value_and_name",
               thresh=thresholds(("red", None), ("orange", 0.0001), ("green", 1))), 24, 5)
    by_pool = "sum by (pool, settings, " + ", ".join(POOL_FILTER_LABELS) + ") "
    L.add(table("Backend pools",
                "Servers per state for each pool/settings pair, like the Backend Health page of "
                "Application Gateway (from backend_health_pool_servers), the servers draining "
                "(being taken out of service, from backend_health_server_draining), and the "
                "pool's team and tier labels.",
                [target(by_pool + in_filtered_pools(f'backend_health_pool_servers{{{POOL}, state="healthy"}}'), "A", instant=True, table=True),
                 target(by_pool + in_filtered_pools(f'backend_health_pool_servers{{{POOL}, state="unhealthy"}}'), "B", instant=True, table=True),
                 target(by_pool + in_filtered_pools(f'backend_health_pool_servers{{{POOL}, state="unknown"}}'), "C", instant=True, table=True),
                 target(by_pool + in_filtered_pools(f"backend_health_pool_servers{{{POOL}}}"), "D", instant=True, table=True),
                 target(by_pool + in_filtered_pools(f"backend_health_server_draining{{{POOL}}}"), "E", instant=True, table=True)],
                transformations=[
                    {"id": "merge", "options": {}},
                    organize(exclude=["Time"], order=["pool", "settings", *POOL_FILTER_LABELS, "Value #A", "Value #B", "Value #C", "Value #D", "Value #E"],
                             rename={"Value #A": "Healthy", "Value #B": "Unhealthy", "Value #C": "Unknown", "Value #D": "Total", "Value #E": "Draining"}),
                ],
                overrides=[
                    {"matcher": {"id": "byName", "options": "Healthy"}, "properties": [
                        {"id": "custom.cellOptions", "value": {"type": "color-text"}},
                        {"id": "color", "value": {"mode": "fixed", "fixedColor": "green"}}]},
                    {"matcher": {"id": "byName", "options": "Unhealthy"}, "properties": [
                        {"id": "custom.cellOptions", "value": {"type": "color-text"}},
                        {"id": "thresholds", "value": thresholds(("text", None), ("red", 1))}]},
                    {"matcher": {"id": "byName", "options": "Unknown"}, "properties": [
                        {"id": "custom.cellOptions", "value": {"type": "color-text"}},
                        {"id": "thresholds", "value": thresholds(("text", None), ("orange", 1))}]},
                    {"matcher": {"id": "byName", "options": "Draining"}, "properties": [
                        {"id": "custom.cellOptions", "value": {"type": "color-text"}},
                        {"id": "thresholds", "value": thresholds(("text", None), ("blue", 1))}]},
                ],
                sort_by=[{"displayName": "Healthy", "desc": False}]), 24, 7)

    L.row("Servers not healthy")
    L.add(table("Servers not healthy",
                "Every server that is not healthy, with its state, the failure category and "
                "reason of its latest failed probe (see runbooks.md for each reason), whether it "
                "is draining (being taken out of service: no alert fires for it), and its pool's "
                "team and tier. The details string is on the exporter's status page and in "
                "/backend-health. Click a server for its dashboard.",
                [target(in_filtered_pools(f'backend_health_server_failure_reason{{{SRV}}}\n* on (job, instance, pool, settings, server) group_left (state)\n(backend_health_server_state{{{SRV}, state!="healthy"}} == 1)'),
                        "A", instant=True, table=True),
                 target(in_filtered_pools(f'backend_health_server_draining{{{SRV}}}\nand on (job, instance, pool, settings, server)\n(backend_health_server_state{{{SRV}, state!="healthy"}} == 1)'),
                        "B", instant=True, table=True)],
                no_value="All selected servers are healthy",
                transformations=[
                    {"id": "merge", "options": {}},
                    organize(exclude=["Time", "Value #A", "__name__", "job"],
                             order=["pool", "settings", "server", "state", "Value #B", "category", "reason", *POOL_FILTER_LABELS, "instance"],
                             rename={"Value #B": "Draining"}),
                ],
                overrides=[
                    {"matcher": {"id": "byName", "options": "Draining"},
                     "properties": [{"id": "mappings", "value": DRAINING_MAPPINGS},
                                    {"id": "custom.cellOptions", "value": {"type": "color-text"}}]},
                    {"matcher": {"id": "byName", "options": "server"},
                     "properties": [{"id": "links", "value": [server_link()]}]},
                    {"matcher": {"id": "byName", "options": "state"},
                     "properties": [{"id": "mappings", "value": STATE_TEXT_MAPPINGS},
                                    {"id": "custom.cellOptions", "value": {"type": "color-text"}}]},
                    {"matcher": {"id": "byName", "options": "category"},
                     "properties": [{"id": "mappings", "value": CATEGORY_TEXT_MAPPINGS},
                                    {"id": "custom.cellOptions", "value": {"type": "color-text"}}]},
                ],
                sort_by=[{"displayName": "pool", "desc": False}]), 24, 9)

    L.row("State over time")
    L.add(state_timeline("Server state",
                         "Health state of every server over time (worst state over the selected "
                         "exporters): green healthy, orange unknown, red unhealthy; blue and purple "
                         "while the server is draining.",
                         [target(state_expr(SRV, "pool, settings, server", in_filtered_pools),
                                 legend="{{pool}} / {{settings}} / {{server}}")],
                         STATE_MAPPINGS), 24, 10)

    L.row("Failure reasons")
    cat_overrides = [color_override(c, col) for c, col in CATEGORY_COLORS.items()]
    L.add(timeseries("Servers failing by category",
                     "Number of servers that are not healthy, by the failure category of their "
                     "latest failed probe (timeout, dns, tcp, http, tls, network, unknown, "
                     "exporter).",
                     [target("count by (category) " + in_filtered_pools(f"backend_health_server_failure_reason{{{SRV}}}"), legend="{{category}}")],
                     "none", stack=True, overrides=cat_overrides), 12, 8)
    L.add(timeseries("Failed probes per second by category",
                     "Failed probes per second, by failure category. The category is derived from "
                     "the reason in the result label: every reason starts with its category, except "
                     "backend_timeout (category timeout). Shows failures below the unhealthy "
                     "threshold too.",
                     [target("sum by (category) (\n  label_replace(\n    label_replace(\n"
                             + in_filtered_pools(f'rate(backend_health_probes_total{{{SRV}, result!="success"}}[$__rate_interval])') + ",\n"
                             "      \"category\", \"$1\", \"result\", \"(dns|tcp|http|tls|network|exporter)_.*\"),\n"
                             "    \"category\", \"timeout\", \"result\", \"backend_timeout\")\n)",
                             legend="{{category}}")],
                     "ops", stack=True, overrides=cat_overrides), 12, 8)
    L.add(timeseries("Servers failing by reason",
                     "Number of servers that are not healthy, by the reason of their latest failed "
                     "probe.",
                     [target("count by (reason) " + in_filtered_pools(f"backend_health_server_failure_reason{{{SRV}}}"), legend="{{reason}}")],
                     "none", stack=True), 12, 8)
    L.add(timeseries("Failed probes per second by reason",
                     "Failed probes per second, by reason (the result label of "
                     "backend_health_probes_total).",
                     [target("sum by (result) " + in_filtered_pools(f'rate(backend_health_probes_total{{{SRV}, result!="success"}}[$__rate_interval])'), legend="{{result}}")],
                     "ops", stack=True), 12, 8)

    L.row("Probe latency")
    L.add(timeseries("Probe duration by phase",
                     "Average over the selected servers of the last probe's time in each phase: "
                     "dns, connect, tls (https only), http, and total.",
                     [target("avg by (phase) " + in_filtered_pools(f"backend_health_probe_duration_seconds{{{SRV}}}"), legend="{{phase}}")],
                     "s"), 12, 8)
    L.add(timeseries("Slowest servers",
                     "The five servers with the longest total probe duration at each point in "
                     "time; compare with the probe timeout.",
                     [target("topk(5, max by (pool, settings, server) "
                             + in_filtered_pools(f'backend_health_probe_duration_seconds{{{SRV}, phase="total"}}') + ")",
                             legend="{{pool}} / {{settings}} / {{server}}")],
                     "s"), 12, 8)

    L.row("Certificates")
    L.add(table("Certificates by days to expiry",
                "For every https server: days until the earliest notAfter of the chain it "
                "presented on its last TLS probe (negative = expired), and the leaf certificate's "
                "own expiry date. Sorted by days left; the alerts warn at 14 days.",
                [target("(min by (job, instance, pool, settings, server) "
                        + in_filtered_pools(f"backend_health_tls_cert_not_after_timestamp_seconds{{{SRV}}}") + " - time()) / 86400",
                        "A", instant=True, table=True),
                 target("max by (job, instance, pool, settings, server) "
                        + in_filtered_pools(f'backend_health_tls_cert_not_after_timestamp_seconds{{{SRV}, position="leaf"}}') + " * 1000",
                        "B", instant=True, table=True)],
                unit="d", no_value="No https server",
                thresh=thresholds(("red", None), ("orange", 0), ("yellow", 14), ("green", 30)),
                transformations=[
                    {"id": "merge", "options": {}},
                    organize(exclude=["Time", "job"],
                             order=["pool", "settings", "server", "Value #A", "Value #B", "instance"],
                             rename={"Value #A": "Days to expiry", "Value #B": "Leaf not after"}),
                ],
                overrides=[
                    {"matcher": {"id": "byName", "options": "Days to expiry"}, "properties": [
                        {"id": "decimals", "value": 1},
                        {"id": "custom.cellOptions", "value": {"type": "color-background"}}]},
                    {"matcher": {"id": "byName", "options": "Leaf not after"}, "properties": [
                        {"id": "unit", "value": "dateTimeAsIso"}]},
                    {"matcher": {"id": "byName", "options": "server"},
                     "properties": [{"id": "links", "value": [server_link()]}]},
                ],
                sort_by=[{"displayName": "Days to expiry", "desc": False}]), 16, 8)
    L.add(table("Client certificates by days to expiry",
                "For every backend settings with a mutual-TLS client certificate: days until the "
                "notAfter of the certificate the exporter presents (negative = expired); the alerts "
                "warn at 14 days. Per settings, so the team and tier filter does not apply.",
                [target(f'(backend_health_tls_client_cert_not_after_timestamp_seconds{{{EXP}, settings=~"$settings"}} - time()) / 86400',
                        instant=True, table=True)],
                unit="d", no_value="No client certificate",
                thresh=thresholds(("red", None), ("orange", 0), ("yellow", 14), ("green", 30)),
                transformations=[organize(exclude=["Time", "job"], order=["settings", "Value", "instance"],
                                          rename={"Value": "Days to expiry"})],
                overrides=[{"matcher": {"id": "byName", "options": "Days to expiry"}, "properties": [
                    {"id": "decimals", "value": 1},
                    {"id": "custom.cellOptions", "value": {"type": "color-background"}}]}],
                sort_by=[{"displayName": "Days to expiry", "desc": False}]), 8, 8)

    L.row("Exporter")
    L.add(stat("Exporters down",
               "Selected exporter targets that Prometheus fails to scrape (up == 0). See the "
               "Backend Health / Exporter dashboard.",
               [target('count(up{job=~"$job", instance=~"$instance"} == 0) or vector(0)', instant=True)],
               unit="none", thresh=thresholds(("green", None), ("red", 1))), 6, 4)
    L.add(stat("Probes per second",
               "Completed probes per second over the selected exporters.",
               [target(f"sum(rate(backend_health_probes_total{{{EXP}}}[$__rate_interval]))")],
               unit="ops", decimals=1, thresh=thresholds(("blue", None))), 6, 4)
    L.add(stat("Config reloads failing",
               "Exporters whose last configuration reload failed (they keep the previous "
               "configuration).",
               [target(f"count(backend_health_exporter_config_last_reload_successful{{{EXP}}} == 0) or vector(0)", instant=True)],
               unit="none", thresh=thresholds(("green", None), ("orange", 1))), 6, 4)
    L.add(stat("Schedule lag p90 (worst)",
               "Worst 0.9 quantile of how late probes start compared with their schedule; the "
               "alert fires above 5s.",
               [target(f'max(backend_health_exporter_schedule_lag_seconds{{{EXP}, quantile="0.9"}})', instant=True)],
               unit="s", thresh=thresholds(("green", None), ("orange", 5))), 6, 4)

    return dashboard(UID_OVERVIEW, "Backend Health / Overview",
                     "Backend health of every pool/settings/server probed by backend-health-exporter: "
                     "the Backend Health page, failure reasons, probe latency and certificates. The "
                     "team and tier variables filter pools by their labels.",
                     L, True, with_pool_filter=True)


# --------------------------------------------------------------------------------------------
# Backend Health / Server
# --------------------------------------------------------------------------------------------
def server():
    L = Layout()
    L.row("Current state")
    L.add(stat("State",
               "Current health state of each selected server (worst over the selected exporters), "
               "and whether it is draining: listed in its pool's draining, being taken out of "
               "service (it gets no new requests and raises no alert).",
               [target(state_expr(SRV, "pool, settings, server"), legend="{{server}} ({{pool}} / {{settings}})", instant=True)],
               mappings=STATE_MAPPINGS, text_mode="value_and_name"), 8, 5)
    L.add(table("Failure reason",
                "Category and reason of the latest failed probe of each server that is not "
                "healthy; empty while healthy. The runbook has one section per reason, and "
                "/probe?pool=...&settings=...&server=...&debug=true on the exporter shows the "
                "failing step.",
                [target(f"backend_health_server_failure_reason{{{SRV}}}", instant=True, table=True)],
                no_value="Healthy: no failure",
                transformations=[organize(exclude=["Time", "Value", "__name__", "job"],
                                          order=["pool", "settings", "server", "category", "reason", "instance"])],
                overrides=[{"matcher": {"id": "byName", "options": "category"},
                            "properties": [{"id": "mappings", "value": CATEGORY_TEXT_MAPPINGS},
                                           {"id": "custom.cellOptions", "value": {"type": "color-text"}}]}]), 16, 5)
    L.add(stat("Last probe",
               "Result of the last completed probe of each server (a failure below the "
               "unhealthy threshold shows here before the state changes).",
               [target(f"backend_health_probe_success{{{SRV}}}", legend="{{server}}", instant=True)],
               mappings=SUCCESS_MAPPINGS, text_mode="value_and_name"), 6, 4)
    L.add(stat("HTTP status",
               "Status code received by the last probe (none: no HTTP response was received).",
               [target(f"backend_health_probe_http_status_code{{{SRV}}}", legend="{{server}}", instant=True)],
               unit="none", text_mode="value_and_name",
               mappings=[{"type": "value", "options": {"0": {"text": "none", "color": "text", "index": 0}}},
                         {"type": "range", "options": {"from": 100, "to": 399, "result": {"color": "green", "index": 1}}},
                         {"type": "range", "options": {"from": 400, "to": 599, "result": {"color": "red", "index": 2}}}]), 6, 4)
    L.add(stat("DNS",
               "Stale: DNS lookups fail and the exporter probes the last-known-good address.",
               [target(f"backend_health_dns_stale{{{SRV}}}", legend="{{server}}", instant=True)],
               text_mode="value_and_name",
               mappings=[{"type": "value", "options": {
                   "0": {"text": "Fresh", "color": "green", "index": 0},
                   "1": {"text": "Stale (last-known-good)", "color": "orange", "index": 1}}}]), 6, 4)
    L.add(stat("Certificate expires in",
               "Time until the earliest notAfter of the chain presented on the last TLS probe "
               "(https settings only).",
               [target(f"min by (pool, settings, server) (backend_health_tls_cert_not_after_timestamp_seconds{{{SRV}}}) - time()",
                       legend="{{server}}", instant=True)],
               unit="s", text_mode="value_and_name", no_value="No TLS",
               thresh=thresholds(("red", None), ("orange", 0), ("yellow", 14 * 86400), ("green", 30 * 86400))), 6, 4)

    L.row("Addresses")
    L.add(table("Addresses",
                "FQDN servers: every address the name resolved to, and the state of its own "
                "probe. The server is healthy only when every address is; some failing and some "
                "healthy raises BackendHealthServerAddressesDegraded.",
                [target(f"backend_health_address_state{{{SRV}}} == 1", instant=True, table=True)],
                no_value="No resolved addresses: the server is an IP address",
                transformations=[organize(exclude=["Time", "Value", "__name__", "job"],
                                          order=["pool", "settings", "server", "address", "state", "instance"])],
                overrides=[{"matcher": {"id": "byName", "options": "state"},
                            "properties": [{"id": "mappings", "value": STATE_TEXT_MAPPINGS},
                                           {"id": "custom.cellOptions", "value": {"type": "color-text"}}]}],
                sort_by=[{"displayName": "state", "desc": True}]), 12, 7)
    L.add(timeseries("Addresses by state",
                     "Members (one per resolved address; an IP server has one) of the selected "
                     "servers in each state, over time.",
                     [target(f"sum by (state) (backend_health_server_addresses{{{SRV}}})", legend="{{state}}")],
                     "none", stack=True,
                     overrides=[color_override(st, c) for st, c in STATE_COLORS.items()]), 12, 7)

    L.row("History")
    L.add(state_timeline("State",
                         "Health state over time: green healthy, orange unknown, red unhealthy; "
                         "blue and purple while the server is draining.",
                         [target(state_expr(SRV, "pool, settings, server"), legend="{{server}} ({{pool}} / {{settings}})")],
                         STATE_MAPPINGS), 24, 6)
    L.add(state_timeline("Last probe result",
                         "Result of each server's last probe over time; single failures below "
                         "the unhealthy threshold show here.",
                         [target(f"max by (pool, settings, server) (backend_health_probe_success{{{SRV}}})", legend="{{server}} ({{pool}} / {{settings}})")],
                         SUCCESS_MAPPINGS), 24, 6)
    L.add(timeseries("State changes",
                     "State transitions per interval; many of them mean the server is flapping.",
                     [target(f"sum by (pool, settings, server) (increase(backend_health_state_changes_total{{{SRV}}}[$__rate_interval]))",
                             legend="{{server}} ({{pool}} / {{settings}})")],
                     "none", draw="bars"), 12, 7)
    L.add(timeseries("Probe results per second",
                     "Completed probes per second by result: success or the failure reason.",
                     [target(f"sum by (server, result) (rate(backend_health_probes_total{{{SRV}}}[$__rate_interval]))",
                             legend="{{server}} {{result}}")],
                     "ops", stack=True), 12, 7)

    L.row("Probe timing")
    L.add(timeseries("Probe duration by phase",
                     "Time the last probe spent in each phase (dns, connect, tls, http) and in "
                     "total; compare total with the probe timeout.",
                     [target(f"backend_health_probe_duration_seconds{{{SRV}}}", legend="{{server}} {{phase}}")],
                     "s", legend_calcs=["lastNotNull", "max"]), 12, 8)
    L.add(timeseries("HTTP status code",
                     "Status code of the last probe over time (0: no HTTP response).",
                     [target(f"backend_health_probe_http_status_code{{{SRV}}}", legend="{{server}}")],
                     "none", min0=False), 12, 8)

    L.row("TLS certificates")
    L.add(table("Certificate expiry",
                "notAfter seen on the last TLS probe: of the leaf certificate, and the earliest "
                "of the presented chain.",
                [target(f"backend_health_tls_cert_not_after_timestamp_seconds{{{SRV}}} * 1000", instant=True, table=True)],
                unit="dateTimeAsIso", no_value="No https server",
                transformations=[organize(exclude=["Time", "job", "__name__"],
                                          order=["pool", "settings", "server", "position", "Value", "instance"],
                                          rename={"Value": "Not after"})]), 12, 7)
    L.add(timeseries("Days to certificate expiry",
                     "Days until the notAfter of the leaf and of the earliest certificate of the "
                     "chain.",
                     [target(f"(backend_health_tls_cert_not_after_timestamp_seconds{{{SRV}}} - time()) / 86400",
                             legend="{{server}} {{position}}")],
                     "d", min0=False,
                     thresh=thresholds(("red", None), ("orange", 0), ("yellow", 14), ("green", 30))), 12, 7)

    return dashboard(UID_SERVER, "Backend Health / Server",
                     "Drill-down for selected servers: current state and reason, last probe, "
                     "state history, probe timing and TLS certificates.",
                     L, True)


# --------------------------------------------------------------------------------------------
# Backend Health / Exporter
# --------------------------------------------------------------------------------------------
def exporter():
    L = Layout()
    L.row("Status")
    L.add(stat("Up",
               "Whether Prometheus scrapes each selected exporter successfully.",
               [target('up{job=~"$job", instance=~"$instance"}', legend="{{instance}}", instant=True)],
               text_mode="value_and_name",
               mappings=[{"type": "value", "options": {"1": {"text": "Up", "color": "green", "index": 0},
                                                       "0": {"text": "Down", "color": "red", "index": 1}}}]), 4, 5)
    L.add(stat("Config reload",
               "Whether the last configuration reload succeeded (a failed reload keeps the "
               "previous configuration running).",
               [target(f"backend_health_exporter_config_last_reload_successful{{{EXP}}}", legend="{{instance}}", instant=True)],
               text_mode="value_and_name",
               mappings=[{"type": "value", "options": {"1": {"text": "OK", "color": "green", "index": 0},
                                                       "0": {"text": "Failed", "color": "red", "index": 1}}}]), 5, 5)
    L.add(stat("Last successful reload",
               "When the running configuration was loaded.",
               [target(f"backend_health_exporter_config_last_reload_success_timestamp_seconds{{{EXP}}} * 1000",
                       legend="{{instance}}", instant=True)],
               unit="dateTimeFromNow", text_mode="value_and_name", color_mode="none"), 5, 5)
    L.add(table("Build info",
                "Version and revision of each selected exporter.",
                [target(f"backend_health_exporter_build_info{{{EXP}}}", instant=True, table=True)],
                transformations=[organize(exclude=["Time", "Value", "__name__", "job"],
                                          order=["instance", "version", "revision"])]), 6, 5)
    L.add(stat("Servers it cannot probe",
               "Servers whose latest probe could not even start because the exporter ran out of "
               "a local resource (reason exporter_resource_exhausted, usually the file "
               "descriptor limit): the exporter's problem, not the backends'.",
               [target(f'count(backend_health_server_failure_reason{{{EXP}, category="exporter"}}) or vector(0)', instant=True)],
               unit="none", thresh=thresholds(("green", None), ("red", 1))), 4, 5)

    L.row("Probing")
    L.add(timeseries("Probes per second",
                     "Completed probes per second, all and failed, per exporter.",
                     [target(f"sum by (instance) (rate(backend_health_probes_total{{{EXP}}}[$__rate_interval]))", "A", legend="{{instance}} all"),
                      target(f'sum by (instance) (rate(backend_health_probes_total{{{EXP}, result!="success"}}[$__rate_interval]))', "B", legend="{{instance}} failed")],
                     "ops"), 12, 8)
    L.add(timeseries("Probes in flight",
                     "Probes running at once; stuck at max_concurrent_probes means probes queue "
                     "and start late.",
                     [target(f"backend_health_exporter_probes_in_flight{{{EXP}}}", legend="{{instance}}")],
                     "none"), 12, 8)
    L.add(timeseries("Schedule lag",
                     "How late probes start compared with their schedule: the summary's quantiles "
                     "and the average. The alert fires when the 0.9 quantile stays above 5s.",
                     [target(f"backend_health_exporter_schedule_lag_seconds{{{EXP}}}", "A", legend="{{instance}} p{{quantile}}"),
                      target(f"sum by (instance) (rate(backend_health_exporter_schedule_lag_seconds_sum{{{EXP}}}[$__rate_interval]))\n/\nsum by (instance) (rate(backend_health_exporter_schedule_lag_seconds_count{{{EXP}}}[$__rate_interval]))",
                             "B", legend="{{instance}} average")],
                     "s", thresh=thresholds(("green", None), ("orange", 5))), 12, 8)
    L.add(timeseries("Servers by state",
                     "Number of servers in each state over all pools of the selected exporters.",
                     [target(f"sum by (state) (backend_health_pool_servers{{{EXP}}})", legend="{{state}}")],
                     "none", stack=True,
                     overrides=[color_override(s, c) for s, c in STATE_COLORS.items()]), 12, 8)

    L.row("Scrape")
    L.add(timeseries("Scrape duration",
                     "How long Prometheus takes to scrape each exporter; compare with the job's "
                     "scrape_timeout.",
                     [target('scrape_duration_seconds{job=~"$job", instance=~"$instance"}', legend="{{instance}}")],
                     "s"), 12, 7)
    L.add(timeseries("Samples per scrape",
                     "Samples in each scrape: grows with the number of pools, settings and "
                     "servers.",
                     [target('scrape_samples_scraped{job=~"$job", instance=~"$instance"}', legend="{{instance}}")],
                     "none"), 12, 7)

    return dashboard(UID_EXPORTER, "Backend Health / Exporter",
                     "Self-monitoring of backend-health-exporter: scrape status, build, config "
                     "reloads, probe rate, probes in flight and schedule lag.",
                     L, False)


DASHBOARDS = {
    "backend-health-overview.json": overview,
    "backend-health-server.json": server,
    "backend-health-exporter.json": exporter,
}


def render(fn):
    return json.dumps(fn(), indent=2, ensure_ascii=False) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on a difference")
    ap.add_argument("--out-dir", default=OUT_DIR)
    args = ap.parse_args(argv)
    stale = 0
    for name, fn in DASHBOARDS.items():
        path = os.path.join(args.out_dir, name)
        text = render(fn)
        if args.check:
            try:
                with open(path, encoding="utf-8") as f:
                    current = f.read()
            except OSError as e:
                print(f"{path}: {e}", file=sys.stderr)
                stale += 1
                continue
            if current != text:
                stale += 1
                diff = difflib.unified_diff(current.splitlines(), text.splitlines(), path, "generated", lineterm="", n=1)
                print("\n".join(list(diff)[:40]), file=sys.stderr)
                print(f"{path}: out of date; run tools/generate_dashboards.py and commit", file=sys.stderr)
        else:
            os.makedirs(args.out_dir, exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print(f"wrote {path}")
    if args.check:
        if stale:
            return 1
        print(f"generate_dashboards: {len(DASHBOARDS)} dashboards up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
