#!/usr/bin/env bash
# Benchmark for issue 15: referral intake on SQLite beside PostgreSQL with one node and with two
# nodes on one database, in one run. For each store, a fresh one: referrals/s and p50/p99 at 8 and
# 64 keep-alive connections and p99 at a fixed rate (open loop, 64 connections); with two nodes
# refex-bench spreads its connections over both (`--port` twice). Then every 202 the client counted
# must be a stored referral with one `referral.received` entry, and `refex log verify` must pass
# on the (shared) log. On PostgreSQL the nodes' `refex_store_log_head_lock_*` metrics give the
# time the log head's lock is held per commit and the intake ceiling that follows.
#
# PostgreSQL is a throwaway cluster under .dev/bench/intake-stores/postgres (initdb, pg_ctl, a Unix
# socket only, fsync and synchronous_commit on; as nobody when run as root), removed at the end.
# The table is printed and written to .dev/bench/intake-stores-<time>.md (raw runs: .jsonl beside it).
#
#   scripts/bench-intake-stores.sh [--duration SECONDS] [--rate R] [--stores sqlite,postgres-1,postgres-2] [--quick]
#
# --duration: measured seconds per run (default 10, after 1 s of warm-up); --rate: the open loop's
# referrals/s (default 500); --quick: 3 s per run, a smoke test of the script, not a result.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=10; rate=500; stores="sqlite,postgres-1,postgres-2"; warmup=1
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --stores) stores="$2"; shift 2 ;;
    --quick) duration=3; shift ;;
    *) echo "bench-intake-stores: unknown option $1" >&2; exit 2 ;;
  esac
done
IFS=, read -r -a store_list <<< "$stores"
for store in "${store_list[@]}"; do
  case "$store" in sqlite|postgres-1|postgres-2) ;; *) echo "bench-intake-stores: unknown store '$store' (sqlite, postgres-1, postgres-2)" >&2; exit 2 ;; esac
done

build="${REFEX_BUILD_DIR:-.build/release}"
refex="$build/refex"; loadgen="$build/refex-bench"; helper=scripts/bench/intake-stores.py
for binary in "$refex" "$loadgen"; do
  [ -x "$binary" ] || { echo "bench-intake-stores: $binary is missing: build first (make bench-release)" >&2; exit 1; }
done
for tool in python3 openssl curl; do
  command -v "$tool" >/dev/null || { echo "bench-intake-stores: $tool is not installed (scripts/install-deps.sh bench)" >&2; exit 1; }
done
case ",$stores," in *,sqlite,*) command -v sqlite3 >/dev/null || { echo "bench-intake-stores: sqlite3 is not installed (scripts/install-deps.sh bench)" >&2; exit 1; } ;; esac
bench_name=bench-intake-stores
. scripts/bench/throwaway-postgres.sh
case ",$stores," in *,postgres-*) pg_find ;; esac

dir=.dev/bench/intake-stores
rm -rf "$dir"; mkdir -p "$dir/bodies" "$dir/samples" "$dir/sqlite"
abs="$(cd "$dir" && pwd)"; pki="$abs/pki"
# The cluster's folder, where nobody (when root) must reach it: .dev/bench/intake-stores/postgres.
[ "$(id -u)" = 0 ] && chmod o+x "$abs" "$abs/.." "$abs/../.."
stamp=$(date -u +%Y%m%d-%H%M%S)
raw="$(cd "$abs/.." && pwd)/intake-stores-$stamp.jsonl"; table="${raw%.jsonl}.md"
: > "$raw"
certs/dev-pki.sh "$pki" 2>/dev/null
(umask 077; openssl rand -hex 32 > "$abs/master.key"; openssl genpkey -algorithm ed25519 -out "$abs/log.key")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The three referral shapes of scripts/bench-intake.sh, 1.4–3.1 KiB, REFERENCE where each request puts its referenceId.
python3 - "$dir/bodies" <<'PY'
import json, sys
base = json.load(open("schemas/examples/referral-1-domestic-abuse.json"))
for index, repeat in enumerate([1, 6, 14]):
    doc = json.loads(json.dumps(base))
    doc["referenceId"] = "REFERENCE"
    doc["offence"]["description"] = ("Assault by a former partner at the home address. " * repeat)[:3900]
    doc["offence"]["impact"] = ("Afraid to go out; has moved in with family. " * repeat)[:3900]
    doc["supportNeeds"][0]["notes"] = ("Wants advice on safety planning. " * repeat)[:3900]
    open(f"{sys.argv[1]}/referral-{index}.json", "w").write(json.dumps(doc))
PY

# --- processes, stopped on every exit --------------------------------------------------------------

node_pids=()
stop_nodes() {
  local pid
  for pid in "${node_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${node_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  node_pids=()
}
cleanup() { stop_nodes; pg_stop "$abs/postgres-server.log"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

fp() { openssl x509 -in "$pki/$1.crt" -noout -fingerprint -sha256 | cut -d= -f2; }
police_fp=$(fp police); sink_fp=$(fp sink)
# node_config FILE API OPS STORE-JSON: the config of scripts/bench-intake.sh on another store.
node_config() {
  cat > "$1" <<JSON
{
  "listen": "127.0.0.1:$2", "ops": "127.0.0.1:$3", "logLevel": "warning",
  "schemas": "$(pwd)/schemas", "store": $4, "masterKey": "master.key",
  "log": { "signingKey": "log.key" },
  "tls": { "certificate": "pki/server.crt", "privateKey": "pki/server.key", "clientCA": "pki/ca.crt", "crl": "pki/crl.pem" },
  "limits": { "maxConnections": 4096, "maxConnectionsPerPartner": 4096, "idleTimeoutSeconds": 120 },
  "partners": [
    { "id": "police", "name": "Police", "roles": ["refer"], "certificates": [{ "sha256": "$police_fp" }] },
    { "id": "sink", "name": "Mailbox", "roles": ["receive"], "certificates": [{ "sha256": "$sink_fp" }] }
  ],
  "recipients": [
    { "id": "dv-support", "name": "DV", "services": ["domestic-abuse"], "delivery": { "mode": "pull", "partner": "sink" },
      "fields": ["/referenceId", "/subject", "/offence", "/supportNeeds", "/riskOfHarm"], "categories": ["health"] },
    { "id": "victim-support", "name": "General", "services": ["general-victim-support"], "delivery": { "mode": "pull", "partner": "sink" },
      "fields": ["/referenceId", "/subject/name", "/subject/contact", "/offence/category"], "categories": [] }
  ]
}
JSON
}
# start_node NAME CONFIG OPS: waits for /readyz; a node that exits or stays unready stops the run with its log.
start_node() {
  "$refex" serve --config "$2" 2> "$abs/$1.log" & node_pids+=($!)
  local pid=$! _
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$3/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { echo "bench-intake-stores: refex $1 exited at start:" >&2; tail -20 "$abs/$1.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench-intake-stores: refex $1 was not ready within 30 s:" >&2; tail -20 "$abs/$1.log" >&2; exit 1
}

# --- one store ----------------------------------------------------------------------------------

client=(--cert "$pki/police.crt" --key "$pki/police.key" --ca "$pki/ca.crt" --body "$dir/bodies" --unique REFERENCE
        --expect-status 202 --duration "$duration" --warmup "$warmup" --json)
for store in "${store_list[@]}"; do
  case "$store" in
    sqlite) label="SQLite"; nodes=1 ;;
    postgres-1) label="PostgreSQL, 1 node"; nodes=1 ;;
    postgres-2) label="PostgreSQL, 2 nodes"; nodes=2 ;;
  esac
  database="refex_${store//-/_}"
  if [ "$store" = sqlite ]; then
    store_json='{ "path": "sqlite/refex.db" }'
    count() { sqlite3 "$abs/sqlite/refex.db" "$1"; }
  else
    pg_start "$abs/postgres"
    for name in "$database" "${database}_keys"; do pg_sql postgres "CREATE DATABASE $name" > /dev/null; done
    count() { pg_sql "$database" "$1"; }
  fi
  api_ports=(); ops_ports=(); configs=()
  for node in $(seq "$nodes"); do
    api=$(free_port); ops=$(free_port)
    [ "$store" = sqlite ] || store_json="{ \"postgres\": \"host=$abs/postgres port=5432 user=refex dbname=$database\", \"nodeId\": \"bench-$node\", \"poolSize\": 8 }"
    node_config "$abs/$store-node-$node.json" "$api" "$ops" "$store_json"
    api_ports+=("$api"); ops_ports+=("$ops"); configs+=("$abs/$store-node-$node.json")
    # The first node makes the store; the second starts once it is ready.
    start_node "$store-node-$node" "$abs/$store-node-$node.json" "$ops"
  done
  ports=(); for port in "${api_ports[@]}"; do ports+=(--port "$port"); done
  scrape() {
    local files=() index=0 port
    for port in "${ops_ports[@]}"; do
      index=$((index + 1))
      curl -sf "http://127.0.0.1:$port/metrics" > "$abs/samples/metrics-$index.txt" 2>/dev/null || : > "$abs/samples/metrics-$index.txt"
      files+=("$abs/samples/metrics-$index.txt")
    done
    python3 "$helper" metrics "${files[@]}"
  }
  run() {  # run SCENARIO LABEL ARGS...
    local before after stored_before stored_after json status=0
    stored_before=$(count "SELECT count(*) FROM referrals"); before=$(scrape)
    json=$("$loadgen" "${client[@]}" --url "https://localhost:${api_ports[0]}/v1/referrals" "${ports[@]}" "${@:3}") || status=$?
    stored_after=$(count "SELECT count(*) FROM referrals"); after=$(scrape)
    case "$json" in
      "{"*) ;;
      *) echo "bench-intake-stores: refex-bench failed ($label, $2, exit $status); see $abs/$store-node-*.log" >&2; exit 1 ;;
    esac
    printf '%s' "$json" | python3 "$helper" record kind=run store="$store" storeLabel="$label" scenario="$1" runLabel="$2" \
      storedBefore="$stored_before" storedAfter="$stored_after" "metricsBefore@json=$before" "metricsAfter@json=$after" >> "$raw"
    python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("  %-22s %-36s %7.0f/s  p50 %7.2f ms  p99 %7.2f ms  errors %d" % (sys.argv[2], sys.argv[3], r["requestsPerSecond"], r["latencyMs"]["p50"], r["latencyMs"]["p99"], r["errors"]))' \
      "$json" "$label" "$2" >&2
  }
  run c8 "8 connections" --connections 8
  run c64 "64 connections" --connections 64
  run rate "$rate/s open loop, 64 connections" --connections 64 --rate "$rate"

  # Every 202 the client counted is a stored referral with one referral.received entry; the log verifies.
  client202=$(python3 -c 'import json,sys; print(sum(r.get("expectedResponses", 0) for r in map(json.loads, open(sys.argv[1])) if r.get("kind") == "run" and r.get("store") == sys.argv[2]))' "$raw" "$store")
  server202=$(scrape | python3 -c 'import json,sys; print(json.load(sys.stdin)["accepted202"])')
  stored=$(count "SELECT count(*) FROM referrals")
  logged=$(count "SELECT count(*) FROM log_entries WHERE event = 'referral.received'")
  "$refex" log verify --config "${configs[0]}" > "$abs/$store-verify.txt" 2>&1 && verify_status=0 || verify_status=$?
  verify="exit $verify_status: $(head -1 "$abs/$store-verify.txt" | cut -d';' -f1 | cut -c1-100)"
  if [ "$stored" -lt "$client202" ]; then verdict="LOST: fewer stored than acknowledged"
  elif [ "$logged" -ne "$stored" ]; then verdict="DOUBLED: referral.received entries ≠ referrals"
  elif [ "$verify_status" -ne 0 ]; then verdict="LOG CHECK FAILED"
  elif [ "$stored" -eq "$client202" ]; then verdict="OK"
  else verdict="MORE: stored beyond the 202s the client saw (a commit whose answer it missed)"; fi
  python3 "$helper" record kind=check store="$store" storeLabel="$label" client202="$client202" server202="$server202" \
    stored="$stored" logged="$logged" verify="$verify" verdict="$verdict" < /dev/null >> "$raw"
  echo "  $label: $verdict ($client202 202s counted, $stored stored, $logged referral.received, log verify $verify)" >&2
  stop_nodes
done

python3 "$helper" summary "$raw" > "$table" && summary_status=0 || summary_status=$?
cat "$table"
echo
echo "(written to $table; raw runs in $raw)"
exit "$summary_status"
