#!/usr/bin/env bash
# Benchmark for delivery (issue 5; issue 15 for PostgreSQL): deliveries/s to a `refex sink` on
# loopback with keep-alive reuse, and the time from a referral's 202 (its commit) to the sink
# receiving the disclosure, at p50/p99 under a steady 500 referrals/s. For each store in turn, a
# fresh one: SQLite with one node, PostgreSQL with one or two nodes draining one outbox (each node
# with the same delivery config, so two nodes open twice the connections). After each phase the
# sink's journal must show every authorised disclosure delivered, and none delivered twice.
#
# PostgreSQL is a throwaway cluster under .dev/bench/delivery/postgres (scripts/bench/throwaway-postgres.sh),
# removed at the end. The table is printed and written to .dev/bench/delivery-<time>.md.
#
#   scripts/bench-delivery.sh [--backlog N] [--seconds S] [--stores sqlite,postgres-1,postgres-2]
#
# Defaults: a backlog of 3000, 10 s at 500/s, stores sqlite,postgres-2.
set -euo pipefail
cd "$(dirname "$0")/.."
backlog=3000; seconds=10; stores="sqlite,postgres-2"
while [ $# -gt 0 ]; do
  case "$1" in
    --backlog) backlog="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --stores) stores="$2"; shift 2 ;;
    *) echo "bench-delivery: unknown option $1" >&2; exit 2 ;;
  esac
done
IFS=, read -r -a store_list <<< "$stores"
for store in "${store_list[@]}"; do
  case "$store" in sqlite|postgres-1|postgres-2) ;; *) echo "bench-delivery: unknown store '$store' (sqlite, postgres-1, postgres-2)" >&2; exit 2 ;; esac
done
build="${REFEX_BUILD_DIR:-.build/release}"
refex="$build/refex"; loadgen="$build/refex-bench"
for binary in "$refex" "$loadgen"; do [ -x "$binary" ] || { echo "bench-delivery: $binary is missing: build first (make bench-release)" >&2; exit 1; }; done
for tool in python3 openssl curl; do
  command -v "$tool" >/dev/null || { echo "bench-delivery: $tool is not installed (scripts/install-deps.sh bench)" >&2; exit 1; }
done
case ",$stores," in *,sqlite,*) command -v sqlite3 >/dev/null || { echo "bench-delivery: sqlite3 is not installed (scripts/install-deps.sh bench)" >&2; exit 1; } ;; esac
bench_name=bench-delivery
. scripts/bench/throwaway-postgres.sh
case ",$stores," in *,postgres-*) pg_find ;; esac

dir=.dev/bench/delivery
rm -rf "$dir"; mkdir -p "$dir/bodies"
abs="$(cd "$dir" && pwd)"; pki="$abs/pki"
# The cluster's folder, where nobody (when root) must reach it: .dev/bench/delivery/postgres.
[ "$(id -u)" = 0 ] && chmod o+x "$abs" "$abs/.." "$abs/../.."
table="$(cd "$abs/.." && pwd)/delivery-$(date -u +%Y%m%d-%H%M%S).md"
certs/dev-pki.sh "$pki" 2>/dev/null
(umask 077; openssl rand -hex 32 > "$abs/master.key")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
python3 - "$dir/bodies/referral.json" <<'PY'
import json, sys
doc = json.load(open("schemas/examples/referral-1-domestic-abuse.json"))
doc["referenceId"] = "REFERENCE"
doc["supportNeeds"] = [{"service": "domestic-abuse", "urgency": "urgent"}]
json.dump(doc, open(sys.argv[1], "w"))
PY
fp() { openssl x509 -in "$pki/$1.crt" -noout -fingerprint -sha256 | cut -d= -f2; }
police_fp=$(fp police)
# node_config FILE API OPS SINK-PORT STORE-JSON
node_config() {
  cat > "$1" <<JSON
{
  "listen": "127.0.0.1:$2", "ops": "127.0.0.1:$3", "logLevel": "warning",
  "schemas": "$(pwd)/schemas", "store": $5, "masterKey": "master.key",
  "tls": { "certificate": "pki/server.crt", "privateKey": "pki/server.key", "clientCA": "pki/ca.crt" },
  "delivery": { "clientCertificate": "pki/refex-client.crt", "clientKey": "pki/refex-client.key",
                "backoffBaseMilliseconds": 100, "backoffMaxSeconds": 1, "circuitFailures": 1000, "concurrency": 4,
                "pollIntervalMilliseconds": 50 },
  "partners": [ { "id": "police", "name": "Police", "roles": ["refer"], "certificates": [{ "sha256": "$police_fp" }] } ],
  "recipients": [
    { "id": "dv-support", "name": "DV", "services": ["domestic-abuse"],
      "delivery": { "mode": "push", "endpoint": "https://localhost:$4/deliveries", "ca": "pki/ca.crt" },
      "fields": ["/referenceId", "/subject/name", "/subject/contact", "/offence/category", "/supportNeeds"], "categories": [] }
  ]
}
JSON
}

node_pids=(); sink_pid=""
stop_sink() { [ -n "$sink_pid" ] || return 0; kill "$sink_pid" 2>/dev/null || true; wait "$sink_pid" 2>/dev/null || true; sink_pid=""; }
stop_nodes() {
  local pid
  for pid in "${node_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${node_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  node_pids=()
}
cleanup() { stop_nodes; stop_sink; pg_stop "$abs/postgres-server.log"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

start_sink() {  # start_sink DIR [options]: waits until it listens
  "$refex" sink --listen "127.0.0.1:$sink_port" --cert "$pki/sink-server.crt" --key "$pki/sink-server.key" \
    --client-ca "$pki/ca.crt" --dir "$1" "${@:2}" > "$1.out" 2>"$1.log" &
  sink_pid=$!
  local _
  for _ in $(seq 100); do grep -q listening "$1.out" 2>/dev/null && return 0; sleep 0.05; done
  echo "bench-delivery: the sink did not start:" >&2; tail -5 "$1.log" >&2; exit 1
}
delivered() { ls "$1" 2>/dev/null | grep -c '\.json$' || true; }
# start_node NAME CONFIG OPS: waits for /readyz.
start_node() {
  "$refex" serve --config "$2" 2> "$abs/$1.log" & node_pids+=($!)
  local pid=$! _
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$3/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { echo "bench-delivery: refex $1 exited at start:" >&2; tail -20 "$abs/$1.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench-delivery: refex $1 was not ready within 30 s:" >&2; tail -20 "$abs/$1.log" >&2; exit 1
}
# wait_delivered DIR N: until the sink holds N deliveries, or 120 s.
wait_delivered() {
  local _
  for _ in $(seq 1200); do [ "$(delivered "$1")" -ge "$2" ] && return 0; sleep 0.1; done
  return 1
}
# journal_check DIR EXPECTED: the sink's journal against the disclosures the store authorised.
journal_check() {
  python3 - "$1" "$2" <<'PY'
import collections, os, sys
folder, expected = sys.argv[1], int(sys.argv[2])
status = collections.Counter()
created = collections.Counter()
for line in open(os.path.join(folder, "requests.log")):
    number, ms, key, code = line.split()
    status[code] += 1
    if code == "201":
        created[key] += 1
files = sum(1 for name in os.listdir(folder) if name.endswith(".json"))
twice = status.get("200", 0) + sum(count - 1 for count in created.values() if count > 1)
missing = max(0, expected - files)
verdict = "OK" if twice == 0 and missing == 0 and files == expected else ("DOUBLED" if twice else ("MISSING" if missing else "MORE"))
print("%s: %d authorised, %d delivered, %d delivered twice (answered 200 duplicate), %d not delivered; %d requests (%s)" % (
    verdict, expected, files, twice, missing, sum(status.values()), ", ".join("%s ×%d" % item for item in sorted(status.items()))))
sys.exit(0 if verdict == "OK" else 1)
PY
}

rows=(); failed=0
for store in "${store_list[@]}"; do
  case "$store" in
    sqlite) label="SQLite, 1 node"; nodes=1 ;;
    postgres-1) label="PostgreSQL, 1 node"; nodes=1 ;;
    postgres-2) label="PostgreSQL, 2 nodes"; nodes=2 ;;
  esac
  database="refex_${store//-/_}"
  if [ "$store" = sqlite ]; then
    mkdir -p "$abs/sqlite"; store_json='{ "path": "sqlite/refex.db" }'
    sql() { sqlite3 "$abs/sqlite/refex.db" "$1"; }
  else
    pg_start "$abs/postgres"
    for name in "$database" "${database}_keys"; do pg_sql postgres "CREATE DATABASE $name" > /dev/null; done
    sql() { pg_sql "$database" "$1"; }
  fi
  sink_port=$(free_port); api_ports=(); ports=()
  for node in $(seq "$nodes"); do
    api=$(free_port); ops=$(free_port)
    [ "$store" = sqlite ] || store_json="{ \"postgres\": \"host=$abs/postgres port=5432 user=refex dbname=$database\", \"nodeId\": \"bench-$node\" }"
    node_config "$abs/$store-node-$node.json" "$api" "$ops" "$sink_port" "$store_json"
    start_node "$store-node-$node" "$abs/$store-node-$node.json" "$ops"
    api_ports+=("$api"); ports+=(--port "$api")
  done
  client=(--cert "$pki/police.crt" --key "$pki/police.key" --ca "$pki/ca.crt" --url "https://localhost:${api_ports[0]}/v1/referrals"
          "${ports[@]}" --body "$dir/bodies" --unique REFERENCE --expect-status 202 --warmup 0)
  authorised() { sql "SELECT count(*) FROM log_entries WHERE seq > $1 AND event = 'disclosure.authorised'"; }

  # 1. Throughput: a backlog built while the recipient answers 503, then drained by a working one.
  start_sink "$abs/$store-refusing" --status 503
  "$loadgen" "${client[@]}" --connections 16 --requests "$backlog" > /dev/null \
    || { echo "bench-delivery: refex-bench failed building the backlog ($label); see $abs/$store-node-*.log" >&2; exit 1; }
  expected=$(authorised 0)
  stop_sink
  start_sink "$abs/$store-backlog"
  wait_delivered "$abs/$store-backlog" "$expected" || echo "bench-delivery: $label: not all $expected deliveries arrived within 120 s" >&2
  throughput=$(python3 - "$abs/$store-backlog/requests.log" <<'PY'
import sys
times = [int(line.split()[1]) for line in open(sys.argv[1]) if line.split()[3] == "201"]
span = (max(times) - min(times)) / 1000 if times else 0
print("%d deliveries in %.2f s = %.0f deliveries/s" % (len(times), span, len(times) / span if span else 0))
PY
)
  sleep 1  # a repeat would come after the last first delivery: give it a moment to show
  backlog_check=$(journal_check "$abs/$store-backlog" "$expected") || failed=1
  stop_sink

  # 2. Latency: a steady 500 referrals/s; from each disclosure's authorisation (its referral's commit) to the sink.
  start_sink "$abs/$store-steady"
  before=$(sql "SELECT coalesce(max(seq), 0) FROM log_entries")
  rate=$("$loadgen" "${client[@]}" --connections 32 --rate 500 --duration "$seconds" --json) || true
  case "$rate" in "{"*) ;; *) echo "bench-delivery: refex-bench failed at 500/s ($label)" >&2; exit 1 ;; esac
  expected_steady=$(authorised "$before")
  wait_delivered "$abs/$store-steady" "$expected_steady" || echo "bench-delivery: $label: not all $expected_steady deliveries arrived within 120 s" >&2
  sleep 1
  latency=$(sql "SELECT disclosure_id, time FROM log_entries WHERE seq > $before AND event = 'disclosure.authorised'" \
    | python3 -c '
import sys
received = {}
for line in open(sys.argv[1]):
    number, ms, key, status = line.split()
    if status == "201": received[key] = int(ms)
authorised = [line.strip().split("|") for line in sys.stdin if line.strip()]
delays = sorted(received[d] - int(t) for d, t in authorised if d in received)
if not delays:
    print("no disclosure reached the sink"); sys.exit(0)
pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
print("%d disclosures: p50 %d ms, p99 %d ms, max %d ms" % (len(delays), pick(0.5), pick(0.99), delays[-1]))
' "$abs/$store-steady/requests.log")
  steady_check=$(journal_check "$abs/$store-steady" "$expected_steady") || failed=1
  stop_sink
  intake=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("%.0f referrals/s accepted, 202 p50 %.1f ms p99 %.1f ms, %d errors" % (r["requestsPerSecond"], r["latencyMs"]["p50"], r["latencyMs"]["p99"], r["errors"]))' "$rate")
  connections=$((nodes * 4))
  rows+=("| $label | backlog drained to one sink (keep-alive, $connections connections) | $throughput |"
         "| $label | backlog: the sink's journal | $backlog_check |"
         "| $label | steady 500 referrals/s for ${seconds} s: intake | $intake |"
         "| $label | steady 500 referrals/s: 202 → at the sink | $latency |"
         "| $label | steady: the sink's journal | $steady_check |")
  echo "  $label: $throughput; $latency" >&2
  stop_nodes
done

{
  echo "| store | measurement | result |"
  echo "|---|---|---|"
  printf '%s\n' "${rows[@]}"
} > "$table"
cat "$table"
echo
echo "(written to $table)"
exit "$failed"
