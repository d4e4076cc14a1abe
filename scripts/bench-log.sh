#!/usr/bin/env bash
# Benchmark for the disclosure log (issue 6): `refex log verify` entries/s and
# `refex log list --subject X` latency on a store of N entries (default 1,000,000).
# Uses the release build; the store is made once under .dev/bench/log and reused.
#   scripts/bench-log.sh [ENTRIES]
set -euo pipefail
cd "$(dirname "$0")/.."
entries="${1:-1000000}"
bin=.build/release/refex
dir=.dev/bench/log
mkdir -p "$dir"
[ -x "$bin" ] || { echo "bench-log: build first (make bench builds release)" >&2; exit 1; }

scripts/dev-setup.sh .dev >/dev/null 2>&1
config="$dir/refex.json"
python3 scripts/bench/bench-config.py "$config"

have=$(sqlite3 "$dir/refex.db" "SELECT count(*) FROM log_entries" 2>/dev/null || echo 0)
if [ "$have" -lt "$entries" ]; then
  rm -f "$dir"/refex*.db*
  "$bin" store init --config "$config" >/dev/null        # creates and migrates the store (log list refuses a missing store)
  echo "bench-log: writing $entries entries (once)..." >&2
  python3 Tests/scripts/fill_log.py "$dir/refex.db" "$entries" 10000 >/dev/null
fi
count=$(sqlite3 "$dir/refex.db" "SELECT count(*) FROM log_entries")

now_ms() { date +%s%3N; }
verify_ms=()
for _ in 1 2 3; do
  start=$(now_ms); "$bin" log verify --config "$config" >/dev/null; end=$(now_ms)
  verify_ms+=($((end - start)))
done
sorted=$(printf '%s\n' "${verify_ms[@]}" | sort -n)
median=$(echo "$sorted" | sed -n 2p)
rate=$((count * 1000 / median))

list_ms=()
for i in $(seq 1 21); do
  subject=$(printf '00000000-0000-0000-0000-%012x' "$((i * 37 % 10000 + 1))")
  start=$(now_ms); "$bin" log list --subject "$subject" --limit 50 --config "$config" >/dev/null; end=$(now_ms)
  list_ms+=($((end - start)))
done
list_sorted=$(printf '%s\n' "${list_ms[@]}" | sort -n)
list_p50=$(echo "$list_sorted" | sed -n 11p)
list_max=$(echo "$list_sorted" | tail -1)
plan=$(sqlite3 "$dir/refex.db" "EXPLAIN QUERY PLAN SELECT entry, hash FROM log_entries WHERE subject_id = 'x' ORDER BY seq LIMIT 50" | tr '\n' ' ')

cat <<TABLE
| measurement (log of $count entries) | result | target |
|---|---|---|
| refex log verify, whole command (median of 3) | ${median} ms = ${rate} entries/s | ≥ 200,000 entries/s |
| refex log list --subject X --limit 50, whole command (p50 / max of 21) | ${list_p50} ms / ${list_max} ms | < 50 ms |

query plan for the subject filter: ${plan}
TABLE
