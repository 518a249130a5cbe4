#!/usr/bin/python3
"""`promtool check config` on the plain-Prometheus example (deploy/prometheus/prometheus.yml).

    deploy/tools/check-scrape-config.py PROMTOOL FILE

Debian's Prometheus (bookworm, 2.42) is built without Kubernetes service discovery: its promtool
rejects `kubernetes_sd_configs` as an unknown field. So every `kubernetes_sd_configs` block is
checked here against the documented kubernetes_sd_config keys and role values, then replaced by
an equivalent `static_configs` block, and promtool checks everything else (relabel rules and their
regular expressions, intervals, paths, the job name) for real.
"""

import os
import subprocess
import sys
import tempfile

import yaml

K8S_SD_KEYS = {"api_server", "role", "kubeconfig_file", "namespaces", "selectors", "attach_metadata",
               "basic_auth", "authorization", "oauth2", "proxy_url", "no_proxy", "proxy_from_environment",
               "proxy_connect_header", "follow_redirects", "enable_http2", "tls_config"}
K8S_ROLES = {"node", "service", "pod", "endpoints", "endpointslice", "ingress"}


def main():
    promtool, path = sys.argv[1:3]
    with open(path, encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    problems = []
    jobs = [j["job_name"] for j in config.get("scrape_configs", [])]
    if "backend-health-exporter" not in jobs:
        problems.append("no scrape job named backend-health-exporter (the alert rules select that job)")
    for job in config.get("scrape_configs", []):
        for sd in job.pop("kubernetes_sd_configs", None) or []:
            unknown = set(sd) - K8S_SD_KEYS
            if unknown:
                problems.append(f"job {job['job_name']}: unknown kubernetes_sd_config keys {sorted(unknown)}")
            if sd.get("role") not in K8S_ROLES:
                problems.append(f"job {job['job_name']}: kubernetes_sd_config role {sd.get('role')!r}")
            job.setdefault("static_configs", []).append({"targets": ["127.0.0.1:9985"]})
            print(f"job {job['job_name']}: kubernetes_sd_configs (role {sd.get('role')}) checked by key and "
                  "replaced with static_configs for promtool")
    for p in problems:
        print(f"ERROR: {p}")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, os.path.basename(path))
        with open(out, "w", encoding="utf-8") as fh:
            yaml.safe_dump(config, fh, sort_keys=False)
        r = subprocess.run([promtool, "check", "config", out])
    return 1 if problems or r.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
