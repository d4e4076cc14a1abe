#!/usr/bin/env bash
# Installs refex: `make install` runs this. Everything goes under $DESTDIR (empty: the live system).
#   BINARY      the refex executable to install (default .build/release/refex)
#   PREFIX      /usr/local by default; packages use /usr
#   SYSCONFDIR  /etc by default
#   DESTDIR     a staging root for packaging, e.g. /tmp/stage (default: none)
# Lays out:
#   $PREFIX/bin/refex
#   $PREFIX/share/refex/schemas/*.json             the JSON Schemas refex validates against, and
#                                                  openapi.v1.json (the partner API, served at /v1/openapi.json)
#   $PREFIX/share/doc/refex/README.md
#   $PREFIX/share/doc/refex/prometheus/refex.rules.yml   alert rules for Prometheus (contrib/prometheus)
#   $PREFIX/lib/systemd/system/refex.service, refex.socket, refex-ops.socket
#   $PREFIX/lib/sysusers.d/refex.conf              the refex system user
#   $PREFIX/lib/tmpfiles.d/refex.conf              /etc/refex, /etc/credstore, /var/lib/refex
#   $SYSCONFDIR/refex/refex.json                   an example config (an existing one is kept)
# Paths inside the units and the example config follow PREFIX and SYSCONFDIR.
set -euo pipefail
cd "$(dirname "$0")/.."

binary="${BINARY:-.build/release/refex}"
prefix="${PREFIX:-/usr/local}"
sysconfdir="${SYSCONFDIR:-/etc}"
destdir="${DESTDIR:-}"

if [ ! -x "$binary" ]; then
  echo "install: $binary is not built (make release, or give BINARY=)" >&2
  exit 1
fi
case "$prefix" in /*) ;; *) echo "install: PREFIX must be an absolute path" >&2; exit 2 ;; esac
case "$sysconfdir" in /*) ;; *) echo "install: SYSCONFDIR must be an absolute path" >&2; exit 2 ;; esac

bindir="$prefix/bin"
datadir="$prefix/share/refex"
docdir="$prefix/share/doc/refex"
unitdir="$prefix/lib/systemd/system"
sysusersdir="$prefix/lib/sysusers.d"
tmpfilesdir="$prefix/lib/tmpfiles.d"
confdir="$sysconfdir/refex"

# The files name /usr/bin/refex, /usr/share/... and /etc/refex/... as a package installs them.
rewrite() {
  sed -e "s#/usr/bin/refex#$bindir/refex#g" \
      -e "s#/usr/share/refex/#$datadir/#g" \
      -e "s#/usr/share/doc/refex/#$docdir/#g" \
      -e "s#/etc/refex\\([/ ]\\)#$confdir\\1#g" \
      "$1"
}

install -d -m 0755 "$destdir$bindir" "$destdir$datadir/schemas" "$destdir$docdir" \
  "$destdir$unitdir" "$destdir$sysusersdir" "$destdir$tmpfilesdir"
install -m 0755 "$binary" "$destdir$bindir/refex"
install -m 0644 schemas/*.json "$destdir$datadir/schemas/"
install -m 0644 README.md "$destdir$docdir/README.md"
install -d -m 0755 "$destdir$docdir/prometheus"
install -m 0644 contrib/prometheus/refex.rules.yml "$destdir$docdir/prometheus/refex.rules.yml"
for unit in refex.service refex.socket refex-ops.socket; do
  rewrite "systemd/$unit" > "$destdir$unitdir/$unit"
  chmod 0644 "$destdir$unitdir/$unit"
done
install -m 0644 systemd/refex.sysusers "$destdir$sysusersdir/refex.conf"
rewrite systemd/refex.tmpfiles > "$destdir$tmpfilesdir/refex.conf"
chmod 0644 "$destdir$tmpfilesdir/refex.conf"

# The example config is the administrator's once installed: never overwrite it.
install -d -m 0755 "$destdir$confdir"
example="$destdir$confdir/refex.json"
if [ -e "$example" ]; then
  example="$example.new"
  echo "install: keeping $destdir$confdir/refex.json; the example is in $example" >&2
fi
rewrite systemd/refex.example.json > "$example"
chmod 0640 "$example"

echo "install: refex installed under ${destdir:-/} (PREFIX=$prefix, SYSCONFDIR=$sysconfdir)" >&2
if [ -z "$destdir" ]; then
  cat >&2 <<TXT
Next (as root): systemd-sysusers refex.conf && systemd-tmpfiles --create refex.conf
  chgrp refex $confdir/refex.json, put the keys in /etc/credstore (see the README, "Deploying"),
  edit $confdir/refex.json, then: systemctl daemon-reload && systemctl enable --now refex.socket refex-ops.socket refex.service
TXT
fi
