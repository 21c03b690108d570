"""Settings of the web process, read once from environment variables at start-up.

Every field has a default that works for a local run and on Heroku; an operator changes a
value with the environment variable named next to it. A bad value stops start-up with a
one-line :class:`SettingsError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sentireview.errors import SentiReviewError

# The defaults below are folders of the checkout, right when senti_api runs from it (an
# editable install, as scripts/setup.sh makes). A plain `pip install .` puts this file in
# site-packages, where they do not exist: gunicorn.conf.py therefore sets
# SENTIREVIEW_MODEL_DIR and SENTIREVIEW_STATIC_DIR from its own folder.
_HERE = Path(__file__).resolve().parent
#: ``webapp/flask/ml_model``: the artifact folder shipped with the app.
DEFAULT_MODEL_DIR = _HERE.parent / "ml_model"
#: ``webapp/react/dist``: the built front end.
DEFAULT_STATIC_DIR = _HERE.parent.parent / "react" / "dist"


class SettingsError(SentiReviewError):
    """An environment variable holds a value the web process cannot use."""


@dataclass(frozen=True)
class Settings:
    """What an operator can tune, with the environment variable that sets each field."""

    #: SENTIREVIEW_MODEL_DIR: the artifact folders to serve, separated by ``os.pathsep``
    #: (":" on Linux); the first is the default model. One folder is a valid deployment.
    model_dirs: tuple[Path, ...] = (DEFAULT_MODEL_DIR,)
    #: SENTIREVIEW_BACKEND: ``auto`` (ONNX Runtime when ``model.onnx`` exists), ``onnx``, ``torch``.
    backend: str = "auto"
    #: SENTIREVIEW_STATIC_DIR: the React build served at ``/``.
    static_dir: Path = DEFAULT_STATIC_DIR
    #: SENTIREVIEW_MAX_REVIEW_CHARS: longest review accepted (IMDb's longest is ~14,000).
    max_review_chars: int = 50_000
    #: SENTIREVIEW_MAX_BATCH: most reviews in one ``{"reviews": [...]}`` request.
    max_batch: int = 64
    #: SENTIREVIEW_MAX_BODY_BYTES: larger request bodies get 413 (default 1 MiB).
    max_body_bytes: int = 1024 * 1024
    #: SENTIREVIEW_CORS_ORIGINS: comma-separated origins allowed to call the API from a
    #: browser (``*`` for any); none by default, as the front end is served from the same origin.
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    #: SENTIREVIEW_THREADS: compute threads per worker (ONNX Runtime intra-op threads).
    threads: int = 1
    #: SENTIREVIEW_PREDICT_TIMEOUT: seconds a prediction may take before the request gets a
    #: 503 (under gunicorn's 30 s worker timeout, which would kill the worker instead).
    predict_timeout: int = 20
    #: SENTIREVIEW_METRICS: ``1`` (default) serves Prometheus metrics at ``/metrics`` and
    #: records every request; ``0`` turns both off (true/false, yes/no, on/off also read).
    metrics: bool = True

    @property
    def model_dir(self) -> Path:
        """The default model's folder (the first of :attr:`model_dirs`)."""
        return self.model_dirs[0]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``); unset or empty = default."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(f"SENTIREVIEW_{name}", "").strip()
            return value or None

        def positive_int(name: str, default: int) -> int:
            raw = get(name)
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                value = 0
            if value < 1:
                raise SettingsError(f"SENTIREVIEW_{name} must be a positive integer, got {raw!r}")
            return value

        def flag(name: str, default: bool) -> bool:
            raw = get(name)
            if raw is None:
                return default
            value = raw.lower()
            if value in ("1", "true", "yes", "on"):
                return True
            if value in ("0", "false", "no", "off"):
                return False
            raise SettingsError(f"SENTIREVIEW_{name} must be 1 or 0, got {raw!r}")

        backend = get("BACKEND") or cls.backend
        if backend not in ("auto", "onnx", "torch"):
            raise SettingsError(f"SENTIREVIEW_BACKEND must be auto, onnx or torch, got {backend!r}")
        raw_origins = (get("CORS_ORIGINS") or "").split(",")
        origins = tuple(o.strip().rstrip("/") for o in raw_origins if o.strip())
        return cls(
            model_dirs=model_paths(get("MODEL_DIR") or str(DEFAULT_MODEL_DIR)),
            backend=backend,
            static_dir=Path(get("STATIC_DIR") or DEFAULT_STATIC_DIR).expanduser(),
            max_review_chars=positive_int("MAX_REVIEW_CHARS", cls.max_review_chars),
            max_batch=positive_int("MAX_BATCH", cls.max_batch),
            max_body_bytes=positive_int("MAX_BODY_BYTES", cls.max_body_bytes),
            cors_origins=origins,
            threads=positive_int("THREADS", cls.threads),
            predict_timeout=positive_int("PREDICT_TIMEOUT", cls.predict_timeout),
            metrics=flag("METRICS", cls.metrics),
        )


def model_paths(value: str | os.PathLike | list | tuple) -> tuple[Path, ...]:
    """Model folders from a setting: one path, a list of paths, or paths joined with
    ``os.pathsep``. Empty items are skipped; none at all is a :class:`SettingsError`."""
    items = [value] if isinstance(value, (str, os.PathLike)) else list(value)
    paths: list[Path] = []
    for item in items:
        parts = str(item).split(os.pathsep) if isinstance(item, str) else [item]
        paths.extend(Path(p).expanduser() for p in parts if str(p).strip())
    if not paths:
        raise SettingsError("SENTIREVIEW_MODEL_DIR names no model folder")
    return tuple(paths)
