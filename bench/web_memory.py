"""Memory of one gunicorn worker serving the light model alone, then with a transformer beside it.

    python bench/web_memory.py --transformer FOLDER [--gunicorn .venv/bin/gunicorn]

Starts the Procfile's server (one worker, 127.0.0.1, a free port) once per deployment, sends
each served model 20 predictions and 5 explanations (so that every lazily built part, such as
the explainer, is in memory), then reads the worker's resident memory (VmRSS) and its
proportional share (Pss, shared pages split among the processes that map them) from /proc.
The light model alone is the baseline, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIGHT = ROOT / "webapp" / "flask" / "ml_model"
REVIEW = ("A wonderful cast and a sharp script, though the middle drags. The ending is awful. "
          "Still, I would watch it again for the two leads.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)


def memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, Pss) of a process, kB."""
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    pss = next(int(line.split()[1])
               for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
               if line.startswith("Pss:"))
    return rss, pss


def measure(gunicorn: str, folders: list[Path]) -> dict:
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "1",
           "SENTIREVIEW_MODEL_DIR": os.pathsep.join(map(str, folders))}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [gunicorn, "--config", str(ROOT / "webapp/flask/gunicorn.conf.py"),
             "senti_api.wsgi:serve()"], env=env, stdout=log, stderr=log, cwd=ROOT)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    with urllib.request.urlopen(base + "/ready", timeout=5):
                        break
                except OSError:
                    time.sleep(0.2)
            models = json.load(urllib.request.urlopen(base + "/api/models", timeout=10))["models"]
            for model in models:
                for _ in range(20):
                    post(base + "/api/predict", {"review": REVIEW, "model": model["name"]})
                for _ in range(5):
                    post(base + "/api/explain", {"review": REVIEW, "model": model["name"]})
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            (worker,) = map(int, children)
            rss, pss = memory_kb(worker)
            return {"models": [m["name"] for m in models], "rss_mb": rss / 1024,
                    "pss_mb": pss / 1024}
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transformer", type=Path, required=True,
                        help="a served transformer folder (config.json, model.onnx, tokenizer/)")
    parser.add_argument("--gunicorn", default=str(Path(sys.executable).parent / "gunicorn"))
    args = parser.parse_args()
    alone = measure(args.gunicorn, [LIGHT])
    both = measure(args.gunicorn, [LIGHT, args.transformer])
    for name, row in (("light model alone", alone), ("light + transformer", both)):
        print(f"{name:20s} worker RSS {row['rss_mb']:6.1f} MB, PSS {row['pss_mb']:6.1f} MB "
              f"({', '.join(row['models'])})")
    print(f"the transformer adds {both['rss_mb'] - alone['rss_mb']:.1f} MB RSS per worker")


if __name__ == "__main__":
    main()
