"""The classical baselines on tiny invented data: interface, shapes, and learning an easy task."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from sentireview import baselines
from sentireview.baselines import tokenize

_GOOD = ["wonderful", "superb", "moving", "brilliant", "charming", "gripping"]
_BAD = ["dreadful", "boring", "clumsy", "tedious", "awful", "lifeless"]
_FILLER = ["the", "film", "plot", "cast", "was", "truly", "quite", "and", "its", "score"]


def invented(n: int, seed: int) -> tuple[list[str], list[int]]:
    """Short invented reviews: filler words plus one or two words of the review's polarity."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        words = rng.sample(_FILLER, 5) + rng.sample(_GOOD if label else _BAD, rng.randint(1, 2))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("It doesn't work", ["it", "does", "n't", "work"]),
        ("it does n't work", ["it", "does", "n't", "work"]),
        ("The film's end", ["the", "film", "'s", "end"]),
        ("the film 's end", ["the", "film", "'s", "end"]),
        ("can\u2019t, won't!", ["ca", "n't", "wo", "n't", "!"]),
        ("Not bad at all ... 10/10?", ["not", "bad", "at", "all", "10", "10", "?"]),
        ("O'Brien's best", ["o'brien", "'s", "best"]),
        ("", []),
    ],
)
def test_tokenize_reads_plain_and_pretokenized_text_alike(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


@pytest.mark.parametrize("name", sorted(baselines.BASELINES))
def test_fit_and_predict_proba_shapes(name: str) -> None:
    texts, labels = invented(40, seed=1)
    model = baselines.make(name)
    assert model.fit(texts, labels) is model
    probs = model.predict_proba(texts[:7])
    assert probs.shape == (7,)
    assert np.all((probs >= 0) & (probs <= 1))
    assert model.predict_proba([]).shape == (0,)


@pytest.mark.parametrize("name", ["tfidf_lr", "nbsvm"])
def test_linear_baselines_learn_an_easy_task(name: str) -> None:
    texts, labels = invented(80, seed=2)
    test_texts, test_labels = invented(40, seed=3)
    model = baselines.make(name).fit(texts, labels)
    accuracy = np.mean((model.predict_proba(test_texts) > 0.5) == np.asarray(test_labels))
    assert accuracy >= 0.9  # chance is 0.5
    # Words unseen in training do not break prediction.
    assert model.predict_proba(["completely unknown words here"]).shape == (1,)


def test_nbsvm_ratio_points_the_right_way() -> None:
    texts, labels = invented(60, seed=4)
    model = baselines.nbsvm().fit(texts, labels)
    vocab = model.vectorizer.vocabulary_
    assert model.ratio is not None
    assert model.ratio[vocab["wonderful"]] > 0 > model.ratio[vocab["dreadful"]]


def test_majority_predicts_the_training_share() -> None:
    model = baselines.majority().fit(["a", "b", "c", "d"], [1, 1, 1, 0])
    assert model.predict_proba(["x", "y"]).tolist() == [0.75, 0.75]


def test_save_writes_parameters_not_pickles(tmp_path) -> None:
    texts, labels = invented(40, seed=5)
    model = baselines.tfidf_lr().fit(texts, labels)
    folder = model.save(tmp_path / "m")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "ngrams.txt", "weights.npz"]
    ngrams = (folder / "ngrams.txt").read_text("utf-8").splitlines()
    weights = np.load(folder / "weights.npz")
    assert len(ngrams) == model.n_features == weights["coef"].shape[0] == weights["idf"].shape[0]
    assert weights["coef"].dtype == np.float32
    assert json.loads((folder / "config.json").read_text("utf-8"))["kind"] == "tfidf_lr"
    majority = baselines.majority().fit(texts, labels).save(tmp_path / "maj")
    assert json.loads((majority / "config.json").read_text("utf-8"))["positive_share"] == 0.5


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown baseline"):
        baselines.make("svm")
    with pytest.raises(ValueError, match="labels"):
        baselines.tfidf_lr().fit(["a b", "c d"], [0, 2])
    with pytest.raises(ValueError, match="texts but labels"):
        baselines.nbsvm().fit(["a b", "c d"], [0])
    with pytest.raises(ValueError, match="both labels"):
        baselines.nbsvm().fit(["a b", "c d"], [1, 1])
    with pytest.raises(RuntimeError, match="fit"):
        baselines.majority().predict_proba(["a"])
