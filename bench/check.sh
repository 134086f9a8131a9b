#!/usr/bin/env bash
# Measures `steward check` on generated projects of N integrations: wall time
# and peak resident memory, best of RUNS runs. Usage: bench/check.sh [N...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
out=${BENCH_OUT:-bench/out}
mkdir -p "$out"
go build -o "$out/steward" ./cmd/steward
for n in "${@:-10000 50000}"; do
  dir="$out/project-$n"
  [ -d "$dir" ] || go run ./bench/gen -n "$n" -out "$dir"
  best=""
  for _ in $(seq "$runs"); do
    # Exit code 1 (findings) is expected; anything else is a failure.
    /usr/bin/time -f "%e %M" -o "$out/time" "$out/steward" check "$dir" -o json --now 2026-11-25 >"$out/findings.json" || [ $? -eq 1 ]
    # time(1) adds a "Command exited with non-zero status" line before the figures.
    read -r wall rss < <(tail -n 1 "$out/time")
    if [ -z "$best" ] || awk "BEGIN{exit !($wall < ${best%% *})}"; then best="$wall $rss"; fi
  done
  findings=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$out/findings.json")
  set -- $best
  printf "N=%-6s wall=%ss peak_rss=%s MiB findings=%s\n" "$n" "$1" "$(( $2 / 1024 ))" "$findings"
done
