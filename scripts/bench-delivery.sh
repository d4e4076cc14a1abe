#!/usr/bin/env bash
# Benchmark for delivery (issue 5): deliveries/s to a `refex sink` on loopback with keep-alive
# reuse, and the time from a referral's 202 (its commit) to the sink receiving the disclosure,
# at p50/p99 under a steady 500 referrals/s.
#   scripts/bench-delivery.sh [--backlog N] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
backlog=3000; seconds=10
while [ $# -gt 0 ]; do
  case "$1" in
    --backlog) backlog="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    *) echo "bench-delivery: unknown option $1" >&2; exit 2 ;;
  esac
done
build="${REFEX_BUILD_DIR:-.build/release}"
refex="$build/refex"; loadgen="$build/refex-bench"
for binary in "$refex" "$loadgen"; do [ -x "$binary" ] || { echo "bench-delivery: build first (make bench)" >&2; exit 1; }; done

dir=.dev/bench/delivery
rm -rf "$dir"; mkdir -p "$dir/bodies"
abs="$(cd "$dir" && pwd)"; pki="$abs/pki"
certs/dev-pki.sh "$pki" 2>/dev/null
(umask 077; openssl rand -hex 32 > "$abs/master.key")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
api=$(free_port); ops=$(free_port); sink_port=$(free_port)
python3 - "$dir/bodies/referral.json" <<'PY'
import json, sys
doc = json.load(open("schemas/examples/referral-1-domestic-abuse.json"))
doc["referenceId"] = "REFERENCE"
doc["supportNeeds"] = [{"service": "domestic-abuse", "urgency": "urgent"}]
json.dump(doc, open(sys.argv[1], "w"))
PY
fp() { openssl x509 -in "$pki/$1.crt" -noout -fingerprint -sha256 | cut -d= -f2; }
cat > "$dir/refex.json" <<JSON
{
  "listen": "127.0.0.1:$api", "ops": "127.0.0.1:$ops", "logLevel": "warning",
  "schemas": "$(pwd)/schemas", "store": { "path": "refex.db" }, "masterKey": "master.key",
  "tls": { "certificate": "pki/server.crt", "privateKey": "pki/server.key", "clientCA": "pki/ca.crt" },
  "delivery": { "clientCertificate": "pki/refex-client.crt", "clientKey": "pki/refex-client.key",
                "backoffBaseMilliseconds": 100, "backoffMaxSeconds": 1, "circuitFailures": 1000, "concurrency": 4,
                "pollIntervalMilliseconds": 50 },
  "partners": [ { "id": "police", "name": "Police", "roles": ["refer"], "certificates": [{ "sha256": "$(fp police)" }] } ],
  "recipients": [
    { "id": "dv-support", "name": "DV", "services": ["domestic-abuse"],
      "delivery": { "mode": "push", "endpoint": "https://localhost:$sink_port/deliveries", "ca": "pki/ca.crt" },
      "fields": ["/referenceId", "/subject/name", "/subject/contact", "/offence/category", "/supportNeeds"], "categories": [] }
  ]
}
JSON
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
start_sink() {  # start_sink DIR [options]: waits until it listens
  "$refex" sink --listen "127.0.0.1:$sink_port" --cert "$pki/sink-server.crt" --key "$pki/sink-server.key" \
    --client-ca "$pki/ca.crt" --dir "$1" "${@:2}" > "$1.out" 2>/dev/null &
  sink_pid=$!; pids+=("$sink_pid")
  for _ in $(seq 100); do grep -q listening "$1.out" 2>/dev/null && return 0; sleep 0.05; done
  echo "bench-delivery: the sink did not start" >&2; exit 1
}
delivered() { ls "$1" 2>/dev/null | grep -c '\.json$' || true; }

"$refex" serve --config "$dir/refex.json" 2>"$dir/refex.log" & pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ops/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
client=(--cert "$pki/police.crt" --key "$pki/police.key" --ca "$pki/ca.crt" --url "https://localhost:$api/v1/referrals"
        --body "$dir/bodies" --unique REFERENCE --expect-status 202 --warmup 0)

# 1. Throughput: a backlog built while the recipient answers 503, then drained by a working one.
start_sink "$abs/refusing" --status 503
"$loadgen" "${client[@]}" --connections 16 --requests "$backlog" >/dev/null
kill "$sink_pid"; wait "$sink_pid" 2>/dev/null || true
start_sink "$abs/backlog"
for _ in $(seq 1200); do [ "$(delivered "$abs/backlog")" -ge "$backlog" ] && break; sleep 0.1; done
throughput=$(python3 - "$abs/backlog/requests.log" <<'PY'
import sys
times = [int(line.split()[1]) for line in open(sys.argv[1]) if line.split()[3] == "201"]
span = (max(times) - min(times)) / 1000
print("%d deliveries in %.2f s = %.0f deliveries/s" % (len(times), span, len(times) / span if span else 0))
PY
)
kill "$sink_pid"; wait "$sink_pid" 2>/dev/null || true

# 2. Latency: a steady 500 referrals/s; from each disclosure's authorisation (its referral's commit) to the sink.
start_sink "$abs/steady"
before=$(sqlite3 "$dir/refex.db" "SELECT coalesce(max(seq), 0) FROM log_entries")
rate=$("$loadgen" "${client[@]}" --connections 32 --rate 500 --duration "$seconds" --json)
expected=$(sqlite3 "$dir/refex.db" "SELECT count(*) FROM log_entries WHERE seq > $before AND event = 'disclosure.authorised'")
for _ in $(seq 600); do [ "$(delivered "$abs/steady")" -ge "$expected" ] && break; sleep 0.1; done
latency=$(python3 - "$abs/steady/requests.log" "$dir/refex.db" "$before" <<'PY'
import sqlite3, sys
received = {}
for line in open(sys.argv[1]):
    number, ms, key, status = line.split()
    if status == "201": received[key] = int(ms)
db = sqlite3.connect(sys.argv[2])
delays = sorted(received[d] - t for d, t in db.execute(
    "SELECT disclosure_id, time FROM log_entries WHERE seq > ? AND event = 'disclosure.authorised'", (int(sys.argv[3]),)) if d in received)
pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
print("%d disclosures: p50 %d ms, p99 %d ms, max %d ms" % (len(delays), pick(0.5), pick(0.99), delays[-1]))
PY
)
intake=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("%.0f referrals/s accepted, 202 p50 %.1f ms p99 %.1f ms" % (r["requestsPerSecond"], r["latencyMs"]["p50"], r["latencyMs"]["p99"]))' "$rate")
echo "| measurement | result |"
echo "|---|---|"
echo "| backlog drained to one sink (keep-alive, 4 connections) | $throughput |"
echo "| steady 500 referrals/s for ${seconds} s: intake | $intake |"
echo "| steady 500 referrals/s: 202 → at the sink | $latency |"
