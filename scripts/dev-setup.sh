#!/usr/bin/env bash
# The development setup under DIR (default .dev): a PKI and a config for `refex serve`.
# Idempotent: an existing PKI and config are kept.
#   scripts/dev-setup.sh [DIR]              make what is missing
#   scripts/dev-setup.sh --print-curl [DIR] print a curl command that works against `make run`
set -euo pipefail
cd "$(dirname "$0")/.."

print_curl=0
if [ "${1:-}" = "--print-curl" ]; then print_curl=1; shift; fi
dir="${1:-.dev}"
pki="$dir/pki"

if [ $print_curl -eq 1 ]; then
  # An unquoted here-document joins a line ending in a backslash with the next: \\ keeps both.
  cat <<TXT

refex is starting on https://127.0.0.1:8443 (partners, mutual TLS) and http://127.0.0.1:9090 (ops).
Try, from another terminal in $(pwd):

  curl --cacert $pki/ca.crt --cert $pki/police.crt --key $pki/police.key https://localhost:8443/v1/whoami

  curl --cacert $pki/ca.crt --cert $pki/police.crt --key $pki/police.key \\
       -H 'Content-Type: application/json' --data-binary @schemas/examples/referral-1-domestic-abuse.json \\
       https://localhost:8443/v1/referrals

A sample recipient (refex sink) listens on https://localhost:9443 and writes what it receives
to $dir/sink/ (ls $dir/sink). Metrics: curl http://127.0.0.1:9090/metrics

TXT
  exit 0
fi

mkdir -p "$dir"
certs/dev-pki.sh "$pki"

# The master key that wraps every subject key: never committed, never logged.
if [ ! -f "$dir/master.key" ]; then
  (umask 077; openssl rand -hex 32 > "$dir/master.key")
  echo "dev-setup: wrote $dir/master.key" >&2
fi
if [ ! -f "$dir/log-signing.key" ]; then
  (umask 077; openssl genpkey -algorithm ed25519 -out "$dir/log-signing.key")
  echo "dev-setup: wrote $dir/log-signing.key" >&2
fi
mkdir -p "$dir/state"

config="$dir/refex.json"
if [ ! -f "$config" ] || [ "$pki/ca.crt" -nt "$config" ] || [ "$0" -nt "$config" ]; then
  fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
  name() { openssl x509 -in "$1" -noout "-$2" -nameopt RFC2253 | sed "s/^$2=//"; }
  cat > "$config" <<JSON
{
  "listen": "127.0.0.1:8443",
  "ops": "127.0.0.1:9090",
  "logLevel": "info",
  "schemas": "../schemas",
  "store": { "path": "state/refex.db" },
  "masterKey": "master.key",
  "log": { "signingKey": "log-signing.key", "checkpointEveryEntries": 100, "checkpointEverySeconds": 60 },
  "retention": { "referralsDays": 365, "consentsDays": 365, "logDays": 2555 },
  "delivery": {
    "clientCertificate": "pki/refex-client.crt",
    "clientKey": "pki/refex-client.key",
    "backoffBaseMilliseconds": 1000,
    "maxAgeSeconds": 86400
  },
  "tls": {
    "certificate": "pki/server.crt",
    "privateKey": "pki/server.key",
    "clientCA": "pki/ca.crt",
    "crl": "pki/crl.pem"
  },
  "limits": {
    "maxBodyBytes": 1048576,
    "maxHeaderBytes": 16384,
    "maxConnections": 1024,
    "headerTimeoutSeconds": 10,
    "bodyTimeoutSeconds": 30,
    "idleTimeoutSeconds": 60
  },
  "partners": [
    { "id": "police", "name": "Development Constabulary", "roles": ["refer"],
      "certificates": [{ "sha256": "$(fingerprint "$pki/police.crt")" }] },
    { "id": "partner-b", "name": "Partner Agency B", "roles": ["refer"],
      "certificates": [{ "subject": "$(name "$pki/partner-b.crt" subject)", "issuer": "$(name "$pki/partner-b.crt" issuer)" }] },
    { "id": "hub-admin", "name": "Victim and Witness Hub", "roles": ["admin", "override"],
      "certificates": [{ "sha256": "$(fingerprint "$pki/hub-admin.crt")" }] },
    { "id": "sink", "name": "Development recipient", "roles": ["receive"],
      "certificates": [{ "sha256": "$(fingerprint "$pki/sink.crt")" }] },
    { "id": "revoked-partner", "name": "A partner whose certificate was revoked", "roles": ["refer"],
      "certificates": [{ "sha256": "$(fingerprint "$pki/revoked.crt")" }] },
    { "id": "expired-partner", "name": "A partner whose certificate expired", "roles": ["refer"],
      "certificates": [{ "sha256": "$(fingerprint "$pki/expired.crt")" }] }
  ],
  "recipients": [
    { "id": "dv-support", "name": "Development domestic abuse service", "services": ["domestic-abuse", "sexual-violence"],
      "delivery": { "mode": "push", "endpoint": "https://localhost:9443/deliveries", "ca": "pki/ca.crt" },
      "fields": ["/referenceId", "/subject/role", "/subject/name", "/subject/dateOfBirth", "/subject/gender", "/subject/contact", "/subject/language",
                 "/subject/vulnerabilities", "/subject/health", "/subject/persistentlyTargeted", "/offence", "/supportNeeds", "/riskOfHarm",
                 "/referringOfficer"],
      "categories": ["health"] },
    { "id": "victim-support", "name": "Development general victim support", "services": ["general-victim-support", "hate-crime", "fraud"],
      "delivery": { "mode": "push", "endpoint": "https://localhost:9443/deliveries", "ca": "pki/ca.crt" },
      "fields": ["/referenceId", "/subject/role", "/subject/name", "/subject/contact", "/subject/language", "/subject/vulnerabilities",
                 "/offence/category", "/offence/date", "/offence/hateCrime", "/supportNeeds/*/service", "/supportNeeds/*/urgency", "/riskOfHarm"],
      "categories": [] },
    { "id": "translation", "name": "Development translation service", "services": ["translation"],
      "delivery": { "mode": "pull", "partner": "sink" },
      "fields": ["/referenceId", "/subject/name", "/subject/language", "/subject/contact/phone", "/subject/contact/email", "/subject/contact/preferredMethod"],
      "categories": [] }
  ]
}
JSON
  echo "dev-setup: wrote $config" >&2
fi
