"""The JSON API's contract, with a keyword predictor in place of the model."""

from __future__ import annotations

import pytest
from senti_api import create_app
from senti_api.model import KNOWN_NEGATIVE, KNOWN_POSITIVE


def test_predict_one_review(client):
    r = client.post("/api/predict", json={"review": "A wonderful film, I loved it."})
    assert r.status_code == 200
    body = r.get_json()
    assert body["sentiment"] == "positive"
    assert 0.5 < body["score"] <= 1
    assert body["label"] == 1
    assert body["model"] == {"name": "fake-lstm", "version": "0.0.1"}


def test_predict_negative(client):
    body = client.post("/api/predict", json={"review": "Boring and awful."}).get_json()
    assert body["sentiment"] == "negative" and body["score"] < 0.5 and body["label"] == 0


def test_predict_batch_keeps_order(client, predictor):
    reviews = ["great", "awful", "terrible boring", "best ever loved"]
    r = client.post("/api/predict", json={"reviews": reviews})
    assert r.status_code == 200
    body = r.get_json()
    sentiments = [p["sentiment"] for p in body["predictions"]]
    assert sentiments == ["positive", "negative", "negative", "positive"]
    assert body["model"]["name"] == "fake-lstm"
    assert predictor.calls[-1] == reviews  # one call for the whole batch


def test_health(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}


def test_ready(client):
    r = client.get("/ready")
    assert r.status_code == 200
    assert r.get_json()["status"] == "ready"


def test_not_ready_when_model_is_wrong(model_dir, tmp_path):
    class Upside:
        def predict(self, texts):
            return [{"sentiment": "negative", "score": 0.1, "label": 0} for _ in texts]

    app = create_app({"MODEL_DIR": model_dir, "PREDICTOR": Upside(), "STATIC_DIR": tmp_path})
    r = app.test_client().get("/ready")
    assert r.status_code == 503
    assert "misclassifies" in r.get_json()["error"]


def test_not_ready_when_model_raises(model_dir, tmp_path):
    class Broken:
        def predict(self, texts):
            raise RuntimeError("boom")

    app = create_app({"MODEL_DIR": model_dir, "PREDICTOR": Broken(), "STATIC_DIR": tmp_path})
    r = app.test_client().get("/ready")
    assert r.status_code == 503 and "boom" not in r.get_json()["error"]


def test_readiness_reviews_are_clear(predictor):
    pos, neg = predictor.predict([KNOWN_POSITIVE, KNOWN_NEGATIVE])
    assert (pos["sentiment"], neg["sentiment"]) == ("positive", "negative")


def test_model_info(client):
    body = client.get("/api/model").get_json()
    assert body["kind"] == "lstm"
    assert body["name"] == "fake-lstm" and body["version"] == "0.0.1"
    assert body["metrics"] == {"test": {"accuracy": 0.5}}
    assert body["backend"] == "keywords"
    assert body["limits"]["max_review_chars"] >= 20_000


def test_openapi_lists_every_route(app, client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    routes = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    documented = set(spec["paths"])
    undocumented = {r for r in routes - documented if "<" not in r}
    assert not undocumented
    assert {"/api/predict", "/health", "/ready", "/api/model", "/openapi.json"} <= documented


def test_prediction_errors_are_500_json_without_details(model_dir, tmp_path, caplog):
    class Broken:
        def predict(self, texts):
            raise RuntimeError("secret detail")

    app = create_app({"MODEL_DIR": model_dir, "PREDICTOR": Broken(), "STATIC_DIR": tmp_path})
    r = app.test_client().post("/api/predict", json={"review": "fine"})
    assert r.status_code == 500
    assert r.get_json() == {"error": "internal server error"}
    assert "secret detail" in caplog.text  # in the log, not the response


def test_security_headers(client):
    for r in (client.get("/health"), client.post("/api/predict", data="x"), client.get("/")):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["Referrer-Policy"] == "no-referrer"


def test_no_cors_by_default(client):
    r = client.post("/api/predict", json={"review": "good"}, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers


@pytest.fixture
def cors_client(model_dir, predictor, tmp_path):
    app = create_app({"MODEL_DIR": model_dir, "PREDICTOR": predictor, "STATIC_DIR": tmp_path,
                      "CORS_ORIGINS": ["https://front.example"]})
    return app.test_client()


def test_cors_for_configured_origin(cors_client):
    ok = cors_client.post("/api/predict", json={"review": "good"}, headers={"Origin": "https://front.example"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://front.example"
    assert "Origin" in ok.headers["Vary"]
    other = cors_client.post("/api/predict", json={"review": "good"}, headers={"Origin": "https://other.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_cors_preflight(cors_client):
    r = cors_client.options("/api/predict", headers={
        "Origin": "https://front.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "https://front.example"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in r.headers["Access-Control-Allow-Headers"]


def test_debug_is_off_even_if_asked(model_dir, predictor, tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app({"MODEL_DIR": model_dir, "PREDICTOR": predictor, "STATIC_DIR": tmp_path})
    assert app.debug is False
