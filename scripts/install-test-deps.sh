#!/usr/bin/env bash
# Installs the Debian packages the test suite starts on loopback ports: redis-server, PostgreSQL, Dovecot
# (IMAP), ngircd (IRC) and Chromium (browser tests). `npm test` does this itself when run as root; this is
# the same step on its own (CI, or with sudo for a non-root user). Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
  exec sudo "$(command -v node)" scripts/test-deps.js
fi
exec node scripts/test-deps.js
