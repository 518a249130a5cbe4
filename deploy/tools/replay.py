#!/usr/bin/python3
"""Replays the Dockerfile without Docker, then starts the resulting image as Kubernetes would.

    deploy/tools/replay.py --work DIR [--dockerfile Dockerfile] [--context .] [--build-arg K=V]

Needs root (chroot, mount and network namespaces), debootstrap (Debian package) and the Debian
mirror that apt on this machine uses. Takes minutes: CTest label `replay`.

1. Base image: `FROM debian:bookworm-<date>-slim` is stood in for by `debootstrap --variant=minbase
   bookworm` (what the Debian images are made from), slimmed the way the Debian images are (no
   docs, man pages or locales) and given this machine's apt sources (deb.debian.org bookworm,
   bookworm-updates, bookworm-security, the same suites as the image). Cached as a tarball in
   DIR/cache; delete it to refresh. The registry's dated snapshot itself cannot be fetched here
   (no container registry), so packages are bookworm's current ones, as the image's own
   `apt-get update` would install.
2. Every stage is replayed in its own tree: FROM, ARG, ENV, WORKDIR, SHELL, USER, LABEL, EXPOSE,
   ENTRYPOINT, CMD are recorded, COPY copies from the build context (honouring .dockerignore) or
   from an earlier stage's tree, RUN runs in a chroot of the tree in a private mount namespace
   (with /proc, and the apt archive cache DIR/cache/apt bind-mounted so reruns download less).
   RUN output goes to DIR/logs/.
3. The final tree is then run as the container: a new network namespace (its own loopback, like a
   pod's), a new mount namespace with the tree bind-mounted read-only as / (readOnlyRootFilesystem)
   and /proc, the process as the Dockerfile's USER (65532:65532), ENTRYPOINT + CMD unchanged.
   Checked: the root is read-only, `check-config` passes on the shipped config, /-/healthy and
   /-/ready answer 200, /metrics serves the exporter's metrics and the default config's probes
   complete (pool "self" healthy, pool "nothing-listens" unhealthy with tcp_connect_error), the
   process runs as uid 65532, no compiler or headers are in the image, and SIGTERM stops it.
Exit 0 when everything passes.
"""

import argparse
import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dockerfile  # noqa: E402

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SLIM_DPKG_EXCLUDES = """# As in the Debian container images (debuerreotype's slimify).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
"""


def log(msg):
    print(msg, flush=True)


class ReplayError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Base image

def host_mirror():
    """The Debian mirror and the deb822 sources file apt uses on this machine."""
    path = "/etc/apt/sources.list.d/debian.sources"
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        for stanza in re.split(r"\n\s*\n", text):
            fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
            if "bookworm" in fields.get("Suites", "").split() and fields.get("URIs"):
                return fields["URIs"].split()[0], text
    if os.path.isfile("/etc/apt/sources.list"):
        with open("/etc/apt/sources.list", encoding="utf-8") as fh:
            for line in fh:
                m = re.match(r"deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+bookworm\s", line)
                if m:
                    return m.group(1), None
    raise ReplayError("no Debian bookworm mirror in this machine's apt sources")


def ensure_base(cache, suite, mirror=None):
    tarball = os.path.join(cache, f"debian-{suite}-minbase-slim.tar")
    if os.path.isfile(tarball):
        log(f"base: cached {tarball}")
        return tarball
    if not shutil.which("debootstrap"):
        raise ReplayError("debootstrap not found (Debian package debootstrap)")
    url, sources = host_mirror()
    url = mirror or url
    tree = os.path.join(cache, "debootstrap-tmp")
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(cache, exist_ok=True)
    log(f"base: debootstrap --variant=minbase {suite} from {url} (about a minute)")
    t0 = time.time()
    with open(os.path.join(cache, "debootstrap.log"), "w") as out:
        r = subprocess.run(["debootstrap", "--variant=minbase", suite, tree, url], stdout=out,
                           stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise ReplayError(f"debootstrap failed (exit {r.returncode}); see {cache}/debootstrap.log")
    os.makedirs(os.path.join(tree, "etc/dpkg/dpkg.cfg.d"), exist_ok=True)
    with open(os.path.join(tree, "etc/dpkg/dpkg.cfg.d/docker"), "w") as fh:
        fh.write(SLIM_DPKG_EXCLUDES)
    for d in ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale"):
        p = os.path.join(tree, d)
        if os.path.isdir(p):
            for entry in os.listdir(p):
                full = os.path.join(p, entry)
                if d == "usr/share/doc" and os.path.isdir(full):
                    for f in os.listdir(full):
                        if f != "copyright":
                            fp = os.path.join(full, f)
                            shutil.rmtree(fp) if os.path.isdir(fp) and not os.path.islink(fp) else os.remove(fp)
                elif d == "usr/share/locale" and entry == "locale.alias":
                    continue
                elif os.path.isdir(full) and not os.path.islink(full):
                    shutil.rmtree(full)
                else:
                    os.remove(full)
    if sources:
        os.makedirs(os.path.join(tree, "etc/apt/sources.list.d"), exist_ok=True)
        with open(os.path.join(tree, "etc/apt/sources.list.d/debian.sources"), "w") as fh:
            fh.write(sources)
        if os.path.exists(os.path.join(tree, "etc/apt/sources.list")):
            os.remove(os.path.join(tree, "etc/apt/sources.list"))
    shutil.rmtree(os.path.join(tree, "var/cache/apt/archives"), ignore_errors=True)
    os.makedirs(os.path.join(tree, "var/cache/apt/archives/partial"), exist_ok=True)
    for d in ("var/lib/apt/lists",):
        shutil.rmtree(os.path.join(tree, d), ignore_errors=True)
        os.makedirs(os.path.join(tree, d, "partial"), exist_ok=True)
    with tarfile.open(tarball + ".tmp", "w") as tf:
        tf.add(tree, arcname=".")
    os.replace(tarball + ".tmp", tarball)
    shutil.rmtree(tree, ignore_errors=True)
    log(f"base: {tarball} ({time.time() - t0:.0f}s)")
    return tarball


# ---------------------------------------------------------------------------------------------
# Build context

def dockerignore(context):
    path = os.path.join(context, ".dockerignore")
    rules = []
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                neg = line.startswith("!")
                pat = os.path.normpath(line[1:] if neg else line).lstrip("/")
                rx = ""
                i = 0
                while i < len(pat):
                    if pat.startswith("**/", i):
                        rx += "(?:.*/)?"
                        i += 3
                    elif pat.startswith("**", i):
                        rx += ".*"
                        i += 2
                    elif pat[i] == "*":
                        rx += "[^/]*"
                        i += 1
                    elif pat[i] == "?":
                        rx += "[^/]"
                        i += 1
                    else:
                        rx += re.escape(pat[i])
                        i += 1
                rules.append((re.compile(rx + r"\Z"), neg))

    def excluded(rel):
        parts = rel.split("/")
        prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
        result = False
        for rx, neg in rules:
            if any(rx.match(p) for p in prefixes):
                result = not neg
        return result
    return excluded


def copy_into(src, dst, excluded=None, rel=""):
    """Copies file or directory src to dst (a directory's contents into dst), like COPY."""
    if os.path.isdir(src) and not os.path.islink(src):
        os.makedirs(dst, exist_ok=True)
        for entry in sorted(os.listdir(src)):
            r = f"{rel}/{entry}" if rel else entry
            if excluded and excluded(r):
                continue
            copy_into(os.path.join(src, entry), os.path.join(dst, entry), excluded, r)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst) and not os.path.isdir(dst):
            os.remove(dst)
        shutil.copy2(src, dst, follow_symlinks=False)
        if not os.path.islink(dst):
            os.chown(dst, 0, 0)


# ---------------------------------------------------------------------------------------------
# Namespaced helpers (run as `replay.py --_inside SPEC.json` under unshare)

def mount(*args):
    subprocess.run(["mount", *args], check=True)


def lo_up():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ifreq = struct.pack("16sH14s", b"lo", 0x1 | 0x8 | 0x40, b"\0" * 14)  # UP|LOOPBACK|RUNNING
    fcntl.ioctl(s, 0x8914, ifreq)  # SIOCSIFFLAGS
    s.close()


def user_ids(user):
    m = re.fullmatch(r"(\d+)(?::(\d+))?", user or "0")
    if not m:
        raise ReplayError(f"USER {user}: only numeric uid[:gid] is supported by the replay")
    return int(m.group(1)), int(m.group(2) if m.group(2) is not None else 0)


def chroot_preexec(root, workdir, user):
    uid, gid = user_ids(user)

    def fn():
        os.chroot(root)
        os.chdir(workdir or "/")
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    return fn


def inside_run(spec):
    """RUN: a chroot in a private mount namespace with /proc and the apt cache."""
    root = spec["root"]
    mount("--make-rprivate", "/")
    mount("-t", "proc", "proc", os.path.join(root, "proc"))
    if spec.get("apt_cache"):
        mount("--bind", spec["apt_cache"], os.path.join(root, "var/cache/apt/archives"))
    r = subprocess.run(spec["argv"], env=spec["env"], preexec_fn=chroot_preexec(root, spec["workdir"], spec["user"]))
    return r.returncode


def http(url, method="GET", timeout=3):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        return None, str(e)


def inside_container(spec):
    """The container: own network (loopback only) and mount namespaces, read-only root."""
    root, user, argv, port = spec["root"], spec["user"], spec["argv"], spec["port"]
    results = []

    def check(name, ok, detail=""):
        results.append((name, ok))
        log(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")

    lo_up()
    mount("--make-rprivate", "/")
    for f in ("etc/hosts", "etc/resolv.conf"):
        p = os.path.join(root, f)
        if not os.path.exists(p):
            open(p, "w").close()
    mount("--bind", root, root)
    mount("-o", "remount,bind,ro", root)
    mount("-t", "proc", "proc", os.path.join(root, "proc"))
    with open(os.path.join("/tmp", f"replay-hosts-{os.getpid()}"), "w") as fh:
        fh.write("127.0.0.1 localhost\n::1 localhost\n")
        hosts = fh.name
    mount("--bind", "-o", "ro", hosts, os.path.join(root, "etc/hosts"))
    mount("--bind", "-o", "ro", "/etc/resolv.conf", os.path.join(root, "etc/resolv.conf"))
    env = {"PATH": DEFAULT_PATH, "HOME": "/", **spec.get("env", {})}

    probe = subprocess.run(["/bin/sh", "-c", "echo x > /ro-test"], env=env, capture_output=True, text=True,
                           preexec_fn=chroot_preexec(root, "/", "0"))
    check("root filesystem is read-only (even for root)", probe.returncode != 0 and "Read-only" in probe.stderr,
          probe.stderr.strip())

    leftovers = [p for p in ("usr/bin/g++", "usr/bin/gcc", "usr/bin/cmake", "usr/bin/ninja", "usr/bin/make",
                             "usr/include/uv.h", "usr/include/wolfssl", "src") if os.path.lexists(os.path.join(root, p))]
    check("no compiler, build tool, headers or sources in the image", not leftovers, ", ".join(leftovers))

    config = next((a.split("=", 1)[1] for a in argv if a.startswith("--config.file=")), None)
    check("CMD passes --config.file", config is not None, config or "")
    if config:
        cc = subprocess.run([argv[0], "check-config", f"--config.file={config}"], env=env, capture_output=True,
                            text=True, preexec_fn=chroot_preexec(root, "/", user), timeout=60)
        check(f"check-config --config.file={config} as uid {user}", cc.returncode == 0,
              (cc.stdout + cc.stderr).strip())

    log(f"starting: {' '.join(shlex.quote(a) for a in argv)} as {user}, read-only root, own network namespace")
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=chroot_preexec(root, "/", user))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        status = None
        while time.time() < deadline and proc.poll() is None:
            status, _ = http(base + "/-/healthy")
            if status == 200:
                break
            time.sleep(0.2)
        check(f"/-/healthy answers 200 on port {port}", status == 200, f"status {status}, exit {proc.poll()}")
        with open(f"/proc/{proc.pid}/status") as fh:
            uid_line = next(line for line in fh if line.startswith("Uid:"))
        uid = user_ids(user)[0]
        check(f"the process runs as uid {uid}", uid_line.split()[1:] == [str(uid)] * 4, uid_line.strip())
        status, _ = http(base + "/-/ready")
        check("/-/ready answers 200", status == 200, f"status {status}")
        body = ""
        want = [r'backend_health_exporter_build_info\{', r'backend_health_server_state\{[^}]*pool="self"[^}]*state="healthy"[^}]*\} 1',
                r'backend_health_server_failure_reason\{[^}]*pool="nothing-listens"[^}]*reason="tcp_connect_error"[^}]*\} 1']
        deadline = time.time() + 30
        while time.time() < deadline:
            status, body = http(base + "/metrics")
            if status == 200 and all(re.search(w, body) for w in want):
                break
            time.sleep(1)
        check("/metrics answers 200", status == 200, f"status {status}")
        check("/metrics has backend_health_exporter_build_info", bool(re.search(want[0], body)))
        check('the default config\'s probes ran: pool "self" healthy', bool(re.search(want[1], body)))
        check('pool "nothing-listens" unhealthy with reason tcp_connect_error', bool(re.search(want[2], body)))
        info = re.search(r"backend_health_exporter_build_info\{[^}]*\} 1", body)
        if info:
            log(f"     {info.group(0)}")
        t0 = time.time()
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=10)
            check("SIGTERM stops it within 10 s", True, f"exit {code} after {time.time() - t0:.1f}s")
        except subprocess.TimeoutExpired:
            check("SIGTERM stops it within 10 s", False)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out = proc.stdout.read().decode("utf-8", "replace")
        tail = out.strip().splitlines()[-15:]
        log("exporter output (last lines):\n  " + "\n  ".join(tail))
    failed = sum(1 for _, ok in results if not ok)
    log(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def in_namespaces(flags, spec, work):
    path = os.path.join(work, f"spec-{os.getpid()}-{time.time_ns()}.json")
    with open(path, "w") as fh:
        json.dump(spec, fh)
    try:
        return subprocess.run(["unshare", *flags, "--fork", "--", sys.executable, os.path.abspath(__file__),
                               "--_inside", path]).returncode
    finally:
        os.remove(path)


# ---------------------------------------------------------------------------------------------
# Replay

def replay(args):
    work = os.path.abspath(args.work)
    context = os.path.abspath(args.context)
    cache = os.path.join(work, "cache")
    logs = os.path.join(work, "logs")
    os.makedirs(os.path.join(cache, "apt/partial"), exist_ok=True)
    os.makedirs(logs, exist_ok=True)
    stages = dockerfile.load(args.dockerfile)
    build_args = dict(kv.split("=", 1) for kv in args.build_arg)
    excluded = dockerignore(context)
    trees = {}
    final = None
    t_all = time.time()
    for st in stages:
        tree = os.path.join(work, f"stage-{st.index}")
        subprocess.run(["rm", "-rf", "--one-file-system", tree], check=True)
        label = st.name or str(st.index)
        if st.base in trees:
            log(f"[{label}] FROM {st.base} (copy of that stage)")
            subprocess.run(["cp", "-a", trees[st.base], tree], check=True)
        else:
            m = re.fullmatch(r"(?:docker\.io/)?(?:library/)?debian:(bookworm)(?:-\d{8})?(?:-slim)?", st.base)
            if not m:
                raise ReplayError(f"FROM {st.base}: the replay only stands in for debian:bookworm images")
            tarball = ensure_base(cache, m.group(1), args.mirror)
            log(f"[{label}] FROM {st.base} (debootstrap {m.group(1)} minbase, slimmed)")
            os.makedirs(tree)
            subprocess.run(["tar", "-xf", tarball, "-C", tree], check=True)
            shutil.copy2("/etc/resolv.conf", os.path.join(tree, "etc/resolv.conf"))
        state = {"env": {}, "args": {}, "workdir": "/", "shell": ["/bin/sh", "-c"], "user": "0",
                 "entrypoint": [], "cmd": [], "expose": [], "labels": {}}
        for ins in st.instructions:
            variables = {**state["args"], **state["env"]}
            kw = ins.keyword
            text = dockerfile.substitute(ins.args, variables) if kw not in ("RUN", "CMD", "ENTRYPOINT") else ins.args
            log(f"[{label}] {kw} {text if len(text) < 120 else text[:117] + '...'}")
            if kw == "ARG":
                k, _, v = text.partition("=")
                state["args"][k.strip()] = build_args.get(k.strip(), v.strip().strip('"'))
            elif kw == "ENV":
                for word in shlex.split(text):
                    k, _, v = word.partition("=")
                    state["env"][k] = v
            elif kw == "WORKDIR":
                state["workdir"] = os.path.join(state["workdir"], text)
                os.makedirs(os.path.join(tree, state["workdir"].lstrip("/")), exist_ok=True)
            elif kw == "SHELL":
                state["shell"] = ins.exec_form()
            elif kw == "USER":
                state["user"] = text
            elif kw == "LABEL":
                state["labels"].update(dockerfile.label_pairs(text))
            elif kw == "EXPOSE":
                state["expose"] += text.split()
            elif kw in ("ENTRYPOINT", "CMD"):
                form = ins.exec_form()
                value = form if form is not None else state["shell"] + [ins.args]
                state["entrypoint" if kw == "ENTRYPOINT" else "cmd"] = value
                if kw == "ENTRYPOINT":
                    state["cmd"] = []
            elif kw == "COPY":
                words = json.loads(text) if text.startswith("[") else shlex.split(text)
                srcs, dest = words[:-1], words[-1]
                src_root = trees[ins.flags["from"]] if "from" in ins.flags else context
                dest_abs = os.path.join(state["workdir"], dest)
                for src in srcs:
                    src_path = os.path.normpath(os.path.join(src_root, src.lstrip("/")))
                    if not os.path.lexists(src_path):
                        raise ReplayError(f"line {ins.lineno}: COPY source {src} not found")
                    rel = os.path.relpath(src_path, context) if "from" not in ins.flags else None
                    if rel is not None and rel != "." and excluded(rel):
                        raise ReplayError(f"line {ins.lineno}: COPY {src} is excluded by .dockerignore")
                    if os.path.isdir(src_path):
                        target = dest_abs
                    elif dest.endswith("/") or len(srcs) > 1 or os.path.isdir(os.path.join(tree, dest_abs.lstrip("/"))):
                        target = os.path.join(dest_abs, os.path.basename(src_path))
                    else:
                        target = dest_abs
                    copy_into(src_path, os.path.join(tree, target.lstrip("/")),
                              excluded if "from" not in ins.flags else None,
                              "" if rel in (None, ".") else rel)
            elif kw == "RUN":
                form = ins.exec_form()
                argv = form if form is not None else state["shell"] + [ins.args]
                env = {"PATH": DEFAULT_PATH, "HOME": "/root", "DEBIAN_FRONTEND": "noninteractive",
                       **state["args"], **state["env"]}
                logfile = os.path.join(logs, f"stage-{label}-line-{ins.lineno}.log")
                t0 = time.time()
                with open(logfile, "w") as out:
                    out.write(f"# {ins}\n")
                sys.stdout.flush()
                fd = os.open(logfile, os.O_WRONLY | os.O_APPEND)
                saved = os.dup(1), os.dup(2)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                try:
                    code = in_namespaces(["--mount"], {"mode": "run", "root": tree, "argv": argv, "env": env,
                                                       "workdir": state["workdir"], "user": state["user"],
                                                       "apt_cache": os.path.join(cache, "apt")}, work)
                finally:
                    os.dup2(saved[0], 1)
                    os.dup2(saved[1], 2)
                    os.close(fd)
                log(f"[{label}]   exit {code} in {time.time() - t0:.0f}s (log: {logfile})")
                if code != 0:
                    with open(logfile, errors="replace") as fh:
                        tail = fh.read().splitlines()[-40:]
                    log("  " + "\n  ".join(tail))
                    raise ReplayError(f"line {ins.lineno}: RUN failed with exit {code}")
            elif kw in ("HEALTHCHECK", "STOPSIGNAL", "VOLUME", "ONBUILD", "MAINTAINER"):
                log(f"[{label}]   ({kw} recorded only)")
            else:
                raise ReplayError(f"line {ins.lineno}: {kw} is not supported by the replay")
        trees[st.name or str(st.index)] = tree
        trees[str(st.index)] = tree
        final = (st, tree, state)
    st, tree, state = final
    size = subprocess.run(["du", "-sh", "--one-file-system", tree], capture_output=True, text=True).stdout.split()[0]
    log(f"replayed {len(stages)} stage(s) in {time.time() - t_all:.0f}s; runtime tree {tree}: {size}")
    argv = state["entrypoint"] + state["cmd"]
    if not argv:
        raise ReplayError("the final stage has neither ENTRYPOINT nor CMD")
    ports = [p.split("/")[0] for p in state["expose"]]
    if not ports:
        raise ReplayError("the final stage EXPOSEs no port")
    return in_namespaces(["--net", "--mount"], {"mode": "container", "root": tree, "user": state["user"],
                                                "argv": argv, "port": int(ports[0]), "env": state["env"]}, work)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--_inside":
        with open(sys.argv[2]) as fh:
            spec = json.load(fh)
        try:
            return inside_run(spec) if spec["mode"] == "run" else inside_container(spec)
        except (ReplayError, subprocess.CalledProcessError, OSError) as e:
            log(f"FAIL {e}")
            return 1
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap.add_argument("--work", required=True, help="work directory (trees, logs, cache)")
    ap.add_argument("--dockerfile", default=os.path.join(root, "Dockerfile"))
    ap.add_argument("--context", default=root)
    ap.add_argument("--build-arg", action="append", default=[])
    ap.add_argument("--mirror", help="Debian mirror for debootstrap (default: this machine's apt source)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("replay.py: needs root (chroot, mount and network namespaces)")
        return 1
    for tool in ("unshare", "mount", "tar", "du", "cp"):
        if not shutil.which(tool):
            log(f"replay.py: {tool} not found")
            return 1
    try:
        return replay(args)
    except (ReplayError, dockerfile.DockerfileError) as e:
        log(f"replay.py: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
