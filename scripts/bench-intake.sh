#!/usr/bin/env bash
# Benchmark for referral intake (issue 4): referrals/s and latency through mutual TLS with
# keep-alive, each referral validated, sealed, decided, logged and durably committed, at 1, 8
# and 64 connections, and latency at a steady 1,000 referrals/s; beside nginx's static answer in
# the same run. Realistic 2–6 KiB referrals, each with its own referenceId.
#   scripts/bench-intake.sh [--duration SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=10
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    *) echo "bench-intake: unknown option $1" >&2; exit 2 ;;
  esac
done
build="${REFEX_BUILD_DIR:-.build/release}"
refex="$build/refex"; loadgen="$build/refex-bench"
for binary in "$refex" "$loadgen"; do [ -x "$binary" ] || { echo "bench-intake: build first (make bench)" >&2; exit 1; }; done
command -v nginx >/dev/null || { echo "bench-intake: nginx is not installed (scripts/install-deps.sh bench)" >&2; exit 1; }

dir=.dev/bench/intake
rm -rf "$dir"; mkdir -p "$dir/bodies" "$dir/nginx/tmp"
abs="$(cd "$dir" && pwd)"
pki="$abs/pki"
certs/dev-pki.sh "$pki" 2>/dev/null
(umask 077; openssl rand -hex 32 > "$abs/master.key"; openssl genpkey -algorithm ed25519 -out "$abs/log.key")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
api=$(free_port); ops=$(free_port); nginx_port=$(free_port)

# Three referral shapes, 2–6 KiB, with REFERENCE where each request puts its own referenceId.
python3 - "$dir/bodies" <<'PY'
import json, sys
base = json.load(open("schemas/examples/referral-1-domestic-abuse.json"))
for index, repeat in enumerate([1, 6, 14]):
    doc = json.loads(json.dumps(base))
    doc["referenceId"] = "REFERENCE"
    doc["offence"]["description"] = ("Assault by a former partner at the home address. " * repeat)[:3900]
    doc["offence"]["impact"] = ("Afraid to go out; has moved in with family. " * repeat)[:3900]
    doc["supportNeeds"][0]["notes"] = ("Wants advice on safety planning. " * repeat)[:3900]
    body = json.dumps(doc)
    open(f"{sys.argv[1]}/referral-{index}.json", "w").write(body)
    print(f"body {index}: {len(body)} bytes", file=sys.stderr)
PY

fp() { openssl x509 -in "$pki/$1.crt" -noout -fingerprint -sha256 | cut -d= -f2; }
cat > "$dir/refex.json" <<JSON
{
  "listen": "127.0.0.1:$api", "ops": "127.0.0.1:$ops", "logLevel": "warning",
  "schemas": "$(pwd)/schemas", "store": { "path": "refex.db" }, "masterKey": "master.key",
  "log": { "signingKey": "log.key" },
  "tls": { "certificate": "pki/server.crt", "privateKey": "pki/server.key", "clientCA": "pki/ca.crt", "crl": "pki/crl.pem" },
  "limits": { "maxConnections": 4096, "maxConnectionsPerPartner": 4096, "idleTimeoutSeconds": 120 },
  "partners": [
    { "id": "police", "name": "Police", "roles": ["refer"], "certificates": [{ "sha256": "$(fp police)" }] },
    { "id": "sink", "name": "Mailbox", "roles": ["receive"], "certificates": [{ "sha256": "$(fp sink)" }] }
  ],
  "recipients": [
    { "id": "dv-support", "name": "DV", "services": ["domestic-abuse"], "delivery": { "mode": "pull", "partner": "sink" },
      "fields": ["/referenceId", "/subject", "/offence", "/supportNeeds", "/riskOfHarm"], "categories": ["health"] },
    { "id": "victim-support", "name": "General", "services": ["general-victim-support"], "delivery": { "mode": "pull", "partner": "sink" },
      "fields": ["/referenceId", "/subject/name", "/subject/contact", "/offence/category"], "categories": [] }
  ]
}
JSON

pids=()
cleanup() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
"$refex" serve --config "$dir/refex.json" 2>"$dir/refex.log" & pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ops/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

cat > "$dir/nginx/nginx.conf" <<NGINX
worker_processes 2;
pid $abs/nginx/nginx.pid;
error_log $abs/nginx/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $abs/nginx/tmp/body;
  proxy_temp_path $abs/nginx/tmp/proxy;
  fastcgi_temp_path $abs/nginx/tmp/fastcgi;
  uwsgi_temp_path $abs/nginx/tmp/uwsgi;
  scgi_temp_path $abs/nginx/tmp/scgi;
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $pki/server.crt; ssl_certificate_key $pki/server.key;
    ssl_client_certificate $pki/ca.crt; ssl_verify_client on;
    ssl_protocols TLSv1.2 TLSv1.3;
    default_type application/json;
    location = /v1/whoami { return 200 '{"partner":"police","name":"Police","roles":["refer"]}'; }
  }
}
NGINX
nginx -p "$abs/nginx" -c "$abs/nginx/nginx.conf" -g 'daemon off;' 2>>"$abs/nginx/error.log" & pids+=($!)
sleep 0.5

client=(--cert "$pki/police.crt" --key "$pki/police.key" --ca "$pki/ca.crt" --duration "$duration" --warmup 1 --json)
rows=()
run() {  # run LABEL ARGS...
  local json
  json=$("$loadgen" "${client[@]}" "${@:2}") || { echo "bench-intake: refex-bench failed: $1 (see $dir/refex.log)" >&2; exit 1; }
  rows+=("$(python3 -c 'import json,sys; r=json.loads(sys.argv[2]); print("| %s | %.0f | %.2f | %.2f | %d |" % (sys.argv[1], r["requestsPerSecond"], r["latencyMs"]["p50"], r["latencyMs"]["p99"], r["errors"]))' "$1" "$json")")
}
for c in 1 8 64; do
  run "nginx static GET, $c connections" --url "https://localhost:$nginx_port/v1/whoami" --connections "$c"
  run "refex POST /v1/referrals, $c connections" --url "https://localhost:$api/v1/referrals" --connections "$c" \
      --body "$dir/bodies" --unique REFERENCE --expect-status 202
done
run "refex POST /v1/referrals at 1,000/s (open loop), 64 connections" --url "https://localhost:$api/v1/referrals" \
    --connections 64 --rate 1000 --body "$dir/bodies" --unique REFERENCE --expect-status 202

stored=$(sqlite3 "$dir/refex.db" "SELECT count(*) FROM referrals")
logged=$(sqlite3 "$dir/refex.db" "SELECT count(*) FROM log_entries WHERE event = 'referral.received'")
verify=$("$refex" log verify --config "$dir/refex.json" 2>&1 | head -1)
echo "| run | requests/s | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "stored referrals: $stored; referral.received entries: $logged; $verify"
