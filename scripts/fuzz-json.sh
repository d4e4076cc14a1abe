#!/usr/bin/env bash
# Builds the libFuzzer targets for the JSON parser and for schema validation with swiftc
# (fuzzer + address sanitizer), then runs each. Outputs go to .dev/fuzz/ (git-ignored).
#
#   scripts/fuzz-json.sh                 build, then run each target for 600 s
#   scripts/fuzz-json.sh build           build only
#   scripts/fuzz-json.sh run TARGET SECS run one target (json-parser | schema-validation)
#
# Environment: SWIFTC (default: swiftc on PATH), FUZZ_SECONDS (default 600), FUZZ_JOBS.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFTC=${SWIFTC:-swiftc}
BUILD=.build-fuzz
OUT=.dev/fuzz
SECONDS_PER_TARGET=${FUZZ_SECONDS:-600}
FLAGS=(-O -use-ld=lld -sanitize=fuzzer,address -parse-as-library -package-name refex -swift-version 6 -g)

build() {
    mkdir -p "$BUILD/modules"
    # The library modules are compiled once, instrumented, and linked into each target.
    "$SWIFTC" "${FLAGS[@]}" -module-name JSON -wmo -emit-module -emit-module-path "$BUILD/modules/JSON.swiftmodule" \
        -c Sources/JSON/*.swift -o "$BUILD/JSON.o"
    "$SWIFTC" "${FLAGS[@]}" -module-name JSONSchema -wmo -I "$BUILD/modules" -emit-module \
        -emit-module-path "$BUILD/modules/JSONSchema.swiftmodule" -c Sources/JSONSchema/*.swift -o "$BUILD/JSONSchema.o"
    "$SWIFTC" "${FLAGS[@]}" -module-name FuzzJSONParser -I "$BUILD/modules" Fuzz/JSONParserFuzz.swift \
        "$BUILD/JSON.o" -o "$BUILD/json-parser"
    "$SWIFTC" "${FLAGS[@]}" -module-name FuzzSchemaValidation -I "$BUILD/modules" Fuzz/SchemaValidationFuzz.swift \
        "$BUILD/JSON.o" "$BUILD/JSONSchema.o" -lFoundation -o "$BUILD/schema-validation"
    echo "built $BUILD/json-parser and $BUILD/schema-validation"
}

run() {
    local target=$1 seconds=$2
    local corpus="$OUT/corpus-$target"
    mkdir -p "$corpus" "$OUT/artifacts-$target"
    cp -n Fuzz/corpus/json/* "$corpus/" 2>/dev/null || true
    echo "running $target for $seconds s; log: $OUT/$target.log"
    # -timeout: any input taking over 10 s is a hang; -rss_limit_mb bounds memory.
    "$BUILD/$target" "$corpus" -dict=Fuzz/json.dict -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$OUT/artifacts-$target/" 2>&1 | tee "$OUT/$target.log" | grep -E '^#[0-9]+ *(DONE|pulse)|ERROR|stat::' || true
    local status=${PIPESTATUS[0]}
    echo "$target finished with status $status"
    return "$status"
}

case "${1:-all}" in
    build) build ;;
    run) run "$2" "${3:-$SECONDS_PER_TARGET}" ;;
    all)
        build
        run json-parser "$SECONDS_PER_TARGET"
        run schema-validation "$SECONDS_PER_TARGET"
        ;;
    *) echo "usage: $0 [build | run TARGET SECONDS | all]" >&2; exit 2 ;;
esac
