"""Hardening of the app itself (issue 18), in-process: headers, deadlines, invisible reviews.
The hostile requests that need the real server are in test_web_gunicorn.py."""

from __future__ import annotations

import time

import pytest
from senti_api import create_app

from .conftest import KeywordPredictor


@pytest.fixture
def cors_client(model_dir, tmp_path):
    app = create_app({"MODEL_DIR": model_dir, "PREDICTOR": KeywordPredictor(),
                      "STATIC_DIR": tmp_path / "no-dist",
                      "CORS_ORIGINS": ["https://front.example"]})
    return app.test_client()


def test_vary_origin_is_always_sent_when_cors_is_configured(cors_client):
    # a cache must not serve an answer without CORS headers to an allowed origin, or back
    for headers in ({}, {"Origin": "https://other.example"}, {"Origin": "https://front.example"}):
        r = cors_client.get("/health", headers=headers)
        assert "Origin" in r.vary, headers
    r = cors_client.get("/health", headers={"Origin": "https://front.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "https://front.example"


def test_hsts_only_over_https_and_a_permissions_policy_everywhere(client):
    plain = client.get("/health")
    assert "Strict-Transport-Security" not in plain.headers
    secure = client.get("/health", base_url="https://senti.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    for r in (plain, secure, client.get("/")):
        assert "camera=()" in r.headers["Permissions-Policy"]


def test_page_allows_no_inline_style(client):
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "style-src 'self'" in csp


@pytest.mark.parametrize("review", ["\x00", "\u200b\u200b", "\ufeff\u2060 \u00ad\u200d", "\ufe0f"])
def test_invisible_review_is_empty(client, predictor, review):
    r = client.post("/api/predict", json={"review": review})
    assert r.status_code == 400 and "empty" in r.get_json()["error"]
    r = client.post("/api/predict", json={"reviews": ["good", review]})
    assert r.status_code == 400 and "[1]" in r.get_json()["error"]
    assert predictor.calls == []


def test_visible_characters_still_count(client):
    for review in ("\u00e9", "\U0001f600", "\u200bok\u200b", "10/10"):
        assert client.post("/api/predict", json={"review": review}).status_code == 200


class SlowPredictor(KeywordPredictor):
    def predict(self, texts):
        time.sleep(0.6)
        return super().predict(texts)


def test_a_prediction_past_its_deadline_is_a_503(model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIREVIEW_PREDICT_TIMEOUT", "1")
    predictor = SlowPredictor()
    app = create_app({"MODEL_DIR": model_dir, "PREDICTOR": predictor,
                      "STATIC_DIR": tmp_path / "no-dist"})
    client = app.test_client()
    r = client.post("/api/predict", json={"reviews": ["good"] * 64})  # 4 chunks of 16
    assert r.status_code == 503 and r.get_json()["error"]
    assert r.headers["Retry-After"] == "1"
    assert len(predictor.calls) == 2  # stopped between chunks, not after all four
    assert client.post("/api/predict", json={"review": "good"}).status_code == 200


def test_a_timeout_error_of_the_predictor_is_a_503(model_dir, tmp_path):
    class TimingOut(KeywordPredictor):
        def predict(self, texts):
            raise TimeoutError("tokenizer timed out")

    app = create_app({"MODEL_DIR": model_dir, "PREDICTOR": TimingOut(),
                      "STATIC_DIR": tmp_path / "no-dist"})
    r = app.test_client().post("/api/predict", json={"review": "good"})
    assert r.status_code == 503 and r.mimetype == "application/json"
