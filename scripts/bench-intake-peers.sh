#!/usr/bin/env bash
# Referral intake beside a Python peer and the storage limit (issue 17), in one run on one machine
# with one client (refex-bench --unique) and the same bodies as scripts/bench-intake.sh:
#   - refex (.build/release/refex serve),
#   - the Python peer ../shared/peers/python-intake (Starlette on uvicorn, 2 workers; its pinned
#     requirements in a venv under .dev/peers/, run from its own folder, never copied),
#   - the storage program scripts/bench/store_pattern.c (refex's writes per referral as its writer makes
#     them, on a store made by `refex store init`; no HTTP, TLS or crypto; built into .dev/peers/) at the
#     commit group size refex reached in the same round's run of the scenario,
#   - the one-row commit ceiling (SQLite commits of one 4 KiB row each, WAL, synchronous=FULL, the same disk).
# Keep-alive at 1, 8 and 64 connections and 500/s open loop on 64, alternating which server goes
# first per round; then a sustained run of refex at 64 connections with its WAL's size sampled
# every second. Afterwards every 202 is checked against each store (referrals and referral.received
# entries against the client's count of 202s; `refex log verify`; the peer's verify_log.py).
# Prints a Markdown table and writes it to .dev/bench/intake-peers-<time>.md (raw runs: .jsonl beside it).
#
#   scripts/bench-intake-peers.sh [--rounds N] [--duration SECONDS] [--sustained SECONDS] [--quick]
#     --rounds N           alternating rounds of every scenario (default 3); the table shows medians
#     --duration SECONDS   measured time per scenario (default 10, after 1 s of warm-up)
#     --sustained SECONDS  the sustained run at 64 connections (default 300; 0 skips it)
#     --quick              one round, 3 s per scenario, 20 s sustained: a smoke test, not a result
# REFEX_BUILD_DIR=… uses another build; REFEX_PEERS_DIR=… another copy of the peers (default ../shared/peers);
# REFEX_GROUP_METRIC=NAME names refex's commit group size metric if the name is not found on its own.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=""; duration=""; sustained=""; warmup=""; quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="${2:?--rounds needs a value}"; shift 2 ;;
    --duration) duration="${2:?--duration needs a value}"; shift 2 ;;
    --sustained) sustained="${2:?--sustained needs a value}"; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-intake-peers: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ $quick -eq 1 ]; then
  rounds=${rounds:-1}; duration=${duration:-3}; sustained=${sustained:-20}; warmup=0.5
else
  rounds=${rounds:-3}; duration=${duration:-10}; sustained=${sustained:-300}; warmup=1
fi
for value in "$rounds" "$duration" "$sustained"; do
  [[ "$value" =~ ^[0-9]+$ ]] || { echo "bench-intake-peers: '$value' is not a whole number of rounds or seconds" >&2; exit 2; }
done
[ "$rounds" -ge 1 ] && [ "$duration" -ge 1 ] || { echo "bench-intake-peers: --rounds and --duration must be at least 1" >&2; exit 2; }

build="${REFEX_BUILD_DIR:-.build/release}"
refex="$build/refex"; loadgen="$build/refex-bench"
for binary in "$refex" "$loadgen"; do
  [ -x "$binary" ] || { echo "bench-intake-peers: $binary is missing; run 'make bench-release'" >&2; exit 1; }
done
for tool in python3 gcc sqlite3 curl openssl; do
  command -v "$tool" >/dev/null || { echo "bench-intake-peers: $tool is not installed; run 'scripts/install-deps.sh bench'" >&2; exit 1; }
done
peers="${REFEX_PEERS_DIR:-../shared/peers}"
peer_src="$peers/python-intake"; pattern_src=scripts/bench/store_pattern.c
[ -f "$peer_src/serve.py" ] && [ -f "$peer_src/requirements.txt" ] || {
  echo "bench-intake-peers: the peer is not in $peers (python-intake/); set REFEX_PEERS_DIR" >&2; exit 1; }
peer_src="$(cd "$peer_src" && pwd)"
helper=scripts/bench/intake-peers.py

# --- the peer's venv and the storage program, under .dev/peers (kept between runs) -------------------
tools=.dev/peers
mkdir -p "$tools"
venv="$(pwd)/$tools/python-intake-venv"
if ! cmp -s "$peer_src/requirements.txt" "$venv/requirements.txt" || ! "$venv/bin/python" -c 'import uvicorn, starlette, jsonschema_rs' 2>/dev/null; then
  python3 -c 'import venv, ensurepip' 2>/dev/null || { echo "bench-intake-peers: python3-venv is missing; run 'scripts/install-deps.sh bench'" >&2; exit 1; }
  python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
    echo "bench-intake-peers: the peer is pinned for Python 3.11; this is $(python3 --version)" >&2
  echo "bench-intake-peers: installing the peer's pinned requirements into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$peer_src/requirements.txt" >&2
  cp "$peer_src/requirements.txt" "$venv/requirements.txt"
fi
pattern="$tools/store_pattern"
if [ ! -x "$pattern" ] || [ "$pattern_src" -nt "$pattern" ]; then
  echo "bench-intake-peers: building the storage program into $pattern" >&2
  gcc -O2 -Wall -o "$pattern" "$pattern_src" -lsqlite3 -lpthread
fi

# --- a fresh state folder: PKI, keys, bodies, refex's config (the peer reads the same file) ----------
dir=.dev/bench/intake-peers
rm -rf "$dir"; mkdir -p "$dir/bodies" "$dir/peer" "$dir/pattern" "$dir/ceiling" "$dir/samples"
abs="$(cd "$dir" && pwd)"
pki="$abs/pki"
certs/dev-pki.sh "$pki" 2>/dev/null
(umask 077; openssl rand -hex 32 > "$abs/master.key"; openssl genpkey -algorithm ed25519 -out "$abs/log.key")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
api=$(free_port); ops=$(free_port); peer_port=$(free_port)
while [ "$ops" = "$api" ]; do ops=$(free_port); done
while [ "$peer_port" = "$api" ] || [ "$peer_port" = "$ops" ]; do peer_port=$(free_port); done

# Three referral shapes, 2–6 KiB, with REFERENCE where each request puts its own referenceId (as bench-intake.sh).
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

# --- start both servers ------------------------------------------------------------------------------
pids=(); peer_pid=""; refex_pid=""
# The peer's worker pids, one a line (each worker-PID.pid file holds its pid without a newline).
peer_workers() { local file; for file in "$dir"/peer/worker-*.pid; do if [ -f "$file" ]; then cat "$file"; echo; fi; done; }
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $(peer_workers); do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

"$refex" serve --config "$dir/refex.json" >"$dir/refex.log" 2>&1 & refex_pid=$!; pids+=("$refex_pid")
for _ in $(seq 150); do curl -sf "http://127.0.0.1:$ops/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$ops/readyz" >/dev/null || { echo "bench-intake-peers: refex did not become ready:" >&2; tail -20 "$dir/refex.log" >&2; exit 1; }

# The peer runs from its own folder (read-only: its bytecode cache goes under .dev).
(cd "$peer_src" && PYTHONPYCACHEPREFIX="$abs/pycache" exec "$venv/bin/python" serve.py --refex-config "$abs/refex.json" \
  --listen "127.0.0.1:$peer_port" --state-dir "$abs/peer" --workers 2) >"$dir/peer.log" 2>&1 & peer_pid=$!; pids+=("$peer_pid")
client_curl=(curl -s -o /dev/null -w '%{http_code}' --cert "$pki/police.crt" --key "$pki/police.key" --cacert "$pki/ca.crt")
peer_ready=0
for _ in $(seq 300); do
  kill -0 "$peer_pid" 2>/dev/null || break
  if [ "$(peer_workers | wc -l)" -ge 2 ]; then
    code=$("${client_curl[@]}" -X POST -H 'Content-Type: application/json' --data '{}' "https://localhost:$peer_port/v1/referrals" || true)
    [ "$code" != 000 ] && { peer_ready=1; break; }
  fi
  sleep 0.1
done
[ $peer_ready -eq 1 ] || { echo "bench-intake-peers: the Python peer did not become ready:" >&2; tail -20 "$dir/peer.log" >&2; exit 1; }

# CPU seconds (user + system) a process and all its descendants have used so far (the peer: uvicorn's
# supervisor and its workers; refex: one process).
descendants() { local child; for child in $(pgrep -P "$1" || true); do echo "$child"; descendants "$child"; done; }
cpu_of() {
  local total=0 pid ticks
  for pid in "$1" $(descendants "$1"); do
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
    total=$((total + ticks))
  done
  awk -v ticks="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", ticks / hz }'
}
scrape() { curl -sf "http://127.0.0.1:$ops/metrics" > "$dir/samples/metrics.txt" 2>/dev/null || : > "$dir/samples/metrics.txt"; python3 "$helper" metrics "$dir/samples/metrics.txt"; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw=".dev/bench/intake-peers-$stamp.jsonl"
machine="$(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p' | head -1)), load average at the start $(cut -d' ' -f1-3 /proc/loadavg)."
python3 -c 'import json, sys; print(json.dumps({"kind": "meta", "rounds": int(sys.argv[1]), "duration": int(sys.argv[2]), "warmup": float(sys.argv[3]), "sustained": int(sys.argv[4]), "machine": sys.argv[5]}))' \
  "$rounds" "$duration" "$warmup" "$sustained" "$machine" > "$raw"
echo "bench-intake-peers: refex on :$api (pid $refex_pid), the peer on :$peer_port (pid $peer_pid); $rounds round(s) × ${duration} s, sustained ${sustained} s; raw runs in $raw" >&2

# run_server SERVER SCENARIO ROUND LOADGEN-ARGS...: one load run against refex or the peer.
run_server() {
  local server="$1" scenario="$2" round="$3" port pid wal before after line sampler metrics_before="" metrics_after="" interval=0.25
  shift 3
  if [ "$server" = refex ]; then port=$api; pid=$refex_pid; wal="$abs/refex.db-wal"; else port=$peer_port; pid=$peer_pid; wal="$abs/peer/intake.db-wal"; fi
  [ "$scenario" = sustained-64 ] && interval=1
  local samples="$dir/samples/$server-$scenario-$round.tsv"
  python3 "$helper" wal-sampler "$wal" "$samples" "$interval" & sampler=$!
  [ "$server" = refex ] && metrics_before=$(scrape)
  before=$(cpu_of "$pid")
  line=$("$loadgen" --url "https://localhost:$port/v1/referrals" --cert "$pki/police.crt" --key "$pki/police.key" --ca "$pki/ca.crt" \
    --body "$dir/bodies" --unique REFERENCE --expect-status 202 --warmup "$warmup" --json --label "$server/$scenario" "$@") || true
  after=$(cpu_of "$pid")
  [ "$server" = refex ] && metrics_after=$(scrape)
  kill -TERM "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  kill -0 "$pid" 2>/dev/null || { echo "bench-intake-peers: $server exited during $scenario (see $dir/$server.log)" >&2; exit 1; }
  line=$(printf '%s' "$line" | python3 "$helper" record kind=run server="$server" scenario="$scenario" round="$round" \
    serverCPUSeconds="$(awk -v a="$before" -v b="$after" 'BEGIN { printf "%.3f", b - a }')" \
    "metricsBefore@json=$metrics_before" "metricsAfter@json=$metrics_after" "wal@wal=$samples")
  printf '%s\n' "$line" >> "$raw"
}

# run_storage SCENARIO ROUND CONNECTIONS: the storage program at the group refex reached in this round's run of
# the scenario (the connections when refex's metrics did not say), on the same disk, on a store of its own per
# scenario made by `refex store init` (its real tables and indexes) and kept across rounds as refex's store is.
run_storage() {
  local line group store="$abs/pattern/$1"
  group=$(python3 "$helper" refex-group "$raw" "$1" "$2")
  group=${group:-$3}
  if [ ! -f "$store/refex.db" ]; then
    mkdir -p "$store"
    python3 -c 'import json, sys; c = json.load(open(sys.argv[1])); c["store"] = {"path": sys.argv[2]}; json.dump(c, open(sys.argv[3], "w"))' \
      "$dir/refex.json" "$store/refex.db" "$dir/pattern-$1.json"
    "$refex" store init --config "$dir/pattern-$1.json" >/dev/null
  fi
  line=$("$pattern" --store "$store/refex.db" --keys "$store/refex-keys.db" --group "$group" --seconds "$duration" --warmup "$warmup") || true
  line=$(printf '%s' "$line" | python3 "$helper" record kind=run server=storage scenario="$1" round="$2")
  printf '%s\n' "$line" >> "$raw"
}

run_ceiling() {
  local line
  line=$(python3 "$helper" ceiling "$abs/ceiling" "$duration" "$warmup") || true
  line=$(printf '%s' "$line" | python3 "$helper" record kind=run server=ceiling scenario=ceiling round="$1")
  printf '%s\n' "$line" >> "$raw"
}

# name | connections | extra refex-bench arguments | the storage program's group (none for the open loop)
scenarios=("keepalive-1|1||1" "keepalive-8|8||8" "keepalive-64|64||64" "open-500|64|--rate 500|")
for round in $(seq "$rounds"); do
  run_ceiling "$round"
  for entry in "${scenarios[@]}"; do
    IFS='|' read -r name connections extra group <<< "$entry"
    # Alternate which server goes first, so that neither always gets the cooler (or warmer) machine.
    if [ $((round % 2)) -eq 1 ]; then order="refex peer"; else order="peer refex"; fi
    for server in $order; do
      # shellcheck disable=SC2086  # extra is a list of options
      run_server "$server" "$name" "$round" --connections "$connections" --duration "$duration" $extra
    done
    if [ -n "$group" ]; then run_storage "$name" "$round" "$group"; fi
  done
done

# The sustained run: refex alone at 64 connections, its WAL's size every second, requests per interval
# (about a minute, or a quarter of a run shorter than two) to compare the first with the last.
if [ "$sustained" -gt 0 ]; then
  interval=$(awk -v s="$sustained" 'BEGIN { n = s >= 120 ? int(s / 60 + 0.5) : 4; printf "%g", s / n }')
  echo "bench-intake-peers: sustained run, refex at 64 connections for ${sustained} s" >&2
  run_server refex sustained-64 1 --connections 64 --duration "$sustained" --interval "$interval"
fi

# --- every 202 against the stores -------------------------------------------------------------------
check() { python3 -c 'import json, sys; print(json.dumps({"kind": "check", "text": sys.argv[1]}))' "$1" >> "$raw"; echo "bench-intake-peers: $1" >&2; }
client_202s() { python3 -c '
import json, sys
total = sum(r.get("expectedResponses", 0) for r in map(json.loads, open(sys.argv[1])) if r.get("server") == sys.argv[2] and r.get("kind", "run") == "run")
print(total)' "$raw" "$1"; }

# verdict CLIENT-202S SERVER-202S STORED RECEIVED-ENTRIES VERIFY-STATUS: LOST is a broken promise (a 202 for a
# referral the store does not hold); MORE is not (a commit whose 202 the client did not see, e.g. after a timeout).
failed=0
# Sets $verdict (and $failed), so it runs in this shell, not in a $(…) subshell.
verdict() {
  local acknowledged=$1
  if [ "$2" -gt "$acknowledged" ]; then acknowledged=$2; fi
  if [ "$3" -lt "$acknowledged" ] || [ "$4" -lt "$acknowledged" ]; then failed=1; verdict="LOST (fewer stored than acknowledged)"
  elif [ "$5" -ne 0 ]; then failed=1; verdict="LOG CHECK FAILED"
  elif [ "$1" = "$2" ] && [ "$1" = "$3" ] && [ "$1" = "$4" ]; then verdict="OK"
  else verdict="MORE (stored beyond the 202s the client saw)"; fi
}
count() { sqlite3 "$1" "$2" 2>/dev/null || echo -1; }

refex_server_202s=$(scrape | python3 -c 'import json, sys; print(int(json.load(sys.stdin)["accepted202"]))')
kill -TERM "$refex_pid"; wait "$refex_pid" 2>/dev/null || true
refex_stored=$(count "$dir/refex.db" "SELECT count(*) FROM referrals")
refex_logged=$(count "$dir/refex.db" "SELECT count(*) FROM log_entries WHERE event = 'referral.received'")
refex_202s=$(client_202s refex)
"$refex" log verify --config "$dir/refex.json" > "$dir/refex-verify.txt" 2>&1 && refex_verify_status=0 || refex_verify_status=$?
refex_verify=$(head -1 "$dir/refex-verify.txt")
verdict "$refex_202s" "$refex_server_202s" "$refex_stored" "$refex_logged" "$refex_verify_status"
check "refex $verdict: $refex_202s 202s counted by the client ($refex_server_202s by refex's metrics); $refex_stored referrals stored, $refex_logged referral.received entries; log verify (exit $refex_verify_status): $refex_verify"

rm -f "$dir"/peer/count-*.json
workers=$(peer_workers)
for worker in $workers; do kill -USR1 "$worker" 2>/dev/null || true; done
for _ in $(seq 50); do [ "$(ls "$dir"/peer/count-*.json 2>/dev/null | wc -l)" -ge "$(echo "$workers" | wc -w)" ] && break; sleep 0.1; done
peer_server_202s=$(python3 -c '
import glob, json, sys
print(sum(c["accepted"] + c["repeats"] for c in (json.load(open(p)) for p in glob.glob(sys.argv[1] + "/count-*.json"))))' "$dir/peer")
kill -TERM "$peer_pid"; wait "$peer_pid" 2>/dev/null || true
peer_stored=$(count "$dir/peer/intake.db" "SELECT count(*) FROM referrals")
peer_logged=$(count "$dir/peer/intake.db" "SELECT count(*) FROM log_entries WHERE event = 'referral.received'")
peer_202s=$(client_202s peer)
"$venv/bin/python" "$peer_src/verify_log.py" "$abs/peer" > "$dir/peer-verify.txt" 2>&1 && peer_verify_status=0 || peer_verify_status=$?
peer_verify=$(tail -1 "$dir/peer-verify.txt")
verdict "$peer_202s" "$peer_server_202s" "$peer_stored" "$peer_logged" "$peer_verify_status"
check "peer $verdict: $peer_202s 202s counted by the client ($peer_server_202s by its workers); $peer_stored referrals stored, $peer_logged referral.received entries; verify_log.py (exit $peer_verify_status): $peer_verify"

cleanup
trap - EXIT
table=".dev/bench/intake-peers-$stamp.md"
python3 "$helper" summary "$raw" > "$table"
cat "$table"
echo "bench-intake-peers: wrote $table" >&2
[ $failed -eq 0 ] || { echo "bench-intake-peers: a 202 is not matched by the store or a log check failed (see above)" >&2; exit 1; }
