"""The served transformer's recipe (sentireview.recipes.transformer) end to end on an invented
aclImdb with a tiny random encoder, and its choice rule."""

from __future__ import annotations

import json
import logging

import pytest

from sentireview.predict import Predictor
from sentireview.recipes import common
from sentireview.recipes import transformer as recipe
from sentireview.recipes.transformer import SERVED, TransformerRecipeConfig, choose, run_recipe
from tests.data.conftest import build_aclimdb
from tests.helpers.fake_reviews import make_tiny_encoder


@pytest.mark.slow
def test_recipe_installs_an_int8_model_and_resumes_by_skipping(tmp_path, caplog, monkeypatch):
    pytest.importorskip("onnxscript")
    source = build_aclimdb(tmp_path / "src")
    encoder = make_tiny_encoder(tmp_path / "encoder")
    out = tmp_path / "minilm_model"
    work = tmp_path / "work"
    cfg = TransformerRecipeConfig(
        work=work, encoder=str(encoder), out=out, archive=source, piece_reviews=8, written=60,
        written_dev=40, short_reviews=6,
    )
    run_recipe(cfg)
    assert {p.name for p in out.iterdir()} == set(SERVED) | {"tokenizer"}
    config = json.loads((out / "config.json").read_text())
    assert config["name"] == recipe.NAME and config["text"]["column"] == "text"
    final = json.loads((work / "final.json").read_text())
    short = json.loads((work / "short" / "config.json").read_text())["training"]
    assert short["init_from"] == str(work / "base")
    assert short["extra_train"] == [str(work / "written_train.parquet"),
                                    str(work / "pieces.parquet")]
    times = json.loads((work / "times.json").read_text())
    assert set(times) == {"base_s", "pieces_s", "short_s"}
    report = json.loads((work / "report.json").read_text())
    assert report["final"] == final and 0 <= report["test_int8"]["accuracy"] <= 1
    card = (out / "README.md").read_text()
    assert f"Chosen: **{final['chosen']}**" in card and "Apache-2.0" in card
    assert "(training: pretrain " in card and "finetune not recorded" not in card  # times
    assert "| `short_reviews.tsv` | 240 |" in card and "short_own.tsv" in card
    # the installed metrics carry the short sets too (the page's length advice reads them)
    installed = json.loads((out / "metrics.json").read_text())
    assert installed["short_sets"] == report["short_sets"] and installed["split"] == "test"
    # the installed folder serves on ONNX Runtime, int8
    predictor = Predictor.load(out)
    assert predictor.backend_name == "onnx"
    assert len(predictor.predict(["A fine film.", "Dull."])) == 2

    # again: every step is skipped
    caplog.clear()
    with caplog.at_level(logging.INFO):
        run_recipe(cfg)
    skipped = [r.getMessage() for r in caplog.records if "already done" in r.getMessage()]
    # prepare, stages 1-2, pieces, 2 written, stage 3, choice, int8, test evaluation
    assert len(skipped) == 9, skipped

    # cut off after the float32 evaluation: the next invocation measures only int8
    chosen = work / final["chosen"]
    (work / "report.json").unlink()
    calls = []
    real = recipe.evaluate_run
    monkeypatch.setattr(recipe, "evaluate_run", lambda run, *a, **k: calls.append(run) or real(
        run, *a, **k))
    (work / "served" / "metrics.json").unlink()
    run_recipe(cfg)
    assert calls == [work / "served"]
    again = json.loads((work / "report.json").read_text())
    assert again["test_float32"] == report["test_float32"]
    # other weights in the run: measured again
    metrics = json.loads((chosen / "metrics.json").read_text())
    (chosen / "metrics.json").write_text(json.dumps({**metrics, "weights_sha256": "other"}))
    assert recipe.test_metrics(chosen, cfg.data, "torch")["weights_sha256"] != "other"
    assert calls[-1] == chosen
    # a sample of the test split: measured again on the whole
    metrics = json.loads((chosen / "metrics.json").read_text())
    (chosen / "metrics.json").write_text(json.dumps({**metrics, "limit": 5}))
    assert recipe.test_metrics(chosen, cfg.data, "torch")["limit"] is None
    assert len(calls) == 3

    # a run trained again (other weights): chosen again, exported again, measured again
    import torch
    from safetensors.torch import load_file, save_file

    weights = load_file(str(work / "short" / "model.safetensors"))
    save_file({k: v + 0.01 * torch.randn_like(v) if v.is_floating_point() else v
               for k, v in weights.items()}, str(work / "short" / "model.safetensors"))
    caplog.clear()
    calls.clear()
    with caplog.at_level(logging.INFO):
        run_recipe(cfg)
    messages = [r.getMessage() for r in caplog.records]
    before = final["chosen"]
    final = json.loads((work / "final.json").read_text())
    assert "choice ..." in messages
    # the export follows the choice: made again when it is the changed run or another one
    redone = final["chosen"] == "short" or final["chosen"] != before
    assert ("int8 export ..." in messages) == redone
    assert "test evaluation ..." in messages  # the card's candidates changed
    assert bool(calls) == redone  # measured again only when the chosen weights changed
    assert common.choice_holds(final, {"base": work / "base", "short": work / "short"})
    assert json.loads((work / "report.json").read_text())["final"] == final
    served = json.loads((work / "served" / "config.json").read_text())["training"]
    chosen = work / final["chosen"]
    assert served["chosen_sha256"] == common.weights_digest(chosen)


@pytest.mark.parametrize(
    ("short", "chosen"),
    [
        ({"accuracy": 0.907, "written_dev": 0.78}, "short"),  # 0.3 points less on IMDb: kept
        ({"accuracy": 0.904, "written_dev": 0.78}, "base"),  # 0.6 points less: too much
        ({"accuracy": 0.912, "written_dev": 0.59}, "base"),  # no gain on written text
    ],
)
def test_stage_3_is_kept_only_when_it_pays_on_validation_data(tmp_path, monkeypatch, short,
                                                               chosen):
    scores = {"base": {"accuracy": 0.910, "loss": 0.23, "written_dev": 0.59},
              "short": {"loss": 0.25, **short}}
    monkeypatch.setattr(common, "validation", lambda run, data, dev, limit: scores[run.name])
    cfg = TransformerRecipeConfig(work=tmp_path, encoder="unused")
    final = choose(cfg, tmp_path / "base", tmp_path / "short")
    assert final["chosen"] == chosen
    assert json.loads((tmp_path / "final.json").read_text())["chosen"] == chosen


def test_the_command_reports_a_missing_archive_in_one_line(tmp_path, capsys):
    from sentireview.cli import main

    argv = ["train", "shipped-transformer", "--work", str(tmp_path / "w"),
            "--archive", str(tmp_path / "missing.tar.gz")]
    assert main(argv) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "missing.tar.gz" in err[0]


def test_the_card_gives_a_stage_time_only_where_it_was_kept_across_resumes(tmp_path):
    import torch

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    rows = [{"stage": "pretrain", "elapsed_s": 30.0}, {"stage": "pretrain", "elapsed_s": 60.0},
            {"stage": "finetune", "elapsed_s": 5000.0}, {"stage": "finetune", "elapsed_s": 900.0}]
    (run / "history.json").write_text(json.dumps(rows))
    torch.save({"elapsed_s": 60.0}, run / "checkpoints" / "pretrain.pt")
    # finetune: resumed before the time was kept (it falls back)
    assert recipe._trained(run) == "training: pretrain 1 min, finetune not recorded"
    rows[3]["elapsed_s"] = 9000.0
    (run / "history.json").write_text(json.dumps(rows))
    assert recipe._trained(run) == "training: pretrain 1 min, finetune 150 min"
    torch.save({"steps": 10}, run / "checkpoints" / "finetune.pt")  # a checkpoint without time
    assert recipe._trained(run) == "training: pretrain 1 min, finetune not recorded"
