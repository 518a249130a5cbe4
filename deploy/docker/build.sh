#!/usr/bin/env bash
# Build stage of the Dockerfile (also run by the Docker-less replay, deploy/tools/replay.py):
# configures and builds with the README's CMake preset, then installs the stripped binary into a
# staging tree that the runtime stage copies from.
#
#   deploy/docker/build.sh DESTDIR
#
# The README's build command verbatim: the default preset builds the exporter without the test
# suite, whose configure step looks for test-only tools (promtool, python3, node).
set -euo pipefail

dest=${1:?usage: deploy/docker/build.sh DESTDIR}

cmake --workflow --preset default
DESTDIR="$dest" cmake --install build --prefix /usr/local --strip

binary="$dest/usr/local/bin/backend-health-exporter"
test -x "$binary" || { echo "build.sh: $binary was not installed" >&2; exit 1; }
"$binary" --version
