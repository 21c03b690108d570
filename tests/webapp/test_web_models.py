"""Several served models: /api/models, the optional "model" of /api/predict and
/api/explain, and the settings that list them (the default first)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from senti_api import ModelLoadError, create_app
from senti_api.settings import Settings

from tests.webapp.conftest import KeywordPredictor, write_fake_artifact


def second_artifact(folder: Path, name: str = "tiny-transformer") -> Path:
    write_fake_artifact(folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(kind="transformer", name=name, version="9.9")
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_model_dir_lists_several_folders(tmp_path):
    s = Settings.from_env({"SENTIREVIEW_MODEL_DIR": f"{tmp_path}/a:{tmp_path}/b:"})
    assert s.model_dirs == (tmp_path / "a", tmp_path / "b")
    assert s.model_dir == tmp_path / "a"


def test_two_models_with_one_name_stop_start_up(tmp_path):
    a = write_fake_artifact(tmp_path / "a")
    b = write_fake_artifact(tmp_path / "b")
    with pytest.raises(ModelLoadError, match="two served models are named 'fake-lstm'"):
        create_app({"MODEL_DIR": [a, b], "PREDICTOR": KeywordPredictor()})


def test_the_light_model_alone_is_listed_as_default(client):
    body = client.get("/api/models").get_json()
    assert body["default"] == "fake-lstm"
    (only,) = body["models"]
    assert only["default"] is True and only["title"] == "LSTM trained from scratch"
    assert only["metrics"] == {"accuracy": 0.5}


def test_unknown_model_is_a_400_that_lists_the_names(client):
    for route in ("/api/predict", "/api/explain"):
        r = client.post(route, json={"review": "good", "model": "gpt"})
        assert r.status_code == 400
        assert "unknown model 'gpt'" in r.get_json()["error"]
        assert "'fake-lstm'" in r.get_json()["error"]
        r = client.post(route, json={"review": "good", "model": 1})
        assert r.status_code == 400 and "'model' must be a string" in r.get_json()["error"]


def test_the_named_model_answers(client):
    r = client.post("/api/predict", json={"reviews": ["good"], "model": "fake-lstm"})
    assert r.status_code == 200 and r.get_json()["model"]["name"] == "fake-lstm"


class SlowExplainer(KeywordPredictor):
    def explain(self, text):
        raise TimeoutError("took too long")


def test_an_explanation_that_times_out_is_a_json_503(model_dir, tmp_path):
    app = create_app({"MODEL_DIR": model_dir, "PREDICTOR": SlowExplainer(),
                      "STATIC_DIR": tmp_path})
    r = app.test_client().post("/api/explain", json={"review": "good"})
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    assert "too long" in r.get_json()["error"]


def test_a_model_that_cannot_explain_is_a_json_501(model_dir, tmp_path):
    class Plain:
        def predict(self, texts):
            return KeywordPredictor().predict(texts)

    app = create_app({"MODEL_DIR": model_dir, "PREDICTOR": Plain(), "STATIC_DIR": tmp_path})
    r = app.test_client().post("/api/explain", json={"review": "good"})
    assert r.status_code == 501 and "cannot explain" in r.get_json()["error"]
