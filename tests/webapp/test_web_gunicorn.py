"""The real server: the Procfile's command (gunicorn + gunicorn.conf.py) on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_MODEL = ROOT / "webapp" / "flask" / "ml_model"

pytestmark = pytest.mark.slow


def procfile_command() -> list[str]:
    """The ``web:`` line of the Procfile, with gunicorn taken from this interpreter's venv."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            argv = shlex.split(line.removeprefix("web:"))
            assert argv[0] == "gunicorn"
            return [str(Path(sys.executable).with_name("gunicorn")), *argv[1:]]
    raise AssertionError("Procfile has no web: line")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(env_extra: dict[str, str], log: Path) -> subprocess.Popen:
    """Run the Procfile command; its output (access log included) goes to ``log``."""
    env = {**os.environ, "HOST": "127.0.0.1", "WEB_CONCURRENCY": "1", **env_extra}
    with open(log, "w") as out:  # a file, not a pipe: a full pipe would block the server
        return subprocess.Popen(procfile_command(), cwd=ROOT, env=env, stdout=out, stderr=out)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    if not (SHIPPED_MODEL / "model.onnx").is_file():
        pytest.fail(f"the shipped model is missing: {SHIPPED_MODEL}/model.onnx")
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "server.log"
    proc = start({"PORT": str(port), "SENTIREVIEW_MODEL_DIR": str(SHIPPED_MODEL)}, log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"gunicorn exited: {log.read_text()}")
            try:
                if requests.get(url + "/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or no worker booted yet
                pass
            if time.monotonic() > deadline:
                raise AssertionError("gunicorn did not answer within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, log.read_text()[-2000:]


def test_serves_predictions(server):
    r = requests.post(server + "/predict", json={"review": "A wonderful, moving film."}, timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["sentiment"] in ("positive", "negative") and 0 <= body["score"] <= 1
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    batch = requests.post(server + "/predict", json={"reviews": ["great", "awful"]}, timeout=10)
    assert len(batch.json()["predictions"]) == 2


def test_ready_and_model_info(server):
    assert requests.get(server + "/ready", timeout=10).status_code == 200
    info = requests.get(server + "/api/model", timeout=10).json()
    assert info["kind"] == "lstm" and info["backend"] == "onnx"


def test_bad_requests_over_http(server):
    r = requests.post(server + "/predict", data=b"{broken", timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "error" in r.json()
    r = requests.post(server + "/predict", data=b"\xff\xfe", timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "UTF-8" in r.json()["error"]
    big = json.dumps({"review": "word " * 400_000}).encode()  # 2 MB
    r = requests.post(server + "/predict", data=big, timeout=30,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "too large" in r.json()["error"]
    r = requests.get(server + "/predict", timeout=10)
    assert r.status_code == 405 and r.json()["error"]
    r = requests.get(server + "/api/unknown", timeout=10)
    assert r.status_code == 404 and r.json()["error"]
    # still serving
    r = requests.post(server + "/predict", json={"review": "fine"}, timeout=10)
    assert r.status_code == 200


def test_missing_model_stops_start_up_with_one_line(tmp_path):
    log = tmp_path / "server.log"
    proc = start({"PORT": str(free_port()), "SENTIREVIEW_MODEL_DIR": str(tmp_path / "nope")}, log)
    try:
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = log.read_text()
    assert proc.returncode != 0
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "model folder not found" in line]
    assert len(lines) == 1, err
