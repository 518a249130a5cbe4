#!/usr/bin/env python3
"""Checks the Alertmanager example of README.md ("Routing alerts by team") with amtool.

The README promises an alertmanager.yml that an SRE can copy: it routes the bundled alerts by the
`team` label that the rules join on, and its inhibit rules name the bundled alerts. This test
takes the one fenced YAML block of README.md that starts with `# alertmanager.yml` and checks:
  1. `amtool check-config` accepts it;
  2. every label set that the promtool unit tests (tests/*-test.yaml) expect a bundled alert to
     fire with reaches the receiver the README describes, through `amtool config routes test
     --verify.receivers`: `payments-pager` for critical alerts of team payments, `payments` for
     its other alerts, `sre` for alerts without a team (the unit tests include alerts with and
     without team labels, so both branches are exercised);
  3. every alert name in the inhibit rules' matchers is an alert of dashboards/alerts/.

Usage: alertmanager_example_test.py --amtool PATH
Exit status: 0 on success, 1 on a failed check or a missing tool.
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DASH = os.path.dirname(HERE)
README = os.path.join(os.path.dirname(DASH), "README.md")
BLOCK_RE = re.compile(r"^```yaml\n(# alertmanager\.yml\n.*?)^```$", re.S | re.M)


def expected_receiver(labels):
    if labels.get("team") == "payments":
        return "payments-pager" if labels.get("severity") == "critical" else "payments"
    return "sre"


def bundled_alerts():
    names = set()
    for path in glob.glob(os.path.join(DASH, "alerts", "*.yaml")):
        with open(path, encoding="utf-8") as f:
            for group in yaml.safe_load(f)["groups"]:
                names.update(r["alert"] for r in group["rules"] if "alert" in r)
    return names


def fired_label_sets():
    """Every distinct label set (alertname included) that a unit test expects an alert to have."""
    out = set()
    for path in sorted(glob.glob(os.path.join(HERE, "*-test.yaml"))):
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        for test in doc.get("tests") or []:
            for case in test.get("alert_rule_test") or []:
                for alert in case.get("exp_alerts") or []:
                    labels = {k: str(v) for k, v in (alert.get("exp_labels") or {}).items()}
                    out.add(frozenset({**labels, "alertname": case["alertname"]}.items()))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--amtool", required=True)
    args = ap.parse_args(argv)
    if not os.access(args.amtool, os.X_OK):
        print(f"alertmanager_example_test: amtool not found ({args.amtool}): install the Debian "
              "package prometheus-alertmanager (scripts/setup.sh --test) and reconfigure",
              file=sys.stderr)
        return 1
    with open(README, encoding="utf-8") as f:
        blocks = BLOCK_RE.findall(f.read())
    if len(blocks) != 1:
        print(f"alertmanager_example_test: {README} has {len(blocks)} '# alertmanager.yml' "
              "blocks; want exactly one", file=sys.stderr)
        return 1
    failures = []
    with tempfile.TemporaryDirectory(prefix="bhe-am-") as tmp:
        config = os.path.join(tmp, "alertmanager.yml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(blocks[0])
        r = subprocess.run([args.amtool, "check-config", config], capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            failures.append(f"amtool check-config: {r.stdout}{r.stderr}")
        label_sets = fired_label_sets()
        teams = {dict(ls).get("team") for ls in label_sets}
        if "payments" not in teams or None not in teams:
            failures.append(f"the unit tests expect teams {sorted(map(str, teams))}: want alerts "
                            "of team payments and alerts without a team")
        for ls in sorted(label_sets, key=sorted):
            labels = dict(ls)
            want = expected_receiver(labels)
            r = subprocess.run([args.amtool, "config", "routes", "test", f"--config.file={config}",
                                f"--verify.receivers={want}",
                                *(f"{k}={v}" for k, v in sorted(labels.items()))],
                               capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                failures.append(f"{sorted(labels.items())}: routed to {r.stdout.strip()!r}, want "
                                f"{want}")
        alerts = bundled_alerts()
        doc = yaml.safe_load(blocks[0])
        for rule in doc.get("inhibit_rules") or []:
            for matcher in (rule.get("source_matchers") or []) + (rule.get("target_matchers") or []):
                m = re.match(r'\s*alertname\s*(=~|=)\s*"([^"]*)"', matcher)
                if not m:
                    continue
                names = m.group(2).split("|") if m.group(1) == "=~" else [m.group(2)]
                failures += [f"inhibit rule names {n}, which is no bundled alert"
                             for n in names if n not in alerts]
    if failures:
        print("\n".join(failures), file=sys.stderr)
        print(f"alertmanager_example_test: FAILED, {len(failures)} problem(s)", file=sys.stderr)
        return 1
    print(f"alertmanager_example_test: OK, the README's alertmanager.yml passes amtool check-config "
          f"and routes the {len(label_sets)} label sets of the unit tests as it says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
