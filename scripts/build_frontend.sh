#!/usr/bin/env bash
# Build the React page into webapp/react/dist (served by Flask at /). The one build used by
# scripts/setup.sh and by Heroku (root package.json: "heroku-postbuild").
#
# `npm ci` runs only when node_modules is missing or package-lock.json (or Node's major version)
# changed since the last install; `npm run build` always runs (about a second), so build-time
# settings such as VITE_REPO_URL are never stale. `--prune` (Heroku) removes node_modules after
# the build, keeping about 90 MB of build tools out of the slug.
set -euo pipefail
prune=0
[ "${1:-}" = "--prune" ] && prune=1

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
app="$root/webapp/react"
say() { printf '[frontend] %s\n' "$*"; }

command -v npm >/dev/null 2>&1 || { echo "build_frontend: npm not found (install Node.js 20.19+)" >&2; exit 1; }
cd "$app"

stamp="node_modules/.sentireview-lock.sha256"
want="$( { sha256sum package-lock.json | cut -d' ' -f1; node -p 'process.versions.node.split(".")[0]'; } | tr '\n' ' ')"
if [ -d node_modules ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    say "npm packages up to date, skipping npm ci"
else
    say "installing npm packages (npm ci)"
    # --include=dev: Heroku sets NODE_ENV=production, which would leave out vite itself.
    npm ci --include=dev --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
fi

say "building (npm run build)"
npm run build --silent
test -f dist/index.html || { echo "build_frontend: dist/index.html is missing after the build" >&2; exit 1; }
say "built $app/dist"
if [ "$prune" = 1 ]; then
    rm -rf node_modules
    say "removed node_modules (--prune)"
fi
