#!/usr/bin/env bash
# Mutation testing (docs/TESTING.md): mutmut on three modules, each with only its own tests,
# each in a scratch copy of the repository (mutmut rewrites the sources it mutates).
#
#   bash scripts/mutation.sh [WORK_DIR] [SECONDS_PER_MODULE]
#
# Needs the test environment (bash scripts/test.sh) and `pip install mutmut==3.8.1`. Results:
# WORK_DIR/<module>/results.txt (one line per mutant) and run.log. Each pytest run gets its own
# --basetemp: pytest deletes old numbered temp folders of the same user, which would break
# other test sessions running at the same time.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/sentireview-mutation}"
limit="${2:-1800}"
mutmut="$root/.venv/bin/mutmut"
[ -x "$mutmut" ] || { echo "mutation: $mutmut not found (pip install mutmut==3.8.1)" >&2; exit 1; }

run() {  # name, file to mutate (as seen from the copy's root), test files...
    local name=$1 target=$2; shift 2
    local dir="$work/$name"
    rm -rf "$dir"; mkdir -p "$dir"
    (cd "$root" && git ls-files -z | xargs -0 -I{} cp --parents {} "$dir"/)
    cp -r "$root/webapp/flask/ml_model" "$dir/webapp/flask/"
    # the web package at the top level, so that it is imported from the copy as senti_api
    mv "$dir/webapp/flask/senti_api" "$dir/senti_api"
    ln -s webapp/flask/ml_model "$dir/ml_model"  # where senti_api now looks for its model
    local tests; tests=$(printf '"%s", ' "$@")
    cat >> "$dir/pyproject.toml" <<TOML

[tool.mutmut]
source_paths = ["sentireview", "senti_api"]
only_mutate = ["$target"]
pytest_add_cli_args_test_selection = [${tests%, }]
also_copy = ["tests", "webapp"]
mutate_only_covered_lines = true
pytest_add_cli_args = ["-p", "no:randomly", "-p", "no:cacheprovider", "-q", "-x", "--basetemp=$dir/pytest-tmp"]
TOML
    cd "$dir" || return
    local start; start=$(date +%s)
    timeout "$limit" "$mutmut" run --max-children 1 > run.log 2>&1
    echo "exit $? after $(( $(date +%s) - start )) s" >> run.log
    "$mutmut" results --all true > results.txt 2>&1
    echo "$name: $(grep -c ': killed' results.txt) killed, $(grep -c ': survived' results.txt) survived, $(grep -c ': timeout' results.txt) timeouts, $(grep -c ': no tests' results.txt) without tests, $(grep -c ': not checked' results.txt) not checked"
}

run text sentireview/text.py tests/test_text.py
run loop sentireview/training/loop.py tests/training/test_loop.py
run api senti_api/api.py tests/webapp/test_web_api.py tests/webapp/test_web_bad_input.py \
    tests/webapp/test_web_hardening.py
