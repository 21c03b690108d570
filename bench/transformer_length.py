"""Benchmark: what a transformer's token limit costs in time and buys in accuracy.

Reads a transformer artifact (e.g. ``webapp/flask/minilm_model``) with the limit it was
trained with (the baseline, the first row) and with shorter limits set at inference only (same
weights, same truncation rule): IMDb validation accuracy, and p50 for one review at a time on
one core (tokenizer included) over a seeded sample of validation reviews. Every row is
measured in the same run and compared with the baseline row. The validation split only: a
test set chooses nothing here either.

    python bench/transformer_length.py --model webapp/flask/minilm_model \\
        --prepared PREPARED [--lengths 192,160,128] [--latency-reviews 200] [--json FILE]
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
from pathlib import Path

os.environ["SENTIREVIEW_THREADS"] = "1"  # one ONNX Runtime thread, before any session is made

import numpy as np  # noqa: E402
from accuracy import latency_p50_ms  # noqa: E402  (bench/ is the script's folder)

from sentireview.data.splits import read_split  # noqa: E402
from sentireview.errors import SentiReviewError  # noqa: E402
from sentireview.evaluate import classification_metrics  # noqa: E402
from sentireview.kinds import get_kind  # noqa: E402
from sentireview.predict import Predictor, score_texts, text_preparer  # noqa: E402

log = logging.getLogger("bench")


def with_limit(base: Predictor, max_tokens: int) -> Predictor:
    """The same weights and back end, reading at most ``max_tokens`` tokens."""
    config = copy.deepcopy(base.config)
    config["text"]["max_tokens"] = max_tokens
    encode = get_kind(config["kind"]).encoder(base.run_dir, config)
    return Predictor(config, base.backend, encode, text_preparer(config), base.run_dir)


def limits(text: str) -> list[int]:
    """``--lengths``: comma-separated positive token limits."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from None
    if not values or min(values) < 4:
        raise argparse.ArgumentTypeError(f"token limits of at least 4 expected: {text!r}")
    return values


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, required=True, help="a transformer artifact folder")
    p.add_argument("--prepared", type=Path, required=True, help="a prepared dataset")
    p.add_argument("--lengths", type=limits, default=[192, 160, 128],
                   help="shorter token limits to try (comma-separated)")
    p.add_argument("--latency-reviews", type=int, default=200)
    p.add_argument("--limit-valid", type=int, help="a seeded sample of N validation reviews")
    p.add_argument("--backend", default="auto", choices=("auto", "onnx", "torch"))
    p.add_argument("--json", type=Path, help="also write the rows here")
    args = p.parse_args(argv)
    if args.latency_reviews < 1:
        p.error("--latency-reviews must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    try:
        base = Predictor.load(args.model, backend=args.backend)
        if base.config["kind"] != "transformer":
            p.error(f"{args.model} is a {base.config['kind']} model, not a transformer")
        trained = int(base.config["text"].get("max_tokens") or 512)  # the encoder's default
        column = base.config["text"].get("column", "clean")
        texts, labels = read_split(args.prepared, "valid", column, limit=args.limit_valid)
        sample = np.random.default_rng(0).permutation(len(texts))[: args.latency_reviews]
        timed = [texts[i] for i in sample]
        rows = []
        for n in dict.fromkeys([trained, *args.lengths]):  # the trained limit first, once
            predictor = with_limit(base, n)
            scores = score_texts(predictor, texts, batch_size=32)
            p50 = latency_p50_ms(lambda t, pr=predictor: pr.predict_proba([t], prepared=True),
                                 timed)
            rows.append({"max_tokens": n, "p50_ms": p50,
                         "valid_accuracy": classification_metrics(np.array(labels), scores)[
                             "accuracy"]})
    except SentiReviewError as exc:
        p.error(str(exc))
    first = rows[0]
    print(f"{args.model} ({base.backend_name}, trained at {trained} tokens); "
          f"{len(texts)} validation reviews, p50 over {len(timed)} one at a time, one core")
    for row in rows:
        row["p50_vs_trained"] = row["p50_ms"] / first["p50_ms"]
        row["accuracy_vs_trained"] = row["valid_accuracy"] - first["valid_accuracy"]
        print(f"  {row['max_tokens']:>4} tokens: accuracy {row['valid_accuracy']:.4f} "
              f"({100 * row['accuracy_vs_trained']:+.2f} points), p50 {row['p50_ms']:.1f} ms "
              f"({row['p50_vs_trained']:.2f}x)")
    if args.json:
        args.json.write_text(json.dumps({"model": str(args.model), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
