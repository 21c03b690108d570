"""POST /api/explain with real models: the shipped light model (exact n-gram weights + LSTM
occlusion, on ONNX Runtime) and, beside it, a tiny transformer built here (sentences)."""

from __future__ import annotations

from pathlib import Path

import pytest
from senti_api import create_app
from senti_api.settings import DEFAULT_MODEL_DIR

from tests.helpers.fake_reviews import build_tiny_transformer


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The shipped model (default) and a tiny transformer, served side by side."""
    if not (Path(DEFAULT_MODEL_DIR) / "model.onnx").is_file():
        pytest.fail(f"the shipped model is missing: {DEFAULT_MODEL_DIR}/model.onnx")
    tiny = build_tiny_transformer(tmp_path_factory.mktemp("tiny") / "run")
    app = create_app({"MODEL_DIR": [DEFAULT_MODEL_DIR, tiny],
                      "STATIC_DIR": tmp_path_factory.mktemp("no-dist")})
    return app.test_client()


def weights_of(body: dict, review: str) -> dict[str, float]:
    return {review[s["start"] : s["end"]]: s["weight"] for s in body["spans"]}


def test_weights_have_the_right_signs(both):
    review = "A wonderful cast, but an awful script."
    body = both.post("/api/explain", json={"review": review}).get_json()
    weights = weights_of(body, review)
    assert weights["wonderful"] > 0 > weights["awful"]
    assert body["model"]["name"] == "sentireview-wide-deep-lstm"
    predicted = both.post("/api/predict", json={"review": review}).get_json()
    assert body["score"] == pytest.approx(predicted["score"], abs=1e-9)
    assert body["sentiment"] == predicted["sentiment"]


def test_offsets_count_code_points_through_emoji_and_accents(both):
    review = "😀👍🏽 Café naïve — a wonderful film ☕, truly awful ending ünd 😡"
    body = both.post("/api/explain", json={"review": review}).get_json()
    spans = body["spans"]
    assert all(a["end"] <= b["start"] for a, b in zip(spans, spans[1:], strict=False))
    found = [review[s["start"] : s["end"]] for s in spans]
    assert {"wonderful", "awful", "Café", "naïve"} <= set(found)
    assert all(f.strip() == f and f for f in found)


def test_an_empty_review_is_a_400(both):
    r = both.post("/api/explain", json={"review": " \u200b "})
    assert r.status_code == 400 and "empty" in r.get_json()["error"]


def test_both_models_are_listed_and_answer(both):
    body = both.get("/api/models").get_json()
    names = [m["name"] for m in body["models"]]
    assert body["default"] == names[0] == "sentireview-wide-deep-lstm" and len(names) == 2
    titles = [m["title"] for m in body["models"]]
    assert titles == ["LSTM trained from scratch", "fine-tuned transformer"]
    assert body["models"][0]["metrics"]["accuracy"] > 0.9
    review = "Great film. The plot was thin!"
    r = both.post("/api/explain", json={"review": review, "model": names[1]})
    assert r.status_code == 200 and r.get_json()["method"] == "sentence occlusion"
    assert [review[s["start"] : s["end"]] for s in r.get_json()["spans"]] == [
        "Great film.", "The plot was thin!"]
    r = both.post("/api/predict", json={"reviews": [review], "model": names[1]})
    assert r.status_code == 200 and r.get_json()["model"]["name"] == names[1]
