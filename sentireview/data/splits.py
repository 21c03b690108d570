"""Reading the prepared splits that :mod:`.prepare` writes (``{split}.parquet`` and
``manifest.json``, see docs/ARCHITECTURE.md), and writing a split scored by a teacher.

The one reader of prepared data: training, evaluation, teacher scoring and the benchmarks
all come here. A split's ``label`` is 0/1 (-1: unlabelled); a scored split
(:func:`write_scored_split`) holds a teacher's P(positive) instead, read back as floats.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from sentireview.errors import DataError
from sentireview.files import atomic_path

log = logging.getLogger(__name__)

COLUMNS = ("id", "rating", "raw", "text", "clean", "label")
#: Seed of the sample that ``limit`` takes (the tutorial's seed).
LIMIT_SEED = 17


def split_path(data_dir: str | Path, split: str) -> Path:
    """``data_dir/{split}.parquet``; a path ending in ``.parquet`` is taken as it is."""
    if str(split).endswith(".parquet"):
        return Path(split)
    return Path(data_dir) / f"{split}.parquet"


def read_frame(data_dir: str | Path, split: str, columns: Sequence[str]) -> pd.DataFrame:
    """These columns of a split, every row; one-line DataError when the folder, the file or
    a column is missing."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"data folder not found: {data_dir} (run `sentireview data prepare`)")
    path = split_path(data_dir, split)
    if not path.exists():
        raise DataError(f"{path} not found: is {data_dir} a prepared dataset?")
    try:
        return pd.read_parquet(path, columns=list(columns))
    except (KeyError, ValueError) as exc:  # pyarrow reports a missing column as one of these
        raise DataError(f"{path}: cannot read columns {list(columns)}: {exc}") from None


def read_split(
    data_dir: str | Path, split: str, column: str, limit: int | None = None
) -> tuple[list[str], list[int]]:
    """Texts of ``column`` and their labels from a split.

    Unlabelled rows (label -1) are skipped; ``limit`` keeps a random sample of N labelled rows
    (seeded, in file order; the prepared files are ordered by source, so the first N rows
    could all have one label). Raises DataError when the split has no labelled rows."""
    frame = read_frame(data_dir, split, [column, "label"])
    frame = frame[frame["label"] >= 0]
    if limit is not None and limit < len(frame):
        frame = frame.sample(n=max(limit, 0), random_state=LIMIT_SEED).sort_index()
    if frame.empty:
        raise DataError(f"{split_path(data_dir, split)} has no labelled reviews")
    labels = frame["label"]
    # Soft labels (a teacher's probabilities, for distillation) stay floats.
    soft = labels.dtype.kind == "f" and bool((labels % 1 != 0).any())
    return frame[column].fillna("").astype(str).tolist(), labels.astype(
        float if soft else int
    ).tolist()


def read_unlabelled(data_dir: str | Path, split: str, column: str) -> list[str]:
    """Texts of ``column`` of every row of a split whatever its label (the ``unsup`` split:
    50,000 unlabelled IMDb reviews)."""
    frame = read_frame(data_dir, split, [column])
    if frame.empty:
        raise DataError(f"{split_path(data_dir, split)} has no reviews")
    return frame[column].fillna("").astype(str).tolist()


def dataset_recipe(data_dir: str | Path) -> str:
    """The cleaning recipe of the ``clean`` column, from ``manifest.json`` (the predictor
    re-applies it); "tutorial" with a warning when there is no manifest."""
    path = Path(data_dir) / "manifest.json"
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("recipe", "tutorial"))
    except FileNotFoundError:
        log.warning("%s has no manifest.json: assuming the 'tutorial' recipe", data_dir)
        return "tutorial"
    except ValueError as exc:
        raise DataError(f"{path} is not valid JSON: {exc}") from None


def write_scored_split(
    path: str | Path, columns: Mapping[str, Sequence[str]], scores: Sequence[float]
) -> Path:
    """A split whose ``label`` is a teacher's P(positive) (soft labels for distillation):
    one column per entry of ``columns`` (``text``, ``clean``: the same reviews in each),
    ``label`` the scores (float64); written atomically."""
    for name, texts in columns.items():
        if len(texts) != len(scores):
            raise DataError(f"{len(texts)} texts ({name}) but {len(scores)} scores")
    frame = pd.DataFrame({name: list(texts) for name, texts in columns.items()})
    frame["label"] = [float(s) for s in scores]
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
    return Path(path)
