"""The React build served at / (a tiny fake dist, so no npm build is needed)."""

from __future__ import annotations

import pytest
from senti_api import create_app


@pytest.fixture
def dist(tmp_path):
    d = tmp_path / "dist"
    (d / "assets").mkdir(parents=True)
    (d / "index.html").write_text(
        '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>'
    )
    (d / "assets" / "index-abc123.js").write_text("console.log('hi')")
    (d / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return d


@pytest.fixture
def site(model_dir, predictor, dist):
    app = create_app({"MODEL_DIR": model_dir, "PREDICTOR": predictor, "STATIC_DIR": dist})
    return app.test_client()


def test_index_is_revalidated(site):
    r = site.get("/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert b"/assets/index-abc123.js" in r.data
    assert r.headers["Cache-Control"] == "no-cache"
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    again = site.get("/", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304


def test_hashed_assets_are_immutable(site):
    r = site.get("/assets/index-abc123.js")
    assert r.status_code == 200 and b"console.log" in r.data
    cache = r.headers["Cache-Control"]
    assert "immutable" in cache and "max-age=31536000" in cache
    r.close()


def test_root_files_and_missing_files(site):
    r = site.get("/favicon.svg")
    assert r.status_code == 200
    r.close()
    for path in ("/assets/missing.js", "/missing.txt", "/index.html", "/assets/../index.html"):
        r = site.get(path)
        assert r.status_code == 404 and r.get_json()["error"]
        r.close()


def test_api_routes_win_over_static_files(site):
    assert site.post("/api/predict", json={"review": "good"}).status_code == 200
    assert site.get("/api/predict").status_code == 405
    assert site.get("/openapi.json").get_json()["openapi"].startswith("3.")


def test_not_built_note(client):
    r = client.get("/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert b"not built" in r.data
