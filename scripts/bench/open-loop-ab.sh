#!/usr/bin/env bash
# The open loop's tail on a grown store, one build beside another (issue 17, third pass).
#
#   scripts/bench/open-loop-ab.sh [--fill SECONDS] [--runs N] [--rate R] [--pairs P] BINARY [BINARY...]
#
# For each pair of rounds and each BINARY in turn (alternating which goes first): a fresh store,
# refex alone filled for --fill seconds at 64 keep-alive connections (default 60: about 140,000
# referrals, so that the database is large and the checkpoints' writes are scattered, as in the
# main benchmark's later rounds), then --runs runs (default 3) of 10 s at --rate referrals/s
# (default 500) open loop on 64 connections, latency from each request's scheduled send time.
# Prints each run's p50/p90/p99/p99.9/max and the median p99 per binary.
#
# Uses the certificates, bodies and config of the last `make bench-intake-peers` run
# (.dev/bench/intake-peers; `make bench-intake-peers BENCH_ARGS=--quick` makes them in a minute).
set -euo pipefail
cd "$(dirname "$0")/../.."

fill=60; runs=3; rate=500; pairs=1; binaries=()
while [ $# -gt 0 ]; do
  case "$1" in
    --fill) fill="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --pairs) pairs="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "open-loop-ab: unknown option $1" >&2; exit 2 ;;
    *) binaries+=("$(realpath "$1")"); shift ;;
  esac
done
[ ${#binaries[@]} -gt 0 ] || { echo "open-loop-ab: name at least one refex binary" >&2; exit 2; }
src=.dev/bench/intake-peers
for needed in pki bodies refex.json master.key log.key; do
  [ -e "$src/$needed" ] || { echo "open-loop-ab: $src/$needed is missing: run \`make bench-intake-peers BENCH_ARGS=--quick\` once first" >&2; exit 2; }
done
loadgen=$(realpath .build/release/refex-bench)
[ -x "$loadgen" ] || { echo "open-loop-ab: build .build/release/refex-bench first (make bench-intake-peers does)" >&2; exit 2; }

dir=.dev/bench/open-loop-ab; raw="$dir/runs.jsonl"
mkdir -p "$dir"; : > "$raw"
api=18443; ops=18444
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true' EXIT

one_binary() {
  local binary="$1" label="$2" state="$dir/state" logfile
  logfile="$dir/refex-$(printf '%s' "$label" | tr '/' '_').log"
  rm -rf "$state"; mkdir -p "$state"
  cp -r "$src/pki" "$src/bodies" "$src/master.key" "$src/log.key" "$state/"
  python3 - "$src/refex.json" "$state/refex.json" "$api" "$ops" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["listen"] = f"127.0.0.1:{sys.argv[3]}"; config["ops"] = f"127.0.0.1:{sys.argv[4]}"
json.dump(config, open(sys.argv[2], "w"))
PY
  (cd "$state" && exec "$binary" serve --config refex.json) > "$logfile" 2>&1 & pid=$!
  for _ in $(seq 150); do curl -sf "http://127.0.0.1:$ops/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$ops/readyz" >/dev/null || { echo "open-loop-ab: $label did not become ready" >&2; tail "$logfile" >&2; exit 1; }
  local client=("$loadgen" --url "https://localhost:$api/v1/referrals" --cert "$state/pki/police.crt" --key "$state/pki/police.key"
    --ca "$state/pki/ca.crt" --body "$state/bodies" --unique REFERENCE --expect-status 202 --json)
  if [ "$fill" -gt 0 ]; then "${client[@]}" --connections 64 --duration "$fill" --warmup 0 > /dev/null; fi
  for run in $(seq "$runs"); do
    "${client[@]}" --connections 64 --rate "$rate" --duration 10 --warmup 1 --label "$label" \
      | python3 -c 'import json, sys; d = json.load(sys.stdin); d["binary"] = sys.argv[1]; d["run"] = int(sys.argv[2]); print(json.dumps(d))' "$label" "$run" >> "$raw"
    tail -1 "$raw" | python3 -c '
import json, sys
d = json.load(sys.stdin); l = d["latencyMs"]
print("  %-28s run %d  p50 %6.2f  p90 %6.2f  p99 %7.2f  p99.9 %7.2f  max %7.2f ms  errors %d"
      % (d["binary"], d["run"], l["p50"], l["p90"], l["p99"], l["p999"], l["max"], d.get("errors", 0)))' >&2
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

echo "open-loop-ab: fill ${fill} s at 64 connections, then ${runs} × 10 s at ${rate}/s; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for pair in $(seq "$pairs"); do
  order=("${binaries[@]}")
  if [ $((pair % 2)) -eq 0 ]; then order=(); for ((i = ${#binaries[@]} - 1; i >= 0; i--)); do order+=("${binaries[$i]}"); done; fi
  for binary in "${order[@]}"; do
    label=$(realpath --relative-to="$PWD" "$binary")
    one_binary "$binary" "$label"
  done
done
python3 - "$raw" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
by = {}
for run in runs:
    by.setdefault(run["binary"], []).append(run["latencyMs"]["p99"])
print("| build | runs | p99 ms, each run | median p99 ms |")
print("|---|---:|---|---:|")
for binary, values in by.items():
    print(f"| `{binary}` | {len(values)} | {', '.join(f'{v:.1f}' for v in values)} | {statistics.median(values):.1f} |")
PY
