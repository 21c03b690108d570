"""The HTTP API.

- ``POST /predict``: the tutorial's contract, kept exactly: ``{"review": text}`` in, the bare
  label (``positive`` / ``negative``) out as text/plain, so the tutorial's own React client
  (``res.data.toUpperCase()``) works unchanged.
- ``POST /api/predict``: the JSON answer (``sentiment``, ``score``, ``label``, ``model``), one
  review or a batch; ``POST /api/explain``: the prediction plus the spans that mattered;
  ``GET /api/models``: the served models; both POSTs take an optional ``"model"`` name.
- ``GET /health``, ``/ready``, ``/api/model`` (the default model), ``/openapi.json``.

Errors are ``{"error": message}`` JSON on every route: 4xx for the client's mistakes, and the
501 and 503 that /openapi.json lists.

Request bodies are parsed here rather than with ``request.get_json`` so that each way a body
can be wrong (no body, wrong content type, bytes that are not UTF-8, broken or absurdly deep
JSON, the wrong shape) gets its own 4xx message instead of a generic page.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from .hardening import error_response
from .model import ExplainUnavailable, PredictionTimeout, ServedModel
from .openapi import NOT_BLANK, build_spec
from .settings import Settings

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__)

USAGE = 'send JSON {"review": "text"} or {"reviews": ["text", ...]}'
TUTORIAL_USAGE = 'send JSON {"review": "text"} (batches and model choice: POST /api/predict)'
EXPLAIN_USAGE = 'send JSON {"review": "text"}, optionally with "model"'

# Blank = only JavaScript's (JSON Schema's) whitespace, as documented in /openapi.json.
# (Python's str.isspace would also count \x1c-\x1f and \x85, which the schema does not.)
_NOT_BLANK = re.compile(NOT_BLANK)


class BadRequest(Exception):
    """A client error, answered as ``{"error": message}`` with ``status``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> Response:
    return error_response(exc.status, exc.message)


@bp.errorhandler(PredictionTimeout)
def _timed_out(exc: PredictionTimeout) -> Response:
    log.warning("prediction timed out on %s: %s", request.path, exc)
    response = error_response(503, "the prediction took too long; try fewer or shorter reviews")
    response.headers["Retry-After"] = "1"
    return response


@bp.errorhandler(ExplainUnavailable)
def _cannot_explain(exc: ExplainUnavailable) -> Response:
    return error_response(501, str(exc))


def _model() -> ServedModel:
    """The default model."""
    return current_app.extensions["sentireview.model"]


def _models() -> dict[str, ServedModel]:
    return current_app.extensions["sentireview.models"]


def _chosen_model(data: dict[str, Any]) -> ServedModel:
    """The model named by the request's optional ``"model"``, else the default; it is
    recorded for the metrics (``g.sentireview_model``)."""
    models = _models()
    if "model" not in data:
        model = _model()
    else:
        name = data["model"]
        if not isinstance(name, str):
            raise BadRequest(f"'model' must be a string, not {_json_type(name)}")
        if name not in models:
            valid = ", ".join(map(repr, models))
            raise BadRequest(f"unknown model {name[:100]!r}; served models: {valid}")
        model = models[name]
    g.sentireview_model = model.name
    return model


def _settings() -> Settings:
    return current_app.extensions["sentireview.settings"]


def _check_content_encoding() -> None:
    """Bodies are read as sent: a compressed one gets 415 rather than a misleading 400, and a
    plain one labelled as compressed is not guessed at."""
    codings = [c.strip().lower() for c in request.headers.get("Content-Encoding", "").split(",")]
    unsupported = [c for c in codings if c not in ("", "identity")]
    if unsupported:
        raise BadRequest(
            f"Content-Encoding {', '.join(unsupported)[:100]} is not supported: "
            "send the body uncompressed", 415,
        )


def _read_body(limit: int) -> bytes:
    """The whole body, or 413 when it is over ``limit`` bytes however it is framed.

    With ``Content-Length`` Flask checks the limit before reading. Without it (chunked),
    Werkzeug would silently cut the body at the limit, so it is read here up to one byte more.
    """
    if request.content_length is not None or "wsgi.input_terminated" not in request.environ:
        return request.get_data(cache=False)
    stream = request.environ["wsgi.input"]
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestEntityTooLarge()
    return b"".join(chunks)


def _read_json_object(usage: str = USAGE) -> dict[str, Any]:
    """The request body as a JSON object, or :class:`BadRequest` saying what is wrong (with
    ``usage``: what to send)."""
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        shown = mimetype or "none"
        raise BadRequest(f"Content-Type must be application/json (got {shown}); {usage}", 415)
    _check_content_encoding()
    body = _read_body(_settings().max_body_bytes)
    if not body.strip():
        raise BadRequest(f"request body is empty; {usage}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"request body is not valid UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise BadRequest("request body is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or an integer with too many digits
        raise BadRequest(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"request body must be a JSON object, not {_json_type(data)}; {usage}")
    return data


def _check_review(value: object, where: str, max_chars: int) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{where} must be a string, not {_json_type(value)}")
    if not _NOT_BLANK.search(value):  # also a review of invisible characters only
        raise BadRequest(f"{where} is empty (no visible character)")
    if len(value) > max_chars:
        raise BadRequest(f"{where} is too long: {len(value)} characters (limit {max_chars})")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escape such as "\ud800"
        raise BadRequest(f"{where} contains an invalid Unicode escape (lone surrogate)") from None
    return value


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _check_fields(data: dict[str, Any], allowed: set[str], usage: str) -> None:
    """Strict: a typo such as "revue" is reported rather than ignored."""
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(map(repr, unknown))[:200]}; {usage}")


def _deadline() -> float:
    return time.monotonic() + _settings().predict_timeout


@bp.post("/predict")
def predict_label() -> Response:
    """The tutorial's contract: ``{"review": text}`` in, the bare label out as text/plain."""
    data = _read_json_object(TUTORIAL_USAGE)
    if "review" not in data:
        raise BadRequest(f"missing field 'review'; {TUTORIAL_USAGE}")
    _check_fields(data, {"review"}, TUTORIAL_USAGE)
    review = _check_review(data["review"], "'review'", _settings().max_review_chars)
    model = _chosen_model({})
    (prediction,) = model.predict([review], _deadline())
    return Response(prediction["sentiment"], mimetype="text/plain")


@bp.post("/api/predict")
def predict() -> Response:
    """Classify one review (``review``) or a batch (``reviews``), in order, with the default
    model or the one named by ``model``."""
    settings = _settings()
    data = _read_json_object()
    has_one, has_many = "review" in data, "reviews" in data
    if has_one == has_many:
        raise BadRequest(f"give exactly one of 'review' or 'reviews'; {USAGE}")
    _check_fields(data, {"review", "reviews", "model"}, USAGE)
    limit = settings.max_review_chars
    if has_one:
        review = _check_review(data["review"], "'review'", limit)
        model = _chosen_model(data)
        (prediction,) = model.predict([review], _deadline())
        return jsonify({**prediction, "model": model.summary()})
    reviews = data["reviews"]
    if not isinstance(reviews, list):
        raise BadRequest(f"'reviews' must be an array of strings, not {_json_type(reviews)}")
    if not reviews:
        raise BadRequest("'reviews' is empty")
    if len(reviews) > settings.max_batch:
        raise BadRequest(f"too many reviews: {len(reviews)} (limit {settings.max_batch})")
    texts = [_check_review(r, f"'reviews'[{i}]", limit) for i, r in enumerate(reviews)]
    model = _chosen_model(data)
    return jsonify({"predictions": model.predict(texts, _deadline()), "model": model.summary()})


@bp.post("/api/explain")
def explain() -> Response:
    """The prediction of one review plus ``spans``: ``[{"start", "end", "weight"}]``, offsets
    in code points into the review as sent, in order, not overlapping; weight > 0 pushes
    towards positive (log-odds)."""
    data = _read_json_object(EXPLAIN_USAGE)
    if "review" not in data:
        raise BadRequest(f"missing field 'review'; {EXPLAIN_USAGE}")
    _check_fields(data, {"review", "model"}, EXPLAIN_USAGE)
    review = _check_review(data["review"], "'review'", _settings().max_review_chars)
    model = _chosen_model(data)
    return jsonify({**model.explain(review, _deadline()), "model": model.summary()})


@bp.get("/api/models")
def models() -> Response:
    """The served models, the default first: name, title, kind, version, back end and the
    headline figures of the artifact's metrics."""
    default = _model()
    return jsonify(
        default=default.name,
        models=[
            {"name": m.name, "title": m.title, "kind": m.kind, "version": m.version,
             "backend": m.backend, "default": m is default, "metrics": m.headline()}
            for m in _models().values()
        ],
    )


@bp.get("/health")
def health() -> Response:
    """Liveness: the process answers HTTP."""
    return jsonify(status="ok")


@bp.get("/ready")
def ready() -> Response:
    """Readiness: the model is loaded and classifies a clear positive and negative review."""
    model = _model()
    problem = model.self_check()
    if problem is not None:
        return error_response(503, problem)
    return jsonify(status="ready", model=model.summary())


@bp.get("/api/model")
def model_info() -> Response:
    """What is served: kind, name, version, back end, the artifact's metrics, the limits."""
    model, settings = _model(), _settings()
    return jsonify(
        kind=model.kind,
        name=model.name,
        version=model.version,
        backend=model.backend,
        labels=model.config.get("labels", ["negative", "positive"]),
        metrics=model.metrics,
        limits={"max_review_chars": settings.max_review_chars, "max_batch": settings.max_batch,
                "max_body_bytes": settings.max_body_bytes},
    )


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 description of this API."""
    return jsonify(build_spec(_settings(), list(_models())))
