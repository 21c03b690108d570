"""``sentireview evaluate RUN --data DIR [--split test]``: report, plots, metrics.json."""

from __future__ import annotations

import argparse
from pathlib import Path

from sentireview.cli import positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("evaluate", help="evaluate a run folder on a prepared split")
    p.add_argument("run", type=Path, help="run folder (the artifact)")
    p.add_argument("--data", type=Path, required=True, help="prepared dataset folder")
    p.add_argument("--split", default="test", help="split to evaluate (default: test)")
    p.add_argument(
        "--limit", type=positive_int, default=None, metavar="N",
        help="a seeded random sample of N reviews only",
    )
    p.add_argument("--backend", choices=("torch", "onnx"), default="torch")
    p.add_argument("--batch-size", type=int, default=128)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from sentireview.evaluate import evaluate_run

    metrics = evaluate_run(
        args.run, args.data, args.split, args.limit, args.backend, args.batch_size
    )
    print(metrics["report_text"])
    print(f"accuracy {metrics['accuracy']:.4f}  ({metrics['n']} reviews, {args.split})")
    return 0
