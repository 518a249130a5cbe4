#!/usr/bin/env bash
# Builds the fuzz preset (build-fuzz/) and runs each fuzzer for a bounded time on its seeds
# (fuzz/corpus/NAME/ and the inputs of fixed findings, fuzz/regressions/NAME/, both read only)
# plus what earlier runs added (build-fuzz/corpus/NAME/). Fails
# when any fuzzer finds a crash, a sanitizer report, a leak, a timeout or runs out of memory;
# the input is kept as build-fuzz/artifacts/NAME-*. Prints executions and coverage per fuzzer.
#
#   fuzz/run.sh [SECONDS_EACH] [FUZZER...]      default: 60 s, every fuzzer the build made
#
# Reproduce a finding:  build-fuzz/fuzz/NAME build-fuzz/artifacts/NAME-crash-...
# Once fixed, its input goes to fuzz/regressions/NAME/ and into a unit test
# (tests/unit/fuzz_regressions_test.cpp).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true

nice -n 10 cmake --preset fuzz >/dev/null
nice -n 10 cmake --build --preset fuzz

fuzzers=("$@")
if ((${#fuzzers[@]} == 0)); then
  for f in build-fuzz/fuzz/*_fuzzer; do
    fuzzers+=("$(basename "$f")")
  done
fi

mkdir -p build-fuzz/artifacts build-fuzz/logs
failed=()
summary=()
for name in "${fuzzers[@]}"; do
  corpus=build-fuzz/corpus/$name
  mkdir -p "$corpus"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384
    -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$name-")
  [[ -f fuzz/$name.dict ]] && args+=(-dict="fuzz/$name.dict")
  log=build-fuzz/logs/$name.log
  echo "fuzz/run.sh: $name for ${seconds}s (log: $log)"
  # Earlier findings (fuzz/regressions/NAME/) are read like seeds: each runs first, every time.
  seeds=("fuzz/corpus/$name")
  [[ -d fuzz/regressions/$name ]] && seeds+=("fuzz/regressions/$name")
  if nice -n 10 "build-fuzz/fuzz/$name" "${args[@]}" "$corpus" "${seeds[@]}" >"$log" 2>&1
  then
    status=ok
  else
    status=FAILED
    failed+=("$name")
    grep -E "ERROR|SUMMARY|Test unit written|==[0-9]+==" "$log" | head -20 || true
  fi
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  coverage=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  summary+=("$(printf '%-24s %-7s executions: %-10s %s' "$name" "$status" "${executions:-?}" \
    "${coverage:-?}")")
done

printf '%s\n' "${summary[@]}"
if ((${#failed[@]} > 0)); then
  echo "fuzz/run.sh: findings in ${failed[*]} (inputs in build-fuzz/artifacts/)" >&2
  exit 1
fi
