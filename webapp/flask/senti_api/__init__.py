"""Senti-review's web back end: the Flask application factory.

``create_app()`` reads :class:`~senti_api.settings.Settings` from the environment, loads the
model once (each gunicorn worker calls it, so each worker has its own), and registers the API
and the front-end blueprints. Run it with the Procfile's gunicorn command, or for a quick look
``flask --app senti_api run`` from ``webapp/flask``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from . import api, frontend, hardening, metrics
from .model import ModelLoadError, ServedModel, load_models
from .settings import Settings, SettingsError, model_paths

__all__ = ["create_app", "ModelLoadError", "ServedModel", "Settings", "SettingsError"]

log = logging.getLogger(__name__)

# test_config keys that override Settings fields (upper-case field names).
_SETTING_KEYS = {f.name.upper(): f.name for f in dataclasses.fields(Settings)} | {
    "MODEL_DIR": "model_dirs"
}


def _settings(test_config: Mapping[str, Any] | None) -> Settings:
    settings = Settings.from_env()
    overrides = {
        _SETTING_KEYS[k]: v for k, v in (test_config or {}).items() if k in _SETTING_KEYS
    }
    if "model_dirs" in overrides:
        overrides["model_dirs"] = model_paths(overrides["model_dirs"])
    if "static_dir" in overrides:
        overrides["static_dir"] = Path(overrides["static_dir"])
    if "cors_origins" in overrides:
        overrides["cors_origins"] = tuple(overrides["cors_origins"])
    return dataclasses.replace(settings, **overrides)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the WSGI app.

    ``test_config`` overrides Flask config keys and settings (``MODEL_DIR``: one folder or a
    list, the default first; ``STATIC_DIR``, ``MAX_REVIEW_CHARS``, ``MAX_BATCH``,
    ``MAX_BODY_BYTES``, ``CORS_ORIGINS``, ``THREADS``, ``BACKEND``); ``PREDICTOR`` injects an
    object with ``predict(texts)`` in place of ``Predictor.load`` of the first model folder.
    Raises :class:`ModelLoadError` or :class:`SettingsError` (one line each) when a model or
    a setting is unusable.
    """
    settings = _settings(test_config)
    app = Flask(__name__)
    app.config.from_mapping(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
    )
    if test_config:
        app.config.from_mapping(
            {k: v for k, v in test_config.items() if k not in _SETTING_KEYS and k != "PREDICTOR"}
        )
    app.json.sort_keys = False
    app.debug = False  # never the interactive debugger, whatever FLASK_DEBUG says

    predictor = (test_config or {}).get("PREDICTOR")
    models = load_models(settings.model_dirs, settings.backend, settings.threads, predictor)
    app.extensions["sentireview.settings"] = settings
    app.extensions["sentireview.models"] = models  # name -> ServedModel, the default first
    app.extensions["sentireview.model"] = next(iter(models.values()))

    hardening.init_app(app, settings.cors_origins)
    app.register_blueprint(api.bp)
    app.register_blueprint(frontend.bp)
    metrics.init_app(app, settings)
    return app
