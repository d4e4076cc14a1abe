#!/usr/bin/env bash
# Runs every test once (XCTest and Swift Testing) on the build `make test` made, and ends with one
# plain line, `N passed, M failed` (`, K skipped` when any were), counting what ran in both.
# Exits non-zero if any test failed or the runner itself failed. Arguments go to `swift test`.
# XCTest's parallel runner records no skips in its report: an XCTest that skips counts as passed.
set -uo pipefail
cd "$(dirname "$0")/.."

swift="${SWIFT:-swift}"
results=.dev/test-results
mkdir -p "$results"
rm -f "$results"/xunit*.xml

REFEX_BINARY="${REFEX_BINARY:-$PWD/.build/debug/refex}" \
  "$swift" test --skip-build --parallel --num-workers 2 --xunit-output "$results/xunit.xml" "$@"
status=$?

# XCTest writes xunit.xml, Swift Testing xunit-swift-testing.xml; either may be missing.
counts=$(python3 - "$results"/xunit*.xml <<'PY'
import sys
import xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        continue
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
print(passed, failed, skipped)
PY
) || counts="0 0 0"
read -r passed failed skipped <<<"$counts"

# A runner that failed with no failing test recorded (a crash, a test process killed) still
# failed: it counts as one, so that the line agrees with the exit status.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "run-tests: swift test exited $status with no failing test recorded; counted as 1 failed (see the output above)" >&2
  failed=1
fi
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
if [ "$failed" -gt 0 ] || [ "$status" -ne 0 ]; then exit 1; fi
