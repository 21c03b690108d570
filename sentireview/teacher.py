"""Scoring with a teacher: the step between a trained model and a student's training.

A teacher is any run folder that :class:`~sentireview.predict.Predictor` opens (several runs:
the mean of their scores, a small ensemble): an LSTM that reads the cleaned text, or a
fine-tuned transformer that reads the plain text. Each teacher reads the column it was
trained on. :func:`score_split` writes their P(positive) of each review of a split into a new
split file, and :func:`score_pieces` the same for sentence-level pieces of reviews
(:mod:`sentireview.data.pieces`); the ``label`` column holds the soft label and both text
columns are kept (:func:`sentireview.data.splits.write_scored_split`). A student then trains
on that file beside its labelled reviews (``LSTMTrainConfig.distill``,
``TransformerTrainConfig.extra_train``), so training never runs a teacher itself and never
imports the prediction side.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from sentireview.artifact import weights_digest
from sentireview.data.pieces import sample_pieces
from sentireview.data.prepare import clean_parallel
from sentireview.data.splits import (
    dataset_recipe,
    read_frame,
    read_unlabelled,
    write_scored_split,
)
from sentireview.errors import SentiReviewError
from sentireview.predict import Predictor, score_texts, score_texts_saved, texts_digest

log = logging.getLogger(__name__)

#: The text columns a scored split keeps (what a transformer and an LSTM student read).
COLUMNS = ("text", "clean")


def teacher_scores(
    teacher: Path,
    columns: Mapping[str, Sequence[str]],
    recipe: str,
    progress: Path | None = None,
) -> np.ndarray:
    """P(positive) of each text by the teacher run: the soft labels of distillation.

    ``columns``: the same texts as prepared columns (``text``, ``clean``); the teacher reads
    the one it was trained on. A teacher of the ``clean`` column must have been trained on
    the same cleaning recipe as the dataset's. ``progress``: a file where the scores so far
    are saved (:func:`~sentireview.predict.score_texts_saved`), so that an interrupted pass
    resumes; it is used only when it was written for the same teacher weights and texts."""
    predictor = Predictor.load(teacher)
    spec = predictor.config["text"]
    column = spec.get("column", "clean")
    if column not in columns:
        raise SentiReviewError(f"teacher {teacher} reads the {column!r} column, not given")
    if column == "clean" and spec.get("recipe") != recipe:
        raise SentiReviewError(
            f"teacher {teacher} reads clean/{spec.get('recipe')} text; "
            f"the dataset's clean column is the {recipe} recipe"
        )
    texts = list(columns[column])
    log.info("teacher %s: scoring %d texts (%s column)", teacher, len(texts), column)
    if progress is None:
        return score_texts(predictor, texts)  # batches of similar length: little padding
    key = json.dumps({"teacher": weights_digest(teacher), "texts": texts_digest(texts)})
    return score_texts_saved(predictor, texts, progress, key)


def mean_scores(
    teachers: Sequence[Path],
    columns: Mapping[str, Sequence[str]],
    recipe: str,
    out: Path | None = None,
) -> list[float]:
    """The mean P(positive) of several teacher runs (one teacher: its own scores). With
    ``out`` (the file the scores are for), each teacher's pass can resume: see
    :func:`teacher_scores`."""
    if not teachers:
        raise SentiReviewError("distillation needs at least one teacher run")
    scores = [
        teacher_scores(Path(t), columns, recipe, None if out is None else _progress(out, i))
        for i, t in enumerate(teachers)
    ]
    return np.mean(scores, axis=0).tolist()


def _progress(out: Path, i: int) -> Path:
    return out.with_name(f"{out.name}.teacher{i}.partial.npz")


def _write(out: Path, columns: Mapping[str, Sequence[str]], scores: list[float], n: int) -> Path:
    """The scored file, then no more progress files (they are only for a pass cut off)."""
    path = write_scored_split(out, columns, scores)
    for i in range(n):
        _progress(out, i).unlink(missing_ok=True)
    return path


def score_split(
    teachers: Sequence[Path], data_dir: Path, out: Path, split: str = "unsup"
) -> Path:
    """Write ``out``: every review of ``data_dir``'s ``split`` (its ``text`` and ``clean``
    columns) with the teachers' mean P(positive) as its label."""
    frame = read_frame(data_dir, split, list(COLUMNS))
    columns = {name: frame[name].fillna("").astype(str).tolist() for name in COLUMNS}
    scores = mean_scores(teachers, columns, dataset_recipe(data_dir), out)
    return _write(out, columns, scores, len(teachers))


def score_pieces(
    teachers: Sequence[Path],
    data_dir: Path,
    out: Path,
    splits: Sequence[str] = ("train", "unsup"),
    per_review: int = 2,
    seed: int = 17,
    reviews: int | None = None,
) -> Path:
    """Write ``out``: sentence-level pieces of the reviews of ``splits`` (their ``text``
    column; ``per_review`` at most, :func:`~sentireview.data.pieces.sample_pieces`), each
    cleaned with the dataset's recipe and labelled with the teachers' mean P(positive).
    Only the pieces' text goes to the teachers: a review's own label plays no part.
    ``reviews``: cut pieces from a seeded sample of this many reviews only."""
    texts: list[str] = []
    for split in splits:
        texts += read_unlabelled(data_dir, split, "text")
    if reviews is not None and reviews < len(texts):
        keep = np.sort(np.random.default_rng(seed).choice(len(texts), reviews, replace=False))
        texts = [texts[i] for i in keep]
    pieces = sample_pieces(texts, per_review=per_review, seed=seed)
    if not pieces:
        raise SentiReviewError(f"no pieces of 3-40 words in {data_dir} {list(splits)}")
    recipe = dataset_recipe(data_dir)
    log.info("%d pieces of %d reviews; cleaning them (%s recipe)", len(pieces), len(texts), recipe)
    columns = {"text": pieces, "clean": clean_parallel(pieces, recipe)}
    scores = mean_scores(teachers, columns, recipe, out)
    return _write(out, columns, scores, len(teachers))
