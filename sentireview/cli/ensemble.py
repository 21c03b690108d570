"""``sentireview ensemble RUN RUN ... --out DIR``: LSTM runs combined into one artifact."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "ensemble",
        help="combine LSTM runs (same vocabulary and shape) into one model: their mean logit",
    )
    p.add_argument("runs", type=Path, nargs="+", help="two or more LSTM run folders")
    p.add_argument("--out", type=Path, required=True, help="folder for the combined artifact")
    p.add_argument("--name", default=None, help="model name in config.json")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from sentireview.ensemble import combine

    print(combine(args.runs, args.out, name=args.name, overwrite=args.overwrite))
    return 0
