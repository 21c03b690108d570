"""Source (aclImdb folder, .tar.gz, or a CSV in Kaggle's or the tutorial's layout) -> parquet
splits + ``manifest.json``.

The output follows docs/ARCHITECTURE.md ("Prepared dataset"). The whole folder is written into
a temporary folder next to ``out`` and renamed into place at the end, so a failure (bad input,
a full disk, Ctrl-C) leaves nothing half-written. Bad input is found while reading, before
anything is written.

Needs pyarrow (the ``[train]`` extra); the web process never imports this module.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sentireview import __version__, text
from sentireview.data.sources import Reviews, read_source
from sentireview.errors import DataError
from sentireview.files import building_folder

log = logging.getLogger(__name__)

SPLITS = ("tutorial", "official")
DEFAULT_SEED = 17  # the tutorial's torch seed; its own split set none
TUTORIAL_FRACTIONS = (0.7, 0.1, 0.2)  # train, valid, test over all labelled reviews
OFFICIAL_VALID_FRACTION = 0.1  # of the official train set
MANIFEST_FORMAT = 1
SKIPPED_ROWS_LISTED = 100  # in the manifest; all of them are counted

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("rating", pa.int16()),
        ("raw", pa.string()),
        ("text", pa.string()),
        ("clean", pa.string()),
        ("label", pa.int8()),
    ]
)


def default_workers() -> int:
    """The CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """Processes for :func:`clean_parallel`."""
    # spawn, not fork: pyarrow and the progress bar run threads, and forking a threaded
    # process is unsafe (and deprecated from Python 3.12 on).
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"))


def clean_parallel(
    texts: Sequence[str],
    recipe: str = "tutorial",
    workers: int | None = None,
    chunk_size: int = 250,
    progress: bool = False,
    pool: Executor | None = None,
) -> list[str]:
    """Clean ``texts`` with ``recipe`` over ``workers`` processes, keeping their order.

    Texts go to the workers in chunks (one pickling round trip per chunk, not per text).
    Small inputs, or ``workers <= 1``, are cleaned in this process: starting a worker costs
    about a second (it imports NLTK). ``pool`` reuses an executor from :func:`worker_pool`
    across calls instead of starting one.
    """
    text.get_cleaner(recipe)  # fail early on an unknown recipe
    workers = default_workers() if workers is None else workers
    chunks = [texts[i : i + chunk_size] for i in range(0, len(texts), chunk_size)]
    if pool is None and (workers <= 1 or len(texts) < 4 * chunk_size):
        return text.clean_many(texts, recipe)
    from tqdm.auto import tqdm

    out: list[str] = []
    with ExitStack() as stack:
        if pool is None:
            pool = stack.enter_context(worker_pool(min(workers, len(chunks))))
        done = pool.map(partial(text.clean_many, recipe=recipe), chunks)
        with tqdm(
            total=len(texts), unit="review", desc="clean", disable=None if progress else True
        ) as bar:
            for cleaned in done:
                out.extend(cleaned)
                bar.update(len(cleaned))
    return out


def stratified_split(labels: np.ndarray, fractions: Sequence[float], seed: int) -> list[np.ndarray]:
    """Split row indices into ``len(fractions)`` parts, each label in the same proportions.

    Per label (in sorted order) the indices are shuffled with ``numpy.random.default_rng(seed)``
    and cut at the rounded cumulative fractions; each part comes back in ascending order.
    """
    if abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions must sum to 1, got {fractions}")
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    cuts = np.cumsum(fractions)[:-1]
    for label in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == label))
        bounds = np.round(cuts * len(idx)).astype(int)
        for part, chunk in zip(parts, np.split(idx, bounds), strict=True):
            part.append(chunk)
    return [np.sort(np.concatenate(p)) for p in parts]


def assign_splits(reviews: Reviews, split: str, seed: int) -> dict[str, np.ndarray]:
    """Row indices of each output split (``train``, ``valid``, ``test`` and maybe ``unsup``)."""
    labels = np.asarray(reviews.labels, dtype=np.int64)
    groups = np.asarray(reviews.groups)
    labelled = np.flatnonzero(labels >= 0)
    if split == "tutorial":
        train, valid, test = (
            labelled[p] for p in stratified_split(labels[labelled], TUTORIAL_FRACTIONS, seed)
        )
    elif split == "official":
        pool = np.flatnonzero((labels >= 0) & (groups == "train"))
        test = np.flatnonzero((labels >= 0) & (groups == "test"))
        fractions = (1 - OFFICIAL_VALID_FRACTION, OFFICIAL_VALID_FRACTION)
        train, valid = (pool[p] for p in stratified_split(labels[pool], fractions, seed))
    else:
        raise DataError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    out = {"train": train, "valid": valid, "test": test}
    unsup = np.flatnonzero(labels < 0)
    if len(unsup):
        out["unsup"] = unsup
    return out


def count_duplicates(raws: Sequence[str], parts: dict[str, np.ndarray]) -> dict[str, Any]:
    """Duplicate reviews (same raw text), which are kept as the tutorial keeps them.

    ``extra_copies``: labelled rows whose text occurs on an earlier labelled row;
    ``texts_repeated``: distinct labelled texts that occur more than once; ``across_splits``:
    distinct texts found in more than one of train/valid/test (a test review also seen in
    training); ``per_split``: extra copies inside each split.
    """
    per_split = {}
    where: dict[str, set[str]] = {}
    total: Counter[str] = Counter()
    for name, idx in parts.items():
        counts = Counter(raws[i] for i in idx)
        per_split[name] = sum(n - 1 for n in counts.values())
        if name == "unsup":
            continue
        total.update(counts)
        for raw in counts:
            where.setdefault(raw, set()).add(name)
    return {
        "key": "raw",
        "extra_copies": sum(n - 1 for n in total.values()),
        "texts_repeated": sum(1 for n in total.values() if n > 1),
        "across_splits": sum(1 for s in where.values() if len(s) > 1),
        "per_split": per_split,
    }


def source_entry(source: Path, reviews: Reviews) -> dict[str, Any]:
    """The manifest's ``source``: path, kind, for a CSV its layout (``kaggle`` or
    ``tutorial``), and checksum."""
    entry: dict[str, Any] = {"path": str(source), "kind": reviews.kind}
    if reviews.kind == "csv":
        entry["layout"] = reviews.layout
    entry["sha256"] = reviews.sha256
    return entry


def count_skipped(reviews: Reviews) -> dict[str, Any]:
    """Rows of the source left out: ``empty_review`` counts the rows of a tutorial-layout CSV
    whose review is empty or only whitespace; ``first_rows`` lists the first
    :data:`SKIPPED_ROWS_LISTED` of them (1-based data rows)."""
    return {
        "empty_review": len(reviews.skipped),
        "first_rows": reviews.skipped[:SKIPPED_ROWS_LISTED],
    }


def prepare(
    source: Path,
    out: Path,
    *,
    recipe: str = "tutorial",
    split: str | None = None,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    force: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Prepare ``source`` into the folder ``out``; return the manifest written there.

    ``split`` defaults to ``official`` for aclImdb and ``tutorial`` for a CSV (which has no
    official test set; asking for ``official`` with a CSV is an error).
    """
    source, out = Path(source), Path(out)
    if recipe not in text.RECIPES:
        raise DataError(f"unknown recipe {recipe!r}; expected one of {', '.join(text.RECIPES)}")
    if split is not None and split not in SPLITS:
        raise DataError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise DataError(f"{out}: already exists; pass --force to replace it")
        # --force replaces a prepared dataset, never an arbitrary folder (it is deleted whole)
        if not (out / "manifest.json").is_file():
            raise DataError(
                f"{out}: not a prepared dataset (no manifest.json); refusing to replace it"
            )
        if source.resolve().is_relative_to(out.resolve()):
            raise DataError(f"{source}: lies inside the output folder {out}; choose another --out")

    reviews = read_source(source)
    if split is None:
        split = "official" if reviews.kind == "aclimdb" else "tutorial"
    if split == "official" and reviews.kind == "csv":
        raise DataError(f"{source}: a CSV has no official test set; use --split tutorial")
    parts = assign_splits(reviews, split, seed)

    log.info("cleaning %d reviews (recipe %s)", len(reviews), recipe)
    plain = [text.plain_text(r) for r in reviews.raws]
    clean = clean_parallel(reviews.raws, recipe, workers, progress=progress)

    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "source": source_entry(source, reviews),
        "recipe": recipe,
        "split": split,
        "seed": seed,
        "counts": {
            name: {str(k): v for k, v in sorted(Counter(reviews.labels[i] for i in idx).items())}
            for name, idx in parts.items()
        },
        "duplicates": count_duplicates(reviews.raws, parts),
        "skipped": count_skipped(reviews),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "sentireview_version": __version__,
    }
    if reviews.kind == "csv":
        manifest["split_note"] = (
            "a CSV has no official test set: tutorial split, 70/10/20 stratified by label"
        )

    def table(idx: np.ndarray) -> pa.Table:
        pick = idx.tolist()
        return pa.table(
            [
                pa.array([reviews.ids[i] for i in pick], pa.string()),
                pa.array([reviews.ratings[i] for i in pick], pa.int16()),
                pa.array([reviews.raws[i] for i in pick], pa.string()),
                pa.array([plain[i] for i in pick], pa.string()),
                pa.array([clean[i] for i in pick], pa.string()),
                pa.array([reviews.labels[i] for i in pick], pa.int8()),
            ],
            schema=SCHEMA,
        )

    _write_atomically(out, {name: table(idx) for name, idx in parts.items()}, manifest)
    log.info("wrote %s: %s", out, ", ".join(f"{k} {len(v)}" for k, v in parts.items()))
    return manifest


def _write_atomically(out: Path, tables: dict[str, pa.Table], manifest: dict[str, Any]) -> None:
    """Write everything into a folder beside ``out``, then swap it into place."""
    with building_folder(out) as tmp:
        for name, tab in tables.items():
            pq.write_table(tab, tmp / f"{name}.parquet")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
