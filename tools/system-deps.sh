#!/bin/sh
# The system packages the tests need: PostgreSQL's server binaries (the suite runs on SQLite
# and PostgreSQL), Debian's Chromium (browser tests, Lighthouse), libfaketime (`make
# test-future` runs the suite with the clock 400 days ahead), a Java runtime (the W3C Nu HTML
# checker), npm (the page checkers of tools/checkers) and nginx (the deployment recipe of
# docs/deploy.md is tested behind it); with --bench, also wrk (the HTTP load generator of `make
# bench`). Installed when missing and root.
set -eu
missing=""
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  missing="$missing postgresql"
fi
if ! command -v chromium >/dev/null 2>&1; then
  missing="$missing chromium"
fi
# The library, not the `faketime` command: the Makefile preloads it (its folder is named after
# the architecture).
if ! ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1; then
  missing="$missing faketime"
fi
if ! command -v java >/dev/null 2>&1; then
  missing="$missing default-jre-headless"
fi
if ! command -v npm >/dev/null 2>&1; then
  missing="$missing npm"
fi
# nginx lives in /usr/sbin, outside a user's PATH.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  missing="$missing nginx"
fi
if [ "${1:-}" = "--bench" ] && ! command -v wrk >/dev/null 2>&1; then
  missing="$missing wrk"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages:$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  # The packaged cluster is not used: tests start their own throwaway servers.
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters -h 2>/dev/null | while read -r ver name _; do
      pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true
    done
  fi
  # Nor is the packaged nginx site on port 80: tests and benchmarks start their own nginx.
  case "$missing" in
    *nginx*)
      { systemctl disable --now nginx || service nginx stop || /usr/sbin/nginx -s quit; } \
        >/dev/null 2>&1 || true
      ;;
  esac
else
  echo "Missing system packages:$missing" >&2
  echo "Install them with: sudo apt-get install$missing" >&2
  exit 1
fi
