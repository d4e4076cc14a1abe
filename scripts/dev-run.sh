#!/usr/bin/env bash
# `make run`: a sample recipient (refex sink) in the background, then refex in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-.dev}"
pki="$dir/pki"
bin="${REFEX_BIN:-.build/release/refex}"

mkdir -p "$dir/sink"
"$bin" sink --listen 127.0.0.1:9443 --cert "$pki/sink-server.crt" --key "$pki/sink-server.key" \
  --client-ca "$pki/ca.crt" --dir "$dir/sink" > "$dir/sink.out" 2> "$dir/sink.log" &
sink=$!
trap 'kill "$sink" 2>/dev/null || true' EXIT INT TERM
"$bin" serve --config "$dir/refex.json"
