"""Metrics for operators: ``GET /metrics`` in Prometheus's text format (prometheus-client).

- ``http_requests_total{route, method, status, model}``: requests answered. ``route`` is the
  Flask URL rule (``/predict``, ``/assets/<path:filename>``), ``unmatched`` for a path that
  matches none (404, 405); ``method`` is one of the usual HTTP methods or ``other``; ``model``
  is the name of the model that answered (``flask.g.sentireview_model``, set by the API
  views), empty when none did. Every label has a bounded set of values.
- ``http_request_duration_seconds{route, method}``: a histogram of the time spent in the app,
  from 1 ms to 30 s.
- ``sentireview_model_info{name, version, kind}``: 1 for each model served.

Under gunicorn the counts of all workers are added up with prometheus-client's multiprocess
mode: each worker writes its values to files in ``PROMETHEUS_MULTIPROC_DIR`` (made and emptied
by gunicorn.conf.py, which also marks an exited worker's live values dead), and ``/metrics``,
whichever worker answers it, reads them all. Without that variable (Flask's development server,
the tests) each app has a registry of its own, so several apps in one process do not clash.
``SENTIREVIEW_METRICS=0`` turns it all off: no ``/metrics`` route, nothing recorded.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess, values
from prometheus_client.exposition import choose_encoder

from .settings import Settings, SettingsError

log = logging.getLogger(__name__)

#: ``route`` of a request that matches no URL rule (a 404, or a 405 from routing).
UNMATCHED = "unmatched"
#: ``method`` values kept as they are; anything else is counted as ``other``.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Histogram buckets (seconds): most answers take 1-100 ms; a large batch takes seconds and
#: ``SENTIREVIEW_PREDICT_TIMEOUT`` (20 s by default) bounds a prediction.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

_EXTENSION = "sentireview.metrics"
_START = "_sentireview_metrics_start"


@dataclass(frozen=True)
class Metrics:
    """The metrics one app records, and the registry ``/metrics`` reads."""

    requests: Counter
    duration: Histogram
    model_info: Gauge
    registry: CollectorRegistry


def _create(registry: CollectorRegistry | None) -> tuple[Counter, Histogram, Gauge]:
    requests = Counter(
        "http_requests_total", "HTTP requests answered, by URL rule, method, status and model.",
        ["route", "method", "status", "model"], registry=registry,
    )
    duration = Histogram(
        "http_request_duration_seconds", "Time spent answering HTTP requests, by URL rule.",
        ["route", "method"], buckets=BUCKETS, registry=registry,
    )
    # livemax: under gunicorn, the models of the live workers (an exited worker's are dropped).
    model_info = Gauge(
        "sentireview_model_info", "The models served (always 1), by name, version and kind.",
        ["name", "version", "kind"], multiprocess_mode="livemax", registry=registry,
    )
    return requests, duration, model_info


# Multiprocess mode: one set of metrics per process (their values live in files named by the
# process id), shared by every app the process creates; registered nowhere, read from the files.
_shared: tuple[Counter, Histogram, Gauge] | None = None


def _multiprocess_dir() -> str | None:
    """``PROMETHEUS_MULTIPROC_DIR`` when multiprocess mode is in use, else None."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    # prometheus_client picks its value class once, when first imported.
    in_use = getattr(values.ValueClass, "_multiprocess", False)
    if path and not in_use:
        log.warning("PROMETHEUS_MULTIPROC_DIR was set after prometheus_client was imported: "
                    "/metrics shows this process's counts only")
        return None
    if in_use and not (path and os.path.isdir(path)):
        raise SettingsError(f"PROMETHEUS_MULTIPROC_DIR must name an existing folder, got {path!r}")
    return path if in_use else None


def _build() -> Metrics:
    global _shared
    path = _multiprocess_dir()
    if path is None:
        registry = CollectorRegistry()
        return Metrics(*_create(registry), registry=registry)
    if _shared is None:
        _shared = _create(None)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=path)
    return Metrics(*_shared, registry=registry)


def served_models(app: Flask) -> list[Any]:
    """The models ``app`` serves: ``app.extensions["sentireview.models"]`` (a dict name ->
    ServedModel) when present, else the single ``app.extensions["sentireview.model"]``."""
    several = app.extensions.get("sentireview.models")
    if several:
        items: Iterable[Any] = several.values() if isinstance(several, Mapping) else several
        return list(items)
    single = app.extensions.get("sentireview.model")
    return [] if single is None else [single]


def get_metrics(app: Flask) -> Metrics | None:
    """The app's metrics, or None when they are turned off."""
    return app.extensions.get(_EXTENSION)


def init_app(app: Flask, settings: Settings) -> None:
    """Record every request and serve ``GET /metrics``, unless ``settings.metrics`` is off.

    Call it after the blueprints are registered and the models loaded.
    """
    if not settings.metrics:
        return
    metrics = _build()
    app.extensions[_EXTENSION] = metrics
    for model in served_models(app):
        metrics.model_info.labels(
            str(model.name), str(model.version), str(getattr(model, "kind", "unknown"))
        ).set(1)

    def start_timer() -> None:
        setattr(g, _START, time.perf_counter())

    def record(response: Response) -> Response:
        started = g.pop(_START, None)
        rule = request.url_rule
        route = rule.rule if rule is not None else UNMATCHED
        method = request.method if request.method in METHODS else "other"
        model = g.get("sentireview_model", "") or ""
        metrics.requests.labels(route, method, str(response.status_code), str(model)).inc()
        if started is not None:
            metrics.duration.labels(route, method).observe(time.perf_counter() - started)
        return response

    def serve_metrics() -> Response:
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return Response(encode(metrics.registry), headers={
            "Content-Type": content_type, "Cache-Control": "no-store",
        })

    # First of the before_request hooks, so that the time covers the others too.
    app.before_request_funcs.setdefault(None, []).insert(0, start_timer)
    app.after_request(record)
    app.add_url_rule("/metrics", endpoint="metrics", view_func=serve_metrics, methods=["GET"])
