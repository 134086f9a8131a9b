#!/usr/bin/env bash
# Measures workload authentication and the runtime decision: CPU time per
# operation (user+sys of the benchmark process over a large and a small
# iteration count, so that start-up cancels out) and wall time per operation,
# best of RUNS runs. The machine may be shared: CPU time is the figure to
# compare. Usage: bench/broker-auth.sh   (RUNS=5, N=20000)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
n=${N:-20000}
out=${BENCH_OUT:-bench/out}
mkdir -p "$out"
go test -c -o "$out/workload.test" ./internal/workload
go test -c -o "$out/broker.test" ./internal/broker

# cpu BIN BENCH ITERATIONS: prints the process's user+sys seconds.
cpu() {
  /usr/bin/time -f "%U %S" -o "$out/time" "$1" -test.run '^$' -test.bench "^$2\$" -test.benchtime "${3}x" >/dev/null
  awk '{print $1 + $2}' "$out/time"
}

# measure BIN BENCH: best-of-runs CPU and wall time per operation.
measure() {
  local bin=$1 bench=$2 best_cpu="" best_wall=""
  for _ in $(seq "$runs"); do
    small=$(cpu "$bin" "$bench" $((n / 10)))
    large=$(cpu "$bin" "$bench" "$n")
    per=$(awk -v a="$large" -v b="$small" -v n="$n" 'BEGIN{printf "%.1f", (a - b) * 1e6 / (n - n / 10)}')
    wall=$("$bin" -test.run '^$' -test.bench "^$bench\$" -test.benchtime "${n}x" | awk '/ns\/op/{printf "%.1f", $3 / 1000}')
    if [ -z "$best_cpu" ] || awk "BEGIN{exit !($per < $best_cpu)}"; then best_cpu=$per; fi
    if [ -z "$best_wall" ] || awk "BEGIN{exit !($wall < $best_wall)}"; then best_wall=$wall; fi
  done
  printf "%-28s cpu=%8s us/op  wall=%8s us/op\n" "$bench" "$best_cpu" "$best_wall"
}

for b in ES256/full RS256/full EdDSA/full ES256/cached RS256/cached; do
  measure "$out/workload.test" "BenchmarkVerify/$b"
done
for b in allow deny allow-findings allow-prepared; do
  measure "$out/broker.test" "BenchmarkDecide/$b"
done
