#!/usr/bin/env bash
# Installs the Debian packages refex needs to build, test or run, and only those missing.
# Usage: scripts/install-deps.sh [build|test|bench]   (each set includes the ones before it)
set -euo pipefail

want=(libssl-dev libcurl4-openssl-dev libsqlite3-dev libpq-dev pkg-config openssl)
case "${1:-build}" in
  build) ;;
  # systemd: systemd-analyze and systemd-socket-activate for the unit and socket activation tests.
  # python3-venv: the venv under .dev/ for the PyPI test tools; scripts/test-tools.sh also unpacks
  # promtool from Debian's prometheus package there (installing that package would start a
  # Prometheus server on port 9090, refex's ops port).
  # postgresql: initdb and pg_ctl for the PostgreSQL store tests, which start a throwaway cluster of
  # their own (Debian's own cluster, if the package starts one, is not used).
  # chromium, chromium-driver, libnss3-tools (certutil, pk12util): the console's real-browser
  # tests (Tests/browser/), Selenium driving headless Chromium that presents a client certificate;
  # fonts-liberation (only recommended by chromium) so that pages and screenshots have text.
  test)  want+=(curl python3 python3-venv sqlite3 binutils procps iproute2 systemd make postgresql
                chromium chromium-driver libnss3-tools fonts-liberation) ;;
  # python3-venv, gcc, libc6-dev: the Python peer's venv and the storage program (bench-intake-peers.sh).
  bench) want+=(curl python3 python3-venv sqlite3 binutils procps iproute2 nginx-light gcc libc6-dev postgresql) ;;
  *) echo "install-deps: unknown set '$1' (build, test or bench)" >&2; exit 2 ;;
esac

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has empty package lists; refresh them once, then install.
$sudo apt-get update -qq >&2 || true
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
