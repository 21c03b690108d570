"""Scoring with a teacher: the step between a trained model and a student's training.

A teacher is any run folder that :class:`~sentireview.predict.Predictor` opens (several runs:
the mean of their scores, a small ensemble). :func:`score_split` writes their P(positive) of
each review of a split into a new split file, the ``label`` column holding the soft label
(:func:`sentireview.data.splits.write_scored_split`). A student then trains on that file
beside its labelled reviews (``LSTMTrainConfig.distill``), so training never runs a teacher
itself and never imports the prediction side.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sentireview.data.splits import dataset_recipe, read_unlabelled, write_scored_split
from sentireview.errors import SentiReviewError
from sentireview.predict import Predictor, score_texts

log = logging.getLogger(__name__)


def teacher_scores(teacher: Path, texts: list[str], recipe: str) -> np.ndarray:
    """P(positive) of each (cleaned) text by the teacher run: the soft labels of distillation.
    The teacher must read the ``clean`` column of the same recipe as the student."""
    predictor = Predictor.load(teacher)
    spec = predictor.config["text"]
    if spec.get("column", "clean") != "clean" or spec.get("recipe") != recipe:
        raise SentiReviewError(
            f"teacher {teacher} reads {spec.get('column')}/{spec.get('recipe')} text; "
            f"the dataset's clean column is the {recipe} recipe"
        )
    log.info("teacher %s: scoring %d reviews", teacher, len(texts))
    return score_texts(predictor, texts)  # batches of similar length: little padding


def mean_scores(teachers: Sequence[Path], texts: list[str], recipe: str) -> list[float]:
    """The mean P(positive) of several teacher runs (one teacher: its own scores)."""
    if not teachers:
        raise SentiReviewError("distillation needs at least one teacher run")
    scores = [teacher_scores(Path(t), texts, recipe) for t in teachers]
    return np.mean(scores, axis=0).tolist()


def score_split(
    teachers: Sequence[Path], data_dir: Path, out: Path, split: str = "unsup"
) -> Path:
    """Write ``out``: every review of ``data_dir``'s ``split`` (its ``clean`` text) with the
    teachers' mean P(positive) as its label."""
    texts = read_unlabelled(data_dir, split, "clean")
    scores = mean_scores(teachers, texts, dataset_recipe(data_dir))
    return write_scored_split(out, texts, scores, "clean")
