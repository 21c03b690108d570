#!/usr/bin/env bash
# Set up everything (all Python extras, the front end, chromium), then run the whole test suite:
# lint, the Python tests (pytest) and the front-end component tests (Vitest).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh all
export PATH="$root/.venv/bin:$PATH"
echo "[test] ruff"
ruff check sentireview tests bench webapp/flask scripts
if [ -f webapp/react/package.json ]; then
    echo "[test] vitest"
    (cd webapp/react && npm test --silent)
fi
echo "[test] pytest"
pytest "$@"
