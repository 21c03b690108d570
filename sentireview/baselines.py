"""Classical baselines: what a user could fit in a minute on a CPU instead of a neural model.

Three models behind one small interface, ``fit(texts, labels) -> self`` and
``predict_proba(texts) -> np.ndarray`` (P(positive), shape (n,)):

- :func:`majority`: the training set's majority class (its P(positive) is the training share);
- :func:`tfidf_lr`: TF-IDF over word 1-2-grams (sublinear tf) + logistic regression;
- :func:`nbsvm`: NBSVM-style (Wang & Manning 2012): binary word 1-3-grams scaled by the naive
  Bayes log-count ratio, then logistic regression (the ratio-scaled features make a linear
  model that starts from NB's evidence and corrects it).

They read the prepared dataset's ``text`` column (HTML breaks removed, original words), which
:func:`tokenize` splits the same way whether a review is written normally ("doesn't", "it's")
or pre-tokenized as in some corpora ("does n't", "it 's"). Used by ``bench/accuracy.py``, and
meant to be reused later (for example as a teacher or a reference when distilling).

Models are never pickled: :meth:`LinearTextModel.save` writes the parameters (n-gram list and
float32 weights) only, which is what ``bench/accuracy.py`` measures as the size on disk.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from sentireview.files import write_json

__all__ = [
    "BASELINES",
    "Baseline",
    "LinearTextModel",
    "Majority",
    "make",
    "majority",
    "nbsvm",
    "tfidf_lr",
    "tokenize",
]

# Clitics split off as in Penn Treebank tokenization, so "doesn't"/"does n't" and "it's"/"it 's"
# give the same tokens ("does", "n't"; "it", "'s"). Curly apostrophes count as apostrophes.
_APOSTROPHES = re.compile(r"[\u2019\u2018`]")
_NT = re.compile(r"(\w)n't\b")
_CLITIC = re.compile(r"(\w)'(s|re|ve|ll|d|m)\b")
# Words (letters/digits, inner apostrophes as in "o'brien"), the clitics, and ! and ?, which
# carry sentiment ("what a waste!"); other punctuation is dropped.
_TOKEN = re.compile(r"n't|'(?:s|re|ve|ll|d|m)\b|\w+(?:'\w+)*|[!?]")


def tokenize(text: str) -> list[str]:
    """Lowercased word tokens with clitics split off ("doesn't" -> "does", "n't")."""
    text = _APOSTROPHES.sub("'", text.lower())
    text = _CLITIC.sub(r"\1 '\2", _NT.sub(r"\1 n't", text))
    return _TOKEN.findall(text)


class Baseline(Protocol):
    """What the benchmark (and later distillation) needs from a baseline."""

    name: str

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> Baseline: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


def _labels(labels: Sequence[int], n: int) -> np.ndarray:
    y = np.asarray(labels, dtype=np.int64)
    if y.shape != (n,):
        raise ValueError(f"{n} texts but labels of shape {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 (negative) or 1 (positive)")
    return y


class Majority:
    """Predicts the training set's majority class; its score is the positive share of the
    training labels (so a balanced training set scores 0.5, read as negative)."""

    name = "majority"

    def __init__(self) -> None:
        self.positive_share: float | None = None

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> Majority:
        y = _labels(labels, len(texts))
        if not len(y):
            raise ValueError("cannot fit on no texts")
        self.positive_share = float(y.mean())
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if self.positive_share is None:
            raise RuntimeError("fit the model first")
        return np.full(len(texts), self.positive_share)

    def save(self, folder: str | Path) -> Path:
        """Write ``config.json`` (the one number this model has); return the folder."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        config = {"kind": self.name, "positive_share": self.positive_share}
        write_json(folder / "config.json", config)
        return folder


class LinearTextModel:
    """A scikit-learn vectorizer, an optional per-feature scale (NBSVM's log-count ratio) and a
    logistic regression."""

    def __init__(
        self,
        name: str,
        vectorizer: CountVectorizer,
        classifier: LogisticRegression,
        nb_alpha: float | None = None,
    ) -> None:
        self.name = name
        self.vectorizer = vectorizer
        self.classifier = classifier
        self.nb_alpha = nb_alpha  # None: no NB scaling
        self.ratio: np.ndarray | None = None  # NB log-count ratio, (n_features,)

    def _scale(self, x: sp.csr_matrix) -> sp.csr_matrix:
        if self.ratio is None:
            return x
        return (x @ sp.diags(self.ratio)).tocsr()

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """What the classifier reads: (n, n_features) sparse, NB-scaled for NBSVM."""
        return self._scale(self.vectorizer.transform(texts))

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> LinearTextModel:
        y = _labels(labels, len(texts))
        if len(np.unique(y)) < 2:
            raise ValueError("need both labels to fit a classifier")
        x = self.vectorizer.fit_transform(texts)  # (n, F) sparse
        if self.nb_alpha is not None:
            # r = log((p / |p|_1) / (q / |q|_1)), p and q the smoothed feature counts over the
            # positive and negative reviews (binary features: document frequencies).
            p = self.nb_alpha + np.asarray(x[y == 1].sum(axis=0)).ravel()
            q = self.nb_alpha + np.asarray(x[y == 0].sum(axis=0)).ravel()
            self.ratio = np.log(p / p.sum()) - np.log(q / q.sum())
        self.classifier.fit(self._scale(x), y)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.empty(0)
        return self.classifier.predict_proba(self.features(texts))[:, 1]

    @property
    def n_features(self) -> int:
        return len(self.vectorizer.vocabulary_)

    def save(self, folder: str | Path) -> Path:
        """Write the parameters a loader would need, never a pickle: ``ngrams.txt`` (one
        n-gram per line, in feature order), ``weights.npz`` (float32: ``coef``, ``intercept``,
        and ``idf`` or ``ratio`` when the model has them) and ``config.json``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        vocab = self.vectorizer.vocabulary_
        terms = sorted(vocab, key=vocab.__getitem__)
        (folder / "ngrams.txt").write_text("\n".join(terms) + "\n", "utf-8")
        arrays = {
            "coef": self.classifier.coef_.ravel(),
            "intercept": self.classifier.intercept_,
        }
        if getattr(self.vectorizer, "idf_", None) is not None:
            arrays["idf"] = self.vectorizer.idf_
        if self.ratio is not None:
            arrays["ratio"] = self.ratio
        np.savez(folder / "weights.npz", **{k: v.astype(np.float32) for k, v in arrays.items()})
        config = {
            "kind": self.name,
            "vectorizer": _plain_params(self.vectorizer),
            "classifier": _plain_params(self.classifier),
            "nb_alpha": self.nb_alpha,
            "tokenizer": "sentireview.baselines.tokenize",
        }
        write_json(folder / "config.json", config)
        return folder


def _plain_params(estimator: Any) -> dict[str, Any]:
    """An estimator's parameters that JSON can hold (the tokenizer function is left out)."""
    out = {}
    for key, value in estimator.get_params().items():
        if isinstance(value, tuple):
            value = list(value)
        if value is None or isinstance(value, (bool, int, float, str, list)):
            out[key] = value
    return out


def majority() -> Majority:
    """The majority-class baseline."""
    return Majority()


def tfidf_lr(c: float = 16.0, min_df: int = 2, max_iter: int = 1000) -> LinearTextModel:
    """TF-IDF over word 1-2-grams with sublinear tf (1 + log tf), L2-normalised, and an
    L2-regularised logistic regression. ``min_df=2`` drops n-grams seen in one review only
    (mostly names and typos), which shrinks the model several times. ``c`` was chosen on the
    validation split (``bench/accuracy.py --select``, see docs/accuracy.md)."""
    vectorizer = TfidfVectorizer(
        tokenizer=tokenize,
        token_pattern=None,
        lowercase=False,  # tokenize() lowercases
        ngram_range=(1, 2),
        min_df=min_df,
        sublinear_tf=True,
        dtype=np.float32,
    )
    classifier = LogisticRegression(C=c, solver="liblinear", max_iter=max_iter)
    return LinearTextModel("tfidf_lr", vectorizer, classifier)


def nbsvm(
    c: float = 4.0, alpha: float = 1.0, min_df: int = 2, max_iter: int = 1000
) -> LinearTextModel:
    """NBSVM-style: binary word 1-3-grams times the NB log-count ratio (smoothing ``alpha``),
    then logistic regression solved in the dual (many more features than reviews). ``c`` was
    chosen on the validation split (``bench/accuracy.py --select``, see docs/accuracy.md)."""
    vectorizer = CountVectorizer(
        tokenizer=tokenize,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 3),
        min_df=min_df,
        binary=True,
        dtype=np.float32,
    )
    classifier = LogisticRegression(C=c, solver="liblinear", dual=True, max_iter=max_iter)
    return LinearTextModel("nbsvm", vectorizer, classifier, nb_alpha=alpha)


#: name -> factory with the benchmark's settings.
BASELINES = {"majority": majority, "tfidf_lr": tfidf_lr, "nbsvm": nbsvm}


def make(name: str) -> Baseline:
    """A fresh, unfitted baseline by name (one of :data:`BASELINES`)."""
    try:
        return BASELINES[name]()
    except KeyError:
        known = ", ".join(BASELINES)
        raise ValueError(f"unknown baseline {name!r}; expected one of {known}") from None
