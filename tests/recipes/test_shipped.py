"""The shipped recipe (sentireview.recipes.shipped) end to end on an invented aclImdb (tiny
settings)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import logging
import sys
from pathlib import Path

import pytest

from sentireview.cli import main
from sentireview.recipes import shipped
from sentireview.recipes.shipped import SHIPPED, ShippedConfig, run_recipe, train_round
from tests.data.conftest import build_aclimdb

ROOT = Path(__file__).resolve().parents[2]
LOGGER = "sentireview.recipes"  # the recipe and its steps (recipes.common)


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def tiny(work: Path, **kw) -> ShippedConfig:
    """The recipe with a small wide part (quick), one epoch per round."""
    cfg = ShippedConfig(work=work, teacher_epochs=1, student_epochs=1, **kw)
    return dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, ngram_buckets=4099))


@pytest.mark.slow
def test_recipe_installs_a_working_model_and_resumes_by_skipping(tmp_path, caplog):
    pytest.importorskip("gensim")
    pytest.importorskip("onnxscript")
    from sentireview.predict import Predictor

    source = build_aclimdb(tmp_path / "src")
    out = tmp_path / "ml_model"
    out.mkdir()
    (out / "stale.txt").write_text("from the previous model")
    work = tmp_path / "work"
    cfg = tiny(work, out=out, archive=source, rounds=1, lm_epochs=1)
    run_recipe(cfg)
    names = {p.name for p in out.iterdir()}
    assert set(SHIPPED) | {"README.md"} == names  # replaced whole: no stale file
    config = json.loads((out / "config.json").read_text())
    assert config["name"] == shipped.NAME and config["text"]["recipe"] == "words"
    assert config["weights_dtype"] == "float16"
    # member 1 without the language model, every round of member 2 started from it
    for k in (0, 1):
        member1 = json.loads((work / f"round{k}" / "config.json").read_text())
        assert member1["training"]["init"]["language_model"] is None
        member2 = json.loads((work / "with_lm" / f"round{k}" / "config.json").read_text())
        assert member2["training"]["init"]["language_model"] == str(work / "lm")
    # round 1 learnt from round 0's scores of the unlabelled reviews (the teacher step)
    assert member1["training"]["distill"]["scored"] == [str(work / "scores" / "round1.parquet")]
    assert (work / "lm" / "lm.safetensors").exists()
    metrics = json.loads((out / "metrics.json").read_text())
    # the accuracy is the installed model's on the 9 test files, labelled by their folder
    texts, labels = [], []
    for cls, label in (("pos", 1), ("neg", 0)):
        for path in sorted((source / "test" / cls).glob("*.txt")):
            texts.append(path.read_text(encoding="utf-8"))
            labels.append(label)
    predicted = [p["label"] for p in Predictor.load(out).predict(texts)]
    right = sum(p == y for p, y in zip(predicted, labels, strict=True))
    assert metrics["n"] == len(texts) == 9
    assert metrics["accuracy"] == pytest.approx(right / 9)
    card = (out / "README.md").read_text()
    assert f"{metrics['accuracy']:.4f}" in card and "round 0" in card
    for rounds_dir in (work, work / "with_lm"):  # each member: its round chosen on validation
        selection = json.loads((rounds_dir / "selection.json").read_text())
        losses = selection["valid_loss"]
        assert set(losses) == {"round0", "round1"}
        assert losses[selection["chosen"]] == min(losses.values())
    ensemble = json.loads((work / "ensemble" / "config.json").read_text())
    assert ensemble["kind"] == "lstm_ensemble" and ensemble["model"]["members"] == 2
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
    assert not [p for p in tmp_path.iterdir() if ".ml_model" in p.name]  # nothing left behind

    caplog.set_level(logging.INFO, logger=LOGGER)
    before = (work / "with_lm" / "round1" / "model.safetensors").stat().st_mtime_ns
    run_recipe(cfg)
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
def test_one_member_needs_no_language_model(tmp_path):
    pytest.importorskip("gensim")
    pytest.importorskip("onnxscript")
    source = build_aclimdb(tmp_path / "src")
    work, out = tmp_path / "work", tmp_path / "ml_model"
    run_recipe(tiny(work, out=out, archive=source, rounds=0, members=1))
    assert not (work / "lm").exists() and not (work / "with_lm").exists()
    assert not (work / "final.json").exists()
    config = json.loads((out / "config.json").read_text())
    assert config["kind"] == "lstm" and config["training"]["init"]["language_model"] is None
    assert "the installed model: **" not in (out / "README.md").read_text()  # no final choice


def test_two_members_need_a_language_model(tmp_path, capsys):
    assert main(["train", "shipped", "--work", str(tmp_path), "--lm-epochs", "0"]) == 2
    err = capsys.readouterr().err
    assert "lm_epochs must be >= 1" in err and err.count("\n") == 1


def test_round_k_learns_from_the_mean_of_the_distilled_rounds_before_it():
    assert shipped.teacher_rounds(0) == []
    assert shipped.teacher_rounds(1) == [0]
    assert shipped.teacher_rounds(2) == [1]
    assert shipped.teacher_rounds(3) == [1, 2]


def test_a_kept_round_that_did_not_start_from_this_language_model_is_reported(tmp_path, caplog):
    run = tmp_path / "round0"
    run.mkdir()
    (run / "model.safetensors").write_bytes(b"")
    config = {"format": 1, "kind": "lstm", "model": {}, "text": {}}
    config["training"] = {"init_from": None, "epochs": 1}  # flat: a round of the old script
    (run / "config.json").write_text(json.dumps(config))
    caplog.set_level(logging.INFO, logger=LOGGER)
    cfg = ShippedConfig(work=tmp_path)
    assert train_round(cfg, 0, [], None, tmp_path) == run  # same: kept, no warning
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
    train_round(cfg, 0, [], tmp_path / "lm", tmp_path)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "without a language model" in warnings[0]
