"""Benchmark: what each part of the shipped model buys, on the official IMDb test split.

Reads the work folder of ``sentireview train shipped`` (``--work``, e.g. ``runs/shipped``:
the prepared data and one run folder per round) and scores, for every round, the LSTM's logit
alone, the wide part's logit alone and the weighted mix the model outputs (its ``mix``).
Extra runs (``--run NAME=DIR``, e.g. an LSTM trained without word vectors) add rows. For the
last round it also scores the float32 weights of its best checkpoint against the float16
weights that are shipped, and with ``--buckets N`` refits the wide part with N hash buckets
(same vocabulary) to show what the bucket count costs.

Usage::

    .venv/bin/python bench/ablation.py                       # runs/shipped
    .venv/bin/python bench/ablation.py --work runs/shipped/with_lm   # member 2's rounds
    .venv/bin/python bench/ablation.py --run no_vectors=runs/ablation/no_vectors \\
        --buckets 4194304 --json bench/results/ablation.json
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("ablation")


def encode(run: Path, texts: list[str]) -> list[list[int]]:
    from sentireview import artifact
    from sentireview.vocab import Vocab

    config = artifact.read_config(run)
    vocab = Vocab.load(run / artifact.VOCAB)
    return [vocab.encode(t, config["text"]["max_tokens"]) for t in texts]


@torch.no_grad()
def part_logits(model: torch.nn.Module, ids: list[list[int]]) -> np.ndarray:
    """(n, 3): the LSTM's logit, the wide logit (zero without a wide part), the model's
    output logit."""
    from sentireview.vocab import pad_ids

    model.eval()
    order = np.argsort([len(i) for i in ids], kind="stable")  # similar lengths: little padding
    out = []
    for start in range(0, len(ids), 256):
        padded, lengths = pad_ids([ids[i] for i in order[start : start + 256]])
        x, n = torch.from_numpy(padded), torch.from_numpy(lengths)
        if has_wide(model):
            parts = model(x, n, parts=True)
        else:  # a plain LSTM: its logit and a zero wide one
            logit = model(x, n)
            parts = torch.stack([logit, torch.zeros_like(logit)], -1)
        out.append(torch.cat([parts, model(x, n).unsqueeze(-1)], dim=-1))
    result = np.empty((len(ids), 3), dtype=np.float32)
    result[order] = torch.cat(out).float().numpy()
    return result


def has_wide(model: torch.nn.Module) -> bool:
    return getattr(model, "wide", None) is not None


def wide_c(training: dict[str, Any]) -> float:
    """The wide part's C of a run's ``training`` config: grouped (``training["optim"]``) or,
    in runs made before the training settings were grouped, flat."""
    optim = training.get("optim")
    if isinstance(optim, dict) and "wide_c" in optim:
        return float(optim["wide_c"])
    return float(training["wide_c"])


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float(((logits > 0).astype(np.int64) == labels).mean())


def score_run(name: str, run: Path, texts: list[str], labels: np.ndarray) -> list[dict[str, Any]]:
    from sentireview.backends.torch import load_model

    model = load_model(run)
    logits = part_logits(model, encode(run, texts))
    rows = [{"row": f"{name}: LSTM alone", "accuracy": accuracy(logits[:, 0], labels)}]
    if has_wide(model):
        rows.append({"row": f"{name}: wide part alone", "accuracy": accuracy(logits[:, 1], labels)})
        rows.append(
            {
                "row": f"{name}: LSTM + wide (mix {[round(float(v), 3) for v in model.mix]})",
                "accuracy": accuracy(logits[:, 2], labels),
            }
        )
    return rows


def float32_row(run: Path, texts: list[str], labels: np.ndarray) -> dict[str, Any] | None:
    """The last round with the float32 weights of its best checkpoint (the shipped mix)."""
    from safetensors.torch import load_file

    from sentireview.backends.torch import load_model

    best = run / "checkpoints" / "lstm-best.safetensors"
    if not best.exists():
        return None
    model = load_model(run)
    shipped_mix = model.mix.detach().clone()
    model.load_state_dict(load_file(str(best)), strict=True)
    with torch.no_grad():
        model.mix.copy_(shipped_mix)
    logits = part_logits(model, encode(run, texts))
    return {"row": "last round, float32 weights", "accuracy": accuracy(logits[:, 2], labels)}


def buckets_row(run: Path, data: Path, texts: list[str], labels: np.ndarray, buckets: int):
    """The wide part alone refitted with ``buckets`` hash buckets on the training split."""
    from sentireview import artifact
    from sentireview.backends.torch import build_model
    from sentireview.data.splits import read_split
    from sentireview.training.wide import fit_wide

    config = artifact.read_config(run)
    model = build_model({**config, "model": dict(config["model"], ngram_buckets=buckets)})
    train_texts, train_labels = read_split(data, "train", "clean")
    t0 = time.perf_counter()
    fit_wide(model, encode(run, train_texts), train_labels, c=wide_c(config["training"]))
    fit_s = time.perf_counter() - t0
    logits = part_logits(model, encode(run, texts))
    return {
        "row": f"wide part alone, {buckets:,} buckets (refitted in {fit_s:.0f} s)",
        "accuracy": accuracy(logits[:, 1], labels),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, default=ROOT / "runs" / "shipped")
    p.add_argument("--run", action="append", default=[], metavar="NAME=DIR")
    p.add_argument("--buckets", type=int, action="append", default=[])
    p.add_argument("--split", default="test")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    torch.set_num_threads(2)

    from sentireview.data.splits import read_split

    data = args.work / "prepared"
    if not data.exists() and (args.work.parent / "prepared").exists():
        data = args.work.parent / "prepared"  # member 2's rounds: work/with_lm
    texts, labels_list = read_split(data, args.split, "clean")
    labels = np.asarray(labels_list)
    rounds = sorted(args.work.glob("round*"), key=lambda r: int(r.name[5:]))
    rows: list[dict[str, Any]] = []
    for spec in args.run:
        name, _, path = spec.partition("=")
        rows += score_run(name, Path(path), texts, labels)
    for run in rounds:
        if (run / "model.safetensors").exists():
            rows += score_run(run.name, run, texts, labels)
    if rounds:
        row = float32_row(rounds[-1], texts, labels)
        if row:
            rows.append(row)
        for buckets in args.buckets:
            rows.append(buckets_row(rounds[-1], data, texts, labels, buckets))
    print(f"\n{args.split} split, {len(labels):,} reviews\n")
    print("| row | accuracy |\n|---|---:|")
    for r in rows:
        print(f"| {r['row']} | {100 * r['accuracy']:.2f}% |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"split": args.split, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
