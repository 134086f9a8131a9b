#!/usr/bin/env bash
# Measures `steward check` on generated projects of N integrations: wall time,
# CPU time (user+sys, steadier than wall time on a shared machine), each the
# best of RUNS runs, and peak resident memory, the highest of the runs, with
# the one-minute load average after the runs (the machine may be shared).
# Usage: bench/check.sh [N...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
out=${BENCH_OUT:-bench/out}
mkdir -p "$out"
go build -o "$out/steward" ./cmd/steward
for n in "${@:-10000 50000}"; do
  dir="$out/project-$n"
  [ -d "$dir" ] || go run ./bench/gen -n "$n" -out "$dir"
  best_wall="" best_cpu="" max_rss=""
  for _ in $(seq "$runs"); do
    # Exit code 1 (findings) is expected; anything else is a failure.
    /usr/bin/time -f "%e %U %S %M" -o "$out/time" "$out/steward" check "$dir" -o json --now 2026-11-25 >"$out/findings.json" || [ $? -eq 1 ]
    # time(1) adds a "Command exited with non-zero status" line before the figures.
    read -r wall user sys rss < <(tail -n 1 "$out/time")
    cpu=$(awk "BEGIN{print $user + $sys}")
    if [ -z "$best_wall" ] || awk "BEGIN{exit !($wall < $best_wall)}"; then best_wall=$wall; fi
    if [ -z "$best_cpu" ] || awk "BEGIN{exit !($cpu < $best_cpu)}"; then best_cpu=$cpu; fi
    if [ -z "$max_rss" ] || [ "$rss" -gt "$max_rss" ]; then max_rss=$rss; fi
  done
  findings=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$out/findings.json")
  load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown)
  printf "N=%-6s wall=%ss cpu=%ss peak_rss=%s MiB findings=%s load=%s\n" "$n" "$best_wall" "$best_cpu" "$(( max_rss / 1024 ))" "$findings" "$load"
done
