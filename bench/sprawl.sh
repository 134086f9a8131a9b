#!/usr/bin/env bash
# Measures `steward sprawl scan` against gitleaks on the same generated
# corpora: recall on the seeded corpus, false positives on the clean control
# corpus, throughput (best of RUNS runs) and the speed ratio.
#
# Usage: bench/sprawl.sh            (RUNS=3, GITLEAKS_RUNS=1, MB=512)
# Binaries and reports go under BENCH_OUT (default bench/out, which git
# ignores); the corpora, copies of Go source, go to SPRAWL_CORPUS (default
# outside the repository, so that no tool mistakes them for its packages).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
gl_runs=${GITLEAKS_RUNS:-1}
mb=${MB:-512}
out=${BENCH_OUT:-bench/out}
gitleaks_version=v8.30.1
mkdir -p "$out/bin"
out=$(cd "$out" && pwd)
corpus=${SPRAWL_CORPUS:-${TMPDIR:-/tmp}/steward-sprawl-corpus}

go build -o "$out/steward" ./cmd/steward
if [ ! -x "$out/bin/gitleaks" ]; then
  GOBIN="$out/bin" go install "github.com/zricethezav/gitleaks/v8@$gitleaks_version"
fi
[ -d "$corpus" ] || go run ./bench/sprawlgen -out "$corpus" -mb "$mb"

# best DIR CMD...: runs CMD RUNS times under time(1); prints "wall user sys"
# of the fastest run. Exit codes 0 and 1 (findings) are expected.
best() {
  local n=$1; shift
  local best=""
  for _ in $(seq "$n"); do
    /usr/bin/time -f "%e %U %S" -o "$out/time" "$@" || [ $? -eq 1 ]
    local line; line=$(tail -n 1 "$out/time")
    if [ -z "$best" ] || awk "BEGIN{exit !(${line%% *} < ${best%% *})}"; then best=$line; fi
  done
  echo "$best"
}

# Warm the page cache so that both tools read from memory.
find "$corpus/seeded" "$corpus/control" -type f -exec cat {} + >/dev/null

read -r s_wall s_user s_sys < <(best "$runs" sh -c "'$out/steward' sprawl scan '$corpus/seeded' -o json --fail-on none > '$out/sprawl-seeded.json'")
read -r c_wall c_user c_sys < <(best "$runs" sh -c "'$out/steward' sprawl scan '$corpus/control' -o json --fail-on none > '$out/sprawl-control.json'")
read -r g_wall g_user g_sys < <(best "$gl_runs" "$out/bin/gitleaks" dir "$corpus/seeded" --no-banner --log-level error \
  --max-decode-depth 5 --report-format json --report-path "$out/gitleaks-seeded.json" --exit-code 0)

python3 - "$corpus" "$out" <<'EOF'
import json, sys, os
corpus, out = sys.argv[1], sys.argv[2]
expected = set()
for line in open(os.path.join(corpus, "seeded.expect.tsv")):
    rel, ln, kind = line.rstrip("\n").split("\t")
    expected.add((os.path.join(corpus, "seeded", rel), int(ln), kind))
def found(name):
    doc = json.load(open(os.path.join(out, name)))
    return {(f["credential"]["file"], f["credential"]["line"], f["credential"]["kind"])
            for f in doc["findings"] if f.get("credential")}, doc
seeded, _ = found("sprawl-seeded.json")
control, cdoc = found("sprawl-control.json")
hit = expected & seeded
extra = seeded - expected
print(f"recall: {len(hit)}/{len(expected)} = {100*len(hit)/len(expected):.1f}%")
print(f"findings beyond the planted ones in the seeded corpus: {len(extra)}")
for e in sorted(extra)[:10]: print("  extra:", e)
for m in sorted(expected - seeded)[:10]: print("  missed:", m)
print(f"false positives on the control corpus: {len(control)} (input errors: {len(cdoc['errors'])})")
gl = json.load(open(os.path.join(out, "gitleaks-seeded.json")))
print(f"gitleaks findings on the seeded corpus: {len(gl)}")
EOF

# The bytes of file content scanned, as steward counts them (every file of
# the corpora is text, so gitleaks reads the same bytes).
bytes_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stats"]["bytes"])' "$1"; }
seeded_bytes=$(bytes_of "$out/sprawl-seeded.json")
control_bytes=$(bytes_of "$out/sprawl-control.json")
mbps() { awk "BEGIN{printf \"%.0f\", $1/1048576/$2}"; }
printf "seeded:  %s MiB, steward best of %s: %ss wall (%ss user, %ss sys) = %s MiB/s\n" \
  $((seeded_bytes >> 20)) "$runs" "$s_wall" "$s_user" "$s_sys" "$(mbps "$seeded_bytes" "$s_wall")"
printf "control: %s MiB, steward best of %s: %ss wall (%ss user, %ss sys) = %s MiB/s\n" \
  $((control_bytes >> 20)) "$runs" "$c_wall" "$c_user" "$c_sys" "$(mbps "$control_bytes" "$c_wall")"
printf "gitleaks %s (decoding depth 5), best of %s on seeded: %ss wall (%ss user, %ss sys) = %s MiB/s\n" \
  "$gitleaks_version" "$gl_runs" "$g_wall" "$g_user" "$g_sys" "$(mbps "$seeded_bytes" "$g_wall")"
awk "BEGIN{printf \"ratio (wall): %.1fx; ratio (user+sys CPU): %.1fx\n\", $g_wall/$s_wall, ($g_user+$g_sys)/($s_user+$s_sys)}"
