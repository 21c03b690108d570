"""POST /predict keeps the tutorial's contract: its React client (axios 0.21) posts
``{"review": text}`` and renders ``res.data.toUpperCase()``, so the answer is the bare label
as text/plain; errors stay JSON."""

from __future__ import annotations

import json

import pytest

#: Exactly what axios 0.21 sends for ``axios.post(url, {review})``.
TUTORIAL_HEADERS = {
    "Accept": "application/json, text/plain, */*",
    "Content-Type": "application/json;charset=utf-8",
}


def tutorial_post(client, review):
    return client.post("/predict", data=json.dumps({"review": review}), headers=TUTORIAL_HEADERS)


@pytest.mark.parametrize(
    ("review", "label"),
    [
        ("A wonderful film, I loved it.", "positive"),
        ("An awful, boring waste.", "negative"),
        ("Brilliant acting and a great, moving story.", "positive"),
        ("The worst plot I have sat through: terrible and bad.", "negative"),
    ],
)
def test_the_answer_is_the_bare_label(client, review, label):
    r = tutorial_post(client, review)
    assert r.status_code == 200
    assert r.mimetype == "text/plain"
    text = r.get_data(as_text=True)
    assert text == label
    # axios 0.21 tries JSON.parse on every answer and keeps the raw string when it fails:
    # the bare label is not JSON, so the page gets a string to upper-case (an object, as
    # the JSON API answers, would make res.data.toUpperCase() throw).
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_the_label_comes_from_the_default_model(client, predictor):
    tutorial_post(client, "great")
    assert predictor.calls == [["great"]]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"reviews": ["good"]}, "/api/predict"),
        ({"review": "good", "model": "fake-lstm"}, "unknown field"),
        ({}, "missing field 'review'"),
        ({"review": "   "}, "empty"),
        ({"review": 3}, "must be a string, not number"),
    ],
)
def test_errors_stay_json(client, body, words):
    r = client.post("/predict", data=json.dumps(body), headers=TUTORIAL_HEADERS)
    assert r.status_code == 400 and r.is_json
    assert words in r.get_json()["error"]


def test_wrong_content_type_is_json_415(client):
    r = client.post("/predict", data="review=good", content_type="text/plain")
    assert r.status_code == 415 and "application/json" in r.get_json()["error"]
