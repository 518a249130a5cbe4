#!/usr/bin/python3
"""Compares render.py's rendering of a kustomization with `kubectl kustomize`'s.

    deploy/tools/crosscheck.py KUBECTL DIR RENDERED.yaml

The two must hold the same objects with the same content (compared as data, so key order and
YAML formatting do not matter). Exit 0 if they do, 1 if not, 77 (CTest: skipped, with the
reason printed) when KUBECTL is missing or its kustomize predates v4, which lacks `patches:` and
directories in `resources:` (Debian bookworm's kubernetes-client 1.20 has kustomize v2.0.3).
"""

import difflib
import json
import os
import re
import shutil
import subprocess
import sys

import yaml

SKIP = 77


def key(o):
    meta = o.get("metadata", {})
    return (o.get("apiVersion"), o.get("kind"), meta.get("namespace", ""), meta.get("name"))


def main():
    kubectl, directory, rendered = sys.argv[1:4]
    if not kubectl or kubectl.endswith("-NOTFOUND") or not shutil.which(kubectl):
        print("SKIPPED: no kubectl on PATH; render.py's output is validated, but not compared with kustomize's")
        return SKIP
    v = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True)
    m = re.search(r"Kustomize Version: v(\d+)", v.stdout)
    if not m or int(m.group(1)) < 4:
        print(f"SKIPPED: {kubectl} embeds no kustomize v4+ ({v.stdout.strip().splitlines()[0] if v.stdout else v.stderr.strip()})")
        return SKIP
    r = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"kubectl kustomize {directory} failed:\n{r.stderr}")
        return 1
    theirs = {key(o): o for o in yaml.safe_load_all(r.stdout) if o}
    with open(rendered, encoding="utf-8") as fh:
        ours = {key(o): o for o in yaml.safe_load_all(fh) if o}
    bad = 0
    for k in sorted(set(theirs) | set(ours), key=str):
        if k not in ours:
            print(f"only in kubectl kustomize: {k}")
            bad += 1
        elif k not in theirs:
            print(f"only in render.py: {k}")
            bad += 1
        elif ours[k] != theirs[k]:
            print(f"differs: {k}")
            a = json.dumps(ours[k], indent=1, sort_keys=True).splitlines()
            b = json.dumps(theirs[k], indent=1, sort_keys=True).splitlines()
            print("\n".join(difflib.unified_diff(a, b, "render.py", "kubectl kustomize", lineterm="")))
            bad += 1
    print(f"{os.path.relpath(directory)}: {len(ours)} objects from render.py, {len(theirs)} from "
          f"{kubectl} (kustomize v{m.group(1)}): {'identical' if not bad else f'{bad} difference(s)'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
