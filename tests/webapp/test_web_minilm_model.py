"""The shipped transformer (webapp/flask/minilm_model) beside the light model in one app: the
real tokenizer (`tokenizers`, no transformers) and the int8 ONNX Runtime path, the goals of
its folder (size, tokens read), and unusual text through it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from senti_api import create_app
from senti_api.settings import DEFAULT_MODEL_DIR

MINILM = Path(DEFAULT_MODEL_DIR).parent / "minilm_model"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    if not (MINILM / "model.onnx").is_file():
        pytest.fail(f"the shipped transformer is missing: {MINILM}/model.onnx")
    app = create_app({"MODEL_DIR": [DEFAULT_MODEL_DIR, MINILM],
                      "STATIC_DIR": tmp_path_factory.mktemp("no-dist")})
    return app.test_client()


def test_the_folder_meets_its_goals():
    size = sum(f.stat().st_size for f in MINILM.rglob("*") if f.is_file())
    assert size <= 30e6  # at most 30 MB
    config = json.loads((MINILM / "config.json").read_text())
    assert config["kind"] == "transformer" and config["text"]["max_tokens"] <= 256
    card = (MINILM / "README.md").read_text()
    assert "Apache-2.0" in card and "int8" in card
    metrics = json.loads((MINILM / "metrics.json").read_text())
    assert metrics["split"] == "test" and metrics["n"] == 25_000 and metrics["limit"] is None
    assert f"{metrics['accuracy']:.4f}" in card  # the card gives the folder's own figure


def test_both_models_are_served_the_light_one_by_default(client):
    body = client.get("/api/models").get_json()
    kinds = {m["name"]: (m["kind"], m["backend"], m["default"]) for m in body["models"]}
    assert sorted(k for k, _, _ in kinds.values()) == ["lstm", "transformer"]
    assert all(backend == "onnx" for _, backend, _ in kinds.values())
    assert kinds[body["default"]][0] == "lstm"


def test_clear_reviews_through_the_transformer(client):
    name = next(m["name"] for m in client.get("/api/models").get_json()["models"]
                if m["kind"] == "transformer")
    reviews = [
        "One of the best films I have ever seen. Brilliant acting, a wonderful story.",
        "Dreadful. The worst movie of the year, boring and badly acted; avoid it.",
    ]
    body = client.post("/api/predict", json={"reviews": reviews, "model": name}).get_json()
    assert [p["sentiment"] for p in body["predictions"]] == ["positive", "negative"]
    assert body["model"]["name"] == name


@pytest.mark.parametrize(
    "review",
    ["😍😍😍 🎬🍿", "<script>alert(1)</script><br /><br />", "\x00 nul \x00",
     "Фильм отличный. 素晴らしい映画です。", "good " * 4_000],
)
def test_unusual_text_through_the_transformer(client, review):
    name = next(m["name"] for m in client.get("/api/models").get_json()["models"]
                if m["kind"] == "transformer")
    t0 = time.perf_counter()
    r = client.post("/api/predict", json={"review": review, "model": name})
    assert r.status_code == 200, r.get_json()
    assert 0 <= r.get_json()["score"] <= 1
    assert time.perf_counter() - t0 < 5  # at most 256 tokens are read, however long the text
