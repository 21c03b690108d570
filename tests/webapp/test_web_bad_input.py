"""Every malformed request gets a 4xx JSON ``{"error"}``; odd but valid text gets a 200."""

from __future__ import annotations

import json

import pytest
from senti_api import create_app


def assert_json_error(r, status: int) -> str:
    assert r.status_code == status, r.data[:200]
    assert r.mimetype == "application/json"
    body = r.get_json()
    assert isinstance(body, dict) and isinstance(body["error"], str) and body["error"]
    return body["error"]


def post_raw(client, data, content_type="application/json"):
    return client.post("/api/predict", data=data, content_type=content_type)


@pytest.mark.parametrize(
    ("data", "content_type", "status", "words"),
    [
        (b"", "application/json", 400, "empty"),
        (b"   \n", "application/json", 400, "empty"),
        (b'{"review": "good"}', "text/plain", 415, "Content-Type"),
        (b'{"review": "good"}', "application/x-www-form-urlencoded", 415, "Content-Type"),
        (b'{"review": "good"}', None, 415, "Content-Type"),
        (b'{"review": "good"', "application/json", 400, "not valid JSON"),
        (b"{'review': 'good'}", "application/json", 400, "not valid JSON"),
        (b'"just a string"', "application/json", 400, "JSON object"),
        (b'["good"]', "application/json", 400, "JSON object"),
        (b"null", "application/json", 400, "JSON object"),
        (b"42", "application/json", 400, "JSON object"),
        (b"{}", "application/json", 400, "exactly one"),
        (b'{"text": "good"}', "application/json", 400, "exactly one"),
        (b'{"review": "good", "reviews": ["good"]}', "application/json", 400, "exactly one"),
        (b'{"review": ""}', "application/json", 400, "empty"),
        (b'{"review": "  \\n\\t "}', "application/json", 400, "empty"),
        (b'{"review": "\\u3000\\ufeff\\u2028"}', "application/json", 400, "empty"),
        (b'{"review": null}', "application/json", 400, "string"),
        (b'{"review": 5}', "application/json", 400, "string"),
        (b'{"review": true}', "application/json", 400, "string"),
        (b'{"review": ["good"]}', "application/json", 400, "string"),
        (b'{"review": {"text": "good"}}', "application/json", 400, "string"),
        (b'{"review": "\\ud800 lone surrogate"}', "application/json", 400, "surrogate"),
        (b'{"review": "caf\xe9"}', "application/json", 400, "UTF-8"),
        (b"\xff\xfe{\x00}\x00", "application/json", 400, "UTF-8"),
        (b'{"review": NaN}', "application/json", 400, "string"),
        (b'{"review": ' + b"1" * 5000 + b"}", "application/json", 400, "JSON"),
        (b'{"reviews": "good"}', "application/json", 400, "array"),
        (b'{"reviews": []}', "application/json", 400, "empty"),
        (b'{"reviews": ["good", 3]}', "application/json", 400, "[1]"),
        (b'{"reviews": ["good", " "]}', "application/json", 400, "[1]"),
    ],
)
def test_malformed_request(client, data, content_type, status, words):
    if content_type is None:
        r = client.post("/api/predict", data=data)
    else:
        r = post_raw(client, data, content_type)
    assert words in assert_json_error(r, status)


def test_no_body_at_all(client):
    r = client.post("/api/predict")
    assert_json_error(r, 415)
    r = client.post("/api/predict", content_type="application/json")
    assert_json_error(r, 400)


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_absurdly_deep_nesting(client, opener):
    body = (opener * 200_000).encode()
    assert "nested too deeply" in assert_json_error(post_raw(client, body), 400)


def test_deep_but_valid_nesting_is_a_shape_error(client):
    body = '{"review": ' + "[" * 200 + "]" * 200 + "}"
    assert "string" in assert_json_error(post_raw(client, body), 400)


def test_body_over_limit_is_413_json(client):
    big = json.dumps({"review": "good " * 300_000}).encode()  # 1.5 MB
    assert "too large" in assert_json_error(post_raw(client, big), 413)


def test_body_limit_is_configurable(model_dir, predictor, tmp_path):
    app = create_app({"MODEL_DIR": model_dir, "PREDICTOR": predictor, "STATIC_DIR": tmp_path,
                      "MAX_BODY_BYTES": 100})
    r = app.test_client().post("/api/predict", json={"review": "good " * 50})
    assert_json_error(r, 413)


def test_review_over_length_limit(model_dir, predictor, tmp_path):
    app = create_app({"MODEL_DIR": model_dir, "PREDICTOR": predictor, "STATIC_DIR": tmp_path,
                      "MAX_REVIEW_CHARS": 100})
    client = app.test_client()
    assert client.post("/api/predict", json={"review": "a" * 100}).status_code == 200
    r = client.post("/api/predict", json={"review": "a" * 101})
    assert "too long" in assert_json_error(r, 400)
    r = client.post("/api/predict", json={"reviews": ["good", "a" * 101]})
    assert "[1]" in assert_json_error(r, 400)


def test_batch_over_limit(model_dir, predictor, tmp_path):
    app = create_app({"MODEL_DIR": model_dir, "PREDICTOR": predictor, "STATIC_DIR": tmp_path,
                      "MAX_BATCH": 3})
    client = app.test_client()
    assert client.post("/api/predict", json={"reviews": ["good"] * 3}).status_code == 200
    r = client.post("/api/predict", json={"reviews": ["good"] * 4})
    assert "too many" in assert_json_error(r, 400)


def test_default_limits_accept_20000_characters(client):
    review = "good " * 4000 + "x" * 20_000  # 40,000 characters
    assert client.post("/api/predict", json={"review": review}).status_code == 200


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_wrong_method_is_405_json(client, method):
    r = getattr(client, method)("/api/predict")
    assert "not allowed" in assert_json_error(r, 405)
    assert "POST" in r.headers["Allow"]


def test_wrong_method_on_get_routes(client):
    for path in ("/health", "/ready", "/api/model", "/openapi.json"):
        assert_json_error(client.post(path, json={}), 405)


@pytest.mark.parametrize(
    "path", ["/api/nothing", "/api/", "/api/model/extra", "/nope", "/assets/x.js"]
)
def test_unknown_paths_are_404_json(client, path):
    assert "not found" in assert_json_error(client.get(path), 404)


@pytest.mark.parametrize(
    "review",
    [
        "Loved it 😍🎬🍿 great!",
        "<script>alert('x')</script> a great film",
        "<b>bold</b><br /><br />awful",
        "nul\x00char\x00s in a good review",
        "Фильм отличный. 素晴らしい映画です。 فيلم رائع",
        "x" * 20_000,
        "!!!???...",
        "\u200b\u200d\ufeff word",
        "a",
        "\U0001f600" * 5000,
    ],
)
def test_unusual_valid_text_gets_a_normal_answer(client, review):
    r = client.post("/api/predict", json={"review": review})
    assert r.status_code == 200
    body = r.get_json()
    assert body["sentiment"] in ("positive", "negative") and 0 <= body["score"] <= 1


def test_json_content_type_variants(client):
    for ctype in ("application/json; charset=utf-8", "application/merge-patch+json"):
        assert post_raw(client, b'{"review": "good"}', ctype).status_code == 200


def test_keeps_serving_after_bad_requests(client):
    bad = {
        b"": "empty",
        b"[": "not valid JSON",
        b"\xff": "UTF-8",
        b"[" * 100_000: "nested too deeply",
        b'{"review": 1}': "string",
    }
    for data, words in bad.items():
        assert words in assert_json_error(post_raw(client, data), 400), data[:20]
    r = client.post("/api/predict", json={"review": "great"})
    assert r.status_code == 200 and r.get_json()["sentiment"] == "positive"


def test_unknown_fields_are_reported(client):
    r = client.post("/api/predict", json={"review": "good", "revue": "x"})
    assert "revue" in assert_json_error(r, 400)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"review": 1}', "'review' must be a string, not number"),
        (b'{"review": 1.5}', "'review' must be a string, not number"),
        (b'{"review": null}', "'review' must be a string, not null"),
        (b'{"review": true}', "'review' must be a string, not boolean"),
        (b'{"review": ["a"]}', "'review' must be a string, not array"),
        (b'{"review": {"a": 1}}', "'review' must be a string, not object"),
        (b'["a fine film"]', "request body must be a JSON object, not array"),
        (b"3", "request body must be a JSON object, not number"),
    ],
)
def test_type_errors_name_the_json_type(client, body, words):
    assert words in assert_json_error(post_raw(client, body), 400)


def test_content_type_and_encoding_in_process(client):
    r = client.post("/api/predict", data=b'{"review": "good"}')  # no Content-Type at all
    assert "(got none)" in assert_json_error(r, 415)
    for coding, status in (("gzip", 415), ("GZIP", 415), ("identity", 200), (" Identity ", 200),
                           ("identity, br", 415)):
        r = client.post("/api/predict", data=b'{"review": "good"}', content_type="application/json",
                        headers={"Content-Encoding": coding})
        assert r.status_code == status, coding
        if status == 415:
            shown = coding.lower().replace("identity, ", "").strip()
            assert f"Content-Encoding {shown} is not supported" in r.get_json()["error"]
