"""webapp/flask/train_shipped_model.py end to end on an invented aclImdb (tiny settings)."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "webapp" / "flask" / "train_shipped_model.py"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _load_script():
    sys.path.insert(0, str(SCRIPT.parent))
    return _load("train_shipped_model", SCRIPT)


def build_aclimdb(root: Path) -> Path:
    """The data tests' invented aclImdb tree."""
    return _load("data_fixtures", ROOT / "tests" / "data" / "conftest.py").build_aclimdb(root)


@pytest.mark.slow
def test_script_installs_a_working_model_and_resumes_by_skipping(tmp_path, monkeypatch, caplog):
    pytest.importorskip("gensim")
    pytest.importorskip("onnxscript")
    from sentireview.predict import Predictor

    monkeypatch.setenv("PYTHONHASHSEED", "0")  # else the script re-executes itself
    script = _load_script()
    monkeypatch.setitem(script.MODEL, "ngram_buckets", 4099)  # small and quick
    source = build_aclimdb(tmp_path / "src")
    out = tmp_path / "ml_model"
    out.mkdir()
    (out / "stale.txt").write_text("from the previous model")
    argv = [
        "--archive", str(source), "--work", str(tmp_path / "work"), "--out", str(out),
        "--rounds", "1", "--teacher-epochs", "1", "--student-epochs", "1", "--lm-epochs", "1",
    ]  # fmt: skip
    assert script.main(argv) == 0
    work = tmp_path / "work"
    names = {p.name for p in out.iterdir()}
    assert set(script.SHIPPED) | {"README.md"} == names  # replaced whole: no stale file
    config = json.loads((out / "config.json").read_text())
    assert config["name"] == script.NAME and config["text"]["recipe"] == "words"
    assert config["weights_dtype"] == "float16"
    # member 1 without the language model, every round of member 2 started from it
    for k in (0, 1):
        assert (
            json.loads((work / f"round{k}" / "config.json").read_text())["training"]["init_from"]
            is None
        )
        member2 = json.loads((work / "with_lm" / f"round{k}" / "config.json").read_text())
        assert member2["training"]["init_from"] == str(work / "lm")
    assert (work / "lm" / "lm.safetensors").exists()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == 9 and 0 <= metrics["accuracy"] <= 1
    card = (out / "README.md").read_text()
    assert f"{metrics['accuracy']:.4f}" in card and "round 0" in card
    for rounds_dir in (work, work / "with_lm"):  # each member: its round chosen on validation
        selection = json.loads((rounds_dir / "selection.json").read_text())
        losses = selection["valid_loss"]
        assert set(losses) == {"round0", "round1"}
        assert losses[selection["chosen"]] == min(losses.values())
    ensemble = json.loads((work / "ensemble" / "config.json").read_text())
    assert ensemble["model"]["members"] == 2
    assert ensemble["training"]["ensemble_of"] == [
        str(work / json.loads((work / "selection.json").read_text())["chosen"]),
        str(
            work
            / "with_lm"
            / json.loads((work / "with_lm" / "selection.json").read_text())["chosen"]
        ),
    ]
    final = json.loads((work / "final.json").read_text())  # member 1, member 2 or the ensemble
    assert set(final["valid_loss"]) == {"member 1", "member 2", "ensemble"}
    assert final["valid_loss"][final["chosen"]] == min(final["valid_loss"].values())
    chosen = Path(final["runs"][final["chosen"]])
    assert (out / "model.safetensors").read_bytes() == (chosen / "model.safetensors").read_bytes()
    assert f"**{final['chosen']}**" in card and "member 2 (chose round" in card
    scores = Predictor.load(out).predict_proba(["This film was wonderful", "dull, 2/10"])
    assert len(scores) == 2
    assert not list(tmp_path.glob("ml_model.*"))  # no temporary folders left behind

    caplog.set_level(logging.INFO, logger="shipped")
    before = (work / "with_lm" / "round1" / "model.safetensors").stat().st_mtime_ns
    assert script.main(argv) == 0
    assert (work / "with_lm" / "round1" / "model.safetensors").stat().st_mtime_ns == before
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    # prepare, vectors, language model, 2 x (round 0, round 1), ensemble, export
    assert len(skipped) == 9, skipped

    # bench/ablation.py reads the same work folder (member 1's rounds)
    ablation = _load("ablation_bench", ROOT / "bench" / "ablation.py")
    report = tmp_path / "ablation.json"
    assert ablation.main(["--work", str(work), "--json", str(report)]) == 0
    rows = {r["row"].split(" (")[0]: r["accuracy"] for r in json.loads(report.read_text())["rows"]}
    for name in ("round0: LSTM alone", "round0: wide part alone", "round1: LSTM + wide"):
        assert 0 <= rows[name] <= 1, name
    assert "last round, float32 weights" in rows
    # and member 2's rounds, with the data of the work folder above them
    assert ablation.main(["--work", str(work / "with_lm"), "--json", str(report)]) == 0
    rows = [r["row"] for r in json.loads(report.read_text())["rows"]]
    assert any(r.startswith("round1: LSTM + wide") for r in rows)


@pytest.mark.slow
def test_one_member_needs_no_language_model(tmp_path, monkeypatch):
    pytest.importorskip("gensim")
    pytest.importorskip("onnxscript")
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    script = _load_script()
    monkeypatch.setitem(script.MODEL, "ngram_buckets", 4099)
    source = build_aclimdb(tmp_path / "src")
    work, out = tmp_path / "work", tmp_path / "ml_model"
    argv = [
        "--archive", str(source), "--work", str(work), "--out", str(out),
        "--rounds", "0", "--teacher-epochs", "1", "--members", "1",
    ]  # fmt: skip
    assert script.main(argv) == 0
    assert not (work / "lm").exists() and not (work / "with_lm").exists()
    assert not (work / "final.json").exists()
    config = json.loads((out / "config.json").read_text())
    assert config["model"].get("members", 1) == 1 and config["training"]["init_from"] is None
    assert "the installed model: **" not in (out / "README.md").read_text()  # no final choice


def test_two_members_need_a_language_model(tmp_path, capsys):
    script = _load_script()
    with pytest.raises(SystemExit) as exit_info:
        script.main(["--work", str(tmp_path), "--lm-epochs", "0"])
    assert exit_info.value.code == 2 and "--lm-epochs must be >= 1" in capsys.readouterr().err


def test_round_k_learns_from_the_mean_of_the_distilled_rounds_before_it(tmp_path):
    script = _load_script()
    w = tmp_path
    assert script.teachers_of(w, 0) == []
    assert script.teachers_of(w, 1) == [w / "round0"]
    assert script.teachers_of(w, 2) == [w / "round1"]
    assert script.teachers_of(w, 3) == [w / "round1", w / "round2"]


def test_a_kept_round_that_did_not_start_from_this_language_model_is_reported(tmp_path, caplog):
    script = _load_script()
    run = tmp_path / "round0"
    run.mkdir()
    (run / "model.safetensors").write_bytes(b"")
    (run / "config.json").write_text(json.dumps({"training": {"init_from": None}}))
    caplog.set_level(logging.INFO, logger="shipped")
    assert script.train_round(tmp_path, 0, 1, 17, [], None) == run  # same: kept, no warning
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
    script.train_round(tmp_path, 0, 1, 17, [], tmp_path / "lm")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "without a language model" in warnings[0]
