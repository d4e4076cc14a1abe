#!/usr/bin/env bash
# JSON Schema validation benchmark (issue 3): refex's JSONSchema module against Python
# jsonschema and jsonschema-rs, same schema, same documents, same run. Not a timed test.
#
#   scripts/bench-schema.sh [SECONDS_PER_RUN]   (default 1; each figure is the best of 5 runs)
#
# Builds schema-bench in release mode, runs it and Benchmarks/SchemaBench/bench.py on
# Benchmarks/SchemaBench/fixtures, and prints a Markdown table (also saved to .dev/bench/).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER=${1:-1}
FIXTURES=Benchmarks/SchemaBench/fixtures
OUT=.dev/bench
mkdir -p "$OUT"

if ! python3 -c 'import jsonschema_rs' 2>/dev/null; then
    echo "installing jsonschema-rs with pip" >&2
    python3 -m pip install --quiet jsonschema-rs
fi
if [ ! -e "$FIXTURES/referral-00.json" ]; then
    python3 Benchmarks/SchemaBench/generate.py "$FIXTURES" 20
fi

swift build -c release --scratch-path .build-json --product schema-bench >&2
BIN=$(swift build -c release --scratch-path .build-json --show-bin-path)/schema-bench

RESULTS="$OUT/schema-bench.jsonl"
"$BIN" "$FIXTURES" "$SECONDS_PER" | tee "$RESULTS"
python3 Benchmarks/SchemaBench/bench.py "$FIXTURES" "$SECONDS_PER" | tee -a "$RESULTS"

python3 - "$RESULTS" <<'PY' | tee "$OUT/schema-bench.md"
import json, platform, subprocess, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
rows = [row for row in rows if "documents_per_second" in row]
def find(implementation, mode):
    for row in rows:
        if row["implementation"].startswith(implementation) and row["mode"] == mode:
            return row
reference = find("Python jsonschema", "isValid")
rust = find("jsonschema-rs", "isValid")
print("| implementation | mode | documents/s | µs/document | vs jsonschema-rs isValid | vs Python jsonschema isValid |")
print("|---|---|---:|---:|---:|---:|")
for row in rows:
    us = row["microseconds_per_document"]
    vs_rust = f"{rust['microseconds_per_document'] / us:.2f}× faster" if rust and us <= rust['microseconds_per_document'] else (f"{us / rust['microseconds_per_document']:.2f}× slower" if rust else "")
    vs_ref = f"{reference['microseconds_per_document'] / us:.1f}× faster" if reference else ""
    print(f"| {row['implementation']} | {row['mode']} | {row['documents_per_second']:,} | {us} | {vs_rust} | {vs_ref} |")
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
print()
print(f"Machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, {platform.platform()}, Python {platform.python_version()}")
PY
