#!/usr/bin/env bash
# Benchmarks refex's HTTP server against nginx in the same run on the same machine (issue 2).
#
# Uses binaries that are already built (`make bench` builds them): .build/release/refex and
# .build/release/refex-bench (REFEX_BUILD_DIR=… to use another build). Writes a PKI, a refex
# config and an nginx config under .dev/bench/, starts both servers on free loopback ports, runs
# every scenario against both (alternating which goes first), stops both, prints a Markdown table
# and writes it to .dev/bench/results-<time>.md (raw runs: .jsonl next to it).
#
#   scripts/bench.sh [--rounds N] [--quick] [--pin] [--refex-log LEVEL]
#     --rounds N        repeat every scenario N times (default 3); the table shows medians
#     --quick           one round of short runs: a smoke test, not a result
#     --pin             pin the servers to CPU 1 and the load generator to CPU 0 (see BENCHMARKS.md)
#     --refex-log LEVEL refex's logLevel (default warning: no line per request, like nginx's access_log off)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
quick=0
pin=0
refex_log=warning
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --quick) quick=1; rounds=1; shift ;;
    --pin) pin=1; shift ;;
    --refex-log) refex_log="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown option $1" >&2; exit 2 ;;
  esac
done

build="${REFEX_BUILD_DIR:-.build/release}"
refex="$build/refex"
loadgen="$build/refex-bench"
for binary in "$refex" "$loadgen"; do
  [ -x "$binary" ] || { echo "bench: $binary is missing; run 'make bench' (or swift build -c release)" >&2; exit 1; }
done
command -v nginx >/dev/null || { echo "bench: nginx is not installed; run 'scripts/install-deps.sh bench'" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench: python3 is not installed; run 'scripts/install-deps.sh bench'" >&2; exit 1; }

dir=.dev/bench
pki="$dir/pki"
mkdir -p "$dir"
certs/dev-pki.sh "$pki"
abs_dir="$(cd "$dir" && pwd)"
abs_pki="$abs_dir/pki"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
api_port=$(free_port); ops_port=$(free_port); nginx_port=$(free_port)
while [ "$ops_port" = "$api_port" ]; do ops_port=$(free_port); done
while [ "$nginx_port" = "$api_port" ] || [ "$nginx_port" = "$ops_port" ]; do nginx_port=$(free_port); done

server_cpus=""; client_cpus=""
if [ $pin -eq 1 ]; then server_cpus="taskset -c 1"; client_cpus="taskset -c 0"; fi

# --- refex -----------------------------------------------------------------------------------
# A fresh store and keys each run: whoami reads none of it, but the daemon will not start without.
rm -rf "$dir/state"; mkdir -p "$dir/state"
(umask 077; openssl rand -hex 32 > "$dir/state/master.key"; openssl genpkey -algorithm ed25519 -out "$dir/state/log.key")
fingerprint=$(openssl x509 -in "$pki/police.crt" -noout -fingerprint -sha256 | cut -d= -f2)
cat > "$dir/refex.json" <<JSON
{
  "listen": "127.0.0.1:$api_port",
  "ops": "127.0.0.1:$ops_port",
  "logLevel": "$refex_log",
  "schemas": "$(pwd)/schemas",
  "store": { "path": "state/refex.db" },
  "masterKey": "state/master.key",
  "log": { "signingKey": "state/log.key" },
  "tls": { "certificate": "pki/server.crt", "privateKey": "pki/server.key", "clientCA": "pki/ca.crt", "crl": "pki/crl.pem" },
  "limits": { "maxConnections": 4096, "maxConnectionsPerPartner": 4096, "idleTimeoutSeconds": 120 },
  "partners": [
    { "id": "police", "name": "Development Constabulary", "roles": ["refer"], "certificates": [{ "sha256": "$fingerprint" }] }
  ]
}
JSON

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

curl_client=(curl -sS --max-time 5 --cacert "$pki/ca.crt" --cert "$pki/police.crt" --key "$pki/police.key")
wait_for() {  # wait_for WHAT COMMAND...: up to 10 s
  for _ in $(seq 100); do "${@:2}" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench: $1 did not come up" >&2; return 1
}

$server_cpus "$refex" serve --config "$dir/refex.json" >"$dir/refex.log" 2>&1 &
refex_pid=$!; pids+=("$refex_pid")
wait_for refex curl -sf "http://127.0.0.1:$ops_port/readyz" || { tail -20 "$dir/refex.log" >&2; exit 1; }
whoami=$("${curl_client[@]}" "https://localhost:$api_port/v1/whoami")

# --- nginx: the same certificate, key, CA and CRL; a static body the size of refex's whoami ---
mkdir -p "$dir/nginx/tmp"
case "$whoami" in *'$'*) echo "bench: the whoami body has a \$, which nginx's return would expand" >&2; exit 1 ;; esac
nginx_body=$(printf '%s' "$whoami" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")
tls12=$(printf '%s' "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")
cat > "$dir/nginx/nginx.conf" <<NGINX
worker_processes 2;
pid $abs_dir/nginx/nginx.pid;
error_log $abs_dir/nginx/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  server_tokens off;
  client_body_temp_path $abs_dir/nginx/tmp/body;
  proxy_temp_path $abs_dir/nginx/tmp/proxy;
  fastcgi_temp_path $abs_dir/nginx/tmp/fastcgi;
  uwsgi_temp_path $abs_dir/nginx/tmp/uwsgi;
  scgi_temp_path $abs_dir/nginx/tmp/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:$nginx_port ssl;
    server_name localhost;
    ssl_certificate $abs_pki/server.crt;
    ssl_certificate_key $abs_pki/server.key;
    ssl_client_certificate $abs_pki/ca.crt;
    ssl_crl $abs_pki/crl.pem;
    ssl_verify_client on;
    ssl_verify_depth 4;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers $tls12;
    ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256;
    ssl_prefer_server_ciphers on;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    default_type application/json;
    location = /v1/whoami {
      add_header X-Request-Id 0123456789abcdef;
      add_header Cache-Control no-store;
      add_header X-Content-Type-Options nosniff;
      return 200 '$nginx_body';
    }
  }
}
NGINX
$server_cpus nginx -p "$abs_dir/nginx" -c "$abs_dir/nginx/nginx.conf" -g 'daemon off;' 2>>"$dir/nginx/error.log" &
nginx_pid=$!; pids+=("$nginx_pid")
wait_for nginx "${curl_client[@]}" -f "https://localhost:$nginx_port/v1/whoami" || { tail -20 "$dir/nginx/error.log" >&2; exit 1; }
nginx_body_bytes=$("${curl_client[@]}" -o /dev/null -w '%{size_download}' "https://localhost:$nginx_port/v1/whoami")
refex_head_bytes=$("${curl_client[@]}" -o /dev/null -w '%{size_header}' "https://localhost:$api_port/v1/whoami")
nginx_head_bytes=$("${curl_client[@]}" -o /dev/null -w '%{size_header}' "https://localhost:$nginx_port/v1/whoami")

# CPU seconds (user + system) a process and its children (nginx's workers) have used so far.
cpu_of() {
  local total=0 pid ticks
  for pid in "$1" $(pgrep -P "$1" || true); do
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
    total=$((total + ticks))
  done
  awk -v ticks="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", ticks / hz }'
}

# --- scenarios -------------------------------------------------------------------------------
if [ $quick -eq 1 ]; then warmup=0.5; short=2; long=3; else warmup=1; short=5; long=10; fi
# name | refex-bench arguments
scenarios=(
  "keepalive-16|--mode keepalive --connections 16 --duration $short"
  "keepalive-64|--mode keepalive --connections 64 --duration $short"
  "handshake-8|--mode handshake --connections 8 --duration $short"
  "handshake-16|--mode handshake --connections 16 --duration $short"
  "rate-1000|--mode keepalive --connections 16 --rate 1000 --duration $long"
)

stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw="$dir/results-$stamp.jsonl"
: > "$raw"
{
  echo "{\"machine\": {"
  echo "  \"cpu\": \"$(lscpu | sed -n 's/^Model name: *//p' | head -1)\", \"cpus\": $(nproc), \"kernel\": \"$(uname -r)\","
  echo "  \"openssl\": \"$(openssl version)\", \"nginx\": \"$(nginx -v 2>&1 | sed 's/.*: //')\","
  echo "  \"swift\": \"$(swift --version 2>/dev/null | head -1 | sed 's/"//g')\", \"loadStart\": \"$(cut -d' ' -f1-3 /proc/loadavg)\","
  echo "  \"rounds\": $rounds, \"pinned\": $([ $pin -eq 1 ] && echo true || echo false), \"refexLogLevel\": \"$refex_log\","
  echo "  \"refexHeadBytes\": $refex_head_bytes, \"nginxHeadBytes\": $nginx_head_bytes, \"bodyBytes\": $nginx_body_bytes, \"whoamiBytes\": ${#whoami}"
  echo "}}"
} | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))' >> "$raw"

echo "bench: refex on :$api_port (pid $refex_pid), nginx on :$nginx_port (pid $nginx_pid); load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "bench: $rounds round(s) of ${#scenarios[@]} scenarios × 2 servers; raw results in $raw" >&2

steal_seconds() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / { printf "%.3f", $9 / hz }' /proc/stat; }

run_one() {  # run_one SERVER PORT PID SCENARIO ARGS ROUND
  local server="$1" port="$2" pid="$3" scenario="$4" args="$5" round="$6" before after line monitor stall steal
  python3 scripts/bench/stall-monitor.py > "$dir/stall.txt" &
  monitor=$!
  steal=$(steal_seconds)
  before=$(cpu_of "$pid")
  # shellcheck disable=SC2086  # ARGS is a list of options
  line=$($client_cpus "$loadgen" --url "https://localhost:$port/v1/whoami" --cert "$pki/police.crt" --key "$pki/police.key" \
    --ca "$pki/ca.crt" --warmup "$warmup" --json --label "$server/$scenario" $args) || true
  after=$(cpu_of "$pid")
  steal=$(awk -v a="$steal" -v b="$(steal_seconds)" 'BEGIN { printf "%.3f", b - a }')
  kill -TERM "$monitor"; wait "$monitor" 2>/dev/null || true
  stall=$(cat "$dir/stall.txt" 2>/dev/null); stall=${stall:-0}
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "bench: $server exited during $scenario (see $dir/$server.log or $dir/nginx/error.log)" >&2
    exit 1
  fi
  if [ -z "$line" ]; then
    echo "bench: $server/$scenario produced no result" >&2
    line='{"requests": 0, "errors": -1}'
  fi
  python3 - "$line" "$server" "$scenario" "$round" "$before" "$after" "$stall" "$steal" >> "$raw" <<'PY'
import json, sys
line, server, scenario, round_, before, after, stall, steal = sys.argv[1:]
result = json.loads(line)
result.update(server=server, scenario=scenario, round=int(round_), serverCPUSeconds=round(float(after) - float(before), 3),
              machineMaxStallMs=float(stall), stealSeconds=float(steal))
print(json.dumps(result))
PY
  python3 - "$line" "$server" "$scenario" "$round" "$stall" "$steal" >&2 <<'PY'
import json, sys
r = json.loads(sys.argv[1]); l = r.get("latencyMs", {})
print(f"  round {sys.argv[4]} {sys.argv[3]:<13} {sys.argv[2]:<6} {r.get('requestsPerSecond', 0):>9.1f} req/s  "
      f"p50 {l.get('p50', 0):.3f} ms  p99 {l.get('p99', 0):.3f} ms  errors {r.get('errors')}  "
      f"machine stall {float(sys.argv[5]):.0f} ms  steal {float(sys.argv[6]):.2f} s")
PY
}

for round in $(seq "$rounds"); do
  for entry in "${scenarios[@]}"; do
    name="${entry%%|*}"; args="${entry#*|}"
    # Alternate which server goes first, so that neither always gets the cooler (or warmer) machine.
    if [ $((round % 2)) -eq 1 ]; then order="refex nginx"; else order="nginx refex"; fi
    for server in $order; do
      if [ "$server" = refex ]; then run_one refex "$api_port" "$refex_pid" "$name" "$args" "$round"
      else run_one nginx "$nginx_port" "$nginx_pid" "$name" "$args" "$round"; fi
    done
  done
done

echo "{\"loadEnd\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >> "$raw"
cleanup
trap - EXIT

table="$dir/results-$stamp.md"
python3 scripts/bench/summarise.py "$raw" > "$table"
cp "$table" "$dir/latest.md"
cat "$table"
echo "bench: wrote $table" >&2
