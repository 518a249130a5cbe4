#!/usr/bin/env bash
# Installs every Debian package that backend-health-exporter needs on a fresh Debian bookworm
# machine. Idempotent: packages already present are left alone, and apt is not touched at all
# when nothing is missing.
#
#   scripts/setup.sh            build + run dependencies
#   scripts/setup.sh --test     also what the test suite starts for real (nginx, DNS, Prometheus,
#                               openssl, network namespaces, headless browser...) and the
#                               fuzzers' clang + libFuzzer (llvm: symbolized sanitizer reports)
#   scripts/setup.sh --bench    also the peers the benchmark compares against (blackbox_exporter,
#                               wrk) and perf for its --profile
set -euo pipefail

want_test=0
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --bench) want_test=1 want_bench=1 ;;
    -h | --help)
      sed -n '2,10p' "$0"
      exit 0
      ;;
    *)
      echo "setup.sh: unknown argument '$arg' (try --help)" >&2
      exit 2
      ;;
  esac
done

build_packages=(
  ca-certificates cmake g++ make ninja-build pkg-config git
  libuv1-dev libc-ares-dev libwolfssl-dev prometheus-cpp-dev libcivetweb-dev
  libtomlplusplus-dev libhttp-parser-dev libcli11-dev nlohmann-json3-dev libcrypt-dev
  libgtest-dev libgmock-dev
)
test_packages=(
  clang-format curl openssl nginx-light python3 python3-yaml iproute2 util-linux procps
  prometheus prometheus-alertmanager shellcheck debootstrap chromium
  clang libclang-rt-14-dev llvm
)
# Node.js runs the offline Kubernetes schema checks and the browser test. Keep a node/npm that is
# already there (a newer one may come with the machine image); otherwise take Debian's.
command -v node >/dev/null || test_packages+=(nodejs)
command -v npm >/dev/null || test_packages+=(npm)
bench_packages=(prometheus-blackbox-exporter wrk linux-perf)

packages=("${build_packages[@]}")
((want_test)) && packages+=("${test_packages[@]}")
((want_bench)) && packages+=("${bench_packages[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm packages of the test suite, pinned by their lockfiles.
install_npm_packages() {
  ((want_test)) || return 0
  local here
  here=$(cd "$(dirname "$0")/.." && pwd)
  node "$here/deploy/tools/check-npm.mjs" >/dev/null 2>&1 ||
    npm ci --prefix "$here/deploy/tools" --no-audit --no-fund
  [[ -f "$here/tests/browser/node_modules/playwright-core/package.json" ]] ||
    npm ci --prefix "$here/tests/browser" --no-audit --no-fund
}

if ((${#missing[@]} == 0)); then
  echo "setup.sh: all ${#packages[@]} packages already installed"
  install_npm_packages
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup.sh: run as root (or install sudo)" >&2; exit 1; }
  sudo=sudo
fi

# Packages such as nginx and prometheus start a system service from their postinst; the tests
# start their own instances on loopback ports, so keep the system ones from ever starting.
policy=/usr/sbin/policy-rc.d
placed_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  placed_policy=1
fi
cleanup() { ((placed_policy)) && $sudo rm -f "$policy"; return 0; }
trap cleanup EXIT

echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
install_npm_packages
