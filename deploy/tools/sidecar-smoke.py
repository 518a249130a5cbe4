#!/usr/bin/python3
"""Runs the real exporter binary the way the rendered Kubernetes manifests run it.

    deploy/tools/sidecar-smoke.py check-config --binary=BIN RENDERED.yaml
    deploy/tools/sidecar-smoke.py smoke        --binary=BIN RENDERED.yaml

Both read the Deployment from RENDERED.yaml (render.py's or kubectl kustomize's output), find the
exporter container, its --config.file, the volume mounted there and the ConfigMap behind it, and
write that ConfigMap's config to a temporary directory.

check-config   `BIN check-config --config.file=<the ConfigMap's config>` must exit 0: the config
               the sidecar would load is valid.
smoke          lays the config out the way the kubelet mounts a ConfigMap (config.toml ->
               ..data/config.toml, ..data -> a timestamped directory), starts BIN with the
               container's own args (only the mount directory moved to that temporary one and
               --web.listen-address at a free loopback port instead of :9985, which other tests
               may be using), then checks what the manifests rely on: the liveness and readiness
               probes' paths answer 200, /metrics (the PodMonitor's path) holds the exporter's
               metrics and the configured pool, POST /-/reload works, a ConfigMap update (the
               kubelet's atomic symlink swap, with one pool added) is picked up by
               --config.watch-interval, a broken update is rejected while the running config
               stays, and SIGTERM stops it.
"""

import argparse
import datetime
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from urllib.parse import urlparse

import yaml


def find_exporter(objects):
    for o in objects:
        if o.get("kind") != "Deployment":
            continue
        pod = o["spec"]["template"]["spec"]
        containers = (pod.get("initContainers") or []) + (pod.get("containers") or [])
        for c in containers:
            if c.get("name") == "backend-health-exporter":
                return o, pod, c, containers
    raise SystemExit("no Deployment with a backend-health-exporter container")


def extract_config(objects, pod, c, directory):
    args = c.get("args") or []
    config = next((a.split("=", 1)[1] for a in args if a.startswith("--config.file=")), None)
    if not config:
        raise SystemExit("the exporter container has no --config.file= argument")
    mount = next(m for m in c.get("volumeMounts") or [] if m["mountPath"] == os.path.dirname(config))
    volume = next(v for v in pod.get("volumes") or [] if v["name"] == mount["name"])
    cm_name = volume["configMap"]["name"]
    cm = next(o for o in objects if o.get("kind") == "ConfigMap" and o["metadata"]["name"] == cm_name)
    key = os.path.basename(config)
    path = os.path.join(directory, key)
    kubelet_write(directory, {key: cm["data"][key]})
    os.symlink(os.path.join("..data", key), path)
    print(f"config: ConfigMap {cm_name} key {key} (mounted at {mount['mountPath']}) -> {path}")
    return path


def kubelet_write(directory, files):
    """Writes files the way the kubelet's atomic writer updates a ConfigMap volume: a new
    timestamped directory, then the ..data symlink swapped to it with one rename()."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("..%Y_%m_%d_%H_%M_%S.%f")
    new_dir = os.path.join(directory, stamp)
    os.mkdir(new_dir)
    for name, text in files.items():
        with open(os.path.join(new_dir, name), "w", encoding="utf-8") as fh:
            fh.write(text)
    data = os.path.join(directory, "..data")
    old = os.path.realpath(data) if os.path.islink(data) else None
    os.symlink(stamp, os.path.join(directory, "..data_tmp"))
    os.rename(os.path.join(directory, "..data_tmp"), data)
    if old:
        for name in os.listdir(old):
            os.remove(os.path.join(old, name))
        os.rmdir(old)


def seconds(duration):
    unit = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(int(n) * unit[u] for n, u in re.findall(r"(\d+)(ms|s|m|h)", duration or ""))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, method="GET"):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=3) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        return None, str(e)


def smoke(binary, c, containers, config_path):
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)

    port = free_port()
    args = []
    for a in c.get("args") or []:
        if a.startswith("--config.file="):
            a = f"--config.file={config_path}"  # the same file name, in the temporary mount
        elif a.startswith("--web.listen-address="):
            a = f"--web.listen-address=127.0.0.1:{port}"
        args.append(a)
    if not any(a.startswith("--web.listen-address=") for a in args):
        args.append(f"--web.listen-address=127.0.0.1:{port}")
    ports = {p["name"]: p["containerPort"] for p in c.get("ports") or [] if "name" in p}
    print(f"start: {binary} {' '.join(args)}  (in the pod: port {ports})", flush=True)
    proc = subprocess.Popen([binary, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        live = c["livenessProbe"]["httpGet"]["path"]
        ready = c["readinessProbe"]["httpGet"]["path"]
        deadline = time.time() + 20
        status = None
        while time.time() < deadline and proc.poll() is None:
            status, _ = request(base + live)
            if status == 200:
                break
            time.sleep(0.2)
        check(f"livenessProbe GET {live}", status == 200, f"status {status}")
        status, _ = request(base + ready)
        check(f"readinessProbe GET {ready}", status == 200, f"status {status}")
        status, body = request(base + "/metrics")
        check("GET /metrics (the PodMonitor's path)", status == 200 and "backend_health_exporter_build_info" in body,
              f"status {status}")
        pools = re.findall(r'^name\s*=\s*"([^"]+)"', open(config_path, encoding="utf-8").read(), re.M)
        deadline = time.time() + 15
        while time.time() < deadline and not re.search(rf'backend_health_server_state\{{[^}}]*pool="{re.escape(pools[0])}"', body):
            time.sleep(0.5)
            status, body = request(base + "/metrics")
        check(f'/metrics has the configured pool "{pools[0]}"',
              bool(re.search(rf'backend_health_server_state\{{[^}}]*pool="{re.escape(pools[0])}"', body)))
        def reload_state():
            _, text = request(base + "/metrics")
            m = re.search(r"^backend_health_exporter_config_last_reload_successful(?:\{[^}]*\})? (\S+)", text, re.M)
            return text, (float(m.group(1)) if m else None)

        status, text = request(base + "/-/reload", method="POST")
        _, ok = reload_state()
        check("POST /-/reload", status is not None and 200 <= status < 300 and ok == 1,
              f"status {status}, last_reload_successful {ok}")

        watch = next((a.split("=", 1)[1] for a in args if a.startswith("--config.watch-interval=")), None)
        interval = seconds(watch)
        hooks = [u for other in containers if other is not c for a in other.get("args") or []
                 for u in re.findall(r"https?://\S+/-/reload\b", a)]
        if interval > 0:
            directory = os.path.dirname(config_path)
            key = os.path.basename(config_path)
            original = open(config_path, encoding="utf-8").read()
            settings = tomllib.loads(original)["backend_settings"][0]["name"]
            added = original + (f'\n[[backend_pool]]\nname = "smoke-reload-check"\nservers = ["127.0.0.1"]\n'
                                f'backend_settings = ["{settings}"]\n')
            t0 = time.time()
            kubelet_write(directory, {key: added})
            deadline = t0 + 3 * interval + 5
            body = ""
            while time.time() < deadline and 'pool="smoke-reload-check"' not in body:
                time.sleep(0.5)
                body, ok = reload_state()
            check(f"a ConfigMap update (symlink swap) is loaded by --config.watch-interval={watch}",
                  'pool="smoke-reload-check"' in body and ok == 1, f"after {time.time() - t0:.1f}s")
            t0 = time.time()
            kubelet_write(directory, {key: added + "\nthis is not TOML\n"})
            deadline = t0 + 3 * interval + 5
            while time.time() < deadline and ok != 0:
                time.sleep(0.5)
                body, ok = reload_state()
            check("a broken update is rejected and the running config stays",
                  ok == 0 and 'pool="smoke-reload-check"' in body,
                  f"last_reload_successful {ok} after {time.time() - t0:.1f}s")
        else:
            check("the config is reloaded on change: --config.watch-interval or a reloader container",
                  bool(hooks), ", ".join(hooks) or "neither")
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=10)
            check("SIGTERM stops it within 10 s", True, f"exit {code}")
        except subprocess.TimeoutExpired:
            check("SIGTERM stops it within 10 s", False)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out = proc.stdout.read().decode("utf-8", "replace").strip().splitlines()
        print("exporter output (last lines):\n  " + "\n  ".join(out[-10:]))
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["check-config", "smoke"])
    ap.add_argument("--binary", required=True)
    ap.add_argument("rendered")
    args = ap.parse_args()
    with open(args.rendered, encoding="utf-8") as fh:
        objects = [o for o in yaml.safe_load_all(fh) if o]
    _, pod, c, containers = find_exporter(objects)
    with tempfile.TemporaryDirectory() as tmp:
        path = extract_config(objects, pod, c, tmp)
        if args.mode == "check-config":
            r = subprocess.run([args.binary, "check-config", f"--config.file={path}"])
            print(f"check-config exit {r.returncode}")
            return r.returncode
        return smoke(args.binary, c, containers, path)


if __name__ == "__main__":
    sys.exit(main())
