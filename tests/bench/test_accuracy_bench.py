"""bench/accuracy.py end to end on a tiny invented aclImdb archive (plus the shipped artifact)."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "accuracy.py"
SHORT_SET = ROOT / "bench" / "short_reviews.tsv"
OWN_SET = ROOT / "bench" / "short_own.tsv"
ARTIFACT = ROOT / "webapp" / "flask" / "ml_model"

_GOOD = ["a wonderful film", "superb acting", "I loved it", "moving and funny", "a gem"]
_BAD = ["a dreadful film", "wooden acting", "I hated it", "dull and silly", "a mess"]
_FILL = ["The plot follows a family.", "It runs two hours.", "The score is loud.", "We saw it."]


def _review(rng: random.Random, positive: bool) -> str:
    parts = rng.sample(_FILL, 2) + [rng.choice(_GOOD if positive else _BAD) + "."]
    rng.shuffle(parts)
    return "<br /><br />".join(parts)


def tiny_archive(path: Path, per_class: int = 30) -> Path:
    """An aclImdb-shaped .tar.gz of invented reviews: train/test pos/neg and a little unsup."""
    rng = random.Random(0)
    members: dict[str, str] = {"aclImdb/README": "invented for a test\n"}
    for group in ("train", "test"):
        for cls in ("pos", "neg"):
            for n in range(per_class):
                stars = rng.randint(7, 10) if cls == "pos" else rng.randint(1, 4)
                # a few long reviews, so that the "under 80 words" subset is a real subset
                text = _review(rng, cls == "pos") + (" Long." * 90 if n % 10 == 0 else "")
                members[f"aclImdb/{group}/{cls}/{n}_{stars}.txt"] = text
    for n in range(3):
        members[f"aclImdb/train/unsup/{n}_0.txt"] = _review(rng, bool(n % 2))
    with tarfile.open(path, "w:gz") as tar:
        for name, text in members.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning:__main__"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )


def check_rows(out: dict, names: list[str]) -> None:
    assert [r["name"] for r in out["rows"]] == names
    for row in out["rows"]:
        for key in ("accuracy", "f1", "accuracy_under_80", "accuracy_short_set",
                    "accuracy_own_set"):
            assert 0.0 <= row[key] <= 1.0, (row["name"], key, row[key])
        for key in ("short_set_pretokenized", "short_set_plain"):
            assert 0.0 <= row["notes"][key] <= 1.0, (row["name"], key, row["notes"])
        assert row["latency_p50_ms"] > 0
        assert row["size_mb"] > 0
        assert row["command"].startswith(".venv/bin/python bench/accuracy.py")


def bins_negative_share(name: str, cache: Path) -> float:
    """The share of negative test reviews in a length bin, from the prepared test split."""
    import pandas as pd

    (prepared,) = (cache / "bench").iterdir()
    test = pd.read_parquet(prepared / "test.parquet")
    lo, _, hi = name.partition("-")
    words = test["text"].str.split().str.len()
    inside = (words >= int(lo)) & (words <= int(hi))
    return float((test.loc[inside, "label"] == 0).mean())


@pytest.mark.slow
def test_bench_builds_the_table_from_an_archive(tmp_path: Path) -> None:
    archive = tiny_archive(tmp_path / "aclImdb_v1.tar.gz")
    cache, out_json = tmp_path / "cache", tmp_path / "out.json"
    models = ["--model", f"shipped={ARTIFACT}"] if (ARTIFACT / "config.json").exists() else []
    plot = tmp_path / "by_length.png"
    proc = run_bench(
        "--archive", str(archive), "--cache", str(cache), "--json", str(out_json), *models,
        "--plot", str(plot),
    )
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr

    out = json.loads(out_json.read_text("utf-8"))
    names = ["majority", "tfidf_lr", "nbsvm"] + (["shipped"] if models else [])
    check_rows(out, names)
    rows = {r["name"]: r for r in out["rows"]}
    assert rows["majority"]["accuracy"] == 0.5  # balanced training set: a tie read as negative
    assert rows["tfidf_lr"]["accuracy"] > 0.8  # the invented task is easy
    assert out["data"]["train_reviews"] == 60 and out["data"]["test_reviews"] == 60
    assert 0 < out["data"]["test_under_80_words"] < 60
    assert out["data"]["short_set"]["reviews"] >= 200
    assert out["data"]["own_short_set"]["reviews"] >= 320
    assert out["data"]["short_set"]["pretokenized"] >= out["data"]["short_set"]["reviews"] // 4
    assert out["data"]["split"] == "official"

    # The markdown tables on stdout (the comparison, then accuracy by length): a header, a
    # rule, one line per row each.
    lines = [line for line in proc.stdout.splitlines() if line.startswith("|")]
    assert len(lines) == 2 * (2 + len(names))
    assert [line.split("|")[1].strip() for line in lines[2 : 2 + len(names)]] == names
    # accuracy by length: the bins cover the test set, each row has every bin
    bins = out["data"]["length_bins"]
    assert sum(bins.values()) == 60 and "0-79" in bins
    for row in out["rows"]:
        assert set(row["by_length"]) == set(bins)
        assert row["latency_short_p50_ms"] > 0
    majority = rows["majority"]["by_length"]["0-79"]  # all read negative: the negatives' share
    assert majority == pytest.approx(bins_negative_share("0-79", cache))
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The prepared data is cached and reused; --limit-test samples the test set.
    (prepared,) = (cache / "bench").iterdir()
    stamp = (prepared / "manifest.json").stat().st_mtime_ns
    proc = run_bench(
        "--archive",
        str(archive),
        "--cache",
        str(cache),
        "--json",
        str(out_json),
        "--baselines",
        "majority",
        "--limit-test",
        "20",
    )
    assert proc.returncode == 0, proc.stderr
    assert (prepared / "manifest.json").stat().st_mtime_ns == stamp
    out = json.loads(out_json.read_text("utf-8"))
    check_rows(out, ["majority"])
    assert out["data"]["test_reviews"] == 20
    assert "--limit-test 20" in out["rows"][0]["command"]


def test_bench_refuses_bad_arguments(tmp_path: Path) -> None:
    proc = run_bench("--model", "no-equals-sign")
    assert proc.returncode == 2 and "NAME=RUN_DIR" in proc.stderr
    proc = run_bench("--baselines", "svm")
    assert proc.returncode == 2 and "unknown baselines" in proc.stderr
    proc = run_bench("--archive", str(tmp_path / "missing.tar.gz"), "--cache", str(tmp_path))
    assert proc.returncode != 0 and "no such archive" in proc.stderr


def test_short_set_is_balanced_and_well_formed() -> None:
    with open(SHORT_SET, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    assert len(rows) >= 200
    assert set(labels) == {"positive", "negative"}
    assert labels.count("positive") == labels.count("negative")
    assert len(set(texts)) == len(texts) and all(t.strip() == t and t for t in texts)
    pretokenized = [t for t in texts if t == t.lower() and (" ." in t or " ," in t or " n't" in t)]
    assert len(pretokenized) >= len(texts) // 4


def test_own_short_set_is_large_balanced_and_well_formed() -> None:
    """bench/short_own.tsv (issue 16): at least 300 texts, 45-55% positive, no repeats."""
    with open(OWN_SET, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    assert len(rows) >= 300 and set(labels) == {"positive", "negative"}
    assert 0.45 <= labels.count("positive") / len(labels) <= 0.55
    assert len(set(texts)) == len(texts) and all(t.strip() == t and t for t in texts)
    short = set(SHORT_SET.read_text(encoding="utf-8").splitlines())
    assert not any(f"{t}\t" in line for t in texts for line in short)  # none from the other set


def test_artifact_size_leaves_out_training_checkpoints(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("accuracy_bench", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    sys.modules["accuracy_bench"] = bench  # its dataclasses look their module up there
    spec.loader.exec_module(bench)
    (tmp_path / "model.safetensors").write_bytes(b"x" * 1_000_000)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "vocab.json").write_bytes(b"x" * 500_000)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "lstm-last.safetensors").write_bytes(b"x" * 3_000_000)
    assert bench.folder_mb(tmp_path) == 1.5


def test_training_time_is_the_runs_last_elapsed_time(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("accuracy_bench_fit", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    sys.modules["accuracy_bench_fit"] = bench
    spec.loader.exec_module(bench)
    assert bench._training_seconds(tmp_path) is None  # no history.json
    stages = [
        {"stage": "pretrain", "elapsed_s": 30.0},
        {"stage": "finetune", "elapsed_s": 40.0},
        {"stage": "finetune", "elapsed_s": 70.0},
    ]
    (tmp_path / "history.json").write_text(json.dumps(stages))
    assert bench._training_seconds(tmp_path) == 70.0  # one run, several stages: its last time
    (tmp_path / "history.json").write_text(json.dumps([{"stage": "lstm", "epoch": 1}]))
    assert bench._training_seconds(tmp_path) is None  # no times recorded
