#!/bin/sh
# Fetches the pinned ALTCHA widget (the proof of work the entry and invitation forms ask for
# when a contest is flooded, contest/botguard.py) from the npm registry: its "external" build,
# whose styles and worker are separate files served from this site (no inline script, style or
# blob worker: the Content-Security-Policy stays strict). Forms work without it (the server
# takes a form sent without a solution under a stricter limit per network), so a machine
# without npm gets a warning, not a failure.
set -eu
version="$1"; target="$2"  # target: static/js/altcha.min.js; the other files go beside it
if ! command -v npm >/dev/null 2>&1; then
  echo "warning: npm not found; forms will work without the ALTCHA widget (install Node.js to get it)" >&2
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if (cd "$work" && npm pack --silent "altcha@$version" >/dev/null 2>&1); then
  tar -xzf "$work"/altcha-*.tgz -C "$work"
  js=$(dirname "$target")
  css="$js/../css"
  mkdir -p "$js" "$css"
  cp "$work/package/dist/workers/pbkdf2.js" "$js/altcha-pbkdf2.js"
  cp "$work/package/dist/i18n/fr-fr.js" "$js/altcha-fr.js"
  cp "$work/package/dist/external/altcha.css" "$css/altcha.css"
  cp "$work/package/dist/external/altcha.min.js" "$target"  # last: the make target's file
  echo "altcha $version installed in $js (and its styles in $css)"
else
  echo "warning: could not fetch altcha@$version from the npm registry; forms work without it" >&2
fi
