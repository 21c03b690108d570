"""The shipped model (webapp/flask/ml_model) behind the app, in-process: the real cleaning,
vocabulary and ONNX Runtime path, on clear reviews and on unusual but valid text."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from senti_api import create_app
from senti_api.settings import DEFAULT_MODEL_DIR


@pytest.fixture(scope="module")
def real_client(tmp_path_factory):
    if not (Path(DEFAULT_MODEL_DIR) / "model.onnx").is_file():
        pytest.fail(f"the shipped model is missing: {DEFAULT_MODEL_DIR}/model.onnx")
    app = create_app({"STATIC_DIR": tmp_path_factory.mktemp("no-dist")})
    return app.test_client()


def test_shipped_model_is_served_with_onnx(real_client):
    info = real_client.get("/api/model").get_json()
    assert info["kind"] == "lstm" and info["backend"] == "onnx"
    assert info["metrics"]["accuracy"] > 0.7
    assert real_client.get("/ready").status_code == 200


def test_clear_reviews(real_client):
    reviews = [
        "One of the best films I have ever seen. Brilliant acting, a wonderful story.",
        "Dreadful. The worst movie of the year, boring and badly acted; avoid it.",
    ]
    body = real_client.post("/api/predict", json={"reviews": reviews}).get_json()
    assert [p["sentiment"] for p in body["predictions"]] == ["positive", "negative"]


@pytest.mark.parametrize(
    "review",
    [
        "😍😍😍 🎬🍿",
        "<script>alert(1)</script><br /><br />",
        "\x00\x00 nul \x00",
        "!!!???...:-) <3 @user http://example.com",
        "Фильм отличный. 素晴らしい映画です。 فيلم رائع",
        "a" * 20_000,
        "good " * 10_000,
        "<b" * 25_000,  # over 20,000 characters and quadratic for the unbounded tokenizer
    ],
)
def test_unusual_text_through_the_real_pipeline(real_client, review):
    t0 = time.perf_counter()
    r = real_client.post("/api/predict", json={"review": review})
    assert r.status_code == 200, r.get_json()
    assert 0 <= r.get_json()["score"] <= 1
    assert time.perf_counter() - t0 < 2  # no pathological regex time on odd input


def test_invisible_text_is_an_empty_review(real_client):
    r = real_client.post("/api/predict", json={"review": "\u200b\u200d\ufeff\x85"})
    assert r.status_code == 400 and "empty" in r.get_json()["error"]


def test_batch_matches_single_predictions(real_client):
    reviews = ["great fun", "awful", "an average film with some good moments", "meh"]
    batch = real_client.post("/api/predict", json={"reviews": reviews}).get_json()["predictions"]
    for review, together in zip(reviews, batch, strict=True):
        alone = real_client.post("/api/predict", json={"review": review}).get_json()
        assert abs(alone["score"] - together["score"]) < 1e-5


@pytest.mark.parametrize(
    "review",
    ["." * 50_000, "." * 49_999 + "5", "a-" * 24_000 + "aaa", "a-" * 24_000 + " aaa",
     "aaa " + "a-" * 24_000],
)
def test_long_punctuation_runs_do_not_stall_a_worker(real_client, review):
    # A guard against regex backtracking (these took 10-25 s before the fixes), not a speed goal:
    # the bound is 10x what they take now.
    t0 = time.perf_counter()
    assert real_client.post("/api/predict", json={"review": review}).status_code == 200
    assert time.perf_counter() - t0 < 2.0
