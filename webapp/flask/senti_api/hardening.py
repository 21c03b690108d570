"""Cross-cutting HTTP behaviour: JSON errors for every failure, security headers, CORS.

Every error a client can cause comes back as ``{"error": "..."}`` with a 4xx status; a bug
comes back as a 500 JSON body without details (the traceback goes to the log only).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

log = logging.getLogger(__name__)

# The front end is plain files from this origin; the API answers JSON only. No inline styles:
# the build links its CSS, and React sets the one computed style (the confidence bar's width)
# through the DOM, which CSP does not block (checked in Chromium: no violation reported).
_CSP_PAGE = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_CSP_API = "default-src 'none'; frame-ancestors 'none'"
# The page uses none of these browser features.
_PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
    "midi=(), magnetometer=(), gyroscope=(), accelerometer=(), browsing-topics=()"
)
# Sent only on answers that went out over HTTPS (directly, or behind a proxy such as Heroku's
# router that gunicorn trusts: FORWARDED_ALLOW_IPS), as RFC 6797 requires.
_HSTS = "max-age=31536000"

# Bodies over the limit are read and thrown away up to this size before the 413 goes out,
# so that a client still sending gets the answer instead of a reset connection.
_DRAIN_LIMIT = 8 * 1024 * 1024


def error_response(status: int, message: str) -> Response:
    """``{"error": message}`` with ``status``."""
    response = jsonify(error=message)
    response.status_code = status
    return response


def _drain_body() -> None:
    length = request.content_length
    if length is None and "wsgi.input_terminated" in request.environ:
        length = _DRAIN_LIMIT  # chunked: the server ends the stream at the last chunk
    if length is None or length > _DRAIN_LIMIT:
        return
    stream = request.environ.get("wsgi.input")
    if stream is None:
        return
    left = length
    try:
        while left > 0:
            chunk = stream.read(min(65536, left))
            if not chunk:
                break
            left -= len(chunk)
    except Exception:  # the client went away: nothing left to be polite to
        log.debug("could not drain an oversized body", exc_info=True)


def _describe(exc: HTTPException) -> str:
    code = exc.code or 500
    if code == 404:
        return f"not found: {request.path}"
    if code == 405:
        allowed = ", ".join(sorted(getattr(exc, "valid_methods", None) or []))
        return f"method {request.method} is not allowed on {request.path}" + (
            f" (allowed: {allowed})" if allowed else ""
        )
    if code == 413:
        return "request body too large"
    return (exc.description or exc.name).strip()


def handle_http_exception(exc: HTTPException) -> Response:
    """Werkzeug's HTML error pages, turned into JSON (headers such as ``Allow`` are kept)."""
    if isinstance(exc, RequestEntityTooLarge):
        _drain_body()
    response = error_response(exc.code or 500, _describe(exc))
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_unexpected(exc: Exception) -> Response:
    """A bug: log it with its traceback, tell the client nothing more than that it happened."""
    if isinstance(exc, HTTPException):  # pragma: no cover - routed to the handler above
        return handle_http_exception(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal server error")


def add_security_headers(response: Response) -> Response:
    """Headers every response carries (the page, the assets, the API)."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", _PERMISSIONS_POLICY)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", _HSTS)
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", _CSP_PAGE)
    else:
        headers.setdefault("Content-Security-Policy", _CSP_API)
    if response.mimetype == "application/json":
        headers.setdefault("Cache-Control", "no-store")
    return response


def make_cors_hook(origins: tuple[str, ...]):
    """An ``after_request`` hook allowing ``origins`` (``*`` = any) to call the API."""
    allow_any = "*" in origins
    allowed = frozenset(origins)

    def add_cors_headers(response: Response) -> Response:
        # Always, whatever the Origin: the answer depends on it, so a shared cache must not
        # hand one origin's answer (with or without the CORS headers) to another.
        response.vary.add("Origin")
        origin = request.headers.get("Origin")
        if not origin or not (allow_any or origin.rstrip("/") in allowed):
            return response
        response.headers["Access-Control-Allow-Origin"] = "*" if allow_any else origin
        if request.method == "OPTIONS":  # a preflight
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
        return response

    return add_cors_headers


def relative_location(response: Response) -> Response:
    """Never point a client at a host taken from the request (its ``Host`` header): an
    absolute ``Location`` keeps only its path and query."""
    location = response.headers.get("Location")
    if location:
        parts = urlsplit(location)
        if parts.scheme or parts.netloc:
            response.headers["Location"] = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return response


def init_app(app: Flask, cors_origins: tuple[str, ...] = ()) -> None:
    """Attach the error handlers and response hooks to ``app``."""
    # Werkzeug answers "//" in a path with a redirect to the merged path, built from the Host
    # header; no route needs it, so such a path is simply not found.
    app.url_map.merge_slashes = False
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
    app.after_request(add_security_headers)
    app.after_request(relative_location)
    if cors_origins:
        app.after_request(make_cors_hook(cors_origins))
