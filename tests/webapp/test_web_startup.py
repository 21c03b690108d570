"""Settings from the environment, and start-up that stops with one line on a bad model."""

from __future__ import annotations

from pathlib import Path

import pytest
from senti_api import ModelLoadError, Settings, SettingsError, create_app
from senti_api.settings import DEFAULT_MODEL_DIR, DEFAULT_STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_do_not_depend_on_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    s = Settings.from_env({})
    assert s.model_dir == DEFAULT_MODEL_DIR == ROOT / "webapp" / "flask" / "ml_model"
    assert s.static_dir == DEFAULT_STATIC_DIR == ROOT / "webapp" / "react" / "dist"
    assert s.max_review_chars >= 20_000
    assert s.max_body_bytes == 1024 * 1024
    assert s.cors_origins == () and s.threads == 1 and s.backend == "auto"


def test_settings_from_env(tmp_path):
    s = Settings.from_env({
        "SENTIREVIEW_MODEL_DIR": str(tmp_path),
        "SENTIREVIEW_MAX_REVIEW_CHARS": "30000",
        "SENTIREVIEW_MAX_BATCH": "8",
        "SENTIREVIEW_MAX_BODY_BYTES": "2048",
        "SENTIREVIEW_CORS_ORIGINS": "https://a.example, https://b.example/",
        "SENTIREVIEW_THREADS": "2",
        "SENTIREVIEW_BACKEND": "onnx",
    })
    assert s.model_dir == tmp_path and s.max_review_chars == 30_000 and s.max_batch == 8
    assert s.max_body_bytes == 2048 and s.threads == 2 and s.backend == "onnx"
    assert s.cors_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(("name", "value"), [
    ("SENTIREVIEW_MAX_BATCH", "0"), ("SENTIREVIEW_THREADS", "two"),
    ("SENTIREVIEW_MAX_BODY_BYTES", "-1"), ("SENTIREVIEW_BACKEND", "tensorflow"),
])
def test_bad_settings_are_one_line_errors(name, value):
    with pytest.raises(SettingsError, match=name) as info:
        Settings.from_env({name: value})
    assert "\n" not in str(info.value)


def test_env_reaches_the_app(monkeypatch, model_dir, predictor, tmp_path):
    monkeypatch.setenv("SENTIREVIEW_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("SENTIREVIEW_MAX_REVIEW_CHARS", "10")
    app = create_app({"PREDICTOR": predictor, "STATIC_DIR": tmp_path})
    assert app.test_client().post("/api/predict", json={"review": "x" * 11}).status_code == 400
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_missing_model_folder(tmp_path):
    with pytest.raises(ModelLoadError, match="model folder not found") as info:
        create_app({"MODEL_DIR": tmp_path / "nope"})
    assert "\n" not in str(info.value)


def test_folder_without_config(tmp_path):
    with pytest.raises(ModelLoadError, match="no config.json"):
        create_app({"MODEL_DIR": tmp_path})


def test_corrupt_config(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="cannot read"):
        create_app({"MODEL_DIR": tmp_path})
