"""gunicorn's entry point: ``senti_api.wsgi:serve()`` (see the Procfile).

Like ``create_app()``, but a missing or corrupt model (or a bad setting) ends the worker with
one log line and gunicorn's "app failed to load" exit code, so the whole server stops at once
with that line instead of a traceback and a restart loop.
"""

from __future__ import annotations

import logging
import sys

from flask import Flask

from . import create_app
from .model import ModelLoadError
from .settings import SettingsError

log = logging.getLogger("senti_api")

#: gunicorn's Arbiter.APP_LOAD_ERROR: the master halts instead of restarting the worker.
APP_LOAD_ERROR = 4


def serve() -> Flask:
    """The app for gunicorn; exits with :data:`APP_LOAD_ERROR` and one line when it cannot start."""
    try:
        return create_app()
    except (ModelLoadError, SettingsError) as exc:
        log.critical("cannot start: %s", exc)
        sys.stderr.flush()
        sys.exit(APP_LOAD_ERROR)
