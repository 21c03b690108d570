"""``Predictor``: the one inference path (CLI, notebooks, web app).

    from sentireview.predict import Predictor
    Predictor.load("runs/lstm").predict(["What a wonderful film"])
    # [{"sentiment": "positive", "score": 0.97, "label": 1}]

Texts go through the same preparation as in training, read from the artifact's config:
the LSTM's recipe cleaner (``sentireview.text``) and vocabulary with the same word limit; for
transformers the saved tokenizer on the plain text. No torch at import time: the web
process runs the ONNX back end without torch.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentireview import text
from sentireview.artifact import ONNX, PTH, read_config
from sentireview.backends import Backend, load_backend
from sentireview.errors import SentiReviewError
from sentireview.files import atomic_path
from sentireview.kinds import Encoder, Feed, get_kind

log = logging.getLogger(__name__)

#: Reviews per call to the back end (bounds memory for long input lists).
BATCH_SIZE = 64


def choose_backend(run_dir: Path, requested: str = "auto") -> str:
    """``auto``: PyTorch for a ``model.pth`` dropped into the folder (the tutorial's way of
    shipping weights) when torch is installed; else ONNX Runtime when ``model.onnx`` exists or
    torch is missing; else PyTorch."""
    if requested != "auto":
        return requested
    if (run_dir / PTH).exists():
        if _torch_installed():
            return "torch"
        log.warning("%s: torch is not installed, so %s is ignored", run_dir, PTH)
    if (run_dir / ONNX).exists() or not _torch_installed():
        return "onnx"
    return "torch"


def _torch_installed() -> bool:
    try:
        return importlib.util.find_spec("torch") is not None
    except ImportError:  # an import hook that blocks torch
        return False


def text_preparer(config: dict[str, Any]) -> Callable[[str], str]:
    """The text function used in training: the recipe's cleaner (``clean`` column) or the
    plain-text normalisation (``text`` column)."""
    spec = config["text"]
    if spec.get("column", "clean") == "clean":
        return text.get_cleaner(spec.get("recipe", "tutorial"))
    return text.plain_text


class Predictor:
    """Texts in, ``{"sentiment", "score", "label"}`` out; built by :meth:`load`."""

    def __init__(
        self,
        config: dict[str, Any],
        backend: Backend,
        encode: Encoder,
        prepare: Callable[[str], str],
        run_dir: Path | None = None,
    ) -> None:
        self.config = config
        self.run_dir = run_dir  # the artifact folder, when loaded from one
        self.backend = backend
        self.backend_name = backend.name
        self.labels: list[str] = list(config.get("labels", ["negative", "positive"]))
        self._encode = encode
        self._prepare = prepare

    @classmethod
    def load(cls, path: str | os.PathLike, backend: str = "auto") -> Predictor:
        """Open a run folder (``config.json`` + weights + vocabulary/tokenizer)."""
        run_dir = Path(path)
        config = read_config(run_dir)
        name = choose_backend(run_dir, backend)
        encode = get_kind(config["kind"]).encoder(run_dir, config)
        engine = load_backend(name, run_dir, config)
        log.info("loaded %s model from %s (%s back end)", config["kind"], run_dir, name)
        return cls(config, engine, encode, text_preparer(config), run_dir)

    def prepare_text(self, text: str) -> str:
        """The text as the model reads it: the training recipe's cleaning."""
        return self._prepare(text)

    def encode(self, prepared: list[str]) -> Feed:
        """Prepared texts -> the model's named input arrays (the artifact's token limit)."""
        return self._encode(prepared)

    def predict_proba(
        self, texts: Sequence[str], prepared: bool = False, batch_size: int = BATCH_SIZE
    ) -> list[float]:
        """P(positive) per text. ``prepared=True``: the texts are already cleaned (the
        dataset's ``clean``/``text`` column), so the cleaner is skipped (evaluation)."""
        texts = _check_texts(texts)
        scores: list[float] = []
        for start in range(0, len(texts), batch_size):
            chunk = texts[start : start + batch_size]
            if not prepared:
                chunk = [self._prepare(t) for t in chunk]
            scores.extend(float(p) for p in self.backend.predict_proba(self._encode(chunk)))
        return scores

    def predict(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """One ``{"sentiment", "score", "label"}`` per text; positive when score > 0.5."""
        results = []
        for score in self.predict_proba(texts):
            label = int(score > 0.5)
            results.append({"sentiment": self.labels[label], "score": score, "label": label})
        return results


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise SentiReviewError("predict() takes a list of texts, not one string")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise SentiReviewError(f"text {i} is {type(t).__name__}, not a string")
    return texts


def score_texts(predictor: Predictor, texts: list[str], batch_size: int = 128) -> np.ndarray:
    """P(positive) for already-prepared texts, batched by length (fast), in input order."""
    order = np.argsort([len(t) for t in texts], kind="stable")
    scores = predictor.predict_proba(
        [texts[i] for i in order], prepared=True, batch_size=batch_size
    )
    out = np.empty(len(texts))
    out[order] = scores
    return out


#: Texts scored between two saves of a progress file (about 3 minutes of a MiniLM here).
CHUNK = 2000


def texts_digest(texts: Sequence[str]) -> str:
    """SHA-256 of a list of texts (what a progress file was written for)."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()


def score_texts_saved(
    predictor: Predictor,
    texts: list[str],
    progress: Path,
    key: str,
    batch_size: int = 128,
    chunk: int | None = None,
) -> np.ndarray:
    """:func:`score_texts`, saving the scores so far in ``progress`` every :data:`CHUNK`
    texts, so that a long pass (an hour for 50,000 reviews and a MiniLM on 2 cores) cut off
    resumes where it stopped. ``key`` says what the scores are of (the weights, the texts):
    a progress file written for another key is not used. The caller removes the file once
    its result is written."""
    chunk = chunk or CHUNK
    scores = saved_scores(progress, key)
    if len(scores):
        log.info("%s: resuming after %d of %d texts", progress.name, len(scores), len(texts))
    for start in range(len(scores), len(texts), chunk):
        part = score_texts(predictor, texts[start : start + chunk], batch_size)
        scores = np.concatenate([scores, part])
        with atomic_path(progress) as tmp, open(tmp, "wb") as f:
            np.savez(f, scores=scores, key=np.array(key))
        log.info("%d of %d texts scored", len(scores), len(texts))
    return scores


def saved_scores(path: Path, key: str) -> np.ndarray:
    """The scores saved in the progress file ``path`` for ``key``; none when it is missing,
    unreadable or was written for another key."""
    try:
        with np.load(path) as saved:
            if str(saved["key"]) == key:
                return np.asarray(saved["scores"], dtype=float)
    except (OSError, ValueError, KeyError, EOFError):
        pass
    return np.empty(0)
