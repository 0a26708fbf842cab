#!/usr/bin/env bash
# Installs the Debian packages the test suite starts on loopback ports: redis-server, dovecot (IMAP),
# ngircd (IRC), PostgreSQL and Chromium (browser tests). Needs root (or sudo). Safe to run twice.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/lib/postgresql/15/bin/$1" ]; }

need=()
have redis-server || need+=(redis-server)
have dovecot || need+=(dovecot-imapd)
have ngircd || need+=(ngircd)
have chromium || need+=(chromium)
have pg_ctl || have initdb || need+=(postgresql)

if ((${#need[@]})); then
  echo "installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
