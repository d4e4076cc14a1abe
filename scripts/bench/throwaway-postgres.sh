# A throwaway PostgreSQL cluster for the benchmarks (sourced by scripts/bench-intake-stores.sh and
# scripts/bench-delivery.sh): initdb into a folder, pg_ctl start with a Unix socket only (no TCP),
# fsync and synchronous_commit on, trust for local connections as user refex; as nobody when run
# as root (PostgreSQL refuses root), as Tests/TestSupport/PostgresCluster.swift does. The caller
# sets bench_name (for messages) and calls pg_stop from its EXIT trap.
#
#   pg_find            sets pgbin (the newest /usr/lib/postgresql/*/bin, or $REFEX_POSTGRES_BIN), or exits
#   pg_start FOLDER    makes and starts a cluster in FOLDER (its socket folder too); once only
#   pg_sql DATABASE SQL  runs SQL as refex, prints the rows unaligned (`a|b`), no headers
#   pg_stop [LOGCOPY]  stops the cluster, copies its server log to LOGCOPY, removes FOLDER

pgbin=""; pg=""; pg_started=0

pg_as_server() {
  if [ "$(id -u)" = 0 ]; then setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; else "$@"; fi
}

pg_find() {
  if [ -n "${REFEX_POSTGRES_BIN:-}" ]; then pgbin="$REFEX_POSTGRES_BIN"; else
    local candidate
    for candidate in /usr/lib/postgresql/*/bin; do [ -x "$candidate/initdb" ] && pgbin="$candidate"; done
  fi
  [ -n "$pgbin" ] && [ -x "$pgbin/initdb" ] && [ -x "$pgbin/pg_ctl" ] || {
    echo "$bench_name: PostgreSQL's initdb and pg_ctl are not under /usr/lib/postgresql/*/bin (scripts/install-deps.sh bench installs them)" >&2; exit 1; }
  command -v psql > /dev/null || { echo "$bench_name: psql is not installed (scripts/install-deps.sh bench)" >&2; exit 1; }
  command -v setpriv > /dev/null || [ "$(id -u)" != 0 ] || { echo "$bench_name: setpriv (util-linux) is needed to run PostgreSQL as nobody" >&2; exit 1; }
}

pg_start() {
  [ "$pg_started" = 1 ] && return 0
  pg="$1"
  # The socket's path (FOLDER/.s.PGSQL.5432) must fit in sun_path (107 bytes).
  [ ${#pg} -le 90 ] || { echo "$bench_name: $pg is too long a path for PostgreSQL's Unix socket; run from a shorter checkout path" >&2; exit 1; }
  rm -rf "$pg"; mkdir -p "$pg"; chmod 0700 "$pg"
  if [ "$(id -u)" = 0 ]; then
    chown 65534:65534 "$pg"
    pg_as_server test -w "$pg" || {
      echo "$bench_name: the unprivileged user (nobody) cannot reach $pg: every folder above it must be traversable (chmod o+x)" >&2; exit 1; }
  fi
  (cd "$pg" && pg_as_server "$pgbin/initdb" -D "$pg/data" -U refex --auth=trust -E UTF8 --no-locale --no-sync --no-instructions > "$pg/initdb.log" 2>&1) || {
    echo "$bench_name: initdb failed:" >&2; tail -20 "$pg/initdb.log" >&2; exit 1; }
  pg_started=1
  (cd "$pg" && pg_as_server "$pgbin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 60 -o \
    "-c listen_addresses='' -c unix_socket_directories='$pg' -c port=5432 -c fsync=on -c synchronous_commit=on -c log_min_messages=warning" \
    start > "$pg/pg_ctl.log" 2>&1) || { echo "$bench_name: PostgreSQL did not start:" >&2; tail -20 "$pg/server.log" >&2; exit 1; }
}

pg_sql() { psql -h "$pg" -p 5432 -U refex -d "$1" -v ON_ERROR_STOP=1 -tAqc "$2"; }

pg_stop() {
  [ -n "$pg" ] || return 0
  if [ "$pg_started" = 1 ]; then
    (cd "$pg" && pg_as_server "$pgbin/pg_ctl" -D "$pg/data" -w -t 60 -m fast stop > /dev/null 2>&1) \
      || (cd "$pg" && pg_as_server "$pgbin/pg_ctl" -D "$pg/data" -w -t 30 -m immediate stop > /dev/null 2>&1) || true
    [ -n "${1:-}" ] && cp "$pg/server.log" "$1" 2>/dev/null || true
    pg_started=0
  fi
  rm -rf "$pg"
}
