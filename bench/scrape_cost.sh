#!/usr/bin/env bash
# The CPU one /metrics scrape of 10,000 servers costs, for one or more builds side by side:
#
#   bench/scrape_cost.sh [-n SCRAPES] [-r ROUNDS] BINARY [BINARY...]
#
# Each build runs in a network namespace of its own (loopback only) with its own nginx, probing
# 10,000 healthy HTTP servers (127.20.x.y) every 120 s, so that probes cost little beside the
# scrapes; once every server has been probed (130 s), it is scraped SCRAPES times in a row
# (default 40) and the exporter's utime+stime over those scrapes is divided by their number.
# The builds of a round run at the same time, so they share one machine state; every round
# prints one line per build. Needs root (unshare), nginx and curl (scripts/setup.sh --bench).
set -euo pipefail
scrapes=40 rounds=1
while getopts "n:r:" opt; do
  case $opt in
    n) scrapes=$OPTARG ;;
    r) rounds=$OPTARG ;;
    *) echo "usage: $0 [-n SCRAPES] [-r ROUNDS] BINARY..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-n SCRAPES] [-r ROUNDS] BINARY..." >&2; exit 2; }
work=$(mktemp -d /tmp/bhe-scrape-cost.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 - "$work/config.toml" <<'PY'
import sys
servers = ",".join(f'"127.20.{i // 250}.{i % 250 + 1}"' for i in range(10000))
open(sys.argv[1], "w").write(f'''[exporter]
dns_servers = ["127.0.0.1:5353"]
[[backend_pool]]
name = "pool-a"
servers = [{servers}]
backend_settings = ["http"]
[[backend_settings]]
name = "http"
protocol = "http"
port = 18080
probe = "p"
[[probe]]
name = "p"
path = "/"
interval = "120s"
timeout = "2s"
''')
PY

# One build in its own namespace: nginx on the namespace's loopback, the exporter, the scrapes.
measure() {
  local binary=$1 dir=$2
  mkdir -p "$dir"
  cat > "$dir/nginx.conf" <<NGINX
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server { listen 18080 backlog=4096; location / { return 200 "ok\n"; } }
}
NGINX
  # shellcheck disable=SC2016 # the script is for the inner shell, its arguments follow it
  unshare --net bash -c '
    set -eu
    binary=$1 dir=$2 config=$3 scrapes=$4
    ip link set lo up
    nginx -c "$dir/nginx.conf"
    "$binary" --config.file="$config" --web.listen-address=127.0.0.1:19985 > "$dir/exporter.log" 2>&1 &
    pid=$!
    sleep 130
    curl -sf -o /dev/null http://127.0.0.1:19985/metrics
    ticks=$(getconf CLK_TCK)
    cpu() { awk "{print \$14 + \$15}" /proc/$pid/stat; }
    c0=$(cpu); t0=$(date +%s%N)
    for _ in $(seq "$scrapes"); do curl -sf -o "$dir/metrics.txt" http://127.0.0.1:19985/metrics; done
    c1=$(cpu); t1=$(date +%s%N)
    kill $pid; wait $pid || true
    nginx -c "$dir/nginx.conf" -s stop 2> /dev/null
    size=$(wc -c < "$dir/metrics.txt")
    awk -v b="$binary" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v n="$scrapes" \
      -v hz="$ticks" -v size="$size" "BEGIN {
        printf \"%s: %.1f ms CPU per scrape, %.0f ms wall, %d bytes\\n\", b,
          (c1 - c0) * 1000 / hz / n, (t1 - t0) / 1e6 / n, size }"
  ' _ "$binary" "$dir" "$work/config.toml" "$scrapes"
}

for round in $(seq "$rounds"); do
  echo "round $round of $rounds"
  i=0
  for binary in "$@"; do
    measure "$(readlink -f "$binary")" "$work/$round-$i" &
    i=$((i + 1))
  done
  wait
done
