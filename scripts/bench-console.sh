#!/usr/bin/env bash
# Benchmark for the admin console (issue 16): the overview and a 100-entry log page with a log of
# N entries (default 1,000,000), and a subject's page for a subject with N/SUBJECTS entries
# (default 1,000), each over one kept-alive TLS connection (curl's time per transfer, the
# handshake not counted), beside `refex log list` on the same filter (whole command).
# Uses the release build; the store is made once under .dev/bench/console and reused.
#   scripts/bench-console.sh [ENTRIES] [SUBJECTS]
set -euo pipefail
cd "$(dirname "$0")/.."
entries="${1:-1000000}"
subjects="${2:-1000}"
requests="${BENCH_CONSOLE_REQUESTS:-100}"
bin=.build/release/refex
dir=.dev/bench/console
mkdir -p "$dir"
[ -x "$bin" ] || { echo "bench-console: build first (make bench-console builds release)" >&2; exit 1; }

scripts/dev-setup.sh .dev >/dev/null 2>&1
config="$dir/refex.json"
python3 scripts/bench/bench-config.py "$config" --free-ports

have=$(sqlite3 "$dir/refex.db" "SELECT count(*) FROM log_entries" 2>/dev/null || echo 0)
if [ "$have" -lt "$entries" ]; then
  rm -f "$dir"/refex*.db*
  "$bin" store init --config "$config" >/dev/null         # creates the store
  echo "bench-console: writing $entries entries for $subjects subjects (once)..." >&2
  python3 Tests/scripts/fill_log.py "$dir/refex.db" "$entries" "$subjects" >/dev/null
  # fill_log.py writes no subject keys: the subjects stand as erased (their rows and log stay,
  # which is what the subject page reads), so that `refex serve` finds the store's halves agree.
  sqlite3 "$dir/refex.db" "UPDATE subjects SET erased_at = created_at"
fi
count=$(sqlite3 "$dir/refex.db" "SELECT count(*) FROM log_entries")
subject=$(printf '00000000-0000-0000-0000-%012x' 7)
per_subject=$(sqlite3 "$dir/refex.db" "SELECT count(*) FROM log_entries WHERE subject_id = '$subject'")

log="$dir/serve.log"
"$bin" serve --config "$config" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's/.*refex serving listen=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "bench-console: refex did not start" >&2; cat "$log" >&2; exit 1; }
pki=.dev/pki
base="https://localhost:$port"

# p50 and p99 in ms of `requests` GETs of PATH on one connection, after one warm-up.
measure() {
  local path="$1" args=() i out
  for i in $(seq 0 "$requests"); do args+=("-o" "/dev/null" "$base$path"); done
  out=$(curl -sS --cacert "$pki/ca.crt" --cert "$pki/hub-admin.crt" --key "$pki/hub-admin.key" -w '%{http_code} %{time_total}\n' "${args[@]}" | tail -n +2)
  if echo "$out" | awk '$1 != 200 { bad = 1 } END { exit bad ? 0 : 1 }'; then
    echo "bench-console: $path answered other than 200" >&2; exit 1
  fi
  echo "$out" | awk '{ printf "%.3f\n", $2 * 1000 }' | sort -n | awk '
    { ms[NR] = $1 }
    END { p50 = int(NR * 0.50 + 0.5); p99 = int(NR * 0.99 + 0.5); if (p99 > NR) p99 = NR; if (p50 < 1) p50 = 1
          printf "%.1f ms / %.1f ms", ms[p50], ms[p99] }'
}

now_ms() { date +%s%3N; }
cli() {
  local times=() i start end
  for i in $(seq 1 21); do
    start=$(now_ms); "$bin" log list "$@" --config "$config" >/dev/null; end=$(now_ms)
    times+=($((end - start)))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n '11p;21p' | paste -sd/ | sed 's|/| ms / |; s|$| ms|'
}

# The first overview after the start: refex reads the last 30 days' counts in the background from
# its start, and this page waits for them only if they are not read yet (the store's page cache
# is cold at the first run after the fill).
first_overview=$(curl -sS -o /dev/null --cacert "$pki/ca.crt" --cert "$pki/hub-admin.crt" --key "$pki/hub-admin.key" -w '%{time_total}' "$base/console/" | awk '{ printf "%.1f ms", $1 * 1000 }')
overview=$(measure "/console/")
log_page=$(measure "/console/log")
log_subject=$(measure "/console/log?subject=$subject")
subject_page=$(measure "/console/subjects/$subject")
cli_page=$(cli --newest-first --limit 100)
cli_subject=$(cli --subject "$subject" --newest-first --limit 100)

cat <<TABLE
| measurement (log of $count entries; subject with $per_subject) | p50 / p99 | target |
|---|---|---|
| GET /console/ (overview), the first after the start | $first_overview | (once) |
| GET /console/ (overview) | $overview | p99 < 50 ms |
| GET /console/log (100 newest entries) | $log_page | p99 < 50 ms |
| GET /console/log?subject=S (100 entries) | $log_subject | p99 < 50 ms |
| GET /console/subjects/S (subject page) | $subject_page | p99 < 100 ms |
| refex log list --newest-first --limit 100, whole command (p50 / max of 21) | $cli_page | beside |
| refex log list --subject S --newest-first --limit 100, whole command (p50 / max of 21) | $cli_subject | beside |

Each console request appends its log.viewed entry, as every reading of the log does.
TABLE
