#!/usr/bin/env bash
# Writes a development PKI for refex into DIR (default .dev/pki). Never commit its output.
#
#   ca.crt ca.key                 the development CA (clients and servers chain to it)
#   server.crt server.key         refex's server certificate: localhost, 127.0.0.1, ::1
#   police, partner-b, hub-admin, sink      partner client certificates (.crt/.key)
#   unknown.crt/.key              chains to the CA but is in no config (403)
#   revoked.crt/.key + crl.pem    revoked by the CA's CRL
#   expired-crl.pem               the CA's CRL, past its next update
#   expired.crt/.key              expired
#   refex-client.crt/.key         the client certificate refex presents to recipients
#   sink-server.crt/.key          a server certificate for `refex sink` (localhost, 127.0.0.1)
#   other-ca.crt, other.crt/.key  a second CA and a client certificate from it (refused)
#
# Usage: certs/dev-pki.sh [--force] DIR
set -euo pipefail

force=0
if [ "${1:-}" = "--force" ]; then force=1; shift; fi
dir="${1:-.dev/pki}"
days="${REFEX_PKI_DAYS:-397}"

if [ -f "$dir/ca.crt" ] && [ -f "$dir/crl.pem" ] && [ $force -eq 0 ]; then
  echo "dev-pki: $dir already holds a PKI (use --force to make a new one)" >&2
  exit 0
fi
command -v openssl >/dev/null || { echo "dev-pki: openssl is not installed" >&2; exit 1; }

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
umask 077
work="$dir/.ca"
rm -rf "$work"
mkdir -p "$work/new"
: > "$work/index.txt"
echo 1000 > "$work/serial"
echo 1000 > "$work/crlnumber"

cat > "$work/ca.cnf" <<CNF
[ ca ]
default_ca = dev
[ dev ]
dir = $work
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $dir/ca.crt
private_key = $dir/ca.key
default_md = sha256
default_crl_days = 30
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
organizationName = optional
[ client_ext ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }

# The CA.
newkey "$dir/ca.key"
openssl req -x509 -new -key "$dir/ca.key" -sha256 -days "$days" -subj "/O=refex development/CN=refex development CA" \
  -addext "basicConstraints=critical,CA:true,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$dir/ca.crt"

# sign NAME SUBJECT EXT...: a certificate for NAME signed by the CA.
sign() {
  local name="$1" subject="$2"; shift 2
  newkey "$dir/$name.key"
  openssl req -new -key "$dir/$name.key" -subj "$subject" -out "$work/$name.csr"
  local ext="$work/$name.ext"
  printf '%s\n' "$@" > "$ext"
  # A random 128-bit serial (RFC 5280 4.1.2.2: unique per CA). The serial file is `openssl ca`'s
  # alone: x509 -CAserial would hand the next `openssl ca` a serial already used, and the CRL
  # that revokes it would revoke both.
  openssl x509 -req -in "$work/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial "0x7$(openssl rand -hex 15)" \
    -days "$days" -sha256 -extfile "$ext" -out "$dir/$name.crt" 2>/dev/null
}

server_ext=("basicConstraints=critical,CA:false" "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth")
sign server "/O=refex development/CN=localhost" "${server_ext[@]}" "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
sign sink-server "/O=refex development/CN=sink.localhost" "${server_ext[@]}" "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"

client_ext=("basicConstraints=critical,CA:false" "keyUsage=critical,digitalSignature" "extendedKeyUsage=clientAuth")
for who in police partner-b hub-admin sink unknown refex-client; do
  sign "$who" "/O=refex development/CN=$who" "${client_ext[@]}"
done

# Revoked and expired clients go through `openssl ca`, which keeps the index a CRL is made from.
newkey "$dir/revoked.key"
openssl req -new -key "$dir/revoked.key" -subj "/O=refex development/CN=revoked" -out "$work/revoked.csr"
openssl ca -batch -config "$work/ca.cnf" -extensions client_ext -days "$days" -in "$work/revoked.csr" -out "$dir/revoked.crt" -notext 2>/dev/null
openssl ca -batch -config "$work/ca.cnf" -revoke "$dir/revoked.crt" -crl_reason keyCompromise 2>/dev/null

newkey "$dir/expired.key"
openssl req -new -key "$dir/expired.key" -subj "/O=refex development/CN=expired" -out "$work/expired.csr"
openssl ca -batch -config "$work/ca.cnf" -extensions client_ext -startdate 20200101000000Z -enddate 20200201000000Z \
  -in "$work/expired.csr" -out "$dir/expired.crt" -notext 2>/dev/null

openssl ca -batch -config "$work/ca.cnf" -gencrl -out "$dir/crl.pem" 2>/dev/null
# A CRL whose next update has passed: OpenSSL then refuses every client certificate.
openssl ca -batch -config "$work/ca.cnf" -gencrl -crl_lastupdate 20200101000000Z -crl_nextupdate 20200201000000Z \
  -out "$dir/expired-crl.pem" 2>/dev/null

# A second CA whose certificates refex must refuse.
newkey "$dir/other-ca.key"
openssl req -x509 -new -key "$dir/other-ca.key" -sha256 -days "$days" -subj "/O=elsewhere/CN=other CA" \
  -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/other-ca.crt"
newkey "$dir/other.key"
openssl req -new -key "$dir/other.key" -subj "/O=refex development/CN=police" -out "$work/other.csr"
printf '%s\n' "${client_ext[@]}" > "$work/other.ext"
openssl x509 -req -in "$work/other.csr" -CA "$dir/other-ca.crt" -CAkey "$dir/other-ca.key" -CAcreateserial \
  -CAserial "$work/other.srl" -days "$days" -sha256 -extfile "$work/other.ext" -out "$dir/other.crt" 2>/dev/null

chmod 644 "$dir"/*.crt "$dir/crl.pem" "$dir/expired-crl.pem"

# Checked, not assumed: every certificate of the CA has its own serial, and the CRL revokes the
# revoked certificate and no other.
issued=(server sink-server police partner-b hub-admin sink unknown refex-client revoked expired)
serials=$(for name in "${issued[@]}"; do openssl x509 -in "$dir/$name.crt" -noout -serial; done | sort)
if [ -n "$(uniq -d <<<"$serials")" ]; then
  echo "dev-pki: two certificates share a serial:" >&2
  uniq -d <<<"$serials" >&2
  exit 1
fi
for name in "${issued[@]}"; do
  [ "$name" = expired ] && continue
  if openssl verify -crl_check -CAfile "$dir/ca.crt" -CRLfile "$dir/crl.pem" "$dir/$name.crt" >/dev/null 2>&1; then
    [ "$name" != revoked ] && continue
    echo "dev-pki: crl.pem does not revoke revoked.crt" >&2
  else
    [ "$name" = revoked ] && continue
    echo "dev-pki: $name.crt does not verify against ca.crt and crl.pem" >&2
  fi
  exit 1
done
echo "dev-pki: wrote a development PKI to $dir" >&2
