#!/usr/bin/env bash
# Set up this checkout: the virtual environment at .venv/, the front-end build and, for
# `all`, Debian's chromium for the browser tests. Idempotent: every step is skipped when
# what it depends on has not changed since its last success.
#
#   bash scripts/setup.sh web   # what the web app needs (no torch)
#   bash scripts/setup.sh all   # every extra: web, train, notebooks, test; chromium
set -euo pipefail

mode="${1:-all}"
case "$mode" in web|all) ;; *) echo "usage: $0 [web|all]" >&2; exit 2 ;; esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.venv"
py="${PYTHON:-python3}"

say() { printf '[setup] %s\n' "$*"; }

# 1. Python and the virtual environment
if [ -d "$venv" ] && ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    say "removing a broken $venv (no working pip in it)"
    rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
    "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || { echo "setup: Python 3.11+ is needed (found $("$py" --version 2>&1))" >&2; exit 1; }
    "$py" -c 'import ensurepip, venv' 2>/dev/null \
        || { echo "setup: Python's venv module is missing: sudo apt-get install python3-venv" >&2; exit 1; }
    say "creating $venv"
    "$py" -m venv "$venv" || { rm -rf "$venv"; exit 1; }
fi

# 2. Python packages, pinned by constraints.txt (torch==2.13.0 there is the CPU build)
extras=""
[ "$mode" = all ] && extras="[test]"
stamp="$venv/.sentireview-setup-$mode"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Python packages ($mode)"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -c constraints.txt -e ".$extras"
    echo "$want" > "$stamp"
else
    say "Python packages up to date ($mode)"
fi

# 3. The React front end, built into webapp/react/dist (served by Flask at /)
if [ -f scripts/build_frontend.sh ]; then
    if command -v npm >/dev/null 2>&1; then
        bash scripts/build_frontend.sh
    else
        say "npm not found: the web page will not be built (install Node.js 20)"
        [ "$mode" = all ] && exit 1
    fi
fi

# 4. Debian's chromium for the browser tests
if [ "$mode" = all ] && [ ! -x /usr/bin/chromium ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    say "installing Debian's chromium (apt)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
say "done ($mode)"
