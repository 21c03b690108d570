"""training.tracking: --report-to tensorboard writes the history as TensorBoard scalars."""

from __future__ import annotations

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sentireview.cli import main
from sentireview.errors import SentiReviewError
from sentireview.training.loop import History
from sentireview.training.tracking import TensorBoardHook, history_hooks


def scalars(folder) -> dict[str, list[tuple[int, float]]]:
    events = EventAccumulator(str(folder))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)]
            for tag in events.Tags()["scalars"]}


def test_each_new_history_row_reaches_the_hooks(tmp_path):
    seen = []
    history = History(tmp_path, [{"stage": "old"}], hooks=[seen.append])
    history.append({"stage": "finetune", "step": 3, "val_loss": 0.5})
    assert seen == [{"stage": "finetune", "step": 3, "val_loss": 0.5}]
    assert json.loads((tmp_path / "history.json").read_text())[-1]["step"] == 3


def test_rows_become_scalars_by_stage_and_step(tmp_path):
    hook = TensorBoardHook(tmp_path / "tb")
    hook({"stage": "pretrain", "epoch": 0.5, "step": 10, "train_loss": 0.7, "val_acc": 0.6,
          "best": True, "note": "text"})
    hook({"stage": "pretrain", "epoch": 1.0, "step": 20, "train_loss": 0.4, "val_acc": 0.8,
          "best": True})
    found = scalars(tmp_path / "tb")
    assert set(found) == {"pretrain/train_loss", "pretrain/val_acc"}
    assert found["pretrain/train_loss"] == [(10, pytest.approx(0.7)), (20, pytest.approx(0.4))]


def test_none_adds_no_hook_and_an_unknown_value_is_refused(tmp_path):
    assert history_hooks("none", tmp_path) == []
    assert history_hooks("tensorboard", None) == []  # ranks other than the main one
    with pytest.raises(SentiReviewError, match="unknown --report-to 'wandb'"):
        history_hooks("wandb", tmp_path)


def test_the_cli_reports_an_lstm_run_to_tensorboard(dataset, tmp_path):
    out = tmp_path / "run"
    code = main(["train", "lstm", "--data", str(dataset), "--out", str(out), "--epochs", "1",
                 "--embed-dim", "8", "--hidden", "4", "--min-freq", "1",
                 "--report-to", "tensorboard"])
    assert code == 0
    history = json.loads((out / "history.json").read_text())
    found = scalars(out / "tensorboard")
    stage = history[0]["stage"]
    assert [v for _, v in found[f"{stage}/val_loss"]] == pytest.approx(
        [row["val_loss"] for row in history])
