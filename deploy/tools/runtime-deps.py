#!/usr/bin/python3
"""Is the Dockerfile's runtime stage complete for the binary that was built?

    deploy/tools/runtime-deps.py BINARY DOCKERFILE [--pretend-unlisted=PKG]

1. `readelf -d` lists the libraries the binary links directly (DT_NEEDED) and `ldd` resolves the
   whole set (direct and indirect) to files on this machine.
2. `dpkg -S` maps every file to the Debian package that ships it (a library from no package, e.g.
   under /usr/local or the build tree, is an error: the image could not install it).
3. The runtime stage's `apt-get install` list (the last stage of the Dockerfile) must name the
   package of every directly linked library, and the package of every library `ldd` lists must be
   in the Depends closure of that list (`apt-cache depends --recurse`), so apt brings it in.
4. Every package of the list must be installable from the configured Debian sources.
Packages in the list that provide no library of the binary are reported as notes (image size, not
correctness), except ca-certificates (the well-known CA bundle, read at run time).
Exit 0 when complete, 1 otherwise. --pretend-unlisted=PKG removes PKG from the list first (the
negative test: the check must then fail).
"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dockerfile  # noqa: E402

DATA_PACKAGES = {"ca-certificates"}


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def needed(binary):
    r = run(["readelf", "-d", binary])
    if r.returncode != 0:
        raise SystemExit(f"readelf -d {binary} failed: {r.stderr.strip()}")
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", r.stdout)


def ldd(binary):
    r = run(["ldd", binary])
    if r.returncode != 0:
        raise SystemExit(f"ldd {binary} failed: {r.stdout.strip()} {r.stderr.strip()}")
    libs = {}
    missing = []
    for line in r.stdout.splitlines():
        line = line.strip()
        m = re.match(r"(\S+) => not found", line)
        if m:
            missing.append(m.group(1))
            continue
        m = re.match(r"(\S+) => (\S+) \(", line)
        if m:
            libs[m.group(1)] = m.group(2)
            continue
        m = re.match(r"(/\S+) \(", line)  # the dynamic loader
        if m:
            libs[os.path.basename(m.group(1))] = m.group(1)
    return libs, missing


def candidates(path):
    """The paths dpkg may know a library under (/lib and /usr/lib are one on merged-/usr)."""
    out = []
    for p in (path, os.path.realpath(path)):
        out += [p, p[4:] if p.startswith("/usr/") else "/usr" + p]
    return list(dict.fromkeys(out))


def packages_of(paths):
    """{path: Debian package} for the libraries, with one `dpkg -S` call."""
    wanted = {c: p for p in paths for c in candidates(p)}
    r = run(["dpkg", "-S", *wanted])
    owner = {}
    for line in r.stdout.splitlines():
        pkgs, _, file = line.partition(": ")
        if file in wanted and wanted[file] not in owner:
            owner[wanted[file]] = pkgs.split(",")[0].split(":")[0].strip()
    return owner


def closure(packages):
    r = run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
             "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *packages])
    if r.returncode != 0:
        raise SystemExit(f"apt-cache depends failed: {r.stderr.strip()}")
    result = set()
    for line in r.stdout.splitlines():
        m = re.match(r"^(\S+)$", line) or re.match(r"^\s+\|?(?:Pre)?Depends: (\S+)$", line)
        if m and not m.group(1).startswith("<"):
            result.add(m.group(1).split(":")[0])
    return result


def not_installable(packages):
    r = run(["apt-cache", "policy", *packages])
    found = dict(re.findall(r"^(\S+):\n\s+Installed:.*\n\s+Candidate:\s*(\S+)", r.stdout, re.M))
    return [p for p in packages if found.get(p, "(none)") == "(none)"]


def main():
    drop = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--pretend-unlisted=")]
    positional = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(positional) != 2:
        print(__doc__)
        return 2
    binary, dockerfile_path = positional
    for tool in ("readelf", "ldd", "dpkg", "apt-cache"):
        if not shutil.which(tool):
            print(f"runtime-deps.py: {tool} not found")
            return 1
    stages = dockerfile.load(dockerfile_path)
    listed = []
    for ins in stages[-1].find("RUN"):
        listed += dockerfile.apt_installs(ins.args)
    listed = [p for p in listed if p not in drop]
    print(f"runtime stage installs: {' '.join(listed) or '(nothing)'}")
    errors = []
    for p in not_installable(listed):
        errors.append(f"{p}: listed in the runtime stage but has no install candidate in the "
                      "configured Debian sources (typo? run apt-get update?)")
    libs, missing = ldd(binary)
    for m in missing:
        errors.append(f"{m}: ldd cannot resolve it on this machine")
    direct = needed(binary)
    deps = closure(listed) if listed else set()
    used = set()
    print(f"{'library':34} {'package':28} how the image gets it")
    owners = packages_of(libs.values())
    for soname, path in sorted(libs.items()):
        pkg = owners.get(path)
        if pkg is None:
            errors.append(f"{soname} ({path}) belongs to no Debian package: the image cannot install it")
            continue
        used.add(pkg)
        if soname in direct:
            how = "listed" if pkg in listed else "NOT LISTED (linked directly: list it explicitly)"
            if pkg not in listed:
                errors.append(f"{soname}: linked directly; add {pkg} to the runtime stage's apt-get install")
        else:
            how = ("listed" if pkg in listed else "dependency of the list") if pkg in deps | set(listed) \
                else "MISSING"
            if how == "MISSING":
                errors.append(f"{soname}: {pkg} is neither listed nor a dependency of the listed packages")
        print(f"{soname:34} {pkg:28} {how}")
    for n in direct:
        if n not in libs:
            errors.append(f"{n}: DT_NEEDED but not in ldd's output")
    for p in listed:
        if p not in used and p not in DATA_PACKAGES:
            print(f"note: {p} is installed by the runtime stage but provides no library of this binary")
    for e in errors:
        print(f"ERROR: {e}")
    print(f"runtime-deps.py: {len(libs)} libraries, {len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
