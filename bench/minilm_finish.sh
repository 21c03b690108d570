#!/usr/bin/env bash
# Issue 15, sections 4 and 5: once bench/minilm_full_run.sh has finished training RUN_DIR,
# measure it on the full official test split (both stages, PyTorch), export it as int8 ONNX
# and measure the int8 model on the same 25,000 reviews (ONNX Runtime), in the background:
#
#   bash bench/minilm_finish.sh PREPARED_DIR RUN_DIR >> RUN_DIR.finish.log 2>&1 &
#
# Each step is skipped when its output exists, so an interrupted run is started again as is.
# Writes RUN_DIR/metrics.json (evaluate), RUN_DIR/model.onnx (int8) and
# RUN_DIR/int8-test-metrics.json (the int8 model's figures).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${1:?usage: minilm_finish.sh PREPARED_DIR RUN_DIR}"
run="${2:?usage: minilm_finish.sh PREPARED_DIR RUN_DIR}"
cli="$root/.venv/bin/sentireview"
export HF_HUB_OFFLINE=1
[ -f "$run/model.safetensors" ] || { echo "$run: training has not finished"; exit 1; }
if [ ! -f "$run/metrics.json" ]; then
    echo "[finish] $(date -u +%FT%TZ) evaluate (PyTorch, both stages)"
    nice -n 5 "$cli" evaluate "$run" --data "$data" --split test --backend torch
fi
if [ ! -f "$run/model.onnx" ]; then
    echo "[finish] $(date -u +%FT%TZ) export int8"
    nice -n 5 "$cli" export "$run" --format onnx --quantize int8
fi
if [ ! -f "$run/int8-test-metrics.json" ]; then
    echo "[finish] $(date -u +%FT%TZ) evaluate int8 (ONNX Runtime)"
    served="$run.int8"
    rm -rf "$served" && mkdir -p "$served"
    cp "$run/config.json" "$run/model.onnx" "$served/" && cp -r "$run/tokenizer" "$served/"
    nice -n 5 "$cli" evaluate "$served" --data "$data" --split test --backend onnx
    cp "$served/metrics.json" "$run/int8-test-metrics.json"
fi
echo "[finish] $(date -u +%FT%TZ) done"
