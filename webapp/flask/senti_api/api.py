"""The JSON API: ``POST /predict``, ``GET /health``, ``/ready``, ``/api/model``, ``/openapi.json``.

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

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from .hardening import error_response
from .model import PredictionTimeout, ServedModel
from .openapi import NOT_BLANK, build_spec
from .settings import Settings

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__)

USAGE = 'send JSON {"review": "text"} or {"reviews": ["text", ...]}'

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


def _model() -> ServedModel:
    return current_app.extensions["sentireview.model"]


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


def _read_json_object() -> dict[str, Any]:
    """The request body as a JSON object, or :class:`BadRequest` saying what is wrong."""
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        shown = mimetype or "none"
        raise BadRequest(f"Content-Type must be application/json (got {shown}); {USAGE}", 415)
    _check_content_encoding()
    body = _read_body(_settings().max_body_bytes)
    if not body.strip():
        raise BadRequest(f"request body is empty; {USAGE}")
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
        raise BadRequest(f"request body must be a JSON object, not {_json_type(data)}; {USAGE}")
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


@bp.post("/predict")
def predict() -> Response:
    """Classify one review (``review``) or a batch (``reviews``), in order."""
    settings = _settings()
    data = _read_json_object()
    has_one, has_many = "review" in data, "reviews" in data
    if has_one == has_many:
        raise BadRequest(f"give exactly one of 'review' or 'reviews'; {USAGE}")
    unknown = sorted(set(data) - {"review", "reviews"})
    if unknown:  # strict, so a typo such as "revue" is reported rather than ignored
        raise BadRequest(f"unknown field(s): {', '.join(map(repr, unknown))[:200]}; {USAGE}")
    model = _model()
    deadline = time.monotonic() + settings.predict_timeout
    if has_one:
        review = _check_review(data["review"], "'review'", settings.max_review_chars)
        (prediction,) = model.predict([review], deadline)
        return jsonify({**prediction, "model": model.summary()})
    reviews = data["reviews"]
    if not isinstance(reviews, list):
        raise BadRequest(f"'reviews' must be an array of strings, not {_json_type(reviews)}")
    if not reviews:
        raise BadRequest("'reviews' is empty")
    if len(reviews) > settings.max_batch:
        raise BadRequest(f"too many reviews: {len(reviews)} (limit {settings.max_batch})")
    limit = settings.max_review_chars
    texts = [_check_review(r, f"'reviews'[{i}]", limit) for i, r in enumerate(reviews)]
    return jsonify({"predictions": model.predict(texts, deadline), "model": model.summary()})


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
    return jsonify(build_spec(_settings()))
