"""Benchmark: what each step of the shipped recipe buys, on IMDb's test split and the short sets.

Reads the work folder of ``sentireview train shipped`` (``--work``, e.g. ``runs/shipped``:
the prepared data, ``round0``, ``student`` and the teacher's data) and scores each run: the
model's output (the weighted mix of its two parts), the LSTM's logit alone and the wide
part's logit alone on the official test split, and the model on the short test sets. With
``--train`` it first trains the ablation's students (``work/ablation/NAME``, resumable), each
the recipe's student without one thing (``VARIANTS``). Extra runs (``--run NAME=DIR``) add
rows.

The test sets choose nothing here: every run was trained by a fixed rule, and the recipe's
own choice (``work/final.json``) was made on validation data before this benchmark ran. Each
row also gives what that choice reads (IMDb validation accuracy and log loss, the written dev
part): whether a step earns its keep is read from those columns, the test columns report.

Usage::

    .venv/bin/python bench/ablation.py --work runs/shipped --train \\
        --json bench/results/ablation.json

Two processes may share the students out (``--variants no_unsup,no_pieces`` and the rest);
the threads each uses: ``SENTIREVIEW_THREADS`` (default 2). How much a figure moves with the
training seed alone: ``--seeds 18,19`` trains the recipe's student and the named variants
again with those seeds (``work/ablation/seeds/NAME_sSEED``, rows of the table too)::

    .venv/bin/python bench/ablation.py --work runs/shipped --train --variants no_pieces \
        --seeds 18,19 --json bench/results/ablation.json
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
SHORT = (ROOT / "bench" / "short_reviews.tsv", ROOT / "bench" / "short_own.tsv")

#: The student without one thing each: a part of what it learns from besides the labelled
#: reviews, the teacher on the unlabelled reviews (``unsup_by_round0``: round 0 scores them
#: alone, the self-distillation of earlier recipes), or the word vectors (a random embedding).
VARIANTS = ("no_unsup", "no_pieces", "no_written", "unsup_by_round0", "no_vectors")


def variant_files(cfg: Any, name: str) -> list[Path]:
    """The scored splits the student of variant ``name`` learns from (``"student"``: all of
    the recipe's)."""
    parts = cfg.part_files()
    if name == "unsup_by_round0":
        parts["unsup"] = [by_round0(cfg)]
    elif name.startswith("no_") and name[3:] in parts:
        del parts[name[3:]]
    return [f for files in parts.values() for f in files]


def by_round0(cfg: Any) -> Path:
    """The unlabelled reviews scored by round 0 alone, made from the recipe's round 0 in
    ``work/ablation/scores`` (removed with the students when the recipe scores again)."""
    return cfg.work / "ablation" / "scores" / "unsup_round0.parquet"


def make_scores(cfg: Any, names: list[str]) -> None:
    """Round 0's own scores of the unlabelled reviews, if a variant in ``names`` needs them."""
    from sentireview.teacher import score_split

    path = by_round0(cfg)
    if "unsup_by_round0" in names and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        score_split([cfg.work / "round0"], cfg.data, path)


def train_student(cfg: Any, name: str, out: Path) -> None:
    """The student of variant ``name`` (``"student"``: the recipe's own) in ``out``, trained
    with ``cfg.seed``."""
    from sentireview.recipes.shipped import train_run

    out.parent.mkdir(parents=True, exist_ok=True)
    train_run(cfg, out, cfg.student_epochs, variant_files(cfg, name),
              vectors=name != "no_vectors")


def train_variants(cfg: Any, names: list[str], seeds: Sequence[int] = ()) -> None:
    """The variants in ``names`` with the recipe's seed (``work/ablation/NAME``); then the
    recipe's student and those variants again with each of ``seeds`` on the same scored data
    (``work/ablation/seeds/NAME_sSEED``): how much a figure moves by the seed alone."""
    make_scores(cfg, names)
    for name in names:
        train_student(cfg, name, cfg.work / "ablation" / name)
    for seed in seeds:
        for name in ["student", *names]:
            out = cfg.work / "ablation" / "seeds" / f"{name}_s{seed}"
            train_student(dataclasses.replace(cfg, seed=seed), name, out)


def encode(run: Path, texts: list[str]) -> list[list[int]]:
    from sentireview import artifact
    from sentireview.vocab import Vocab

    config = artifact.read_config(run)
    vocab = Vocab.load(run / artifact.VOCAB)
    return [vocab.encode(t, config["text"]["max_tokens"]) for t in texts]


@torch.no_grad()
def part_logits(model: torch.nn.Module, ids: list[list[int]]) -> np.ndarray:
    """(n, 3): the LSTM's logit, the wide logit, the model's output logit."""
    from sentireview.vocab import pad_ids

    model.eval()
    order = np.argsort([len(i) for i in ids], kind="stable")  # similar lengths: little padding
    out = []
    for start in range(0, len(ids), 256):
        padded, lengths = pad_ids([ids[i] for i in order[start : start + 256]])
        x, n = torch.from_numpy(padded), torch.from_numpy(lengths)
        parts = model(x, n, parts=True)
        out.append(torch.cat([parts, model(x, n).unsqueeze(-1)], dim=-1))
    result = np.empty((len(ids), 3), dtype=np.float32)
    result[order] = torch.cat(out).float().numpy()
    return result


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float(((logits > 0).astype(np.int64) == labels).mean())


def score_run(
    name: str, run: Path, texts: list[str], labels: np.ndarray, short: list[Path], cfg: Any
) -> dict[str, Any]:
    from sentireview.evaluate import tsv_accuracy
    from sentireview.predict import Predictor
    from sentireview.recipes.common import validation

    predictor = Predictor.load(run, backend="torch")  # its torch module: the parts' logits
    logits = part_logits(predictor.backend.model, encode(run, texts))
    row: dict[str, Any] = {
        "run": name,
        "mix": accuracy(logits[:, 2], labels),
        "lstm": accuracy(logits[:, 0], labels),
        "wide": accuracy(logits[:, 1], labels),
    }
    dev = cfg.work / "written_dev.parquet"  # what the recipe's choice reads
    if dev.is_file():
        row["valid"] = validation(run, cfg.data, dev)
    for path in short:
        row[path.name] = tsv_accuracy(predictor, path)["accuracy"]
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, default=ROOT / "runs" / "shipped")
    p.add_argument("--train", action="store_true", help="train the ablation's students first")
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help="which students to train, comma-separated (default: all; two "
                        "processes may share the variants out)")
    p.add_argument("--seeds", default="",
                   help="with --train: also train the recipe's student and the variants with "
                        "these seeds, comma-separated (work/ablation/seeds/NAME_sSEED)")
    p.add_argument("--no-table", action="store_true",
                   help="only train (with --train): another process makes the table")
    p.add_argument("--run", action="append", default=[], metavar="NAME=DIR")
    p.add_argument("--short", type=Path, action="append", default=None,
                   help="short test sets (default: bench/short_reviews.tsv, short_own.tsv)")
    p.add_argument("--split", default="test")
    p.add_argument("--json", type=Path)
    p.add_argument("--seed", type=int, default=17, help="the recipe's seed (default: 17)")
    p.add_argument("--epochs", type=int, default=None, help="students' epochs (tests)")
    p.add_argument("--buckets", type=int, default=None, help="wide part's buckets (tests)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    os.environ.setdefault("SENTIREVIEW_THREADS", "2")
    from sentireview.backends.onnx import default_threads

    torch.set_num_threads(default_threads())

    from sentireview.data.splits import read_split
    from sentireview.recipes.shipped import ShippedConfig

    for spec in args.run:
        if not spec.partition("=")[1]:
            p.error(f"--run takes NAME=DIR, got {spec!r}")
    cfg = ShippedConfig(work=args.work, seed=args.seed)
    if args.epochs is not None:
        cfg = dataclasses.replace(cfg, student_epochs=args.epochs)
    if args.buckets is not None:
        cfg = dataclasses.replace(
            cfg, model=dataclasses.replace(cfg.model, ngram_buckets=args.buckets)
        )
    names = [n for n in args.variants.split(",") if n]
    if unknown := sorted(set(names) - set(VARIANTS)):
        p.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    try:
        seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
    except ValueError:
        p.error(f"--seeds takes comma-separated integers, got {args.seeds!r}")
    if args.train:
        train_variants(cfg, names, seeds)
    if args.no_table:
        return 0
    short = [s for s in (args.short or SHORT) if s.is_file()]
    texts, labels_list = read_split(cfg.data, args.split, "clean")
    labels = np.asarray(labels_list)
    runs = [("round0", args.work / "round0"), ("student", args.work / "student")]
    runs += [(name, args.work / "ablation" / name) for name in VARIANTS]
    runs += [(d.name, d) for d in sorted((args.work / "ablation" / "seeds").glob("*_s*"))]
    runs += [(n, Path(d)) for n, _, d in (spec.partition("=") for spec in args.run)]
    rows = [
        score_run(name, run, texts, labels, short, cfg)
        for name, run in runs
        if (run / "model.safetensors").exists()
    ]
    print(f"\n{args.split} split, {len(labels):,} reviews; short sets: "
          f"{', '.join(s.name for s in short) or 'none'}\n")
    print("| run | valid accuracy | valid log loss | written dev | mix (the model) | LSTM alone "
          "| wide alone | " + " | ".join(s.name for s in short) + " |")
    print("|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(short))
    for r in rows:
        v = r.get("valid", {})
        front = [f"{v[k]:.4f}" if v else "-" for k in ("accuracy", "loss", "written_dev")]
        cells = [r["mix"], r["lstm"], r["wide"], *(r[s.name] for s in short)]
        print(f"| {r['run']} | " + " | ".join(front) + " | "
              + " | ".join(f"{100 * c:.2f}%" for c in cells) + " |")
    if args.json:
        from sentireview.files import write_json

        args.json.parent.mkdir(parents=True, exist_ok=True)
        write_json(args.json, {"split": args.split, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
