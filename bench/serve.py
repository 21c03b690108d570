"""Load test of the web server on loopback, against the tutorial's way of serving the model.

    python bench/serve.py [--model DIR] [--requests 10000] [--limit 2000] [--max-seconds 180]

Two servers on 127.0.0.1, the same model and the same IMDb test reviews:

* ``gunicorn``: the Procfile's command (gunicorn + gunicorn.conf.py, ``WEB_CONCURRENCY``
  workers, ONNX Runtime, one compute thread per worker);
* ``tutorial``: Flask's development server, the PyTorch back end, one request at a time
  (``threaded=False``), which is how the tutorial served its LSTM.

Each is driven at concurrency 1, 8 and 32 (``--concurrency``), bounded in requests and
seconds; the report gives requests/s, p50/p99 latency, errors, and the gunicorn workers'
memory (RSS) before and after the long run at concurrency 8 (``--requests``). Reviews come
from the test split of aclImdb_v1.tar.gz (``--archive``, ``SENTIREVIEW_IMDB_ARCHIVE``, or
``../shared/data``). Results also go to ``bench/results/serve.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import random
import shlex
import socket
import statistics
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

log = logging.getLogger("bench.serve")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "webapp" / "flask" / "ml_model"
DEFAULT_ARCHIVE = ROOT.parent / "shared" / "data" / "aclImdb_v1.tar.gz"
RESULTS = ROOT / "bench" / "results"


def load_reviews(archive: Path, limit: int, seed: int = 17) -> list[str]:
    """``limit`` reviews drawn at random from the archive's test/pos and test/neg files."""
    reviews: list[str] = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")  # aclImdb/test/pos/123_9.txt
            wanted = len(parts) == 4 and parts[1] == "test" and parts[2] in ("pos", "neg")
            if member.isfile() and wanted:
                handle = tar.extractfile(member)
                if handle is not None:
                    reviews.append(handle.read().decode("utf-8", errors="replace"))
    random.Random(seed).shuffle(reviews)
    return reviews[:limit]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Until ``GET /health`` answers 200 (or the process dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("server did not become ready")


def start_gunicorn(
    port: int, model: Path, workers: int, log_path: Path, gunicorn: Path
) -> subprocess.Popen:
    """The Procfile's command, with ``gunicorn`` from the given environment."""
    line = next(s for s in (ROOT / "Procfile").read_text().splitlines() if s.startswith("web:"))
    argv = shlex.split(line.removeprefix("web:"))
    argv[0] = str(gunicorn)
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(workers),
           "SENTIREVIEW_MODEL_DIR": str(model)}
    with open(log_path, "w") as out:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=out)


def start_tutorial(port: int, model: Path, log_path: Path) -> subprocess.Popen:
    env = {**os.environ}
    with open(log_path, "w") as out:
        return subprocess.Popen(
            [sys.executable, __file__, "--tutorial-server", str(port), "--model", str(model)],
            cwd=ROOT, env=env, stdout=out, stderr=out,
        )


def tutorial_server(port: int, model: Path) -> None:
    """The tutorial's way: Flask's development server, PyTorch, one request at a time."""
    from flask import Flask, jsonify, request

    from sentireview.predict import Predictor

    predictor = Predictor.load(model, backend="torch")
    app = Flask("tutorial")

    @app.get("/health")
    def health():
        return jsonify(status="ok")

    @app.post("/predict")
    def predict():
        result = predictor.predict([request.get_json()["review"]])[0]
        return jsonify(sentiment=result["sentiment"], score=result["score"])

    app.run(host="127.0.0.1", port=port, threaded=False)


@dataclass
class Run:
    server: str
    concurrency: int
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)


def _request_bytes(review: str, path: str) -> bytes:
    body = json.dumps({"review": review}).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode() + body


def _exchange(port: int, request: bytes) -> bool:
    """One request on a new connection; True for a 200 with a prediction in the body.

    A raw socket and pre-built bytes: the load generator shares the 2 cores with the server,
    and http.client's header parsing would take a good part of one."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while length is None or len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")) and b"sentiment" in body


def drive(port: int, server: str, reviews: list[str], concurrency: int, total: int,
          max_seconds: float) -> Run:
    """``total`` POSTs of one review (or until ``max_seconds``) from ``concurrency`` threads."""
    # The project's JSON API; the tutorial's server answers JSON at its own /predict.
    path = "/predict" if server.startswith("tutorial") else "/api/predict"
    requests_ = [_request_bytes(r, path) for r in reviews]
    lock = threading.Lock()
    counter = iter(range(total))
    latencies: list[float] = []
    errors = [0]
    stop_at = time.monotonic() + max_seconds

    def worker() -> None:
        while time.monotonic() < stop_at:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            t0 = time.perf_counter()
            try:
                ok = _exchange(port, requests_[i % len(requests_)])
            except OSError:
                ok = False
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                errors[0] += not ok

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    ordered = sorted(latencies)
    run = Run(server, concurrency, requests=len(ordered), errors=errors[0], seconds=seconds)
    if ordered:
        run.rps = len(ordered) / seconds
        run.p50_ms = 1000 * statistics.median(ordered)
        run.p99_ms = 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    log.info("%-9s c=%-3d %6d requests in %6.1f s: %7.1f req/s, p50 %6.1f ms, p99 %7.1f ms, "
             "%d errors", server, concurrency, run.requests, seconds, run.rps, run.p50_ms,
             run.p99_ms, run.errors)
    return run


def worker_rss(master_pid: int) -> list[int]:
    """RSS in bytes of each gunicorn worker (children of the master)."""
    import psutil

    return [child.memory_info().rss for child in psutil.Process(master_pid).children()]


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="artifact folder")
    parser.add_argument("--archive", type=Path,
                        default=Path(os.environ.get("SENTIREVIEW_IMDB_ARCHIVE") or DEFAULT_ARCHIVE))
    parser.add_argument("--limit", type=int, default=2000, help="distinct test reviews used")
    parser.add_argument("--requests", type=int, default=10_000, help="requests of the c=8 run")
    parser.add_argument("--short-requests", type=int, default=2000,
                        help="requests of the other runs (c=1, c=32, and the tutorial's)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY") or 2))
    parser.add_argument("--max-seconds", type=float, default=180, help="time bound of each run")
    parser.add_argument("--skip-tutorial", action="store_true")
    parser.add_argument(
        "--gunicorn", type=Path, default=Path(sys.executable).with_name("gunicorn"),
        help="gunicorn executable, e.g. from a venv with only requirements.txt installed "
        "(python bench/web_size.py --keep DIR), to measure the deployed set-up",
    )
    parser.add_argument("--tutorial-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.tutorial_server:
        tutorial_server(args.tutorial_server, args.model)
        return 0

    log.info("model %s; gunicorn %s; %d workers; %d CPUs", args.model, args.gunicorn,
             args.workers, os.cpu_count())
    reviews = load_reviews(args.archive, args.limit)
    words = [len(r.split()) for r in reviews]
    log.info("%d IMDb test reviews: %d words on average, %d at most", len(reviews),
             statistics.mean(words), max(words))
    RESULTS.mkdir(parents=True, exist_ok=True)
    runs: list[Run] = []
    memory: dict[str, list[int]] = {}

    port = free_port()
    proc = start_gunicorn(port, args.model, args.workers, RESULTS / "gunicorn.log", args.gunicorn)
    try:
        wait_ready(port, proc)
        drive(port, "warm-up", reviews, 8, 200, 60)
        memory["before"] = worker_rss(proc.pid)
        for c in args.concurrency:
            n = args.requests if c == 8 else args.short_requests
            runs.append(drive(port, "gunicorn", reviews, c, n, args.max_seconds))
            if c == 8:
                memory["after"] = worker_rss(proc.pid)
    finally:
        stop(proc)

    if not args.skip_tutorial:
        port = free_port()
        proc = start_tutorial(port, args.model, RESULTS / "tutorial.log")
        try:
            wait_ready(port, proc)
            drive(port, "tutorial warm-up", reviews, 1, 50, 60)
            for c in args.concurrency:
                n = args.short_requests
                runs.append(drive(port, "tutorial", reviews, c, n, args.max_seconds))
        finally:
            stop(proc)

    print_report(runs, memory)
    (RESULTS / "serve.json").write_text(json.dumps({
        "runs": [{k: v for k, v in asdict(r).items() if k != "latencies"} for r in runs],
        "worker_rss": memory, "reviews": len(reviews), "workers": args.workers,
        "cpus": os.cpu_count(),
    }, indent=2))
    return 0


def print_report(runs: list[Run], memory: dict[str, list[int]]) -> None:
    lines = ["", "| server | concurrency | requests | errors | req/s | p50 ms | p99 ms |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        lines.append(f"| {r.server} | {r.concurrency} | {r.requests} | {r.errors} | "
                     f"{r.rps:.1f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} |")
    by = {(r.server, r.concurrency): r for r in runs}
    for c in sorted({r.concurrency for r in runs}):
        g, t = by.get(("gunicorn", c)), by.get(("tutorial", c))
        if g and t and t.rps:
            lines.append(f"\nc={c}: gunicorn/tutorial throughput = {g.rps / t.rps:.1f}x "
                         f"({g.rps:.1f} vs {t.rps:.1f} req/s)")
    if memory.get("before") and memory.get("after"):
        before, after = memory["before"], memory["after"]
        growth = 100 * (sum(after) - sum(before)) / sum(before)
        lines.append("worker RSS MB before: " + ", ".join(f"{b / 1e6:.1f}" for b in before)
                     + "; after the c=8 run: " + ", ".join(f"{a / 1e6:.1f}" for a in after)
                     + f" ({growth:+.1f}%)")
    log.info("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
