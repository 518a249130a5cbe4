#!/usr/bin/env bash
# Build stage of the Dockerfile (also run by the Docker-less replay, deploy/tools/replay.py):
# configures and builds with the README's CMake preset, then installs the stripped binary into a
# staging tree that the runtime stage copies from.
#
#   deploy/docker/build.sh DESTDIR
#
# Same preset as `cmake --workflow --preset default`, with BUILD_TESTING off: the image needs no
# test binaries, and the test suite's configure step looks for test-only tools (promtool, python3,
# node) that `scripts/setup.sh` without --test does not install.
set -euo pipefail

dest=${1:?usage: deploy/docker/build.sh DESTDIR}

cmake --preset default -DBUILD_TESTING=OFF
cmake --build --preset default
DESTDIR="$dest" cmake --install build --prefix /usr/local --strip

binary="$dest/usr/local/bin/backend-health-exporter"
test -x "$binary" || { echo "build.sh: $binary was not installed" >&2; exit 1; }
"$binary" --version
