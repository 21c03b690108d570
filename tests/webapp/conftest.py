"""Fixtures for the web app: a fake artifact folder and a keyword predictor, so the HTTP
tests need neither torch nor a trained model (the real-model tests build their own)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from senti_api import create_app

from sentireview.explain import Explanation, Span
from tests.helpers.server import SHIPPED_MODEL, serve, stop

POSITIVE_WORDS = {"good", "great", "wonderful", "brilliant", "loved", "best", "moving"}
NEGATIVE_WORDS = {"bad", "awful", "terrible", "boring", "hated", "worst", "waste"}


class KeywordPredictor:
    """Counts positive and negative words; same output shape as ``Predictor.predict``."""

    backend_name = "keywords"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def predict(self, texts: list[str]) -> list[dict]:
        self.calls.append(list(texts))
        out = []
        for text in texts:
            words = [w.strip(".,:;!?").lower() for w in text.split()]
            balance = sum(w in POSITIVE_WORDS for w in words)
            balance -= sum(w in NEGATIVE_WORDS for w in words)
            score = 0.5 + max(-0.49, min(0.49, 0.1 * balance)) + (0.001 if balance == 0 else 0)
            label = int(score > 0.5)
            sentiment = ["negative", "positive"][label]
            out.append({"sentiment": sentiment, "score": score, "label": label})
        return out


    def explain(self, text: str) -> Explanation:
        """Each keyword is a span of weight +1 or -1, as ``sentireview.explain`` answers."""
        spans = []
        for match in re.finditer(r"\w+", text):
            word = match.group().lower()
            weight = (word in POSITIVE_WORDS) - (word in NEGATIVE_WORDS)
            if weight:
                spans.append(Span(match.start(), match.end(), float(weight)))
        (result,) = self.predict([text])
        score = result["score"]
        return Explanation(score, math.log(score / (1 - score)), spans, "keywords")


def write_fake_artifact(folder: Path) -> Path:
    """config.json + metrics.json: what the app reads itself from an artifact folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({
        "format": 1, "kind": "lstm", "name": "fake-lstm", "version": "0.0.1",
        "labels": ["negative", "positive"],
    }))
    (folder / "metrics.json").write_text(json.dumps({"test": {"accuracy": 0.5}}))
    return folder


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    return write_fake_artifact(tmp_path / "model")


@pytest.fixture
def predictor() -> KeywordPredictor:
    return KeywordPredictor()


@pytest.fixture
def app(model_dir: Path, predictor: KeywordPredictor, tmp_path: Path):
    return create_app({
        "TESTING": True,
        "MODEL_DIR": model_dir,
        "PREDICTOR": predictor,
        "STATIC_DIR": tmp_path / "no-dist",
    })


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def module_app(tmp_path_factory):
    """One app for a whole module (property-based runs). Small limits: the fuzzer reaches
    them, and generating strings up to the default 50,000 characters would be slow."""
    folder = write_fake_artifact(tmp_path_factory.mktemp("web") / "model")
    return create_app({"MODEL_DIR": folder, "PREDICTOR": KeywordPredictor(),
                       "STATIC_DIR": folder / "no-dist", "MAX_BATCH": 8,
                       "MAX_REVIEW_CHARS": 300})


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[str]:
    """The real server (the Procfile's command, one worker) with the shipped model; its base
    URL. It must stop cleanly at the end."""
    if not (SHIPPED_MODEL / "model.onnx").is_file():
        pytest.fail(f"the shipped model is missing: {SHIPPED_MODEL}/model.onnx")
    log = tmp_path_factory.mktemp("gunicorn") / "server.log"
    proc, url = serve({}, log)
    try:
        yield url
    finally:
        returncode = stop(proc)
    assert returncode == 0, log.read_text()[-2000:]
