#!/usr/bin/env bash
# Set up what the web app needs, then run it exactly as the Procfile does, on 127.0.0.1:8000.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh web
export HOST="${HOST:-127.0.0.1}" PORT="${PORT:-8000}" PATH="$root/.venv/bin:$PATH"
web_command="$(sed -n 's/^web:[[:space:]]*//p' Procfile)"
echo "[serve] http://$HOST:$PORT  ($web_command)"
exec bash -c "exec $web_command"
