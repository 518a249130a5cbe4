#!/usr/bin/python3
"""The project's own Dockerfile rules, and shellcheck on what the RUN steps execute.

    deploy/tools/lint-dockerfile.py [--shellcheck=PATH] [--root=DIR] DOCKERFILE
    deploy/tools/lint-dockerfile.py --self-test DOCKERFILE

Rules (hadolint's numbers where one exists; hadolint itself is not available offline):
  multi-stage         at least two FROM stages; the runtime stage copies from a build stage
  pinned-base         every FROM names a tag or digest (DL3006), never `latest` (DL3007), and the
                      tag is dated (e.g. bookworm-20250520-slim) or a digest: not a moving tag
  same-base           the build and runtime stages use the same base image
  apt                 `apt-get install` with -y (DL3014) and --no-install-recommends (DL3015), and
                      `rm -rf /var/lib/apt/lists/*` in the same RUN (DL3009); no `apt-get upgrade`
  runtime-packages    the runtime stage installs no compilers, build tools or -dev packages
  user                the final USER is numeric uid:gid and not 0 (DL3002; Kubernetes
                      runAsNonRoot can only verify numeric users)
  exec-form           ENTRYPOINT and CMD in JSON (exec) form (DL3025)
  no-add              COPY, not ADD (DL3020)
  pipefail            a RUN with a pipe runs under SHELL [..., "-o", "pipefail", ...] (DL4006)
  labels              org.opencontainers.image.{title,description,url,source,documentation,
                      version,revision,created,base.name}; base.name is the runtime FROM image
  expose              the runtime stage EXPOSEs 9985
  config              the default config is copied to /etc/backend-health-exporter/config.toml and
                      CMD passes --config.file with that path
  setup-script        the build stage installs its dependencies with scripts/setup.sh (one source
                      of truth with the README)
  shellcheck          every shell-form RUN body, and every repository script a RUN calls, passes
                      shellcheck (with the stage's SHELL, bash)
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dockerfile  # noqa: E402

OCI_LABELS = ["title", "description", "url", "source", "documentation", "version", "revision",
              "created", "base.name"]
BUILD_TOOLS = {"g++", "gcc", "clang", "cmake", "make", "ninja-build", "pkg-config", "git",
               "build-essential", "autoconf", "automake", "libtool"}
CONFIG_PATH = "/etc/backend-health-exporter/config.toml"
PORT = "9985"


def qualified(image):
    """docker.io/library/debian:tag for debian:tag."""
    name = image
    first = name.split("/")[0]
    if "/" not in name:
        name = "docker.io/library/" + name
    elif "." not in first and ":" not in first and first != "localhost":
        name = "docker.io/" + name
    return name


def check(path, root, shellcheck):
    problems = []

    def problem(rule, lineno, msg):
        problems.append(f"{path}:{lineno}: [{rule}] {msg}")

    try:
        st = dockerfile.load(path)
    except (dockerfile.DockerfileError, OSError) as e:
        return [f"{path}: {e}"]
    final = st[-1]
    names = {s.name for s in st if s.name}

    if len(st) < 2:
        problem("multi-stage", st[0].from_instr.lineno, "single stage: build and runtime must be separate stages")
    elif not any(i.flags.get("from") in names | {str(s.index) for s in st[:-1]} for i in final.find("COPY")):
        problem("multi-stage", final.from_instr.lineno, "the runtime stage copies nothing from a build stage")

    for s in st:
        base = s.base
        if base in names or base == "scratch":
            continue
        ln = s.from_instr.lineno
        name, digest = (base.split("@", 1) + [None])[:2]
        last = name.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else None
        if not tag and not digest:
            problem("pinned-base", ln, f"{base}: no tag (DL3006)")
        elif tag == "latest":
            problem("pinned-base", ln, f"{base}: the tag latest (DL3007)")
        elif not digest and not re.search(r"(^|-)\d{8}(-|$)", tag or ""):
            problem("pinned-base", ln, f"{base}: moving tag {tag}; use a dated tag (e.g. bookworm-20250520-slim) or a digest")
    if len(st) >= 2 and len({s.base for s in st if s.base not in names}) > 1:
        problem("same-base", final.from_instr.lineno, "build and runtime stages use different base images; "
                "the libraries built against must be the ones run against")

    for s in st:
        shell = ["/bin/sh", "-c"]
        for ins in s.instructions:
            if ins.keyword == "SHELL":
                shell = ins.exec_form() or shell
            if ins.keyword == "ADD":
                problem("no-add", ins.lineno, "use COPY, not ADD (DL3020)")
            if ins.keyword != "RUN":
                continue
            body = ins.args
            if ins.exec_form() is not None:
                continue
            if re.search(r"(?<![|])\|(?![|])", body) and "pipefail" not in " ".join(shell):
                problem("pipefail", ins.lineno, "a pipe without SHELL [..., \"-o\", \"pipefail\", ...] (DL4006)")
            cmds = [c.strip() for c in re.split(r"&&|;|\|\|", body)]
            installs = [c for c in cmds if re.match(r"apt(-get)?\s.*\binstall\b", c)]
            for c in installs:
                words = c.split()
                if not ({"-y", "--yes", "-qy", "-yq", "--assume-yes"} & set(words)):
                    problem("apt", ins.lineno, "apt-get install without -y (DL3014)")
                if "--no-install-recommends" not in words:
                    problem("apt", ins.lineno, "apt-get install without --no-install-recommends (DL3015)")
            if any(re.match(r"apt(-get)?\s.*\b(upgrade|dist-upgrade)\b", c) for c in cmds):
                problem("apt", ins.lineno, "apt-get upgrade in an image build (pin the base instead)")
            updates = any(re.match(r"apt(-get)?\s.*\bupdate\b", c) for c in cmds)
            if (installs or updates) and not re.search(r"rm -rf /var/lib/apt/lists/\*?", body):
                problem("apt", ins.lineno, "apt lists not removed in the same RUN (rm -rf /var/lib/apt/lists/*) (DL3009)")
            if updates and not installs:
                problem("apt", ins.lineno, "apt-get update in a RUN of its own (a cached stale index)")
            if s is final:
                for pkg in dockerfile.apt_installs(body):
                    if pkg.endswith("-dev") or pkg in BUILD_TOOLS:
                        problem("runtime-packages", ins.lineno, f"build package {pkg} in the runtime stage")

    users = final.find("USER")
    if not users:
        problem("user", final.from_instr.lineno, "the runtime stage has no USER: it would run as root (DL3002)")
    else:
        u = users[-1]
        m = re.fullmatch(r"(\d+)(?::(\d+))?", u.args)
        if not m:
            problem("user", u.lineno, f"USER {u.args}: use a numeric uid:gid so runAsNonRoot can verify it")
        elif int(m.group(1)) == 0 or (m.group(2) is not None and int(m.group(2)) == 0):
            problem("user", u.lineno, f"USER {u.args}: root (DL3002)")
        elif m.group(2) is None:
            problem("user", u.lineno, f"USER {u.args}: give the gid too (uid:gid), or it is root's group 0")

    for kw in ("ENTRYPOINT", "CMD"):
        for ins in final.find(kw):
            if ins.exec_form() is None:
                problem("exec-form", ins.lineno, f"{kw} in shell form; use the JSON form (DL3025)")
    if not final.find("ENTRYPOINT"):
        problem("exec-form", final.from_instr.lineno, "no ENTRYPOINT")

    labels = {}
    for ins in final.find("LABEL"):
        try:
            labels.update(dockerfile.label_pairs(ins.args))
        except (dockerfile.DockerfileError, ValueError) as e:
            problem("labels", ins.lineno, str(e))
    for key in OCI_LABELS:
        if not labels.get(f"org.opencontainers.image.{key}"):
            problem("labels", final.from_instr.lineno, f"no org.opencontainers.image.{key} label")
    base_label = labels.get("org.opencontainers.image.base.name")
    if base_label and base_label != qualified(final.base):
        problem("labels", final.from_instr.lineno,
                f"org.opencontainers.image.base.name is {base_label}, the runtime FROM is {qualified(final.base)}")

    exposed = " ".join(i.args for i in final.find("EXPOSE")).split()
    if PORT not in [e.split("/")[0] for e in exposed]:
        problem("expose", final.from_instr.lineno, f"the runtime stage does not EXPOSE {PORT}")

    if not any(i.args.split()[-1:] == [CONFIG_PATH] for i in final.find("COPY")):
        problem("config", final.from_instr.lineno, f"the default config is not copied to {CONFIG_PATH}")
    cmd = [i.exec_form() or [] for i in final.find("CMD")]
    if not cmd or f"--config.file={CONFIG_PATH}" not in cmd[-1]:
        problem("config", final.from_instr.lineno, f"CMD does not pass --config.file={CONFIG_PATH}")

    build_runs = " ".join(i.args for s in st[:-1] for i in s.find("RUN"))
    if "scripts/setup.sh" not in build_runs:
        problem("setup-script", st[0].from_instr.lineno, "the build stage does not install its dependencies with scripts/setup.sh")

    if shellcheck:
        problems += run_shellcheck(path, st, root, shellcheck)
    return problems


def run_shellcheck(path, st, root, shellcheck):
    problems = []
    scripts = set()
    with tempfile.TemporaryDirectory() as tmp:
        bodies = []
        for s in st:
            for ins in s.find("RUN"):
                if ins.exec_form() is not None:
                    words = ins.exec_form()
                else:
                    f = os.path.join(tmp, f"RUN-line-{ins.lineno}.sh")
                    with open(f, "w", encoding="utf-8") as fh:
                        fh.write(f"#!/bin/bash\n# {os.path.basename(path)} line {ins.lineno}\n{ins.args}\n")
                    bodies.append(f)
                    words = re.split(r"[\s;&|()]+", ins.args)
                for w in words:
                    if re.fullmatch(r"[\w./-]+\.sh", w) and os.path.isfile(os.path.join(root, w)):
                        scripts.add(os.path.join(root, w))
                    elif re.fullmatch(r"[\w.-]+/[\w./-]+", w) and os.path.isfile(os.path.join(root, w)):
                        with open(os.path.join(root, w), "rb") as fh:
                            if fh.read(2) == b"#!":
                                scripts.add(os.path.join(root, w))
        for f in bodies + sorted(scripts):
            r = subprocess.run([shellcheck, "-s", "bash", "-x", f], capture_output=True, text=True,
                               cwd=root)
            if r.returncode != 0:
                problems.append(f"[shellcheck] {os.path.relpath(f, root) if f in scripts else os.path.basename(f)}:\n"
                                + r.stdout + r.stderr)
    print(f"shellcheck: {len(bodies)} RUN bodies, scripts: {', '.join(os.path.relpath(s, root) for s in sorted(scripts)) or 'none'}")
    if not scripts and not bodies:
        problems.append("[shellcheck] found nothing to check")
    return problems


# Each mutation of the real Dockerfile must break exactly the rule named.
MUTATIONS = [
    ("pinned-base", "bookworm-20250520-slim AS build", "bookworm-slim AS build"),
    ("pinned-base", "FROM debian:bookworm-20250520-slim\n", "FROM debian:latest\n"),
    ("pinned-base", "FROM debian:bookworm-20250520-slim\n", "FROM debian\n"),
    ("same-base", "FROM debian:bookworm-20250520-slim\n", "FROM debian:bookworm-20250610-slim\n"),
    ("multi-stage", "COPY --from=build ", "COPY "),
    ("apt", "install -y --no-install-recommends", "install --no-install-recommends"),
    ("apt", "install -y --no-install-recommends", "install -y"),
    ("apt", " \\\n && rm -rf /var/lib/apt/lists/*", ""),
    ("runtime-packages", "      libuv1 \\\n", "      libuv1-dev \\\n      cmake \\\n"),
    ("user", "USER 65532:65532", "USER root"),
    ("user", "USER 65532:65532", "USER 0:0"),
    ("user", "USER 65532:65532", "USER 65532"),
    ("user", "USER 65532:65532\n", ""),
    ("exec-form", 'ENTRYPOINT ["/usr/local/bin/backend-health-exporter"]', "ENTRYPOINT /usr/local/bin/backend-health-exporter"),
    ("exec-form", 'CMD ["--config.file=/etc/backend-health-exporter/config.toml"]', "CMD --config.file=/etc/backend-health-exporter/config.toml"),
    ("no-add", "COPY config/default.toml", "ADD config/default.toml"),
    ("labels", 'org.opencontainers.image.revision="${REVISION}" \\\n', ""),
    ("labels", "base.name=\"docker.io/library/debian:bookworm-20250520-slim\"", "base.name=\"docker.io/library/debian:bookworm-20250101-slim\""),
    ("expose", "EXPOSE 9985", "EXPOSE 8080"),
    ("config", 'CMD ["--config.file=/etc/backend-health-exporter/config.toml"]', 'CMD ["--config.file=/config.toml"]'),
    ("setup-script", "RUN scripts/setup.sh && ", "RUN "),
    ("pipefail", 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\nWORKDIR /src\n', "WORKDIR /src\n",
     "RUN deploy/docker/build.sh /staging", "RUN deploy/docker/build.sh /staging | tee /build.log"),
    ("shellcheck", "RUN deploy/docker/build.sh /staging", "RUN cd /src; deploy/docker/build.sh $DEST"),
]


def self_test(path, root, shellcheck):
    with open(path, encoding="utf-8") as fh:
        original = fh.read()
    failed = 0
    clean = check(path, root, shellcheck)
    if clean:
        print("\n".join(clean))
        print("self-test: the unmodified Dockerfile must pass")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        for rule, *pairs in MUTATIONS:
            missing = [old for old in pairs[::2] if old not in original]
            if missing:
                print(f"MISS {rule}: the Dockerfile no longer contains {missing[0]!r}; update the self-test")
                failed += 1
                continue
            text = original
            for old, new in zip(pairs[::2], pairs[1::2]):
                text = text.replace(old, new, 1)
            f = os.path.join(tmp, "Dockerfile")
            with open(f, "w", encoding="utf-8") as fh:
                fh.write(text)
            found = check(f, root, shellcheck if rule == "shellcheck" else None)
            hit = [p for p in found if f"[{rule}]" in p]
            print(f"{'ok  ' if hit else 'MISS'} {rule}: {old.strip()!r} -> {new.strip()!r}: "
                  f"{hit[0].splitlines()[0] if hit else 'not caught; got ' + repr(found)}")
            failed += not hit
    print(f"{len(MUTATIONS) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dockerfile")
    ap.add_argument("--root", help="build context (default: the Dockerfile's directory)")
    ap.add_argument("--shellcheck", help="shellcheck binary (omit to skip only with --no-shellcheck)")
    ap.add_argument("--no-shellcheck", action="store_true")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    root = os.path.abspath(args.root or os.path.dirname(os.path.abspath(args.dockerfile)))
    if not args.shellcheck and not args.no_shellcheck:
        print("lint-dockerfile.py: --shellcheck=PATH is required (Debian package shellcheck)", file=sys.stderr)
        return 2
    if args.self_test:
        return self_test(args.dockerfile, root, args.shellcheck)
    problems = check(args.dockerfile, root, args.shellcheck)
    for p in problems:
        print(p)
    print(f"lint-dockerfile.py: {len(problems)} problem(s)" if problems else "lint-dockerfile.py: OK")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
