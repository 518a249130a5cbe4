#!/usr/bin/python3
"""Runs `promtool check rules` on the rules inside every PrometheusRule of a rendering.

    deploy/tools/check-prometheusrule.py PROMTOOL RENDERED.yaml

promtool does not read the CRD wrapper, so each PrometheusRule's spec (a plain rule file:
`groups:`) is written to a temporary file first. Exit 0 if promtool accepts them all.
"""

import os
import subprocess
import sys
import tempfile

import yaml


def main():
    promtool, rendered = sys.argv[1:3]
    with open(rendered, encoding="utf-8") as fh:
        rules = [o for o in yaml.safe_load_all(fh) if o and o.get("kind") == "PrometheusRule"]
    if not rules:
        print(f"{rendered}: no PrometheusRule")
        return 1
    code = 0
    with tempfile.TemporaryDirectory() as tmp:
        for o in rules:
            path = os.path.join(tmp, f"{o['metadata']['name']}.yaml")
            with open(path, "w", encoding="utf-8") as out:
                yaml.safe_dump(o["spec"], out, sort_keys=False)
            r = subprocess.run([promtool, "check", "rules", path])
            code = code or r.returncode
    return code


if __name__ == "__main__":
    sys.exit(main())
