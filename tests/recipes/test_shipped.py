"""The shipped recipe (sentireview.recipes.shipped) end to end on an invented aclImdb with a
tiny random transformer as the teacher (tiny settings)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import logging
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sentireview.cli import main
from sentireview.recipes import shipped
from sentireview.recipes.shipped import SHIPPED, ShippedConfig, run_recipe, trained
from tests.data.conftest import build_aclimdb
from tests.helpers.fake_reviews import build_tiny_transformer

ROOT = Path(__file__).resolve().parents[2]
LOGGER = "sentireview.recipes"  # the recipe's steps (recipes.common)


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def tiny(work: Path, **kw) -> ShippedConfig:
    """The recipe with a small wide part (quick), one epoch per run, few written reviews."""
    cfg = ShippedConfig(
        work=work, round0_epochs=1, student_epochs=1, piece_reviews=8, written=40,
        written_dev=20, **kw,
    )
    return dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, ngram_buckets=4099))


def write_short_set(path: Path) -> Path:
    """Two invented short reviews in the test sets' format."""
    path.write_text("text\tlabel\nA warm, funny film.\tpositive\nDull and far too long.\t"
                    "negative\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_recipe_installs_a_model_taught_by_the_transformer_and_resumes(tmp_path, caplog):
    pytest.importorskip("gensim")
    pytest.importorskip("onnxscript")
    from sentireview.predict import Predictor

    source = build_aclimdb(tmp_path / "src")
    teacher = build_tiny_transformer(tmp_path / "teacher", recipe="words")
    out = tmp_path / "ml_model"
    out.mkdir()
    (out / "stale.txt").write_text("from the previous model")
    work = tmp_path / "work"
    short = write_short_set(tmp_path / "short.tsv")
    cfg = tiny(work, teacher=teacher, out=out, archive=source, short_sets=(short,))
    run_recipe(cfg)
    names = {p.name for p in out.iterdir()}
    assert set(SHIPPED) | {"README.md"} == names  # replaced whole: no stale file
    config = json.loads((out / "config.json").read_text())
    assert config["name"] == shipped.NAME and config["text"]["recipe"] == "words"
    assert config["weights_dtype"] == "float16"

    # round 0 learnt from the labelled reviews alone, the student from every part of step 4
    round0 = json.loads((work / "round0" / "config.json").read_text())["training"]
    assert round0["distill"]["scored"] == []
    student = json.loads((work / "student" / "config.json").read_text())["training"]
    assert student["distill"]["scored"] == [
        str(work / "scores" / "unsup.parquet"),
        str(work / "scores" / "pieces.parquet"),
        str(work / "written_train.parquet"),
    ]
    # the unlabelled reviews: the mean of the teacher (plain text) and round 0 (clean text)
    unsup = pd.read_parquet(work / "scores" / "unsup.parquet")
    by_teacher = Predictor.load(teacher).predict_proba(unsup["text"].tolist(), prepared=True)
    by_round0_scores = Predictor.load(work / "round0", backend="torch").predict_proba(
        unsup["clean"].tolist(), prepared=True
    )
    assert unsup["label"].to_numpy() == pytest.approx(
        (np.array(by_teacher) + by_round0_scores) / 2
    )
    # the pieces: the teacher alone, on each piece's own text
    pieces = pd.read_parquet(work / "scores" / "pieces.parquet")
    assert len(pieces) > 0
    expected = Predictor.load(teacher).predict_proba(pieces["text"].tolist(), prepared=True)
    assert pieces["label"].to_numpy() == pytest.approx(expected)
    written = pd.read_parquet(work / "written_train.parquet")
    assert set(written["label"]) <= {0, 1} and len(written) >= 40

    # chosen on validation data by the rule; the installed weights are the chosen run's
    final = json.loads((work / "final.json").read_text())
    assert set(final["valid"]) == {"round0", "student"}
    s, b = final["valid"]["student"], final["valid"]["round0"]
    keeps = s["accuracy"] >= b["accuracy"] - cfg.max_valid_drop
    assert final["chosen"] == ("student" if keeps and s["written_dev"] > b["written_dev"]
                               else "round0")
    chosen = work / final["chosen"]
    assert (out / "model.safetensors").read_bytes() == (chosen / "model.safetensors").read_bytes()

    # the accuracy is the installed model's on the 9 test files, labelled by their folder
    metrics = json.loads((out / "metrics.json").read_text())
    texts, labels = [], []
    for cls, label in (("pos", 1), ("neg", 0)):
        for path in sorted((source / "test" / cls).glob("*.txt")):
            texts.append(path.read_text(encoding="utf-8"))
            labels.append(label)
    predicted = [p["label"] for p in Predictor.load(out).predict(texts)]
    right = sum(p == y for p, y in zip(predicted, labels, strict=True))
    assert metrics["n"] == len(texts) == 9
    assert metrics["accuracy"] == pytest.approx(right / 9)
    # the short test set: evaluated (never chosen with), and on the card
    got = Predictor.load(out).predict(["A warm, funny film.", "Dull and far too long."])
    right = (got[0]["label"] == 1) + (got[1]["label"] == 0)
    assert metrics["short_sets"] == {"short.tsv": {"n": 2, "accuracy": right / 2}}
    card = (out / "README.md").read_text()
    assert f"{metrics['accuracy']:.4f}" in card and f"Installed: **{final['chosen']}**" in card
    assert "| short.tsv | 2 |" in card and str(teacher) in card
    # the written dev part by kind of review, from the installed model
    dev = pd.read_parquet(work / "written_dev.parquet")
    scores = np.array(Predictor.load(out).predict_proba(dev["clean"].tolist(), prepared=True))
    dev = dev.assign(right=(scores > 0.5) == dev["label"].astype(bool))
    for kind, group in dev.groupby("template"):
        assert f"| {kind} | {len(group):,} | {100 * group['right'].mean():.1f}% |" in card
    assert not [p for p in tmp_path.iterdir() if ".ml_model" in p.name]  # nothing left behind
    times = json.loads((work / "times.json").read_text())
    assert {"round0_s", "teacher_data_s", "student_s", "test_s"} <= set(times)

    caplog.set_level(logging.INFO, logger=LOGGER)
    caplog.clear()
    before = (work / "student" / "model.safetensors").stat().st_mtime_ns
    run_recipe(cfg)
    assert (work / "student" / "model.safetensors").stat().st_mtime_ns == before
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    # prepare, vectors, round 0, unlabelled, pieces, 2 written, student, choice, export, test
    assert len(skipped) == 11, skipped

    # bench/ablation.py reads the same work folder and trains the ablation's students
    ablation = _load("ablation_bench", ROOT / "bench" / "ablation.py")
    report = tmp_path / "ablation.json"
    argv = ["--work", str(work), "--train", "--short", str(short), "--json", str(report),
            "--epochs", "1", "--buckets", "4099"]
    assert ablation.main([*argv, "--no-table"]) == 0  # trains the students, scores nothing
    assert not report.exists()
    assert all(trained(work / "ablation" / name) for name in ablation.VARIANTS)
    assert ablation.main(argv) == 0  # they are trained: only the table
    rows = {r["run"]: r for r in json.loads(report.read_text())["rows"]}
    assert set(rows) == {"round0", "student", *ablation.VARIANTS}
    for name in ("round0", "student"):  # the columns the choice reads, as the choice read them
        assert rows[name]["valid"] == final["valid"][name], name
    assert all(set(row["valid"]) == {"accuracy", "loss", "written_dev"} for row in rows.values())
    with pytest.raises(SystemExit) as exc:  # a misspelt variant: argparse's one-line error
        ablation.main(["--work", str(work), "--train", "--variants", "no_unsup,no_such"])
    assert exc.value.code == 2
    unsup, pieces = str(work / "scores" / "unsup.parquet"), str(work / "scores" / "pieces.parquet")
    written, by_round0 = str(work / "written_train.parquet"), str(ablation.by_round0(cfg))
    expected = {  # each trained without what its name says
        "no_unsup": [pieces, written],
        "no_pieces": [unsup, written],
        "no_written": [unsup, pieces],
        "unsup_by_round0": [by_round0, pieces, written],
        "no_vectors": [unsup, pieces, written],
    }
    assert set(expected) == set(ablation.VARIANTS)
    for name, files in expected.items():
        training = json.loads((work / "ablation" / name / "config.json").read_text())["training"]
        assert training["distill"]["scored"] == files, name
        vectors = None if name == "no_vectors" else str(work / "word2vec.bin")
        assert training["init"] == {"word_vectors": vectors}, name
    # round 0's own scores of the unlabelled reviews (the old self-distillation)
    own = pd.read_parquet(by_round0)["label"].to_numpy()
    assert own == pytest.approx(np.asarray(by_round0_scores))
    # every row scores the 9 test reviews and the short set with its own model
    for name, row in rows.items():
        run = work / ("ablation/" + name if name in expected else name)
        probs = Predictor.load(run, backend="torch").predict_proba(
            ["A warm, funny film.", "Dull and far too long."]
        )
        assert row["short.tsv"] == ((probs[0] > 0.5) + (probs[1] <= 0.5)) / 2, name
    assert rows[final["chosen"]]["mix"] == pytest.approx(metrics["accuracy"])  # same model

    # --seeds: the recipe's student and a variant again with another training seed, as rows
    seeded = ["--work", str(work), "--train", "--variants", "no_pieces", "--seeds", "18",
              "--short", str(short), "--json", str(report), "--epochs", "1", "--buckets", "4099"]
    assert ablation.main(seeded) == 0
    for name, files in (("student", [unsup, pieces, written]),
                        ("no_pieces", expected["no_pieces"])):
        run = work / "ablation" / "seeds" / f"{name}_s18"
        training = json.loads((run / "config.json").read_text())["training"]
        assert (training["seed"], training["distill"]["scored"]) == (18, files), name
    other = Predictor.load(work / "ablation" / "seeds" / "student_s18", backend="torch")
    assert other.predict_proba(["Dull and far too long."]) != pytest.approx(
        Predictor.load(work / "student", backend="torch").predict_proba(["Dull and far too long."])
    )  # another seed, another model
    rows = {r["run"]: r for r in json.loads(report.read_text())["rows"]}
    assert {"student_s18", "no_pieces_s18"} <= set(rows)
    with pytest.raises(SystemExit) as exc:
        ablation.main(["--work", str(work), "--train", "--seeds", "18,x"])
    assert exc.value.code == 2


def test_a_missing_teacher_is_one_line_before_any_work(tmp_path, capsys):
    argv = ["train", "shipped", "--work", str(tmp_path / "w"), "--teacher",
            str(tmp_path / "nothing")]
    assert main(argv) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "no teacher model" in err[0] and "shipped-transformer" in err[0]
    assert not (tmp_path / "w").exists()


def test_a_choice_is_made_again_when_its_runs_changed(tmp_path, monkeypatch):
    """``final.json`` holds while the runs' weights are the ones it was made with; a run
    trained again, or the choice of an older recipe ("ensemble"), is chosen again."""
    from sentireview.recipes import common

    runs = {}
    for name in ("round0", "student"):
        runs[name] = tmp_path / name
        runs[name].mkdir()
        (runs[name] / "model.safetensors").write_bytes(name.encode())
    scores = {"round0": {"accuracy": 0.92, "loss": 0.2, "written_dev": 0.5},
              "student": {"accuracy": 0.921, "loss": 0.19, "written_dev": 0.7}}
    monkeypatch.setattr(common, "validation", lambda run, data, dev, limit: scores[run.name])
    final = common.choose_short(tmp_path / "final.json", tmp_path, tmp_path / "dev.parquet",
                                ("round0", runs["round0"]), ("student", runs["student"]), 0.005)
    assert final["chosen"] == "student"
    assert common.choice_holds(final, runs)
    (runs["student"] / "model.safetensors").write_bytes(b"trained again")
    assert not common.choice_holds(final, runs)
    old = {"chosen": "ensemble", "valid_loss": {"ensemble": 0.193}}  # the previous recipe's
    assert not common.choice_holds(old, runs)
    assert not common.choice_holds({**final, "chosen": "round1"}, runs)


@pytest.mark.slow
def test_scores_of_another_teacher_are_made_again_and_a_partial_evaluation_is_redone(
    tmp_path, caplog
):
    pytest.importorskip("gensim")
    pytest.importorskip("onnxscript")
    source = build_aclimdb(tmp_path / "src")
    teacher = build_tiny_transformer(tmp_path / "teacher", recipe="words")
    work = tmp_path / "work"
    cfg = tiny(work, teacher=teacher, archive=source, short_sets=())
    run = run_recipe(cfg)
    pieces = work / "scores" / "pieces.parquet"
    first = pd.read_parquet(pieces)["label"].to_numpy()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["short_sets"] == {}  # no short set given: measured as none

    # an evaluation cut off before its end (no short_sets) is done again
    del metrics["short_sets"]
    (run / "metrics.json").write_text(json.dumps(metrics))
    caplog.set_level(logging.INFO)
    run_recipe(cfg)
    messages = [r.getMessage() for r in caplog.records]
    assert "test evaluation ..." in messages and "choice: already done, skipped" in messages
    assert json.loads((run / "metrics.json").read_text())["short_sets"] == {}
    caplog.clear()
    # the same teacher in another folder (its served copy, say): nothing is scored again
    moved = tmp_path / "moved"
    shutil.copytree(teacher, moved)
    scored_at = pieces.stat().st_mtime_ns
    run_recipe(dataclasses.replace(cfg, teacher=moved))
    messages = [r.getMessage() for r in caplog.records]
    assert not any("scoring again" in m for m in messages)
    assert pieces.stat().st_mtime_ns == scored_at
    caplog.clear()
    # another teacher: the scores are made again from it
    other = build_tiny_transformer(tmp_path / "other", recipe="words")
    import torch
    from safetensors.torch import load_file, save_file

    weights = load_file(str(other / "model.safetensors"))
    save_file({k: v + 0.05 * torch.randn_like(v) for k, v in weights.items()},
              str(other / "model.safetensors"))
    student = work / "student" / "model.safetensors"
    before = student.stat().st_mtime_ns
    # the ablation's own scores of the unlabelled reviews (round 0's), where it makes them
    ablation = _load("ablation_bench", ROOT / "bench" / "ablation.py")
    ablation.make_scores(cfg, ["unsup_by_round0"])
    stale = ablation.by_round0(cfg)
    assert stale.is_file()
    run_recipe(dataclasses.replace(cfg, teacher=other))
    assert not stale.exists()  # made from the old scores' run: removed, to be made again
    messages = [r.getMessage() for r in caplog.records]
    assert any("scoring again" in m for m in messages)
    assert student.stat().st_mtime_ns != before  # the student learnt from the new scores
    again = pd.read_parquet(pieces)["label"].to_numpy()
    assert again != pytest.approx(first)
    assert json.loads((work / "scores" / "sources.json").read_text())["teacher"] == str(
        other.resolve()
    )
    chosen = work / json.loads((work / "final.json").read_text())["chosen"]
    assert "short_sets" in json.loads((chosen / "metrics.json").read_text())
    assert "choice ..." in messages  # the student changed: chosen again
