#!/bin/sh
# Fetches the pinned htmx build from the npm registry. Pages work without it (htmx only
# enhances), so a machine without npm gets a warning, not a failure.
set -eu
version="$1"; target="$2"
if ! command -v npm >/dev/null 2>&1; then
  echo "warning: npm not found; pages will work without htmx (install Node.js to get it)" >&2
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if (cd "$work" && npm pack --silent "htmx.org@$version" >/dev/null 2>&1); then
  tar -xzf "$work"/htmx.org-*.tgz -C "$work"
  mkdir -p "$(dirname "$target")"
  cp "$work/package/dist/htmx.min.js" "$target"
  echo "htmx $version installed in $target"
else
  echo "warning: could not fetch htmx.org@$version from the npm registry; pages work without it" >&2
fi
