#!/usr/bin/env bash
# Builds and runs the libFuzzer target that checks `log verify`'s fast canonical-form scanner
# (Sources/Exchange/CanonicalEntryScanner.swift) against the full check (CanonicalForm.swift):
# wherever the scanner answers, both agree. Outputs go to .dev/fuzz/ (git-ignored).
#
#   scripts/fuzz-canonical.sh            build, then run for FUZZ_SECONDS (default 600)
#   scripts/fuzz-canonical.sh build      build only
# `make fuzz FUZZ_ARGS="canonical 60"` runs it through scripts/fuzz.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFTC=${SWIFTC:-swiftc}
BUILD=.build-fuzz/canonical
OUT=.dev/fuzz
SECONDS_TO_RUN=${FUZZ_SECONDS:-600}
FLAGS=(-O -use-ld=lld -sanitize=fuzzer,address -parse-as-library -package-name refex -swift-version 6 -g)

build() {
    mkdir -p "$BUILD/modules"
    "$SWIFTC" "${FLAGS[@]}" -module-name JSON -wmo -emit-module -emit-module-path "$BUILD/modules/JSON.swiftmodule" \
        -c Sources/JSON/*.swift -o "$BUILD/JSON.o"
    # Only the two files compared, compiled as module Exchange so that their internal names resolve.
    "$SWIFTC" "${FLAGS[@]}" -module-name Exchange -I "$BUILD/modules" Sources/Exchange/CanonicalEntryScanner.swift \
        Sources/Exchange/CanonicalForm.swift Fuzz/CanonicalFormFuzz.swift "$BUILD/JSON.o" -o "$BUILD/canonical-form"
    echo "built $BUILD/canonical-form"
}

run() {
    local corpus="$OUT/corpus-canonical" artifacts="$OUT/artifacts-canonical"
    mkdir -p "$corpus" "$artifacts"
    cp -n Fuzz/corpus/canonical/* "$corpus/" 2>/dev/null || true
    echo "running canonical-form for $SECONDS_TO_RUN s; log: $OUT/canonical-form.log"
    set +e
    SWIFT_BACKTRACE=enable=no "$BUILD/canonical-form" "$corpus" -dict=Fuzz/json.dict -max_total_time="$SECONDS_TO_RUN" -timeout=10 \
        -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$OUT/canonical-form.log" 2>&1
    local status=$?
    set -e
    grep -E '^#[0-9]+ *DONE|^stat::number_of_executed_units|ERROR|Test unit written' "$OUT/canonical-form.log" || true
    echo "canonical-form finished with status $status"
    return $status
}

case "${1:-all}" in
    build) build ;;
    all) build; run ;;
    *) echo "usage: scripts/fuzz-canonical.sh [build]" >&2; exit 2 ;;
esac
