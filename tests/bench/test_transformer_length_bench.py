"""bench/transformer_length.py on invented reviews and a tiny random transformer."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from tests.helpers.fake_reviews import build_tiny_transformer, write_dataset

ROOT = Path(__file__).resolve().parents[2]


def test_length_bench_measures_every_limit_against_the_trained_one(tmp_path):
    data = write_dataset(tmp_path / "prepared", n_train=8, n_valid=24)
    model = build_tiny_transformer(tmp_path / "model")  # trained at 12 tokens
    out = tmp_path / "rows.json"
    argv = [sys.executable, str(ROOT / "bench" / "transformer_length.py"), "--model", str(model),
            "--prepared", str(data), "--lengths", "8,4,12", "--latency-reviews", "5",
            "--backend", "torch", "--json", str(out)]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = json.loads(out.read_text())["rows"]
    assert [r["max_tokens"] for r in rows] == [12, 8, 4]  # the trained limit first, once
    assert rows[0]["p50_vs_trained"] == 1.0 and rows[0]["accuracy_vs_trained"] == 0.0
    for row in rows:
        assert 0.0 <= row["valid_accuracy"] <= 1.0 and row["p50_ms"] > 0
    assert " 4 tokens: accuracy" in run.stdout and "24 validation reviews" in run.stdout


def test_a_folder_that_is_no_artifact_is_refused_with_one_line(tmp_path):
    data = write_dataset(tmp_path / "prepared", n_train=8, n_valid=8)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"format": 1, "kind": "lstm"}))
    argv = [sys.executable, str(ROOT / "bench" / "transformer_length.py"), "--model",
            str(folder), "--prepared", str(data)]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and "missing 'model' section" in run.stderr


def test_with_limit_cuts_the_input_and_keeps_the_weights(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("transformer_length",
                                                  ROOT / "bench" / "transformer_length.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from sentireview.predict import Predictor

    base = Predictor.load(build_tiny_transformer(tmp_path / "model"), backend="torch")
    long_review = " ".join(["good film"] * 40)
    assert base.encode([long_review])["input_ids"].shape[1] == 12  # as trained
    cut = bench.with_limit(base, 8)
    assert cut.encode([long_review])["input_ids"].shape[1] == 8
    assert cut.backend is base.backend and base.config["text"]["max_tokens"] == 12
    assert bench.limits("192, 160,") == [192, 160]
    for bad in ("abc", "3", ""):
        try:
            bench.limits(bad)
        except Exception as exc:  # argparse turns it into a one-line usage error
            assert type(exc).__name__ == "ArgumentTypeError"
        else:
            raise AssertionError(f"{bad!r} accepted")
