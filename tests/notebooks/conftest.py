"""Fixtures for the notebook tests: invented reviews as an aclImdb folder and as a Kaggle-style
CSV, and a tiny offline RoBERTa (the notebook runner is in notebook_runner.py)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from tests.helpers.fake_reviews import make_tiny_encoder

GOOD = ["wonderful", "moving", "brilliant", "loved", "funny", "superb", "great", "charming"]
BAD = ["dull", "boring", "awful", "hated", "clumsy", "terrible", "bad", "tedious"]
FILLER = ["the", "film", "plot", "actors", "music", "ending", "story", "was", "and", "it", "scene"]
EXTRAS = [":)", ":(", "!!!", "<br /><br />", "10/10", "sooo", "not", "www.example.com"]


def invented_review(label: int, rng: random.Random) -> str:
    """A short made-up review: filler words with a few words of the label's sentiment."""
    words = [rng.choice(FILLER) for _ in range(rng.randint(4, 14))]
    for _ in range(rng.randint(1, 3)):
        words.insert(rng.randrange(len(words) + 1), rng.choice(GOOD if label else BAD))
    if rng.random() < 0.4:
        words.insert(rng.randrange(len(words) + 1), rng.choice(EXTRAS))
    return " ".join(words).capitalize() + "."


@pytest.fixture(scope="session")
def acl_folder(tmp_path_factory) -> Path:
    """``aclImdb/{train,test}/{pos,neg}`` (+ ``train/unsup``) with ``<id>_<stars>.txt`` files."""
    root = tmp_path_factory.mktemp("source") / "aclImdb"
    rng = random.Random(1)
    sizes = {"train": 24, "test": 12}
    for group, n in sizes.items():
        for cls, label in (("neg", 0), ("pos", 1)):
            folder = root / group / cls
            folder.mkdir(parents=True)
            for i in range(n):
                stars = rng.choice([7, 8, 9, 10] if label else [1, 2, 3, 4])
                (folder / f"{i}_{stars}.txt").write_text(invented_review(label, rng), "utf-8")
    unsup = root / "train" / "unsup"
    unsup.mkdir()
    for i in range(4):
        (unsup / f"{i}_0.txt").write_text(invented_review(i % 2, rng), "utf-8")
    return root


@pytest.fixture(scope="session")
def kaggle_csv(tmp_path_factory) -> Path:
    """A CSV shaped like Kaggle's "IMDB Dataset.csv" (review, sentiment)."""
    path = tmp_path_factory.mktemp("csv") / "IMDB Dataset.csv"
    rng = random.Random(2)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "sentiment"])
        for i in range(400):
            label = i % 2
            writer.writerow([invented_review(label, rng), "positive" if label else "negative"])
    return path


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory) -> Path:
    """A random 2-layer RoBERTa (hidden 32) and a word-level tokenizer, saved offline."""
    words = {w for w in GOOD + BAD + FILLER} | {w.capitalize() for w in FILLER} | set(".,!")
    return make_tiny_encoder(tmp_path_factory.mktemp("tiny-roberta"), words)
