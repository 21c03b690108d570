"""The built React page: ``index.html`` at ``/`` (revalidated each visit) and the hashed
``/assets/*`` files (cached for a year: a new build has new file names)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request, send_from_directory

bp = Blueprint("frontend", __name__)

_YEAR = 365 * 24 * 3600

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Senti-review</title></head>
<body><h1>Senti-review API</h1>
<p>The front end is not built. Build it with <code>bash scripts/setup.sh web</code>
(or <code>npm ci &amp;&amp; npm run build</code> in <code>webapp/react</code>).</p>
<p>The API works: <code>POST /predict</code> with <code>{"review": "..."}</code>;
see <a href="/openapi.json">/openapi.json</a>.</p></body></html>
"""


def _dist() -> Path:
    return current_app.extensions["sentireview.settings"].static_dir


@bp.get("/")
def index() -> Response:
    """The single page; a short note when ``webapp/react/dist`` has not been built."""
    dist = _dist()
    if not (dist / "index.html").is_file():
        return Response(NOT_BUILT, mimetype="text/html", headers={"Cache-Control": "no-cache"})
    # Read whole (it is small) with an ETag, so a revisit costs a 304.
    response = Response((dist / "index.html").read_bytes(), mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/assets/<path:filename>")
def asset(filename: str) -> Response:
    """A hashed build file: immutable, cached for a year."""
    response = send_from_directory(_dist() / "assets", filename, max_age=_YEAR)
    response.headers["Cache-Control"] = f"public, max-age={_YEAR}, immutable"
    return response


# Only names with a dot, so that a GET on an API route such as /predict still gets its 405.
@bp.get("/<string:stem>.<string:ext>")
def public_file(stem: str, ext: str) -> Response:
    """Other files of the build's root (favicon.svg, robots.txt): cached for an hour."""
    filename = f"{stem}.{ext}"
    if filename == "index.html":
        abort(404)
    return send_from_directory(_dist(), filename, max_age=3600)
