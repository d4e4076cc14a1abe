#!/usr/bin/env python3
"""The Python side of scripts/bench-schema.sh: Python jsonschema (the reference) and
jsonschema-rs on the same schema and documents, format assertion on in both.

Usage: bench.py FIXTURES_DIR [SECONDS_PER_RUN]
Each measurement is the best of SCHEMA_BENCH_REPEATS (default 5) runs, like schema-bench.
Prints one JSON object per measurement.
"""
import glob
import json
import os
import sys
import time

directory = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
repeats = int(os.environ.get("SCHEMA_BENCH_REPEATS", "5"))
schema = json.load(open(os.path.join(directory, "referral.schema.json")))
raw = [open(path, "rb").read() for path in sorted(glob.glob(os.path.join(directory, "referral-*.json")))]
documents = [json.loads(text) for text in raw]


def measure(implementation, mode, body):
    deadline = time.perf_counter() + 0.3
    index = 0
    while time.perf_counter() < deadline:
        body(index % len(documents))
        index += 1
    best = 0.0
    for _ in range(repeats):
        count = 0
        start = time.perf_counter()
        end = start + seconds
        now = start
        while now < end:
            for index in range(len(documents)):
                if not body(index):
                    raise SystemExit(f"{implementation}: document {index} is not valid")
            count += len(documents)
            now = time.perf_counter()
        best = max(best, count / (now - start))
    print(json.dumps({"implementation": implementation, "mode": mode, "documents_per_second": int(best),
                      "microseconds_per_document": round(1e6 / best, 2)}), flush=True)


import jsonschema  # noqa: E402
from importlib.metadata import version  # noqa: E402

reference = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
name = f"Python jsonschema {version('jsonschema')}"
measure(name, "isValid", lambda i: reference.is_valid(documents[i]))
measure(name, "parse + isValid", lambda i: reference.is_valid(json.loads(raw[i])))

try:
    import jsonschema_rs
except ImportError:
    print(json.dumps({"implementation": "jsonschema-rs", "error": "not installed (pip install jsonschema-rs)"}))
else:
    fast = jsonschema_rs.validator_for(schema, validate_formats=True)
    name = f"jsonschema-rs {version('jsonschema-rs')}"
    measure(name, "isValid", lambda i: fast.is_valid(documents[i]))
    measure(name, "parse + isValid", lambda i: fast.is_valid(json.loads(raw[i])))
    measure(name, "validate, no annotations (iter_errors)", lambda i: not any(True for _ in fast.iter_errors(documents[i])))
    measure(name, "validate, all annotations (evaluate + annotations())",
            lambda i: (lambda output: output.flag()["valid"] and output.annotations() is not None)(fast.evaluate(documents[i])))
