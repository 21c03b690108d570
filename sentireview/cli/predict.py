"""``sentireview predict RUN "text" ...`` or ``--input reviews.csv --output out.csv``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sentireview.errors import SentiReviewError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("predict", help="predict the sentiment of reviews")
    p.add_argument("run", type=Path, help="run folder (the artifact)")
    p.add_argument("texts", nargs="*", help="reviews to classify")
    p.add_argument("--input", type=Path, help="CSV file with a review column")
    p.add_argument("--column", default=None, help="column of --input (default: review or text)")
    p.add_argument("--output", type=Path, help="CSV to write (default: JSON lines on stdout)")
    p.add_argument("--backend", choices=("auto", "torch", "onnx"), default="auto")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from sentireview.predict import Predictor

    if bool(args.texts) == bool(args.input):
        raise SentiReviewError("give either review texts or --input FILE.csv")
    frame = None
    if args.input:
        import pandas as pd

        try:
            frame = pd.read_csv(args.input)
        except (OSError, ValueError) as exc:
            raise SentiReviewError(f"cannot read {args.input}: {exc}") from None
        column = args.column or next((c for c in ("review", "text", "raw") if c in frame), None)
        if column is None or column not in frame:
            raise SentiReviewError(
                f"{args.input} has no column {args.column or 'review/text'}; columns: "
                f"{', '.join(map(str, frame.columns))}"
            )
        texts = frame[column].fillna("").astype(str).tolist()
    else:
        texts = list(args.texts)
    results = Predictor.load(args.run, backend=args.backend).predict(texts)
    if args.output:
        import pandas as pd

        out = frame.copy() if frame is not None else pd.DataFrame({"review": texts})
        out["sentiment"] = [r["sentiment"] for r in results]
        out["score"] = [r["score"] for r in results]
        out.to_csv(args.output, index=False)
    else:
        for text, r in zip(texts, results, strict=True):
            sys.stdout.write(json.dumps({"review": text[:80], **r}) + "\n")
    return 0
