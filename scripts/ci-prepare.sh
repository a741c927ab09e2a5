#!/usr/bin/env bash
# Installs and starts the things outside npm that the tests use: PostgreSQL (already on this
# machine kind; started if stopped), Chromium (web UI tests), swaks (SMTP end-to-end), rbldnsd and
# dig and SpamAssassin (DNS blocklist and its consumer), iproute2 and socat (multi-host test). Safe to
# run twice.
set -uo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
# Chromium's French interface (the webmail extension's French test): without it Chromium stays English.
[ -e /usr/lib/chromium/locales/fr.pak ] || need+=(chromium-l10n)
command -v swaks >/dev/null || need+=(swaks)
command -v openssl >/dev/null || need+=(openssl)
command -v rbldnsd >/dev/null || need+=(rbldnsd)
command -v dig >/dev/null || need+=(dnsutils)
command -v spamassassin >/dev/null || need+=(spamassassin)
command -v psql >/dev/null || need+=(postgresql)
# The multi-host test (src/app/multihost.e2e.test.ts): network namespaces and a TCP forwarder.
command -v ip >/dev/null || need+=(iproute2)
command -v socat >/dev/null || need+=(socat)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || echo "ci-prepare: apt-get install ${need[*]} failed" >&2
fi
if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || echo "ci-prepare: could not start PostgreSQL" >&2
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 && break; sleep 1; done
fi
exit 0
