#!/usr/bin/env bash
# Builds and runs refex's libFuzzer targets (swiftc with -sanitize=fuzzer,address).
#
#   scripts/fuzz.sh [TARGET] [SECONDS]
#     TARGET   http-parser (default): the HTTP/1.1 request parser (Fuzz/HTTPParserFuzz.swift)
#              all: http-parser, then every other scripts/fuzz-*.sh (e.g. fuzz-json.sh)
#              NAME: runs scripts/fuzz-NAME.sh with FUZZ_SECONDS=SECONDS
#     SECONDS  how long each target runs (default 600)
#
# The corpus grows in .dev/fuzz/corpus-http-parser (seeded from Fuzz/corpus/http); crashes and
# hangs are written to .dev/fuzz/artifacts-http-parser/; the log is .dev/fuzz/http-parser.log.
# Replay one input: SWIFT_BACKTRACE=enable=no .build-fuzz/http/http-parser FILE. Minimise a crash:
#   .build-fuzz/http/http-parser -minimize_crash=1 -runs=100000 -exact_artifact_path=min FILE
# REFEX_FUZZ_TOLERATE_KNOWN=1 forgives the parser differences already reported (see the target's header).
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:-http-parser}"
seconds="${2:-${FUZZ_SECONDS:-600}}"
SWIFTC="${SWIFTC:-swiftc}"
build=.build-fuzz/http
out=.dev/fuzz

build_http_parser() {
  mkdir -p "$build/modules"
  local flags=(-O -g -sanitize=fuzzer,address -parse-as-library -package-name refex -swift-version 6 -use-ld=lld)
  # HTTP imports JSON (problem+json bodies): JSON becomes a module of its own; the target is compiled
  # into module HTTP so that it can reach the parser's package and internal declarations.
  "$SWIFTC" "${flags[@]}" -module-name JSON -wmo -emit-module -emit-module-path "$build/modules/JSON.swiftmodule" \
    -c Sources/JSON/*.swift -o "$build/JSON.o"
  "$SWIFTC" "${flags[@]}" -module-name HTTP -I "$build/modules" Sources/HTTP/*.swift Fuzz/HTTPParserFuzz.swift \
    "$build/JSON.o" -o "$build/http-parser"
  echo "fuzz: built $build/http-parser" >&2
}

run_http_parser() {
  local corpus="$out/corpus-http-parser" artifacts="$out/artifacts-http-parser"
  mkdir -p "$corpus" "$artifacts"
  cp -n Fuzz/corpus/http/* "$corpus/" 2>/dev/null || true
  echo "fuzz: http-parser for $seconds s; log $out/http-parser.log" >&2
  set +e
  # SWIFT_BACKTRACE: the runtime's crash backtracer reads memory in a way ASan reports as an overflow.
  # -timeout: an input taking 10 s is a hang; -max_len: heads and small bodies, past every fuzz limit.
  SWIFT_BACKTRACE=enable=no "$build/http-parser" "$corpus" -dict=Fuzz/http.dict -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$out/http-parser.log" 2>&1
  local status=$?
  set -e
  grep -E '^#[0-9]+ *DONE|^stat::number_of_executed_units|^stat::peak_rss|ERROR|Test unit written' "$out/http-parser.log" >&2 || true
  echo "fuzz: http-parser finished with status $status" >&2
  return $status
}

case "$target" in
  http-parser)
    build_http_parser
    run_http_parser
    ;;
  all)
    status=0
    build_http_parser
    run_http_parser || status=1
    for script in scripts/fuzz-*.sh; do
      [ -x "$script" ] || continue
      echo "fuzz: $script" >&2
      FUZZ_SECONDS="$seconds" "$script" || status=1
    done
    exit $status
    ;;
  *)
    script="scripts/fuzz-$target.sh"
    [ -x "$script" ] || { echo "fuzz: no target '$target' (http-parser, all, or a scripts/fuzz-NAME.sh)" >&2; exit 2; }
    FUZZ_SECONDS="$seconds" exec "$script"
    ;;
esac
