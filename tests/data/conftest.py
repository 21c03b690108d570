"""Fixtures for the data pipeline: a tiny invented aclImdb, its archive, a local HTTP server."""

from __future__ import annotations

import hashlib
import io
import random
import re
import socket
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# Invented reviews: a few words combined, with the markup real reviews have (HTML breaks,
# emoticons, numbers, negations), and one duplicated text.
_OPENERS = ["This film", "The movie", "What a picture", "Our hero", "The sequel"]
_VERDICTS = {
    "pos": ["was wonderful :)", "is a gem, 10/10!!", "made me smile", "isn't boring at all"],
    "neg": ["was not good :(", "is dull... 2/10", "wasted my evening", "don't bother"],
    "unsup": ["has a plot", "runs 120 minutes", "stars an actor"],
}
SIZES = {
    ("train", "pos"): 6,
    ("train", "neg"): 6,
    ("test", "pos"): 4,
    ("test", "neg"): 4,
    ("train", "unsup"): 3,
}


def invented_review(group: str, cls: str, n: int) -> str:
    opener = _OPENERS[n % len(_OPENERS)]
    verdict = _VERDICTS[cls][n % len(_VERDICTS[cls])]
    return f"{opener} #{n} ({group}) {verdict}<br /><br />Sooo much to say &amp; café."


def build_aclimdb(root: Path) -> Path:
    """Write a tiny aclImdb tree under ``root``; return ``root/aclImdb``."""
    base = root / "aclImdb"
    for (group, cls), count in SIZES.items():
        folder = base / group / cls
        folder.mkdir(parents=True)
        for n in range(count):
            stars = 0 if cls == "unsup" else (8 + n % 3 if cls == "pos" else 1 + n % 4)
            (folder / f"{n}_{stars}.txt").write_text(invented_review(group, cls, n), "utf-8")
    # One review duplicated across train and test, as IMDb has a few.
    dup = invented_review("train", "pos", 0)
    (base / "test" / "pos" / "99_9.txt").write_text(dup, "utf-8")
    (base / "README").write_text("invented test data\n", "utf-8")
    return base


def tar_gz(members: dict[str, bytes], path: Path) -> Path:
    """A .tar.gz holding regular files."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def aclimdb(tmp_path: Path) -> Path:
    """A tiny invented aclImdb folder."""
    return build_aclimdb(tmp_path / "src")


@pytest.fixture
def aclimdb_tar(tmp_path: Path, aclimdb: Path) -> Path:
    """The tiny aclImdb as a .tar.gz, plus ~200 KB of incompressible padding so that an
    interrupted transfer has already written whole chunks when the connection drops."""
    path = tmp_path / "served.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(aclimdb, arcname="aclImdb")
        pad = random.Random(0).randbytes(200_000)
        info = tarfile.TarInfo("aclImdb/imdb.vocab")
        info.size = len(pad)
        tar.addfile(info, io.BytesIO(pad))
    return path


@dataclass
class FileServer:
    """What the test server serves and what it saw."""

    url: str
    files: dict[str, bytes] = field(default_factory=dict)
    # path -> number of body bytes to send before dropping the connection (once)
    cut_once: dict[str, int] = field(default_factory=dict)
    cut_always: dict[str, int] = field(default_factory=dict)
    ranges: bool = True
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: FileServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet tests
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        state = self.server.state  # type: ignore[attr-defined]
        state.requests.append((self.path, dict(self.headers)))
        body = state.files.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if match and state.ranges:
            start = int(match[1])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        cut = state.cut_once.pop(self.path, state.cut_always.get(self.path))
        try:
            if cut is None:
                self.wfile.write(payload)
                return
            self.wfile.write(payload[:cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:  # the client went away first
            self.close_connection = True


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    """An HTTP server on 127.0.0.1 (a free port) in a thread, with Range support."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    state = FileServer(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def make_tar_gz():
    """``make_tar_gz({name: bytes}, path) -> path``: build a small .tar.gz of regular files."""
    return tar_gz
