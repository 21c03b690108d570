"""Reading the prepared dataset (``{split}.parquet``, see docs/ARCHITECTURE.md) for training."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sentireview.errors import DataError

COLUMNS = ("id", "rating", "raw", "text", "clean", "label")
#: Seed of the sample that ``limit`` takes (the tutorial's seed).
LIMIT_SEED = 17


def read_split(
    data_dir: str | Path, split: str, column: str, limit: int | None = None
) -> tuple[list[str], list[int]]:
    """Texts of ``column`` and their labels (0/1) from ``data_dir/{split}.parquet``.

    Unlabelled rows (label -1) are skipped; ``limit`` keeps a random sample of N labelled rows
    (seeded, in file order; the prepared files are ordered by source, so the first N rows
    could all have one label). Raises DataError with one line when the folder,
    file or column is missing or the split has no labelled rows."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"data folder not found: {data_dir} (run `sentireview data prepare`)")
    path = data_dir / f"{split}.parquet"
    if not path.exists():
        raise DataError(f"{path} not found: is {data_dir} a prepared dataset?")
    try:
        frame = pd.read_parquet(path, columns=[column, "label"])
    except (KeyError, ValueError) as exc:  # pyarrow reports a missing column as one of these
        raise DataError(f"{path}: cannot read columns {column!r}, 'label': {exc}") from None
    frame = frame[frame["label"] >= 0]
    if limit is not None and limit < len(frame):
        frame = frame.sample(n=max(limit, 0), random_state=LIMIT_SEED).sort_index()
    if frame.empty:
        raise DataError(f"{path} has no labelled reviews")
    labels = frame["label"]
    # Soft labels (a teacher's probabilities, for distillation) stay floats.
    soft = labels.dtype.kind == "f" and bool((labels % 1 != 0).any())
    return frame[column].fillna("").astype(str).tolist(), labels.astype(
        float if soft else int
    ).tolist()


def read_unlabelled(data_dir: str | Path, split: str, column: str) -> list[str]:
    """Texts of ``column`` of every row of ``data_dir/{split}.parquet`` whatever its label
    (the ``unsup`` split: 50,000 unlabelled IMDb reviews)."""
    path = Path(data_dir) / f"{split}.parquet"
    if not path.exists():
        raise DataError(f"{path} not found: is {data_dir} a prepared dataset?")
    try:
        frame = pd.read_parquet(path, columns=[column])
    except (KeyError, ValueError) as exc:
        raise DataError(f"{path}: cannot read column {column!r}: {exc}") from None
    if frame.empty:
        raise DataError(f"{path} has no reviews")
    return frame[column].fillna("").astype(str).tolist()
