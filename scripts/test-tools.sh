#!/usr/bin/env bash
# The test tools that are not Debian packages to install system-wide, under .dev/tools (idempotent):
#   .dev/tools/venv/bin/python    a venv with openapi-spec-validator (PyPI), which checks schemas/openapi.v1.json,
#                                 and Tests/browser/requirements.txt (Selenium, axe-core) for the console's browser tests
#   .dev/tools/bin/promtool       from Debian's prometheus package, unpacked rather than installed:
#                                 installing it would start a Prometheus server on port 9090 (refex's
#                                 ops port). It checks the alert rules in contrib/prometheus/.
# `make test` runs this after scripts/install-deps.sh test (which brings python3-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

tools=.dev/tools
mkdir -p "$tools/bin"

venv="$tools/venv"
if ! "$venv/bin/python" -c 'import openapi_spec_validator' 2>/dev/null; then
  echo "test-tools: making $venv with openapi-spec-validator" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'openapi-spec-validator>=0.7,<1' >&2
fi

# The pinned browser-test packages, reinstalled whenever the requirements file changes.
browser_requirements=Tests/browser/requirements.txt
if ! cmp -s "$browser_requirements" "$venv/browser-requirements.txt"; then
  echo "test-tools: installing $browser_requirements into $venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$browser_requirements" >&2
  cp "$browser_requirements" "$venv/browser-requirements.txt"
fi

if ! "$tools/bin/promtool" --version >/dev/null 2>&1; then
  echo "test-tools: unpacking promtool from Debian's prometheus package into $tools" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # A fresh machine has empty package lists: refresh them once if the download finds nothing.
  if ! (cd "$work" && apt-get download -qq prometheus >&2 2>/dev/null); then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq >&2 || true
    (cd "$work" && apt-get download -qq prometheus >&2)
  fi
  dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
  install -m 0755 "$work/root/usr/bin/promtool" "$tools/bin/promtool"
fi
