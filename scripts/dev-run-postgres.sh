#!/usr/bin/env bash
# `make run-postgres` (or `make run STORE=postgres`): two refex nodes on one throwaway PostgreSQL
# cluster under DIR/postgres (initdb on first use, a Unix socket only, trust for local
# connections), with the sample recipient. Node A serves partners on 8443 (ops 9090), node B on
# 8444 (ops 9091); both share the store (databases refex and refex_keys). Ctrl-C stops both nodes,
# the sink and the cluster; the cluster's files stay for the next run (rm -r DIR/postgres to start
# again). As root the server runs as nobody (PostgreSQL refuses root).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-.dev}"
pki="$dir/pki"
bin="${REFEX_BIN:-.build/release/refex}"
pg="$(cd "$dir" && pwd)/postgres"

pgbin=""
for candidate in /usr/lib/postgresql/*/bin; do
  [ -x "$candidate/initdb" ] && pgbin="$candidate"
done
if [ -z "$pgbin" ]; then
  echo "dev-run-postgres: PostgreSQL is not installed (scripts/install-deps.sh test installs it)" >&2
  exit 1
fi
as_server() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
  else
    "$@"
  fi
}

if [ ! -d "$pg/data" ]; then
  mkdir -p "$pg"
  chmod 0700 "$pg"
  # The way in for the server's user: traverse only, no listing.
  if [ "$(id -u)" = 0 ]; then chown 65534:65534 "$pg"; chmod o+x "$dir"; fi
  as_server "$pgbin/initdb" -D "$pg/data" -U refex --auth=trust -E UTF8 --no-locale --no-instructions > "$pg/initdb.log"
fi
as_server "$pgbin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -o \
  "-c listen_addresses='' -c unix_socket_directories='$pg' -c port=5432 -c fsync=on -c synchronous_commit=on" start > /dev/null
for database in refex refex_keys; do
  "$pgbin/psql" -h "$pg" -U refex -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1 \
    || "$pgbin/createdb" -h "$pg" -U refex "$database"
done

# Each node's config: the development config with the PostgreSQL store and its own ports and name.
for node in a b; do
  python3 - "$dir/refex.json" "$dir/node-$node.json" "$node" "$pg" <<'PY'
import json, sys
source, target, node, socket = sys.argv[1:]
config = json.load(open(source))
config["store"] = {"postgres": f"host={socket} port=5432 user=refex dbname=refex", "nodeId": f"node-{node}", "poolSize": 4}
config["listen"] = "127.0.0.1:8443" if node == "a" else "127.0.0.1:8444"
config["ops"] = "127.0.0.1:9090" if node == "a" else "127.0.0.1:9091"
json.dump(config, open(target, "w"), indent=2)
PY
done
"$bin" config check --config "$dir/node-a.json" > /dev/null

mkdir -p "$dir/sink"
"$bin" sink --listen 127.0.0.1:9443 --cert "$pki/sink-server.crt" --key "$pki/sink-server.key" \
  --client-ca "$pki/ca.crt" --dir "$dir/sink" > "$dir/sink.out" 2> "$dir/sink.log" &
sink=$!
node_b=""
stop() {
  [ -n "$node_b" ] && kill "$node_b" 2>/dev/null || true
  kill "$sink" 2>/dev/null || true
  wait 2>/dev/null || true
  as_server "$pgbin/pg_ctl" -D "$pg/data" -w -m fast stop > /dev/null 2>&1 || true
}
trap stop EXIT INT TERM
# Node A creates the store on its first start; B starts once A is ready.
"$bin" serve --config "$dir/node-a.json" &
node_a=$!
for _ in $(seq 1 100); do
  curl -fsS http://127.0.0.1:9090/readyz > /dev/null 2>&1 && break
  kill -0 "$node_a" 2>/dev/null || exit 1
  sleep 0.1
done
"$bin" serve --config "$dir/node-b.json" 2> "$dir/node-b.log" &
node_b=$!
echo "refex node-a on https://127.0.0.1:8443 (ops :9090), node-b on https://127.0.0.1:8444 (ops :9091, log $dir/node-b.log); PostgreSQL at $pg" >&2
wait "$node_a"
