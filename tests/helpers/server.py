"""The real server for tests: the Procfile's command on 127.0.0.1.

The server binds port 0 and the test reads the port gunicorn chose from its log ("Listening
at: http://127.0.0.1:PORT"): no port is picked by the test and released for another process
to take first.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_MODEL = ROOT / "webapp" / "flask" / "ml_model"
_LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")


def procfile_command() -> list[str]:
    """The ``web:`` line of the Procfile, with gunicorn taken from this interpreter's venv."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            argv = shlex.split(line.removeprefix("web:"))
            assert argv[0] == "gunicorn"
            return [str(Path(sys.executable).with_name("gunicorn")), *argv[1:]]
    raise AssertionError("Procfile has no web: line")


def start(env_extra: dict[str, str], log: Path) -> subprocess.Popen:
    """Run the Procfile command on 127.0.0.1, port 0 unless ``env_extra`` names one; its
    output (access log included) goes to ``log`` (a file: a full pipe would block it)."""
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": "0", "WEB_CONCURRENCY": "1", **env_extra}
    with open(log, "w") as out:
        return subprocess.Popen(
            procfile_command(), cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )


def wait_until_ready(
    proc: subprocess.Popen, log: Path, path: str = "/health", timeout: float = 90
) -> str:
    """The server's base URL once ``path`` answers 200; fails with the log if it exits."""
    deadline = time.monotonic() + timeout
    url = None
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        if url is None and (found := _LISTENING.search(log.read_text(errors="replace"))):
            url = found.group(1)
        if url is not None:
            try:
                if requests.get(url + path, timeout=5).status_code == 200:
                    return url
            except requests.RequestException:  # no worker booted yet
                pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the server was not ready within {timeout:.0f} s:\n"
                                 f"{log.read_text()}")
        time.sleep(0.2)


def serve(
    env_extra: dict[str, str], log: Path, path: str = "/health"
) -> tuple[subprocess.Popen, str]:
    """Start the server with the shipped model (unless ``env_extra`` names another) and wait
    until it answers."""
    proc = start({"SENTIREVIEW_MODEL_DIR": str(SHIPPED_MODEL), **env_extra}, log)
    try:
        return proc, wait_until_ready(proc, log, path)
    except BaseException:
        stop(proc)
        raise


def stop(proc: subprocess.Popen) -> int:
    """SIGTERM (gunicorn's arbiter stops its workers), then kill the group after 30 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode
