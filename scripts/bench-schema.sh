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
# Each refex measurement beside the comparable jsonschema-rs and Python jsonschema ones.
pairs = [
    ("isValid", "isValid", "isValid"),
    ("validate, no annotations", "validate, no annotations (iter_errors)", "isValid"),
    ("validate, x-refex-category annotations", None, None),
    ("validate, all annotations", "validate, all annotations (evaluate + annotations())", None),
    ("parse only", None, None),
    ("parse + isValid", "parse + isValid", "parse + isValid"),
    ("parse + validate, x-refex-category annotations", None, None),
]
def us(row):
    return f"{row['microseconds_per_document']:.1f}" if row else "–"
def ratio(ours, other):
    if not ours or not other:
        return "–"
    factor = other["microseconds_per_document"] / ours["microseconds_per_document"]
    return f"{factor:.2f}× faster" if factor >= 1 else f"{1 / factor:.2f}× slower"
print("| refex measurement | refex µs/doc | jsonschema-rs (same work) µs/doc | refex vs jsonschema-rs | Python jsonschema µs/doc | refex vs Python |")
print("|---|---:|---:|---:|---:|---:|")
for mode, rust_mode, python_mode in pairs:
    ours = find("refex", mode)
    rust = find("jsonschema-rs", rust_mode) if rust_mode else None
    python = find("Python jsonschema", python_mode) if python_mode else None
    rust_label = f"{us(rust)} ({rust_mode})" if rust else "–"
    print(f"| {mode} | {us(ours)} | {rust_label} | {ratio(ours, rust)} | {us(python)} | {ratio(ours, python)} |")
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
load = open("/proc/loadavg").read().split()[:3]
print()
print(f"Machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, {platform.platform()}, "
      f"Python {platform.python_version()}; load average at the end {' '.join(load)}")
PY
