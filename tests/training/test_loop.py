import copy
import json

import pytest
import torch
from torch import nn

from sentireview.training.distributed import DistInfo
from sentireview.training.loop import History, StageConfig, n_correct, previous_rows, train_stage


def test_n_correct_counts_hard_and_soft_labels():
    logits = torch.tensor([2.0, -1.0, -0.5, 0.3])
    assert int(n_correct(logits, torch.tensor([1, 0, 1, 1]))) == 3
    # Distillation's soft labels (a teacher's P(positive)) count as their rounded class.
    soft = torch.tensor([0.9, 0.2, 0.6, 0.4])
    assert int(n_correct(logits, soft)) == 2
    # One logit per class (the transformer's head).
    two = torch.tensor([[0.1, 0.9], [2.0, -1.0]])
    assert int(n_correct(two, torch.tensor([1, 1]))) == 1
    # edges: a logit of exactly 0 is negative, a soft label of exactly 0.5 is class 0
    assert int(n_correct(torch.tensor([0.0]), torch.tensor([0]))) == 1
    assert int(n_correct(torch.tensor([-1.0]), torch.tensor([0.5]))) == 1


# --- Resume restores the best-so-far state (best validation loss, early-stopping counter) ---



class VectorSplit:
    """Random 4-d points; ``flip`` inverts the labels (a validation set that gets worse as
    the model learns the training set)."""

    def __init__(self, n: int, seed: int, flip: bool = False) -> None:
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, 4, generator=g)
        self.y = ((self.x[:, 0] > 0) != flip).long()
        self.lengths = [1 + i % 3 for i in range(n)]

    def __len__(self) -> int:
        return len(self.y)

    def collate(self, indices, device):
        return {"x": self.x[list(indices)], "labels": self.y[list(indices)]}


class UnitSplit(VectorSplit):
    """A split whose loss is averaged over units (say, words), not reviews."""

    def units(self, indices):
        return sum(self.lengths[i] for i in indices)

    def collate(self, indices, device):
        batch = super().collate(indices, device)
        batch["weight"] = torch.tensor([float(self.lengths[i]) for i in indices])
        return batch


def logit_loss(model, batch):
    logits = model(batch["x"]).squeeze(-1)
    loss = nn.functional.binary_cross_entropy_with_logits(
        logits, batch["labels"].float(), weight=batch.get("weight"), reduction="sum"
    )
    # a loss per unit gives no logits (no accuracy)
    return loss, (None if "weight" in batch else logits)


def run_stage(folder, stop_at=None, resume=False, split=VectorSplit):
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    config = StageConfig(
        name="s", epochs=6, batch_size=8, evals_per_epoch=2, early_stopping=3, progress=False
    )
    result = train_stage(
        model,
        split(64, 1),
        split(32, 2, flip=True),
        logit_loss,
        optimizer,
        config,
        DistInfo(),
        folder / "checkpoints",
        History(folder, previous_rows(folder) if resume else []),
        resume=resume,
        on_step=(lambda step: step == stop_at) if stop_at else None,
    )
    return model, result


@pytest.mark.parametrize("split", [VectorSplit, UnitSplit], ids=["classifier", "per-unit"])
def test_resume_after_an_evaluation_that_did_not_improve(tmp_path, split):
    whole_model, whole = run_stage(tmp_path / "whole", split=split)
    flags = [row["best"] for row in whole.history]
    # the run this test needs: a first best, then only worse validations, early stop
    assert flags == [True, False, False, False] and whole.stopped_early
    # interrupt right after the second validation (4 steps per validation), which did not
    # improve, then resume
    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        run_stage(cut, stop_at=8, split=split)
    rows = json.loads((cut / "history.json").read_text())
    assert [r["best"] for r in rows] == [True, False]
    cut_model, resumed = run_stage(cut, resume=True, split=split)
    # same best loss, same early stop, and the final weights are the first validation's
    assert resumed.best_val_loss == whole.best_val_loss
    assert resumed.stopped_early and [r["best"] for r in resumed.history] == flags
    for a, b in zip(whole_model.parameters(), cut_model.parameters(), strict=True):
        assert torch.equal(a, b)


# --- What a stage computes, checked against sums written out here ---


def fixed_stage(tmp_path, split=VectorSplit, **kw):
    """lr 0: the model never changes, so every figure of the history can be computed by hand."""
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    config = StageConfig(
        **{"name": "s", "epochs": 3, "batch_size": 8, "evals_per_epoch": 1, "progress": False,
           **kw}
    )
    train, valid = split(40, 1), split(24, 2, flip=True)
    result = train_stage(model, train, valid, logit_loss, torch.optim.SGD(model.parameters(), lr=0),
                         config, DistInfo(), tmp_path / "checkpoints", History(tmp_path))
    return model, train, valid, result


def by_hand(model, split):
    """(loss per unit, accuracy) of a split with the model as it is."""
    with torch.no_grad():
        batch = split.collate(range(len(split)), torch.device("cpu"))
        loss, logits = logit_loss(model, batch)
        logits = model(batch["x"]).squeeze(-1)
    units_total = split.units(range(len(split))) if hasattr(split, "units") else len(split)
    correct = ((logits > 0).long() == batch["labels"]).float().mean()
    return float(loss) / units_total, float(correct)


@pytest.mark.parametrize("split", [VectorSplit, UnitSplit], ids=["classifier", "per-unit"])
def test_history_figures_are_the_sums_over_each_interval(tmp_path, split):
    model, train, valid, result = fixed_stage(tmp_path, split)
    rows = result.history
    assert [r["epoch"] for r in rows] == [1.0, 2.0, 3.0]  # one row per validation
    assert [r["step"] for r in rows] == [5, 10, 15]  # 40 reviews in batches of 8
    train_loss, train_acc = by_hand(model, train)
    val_loss, val_acc = by_hand(model, valid)
    for r in rows:  # every review once per interval, loss averaged per unit
        assert r["train_loss"] == pytest.approx(train_loss, rel=1e-5)
        assert r["val_loss"] == pytest.approx(val_loss, rel=1e-5)
        if split is VectorSplit:
            assert r["train_acc"] == pytest.approx(train_acc)
            assert r["val_acc"] == pytest.approx(val_acc)
        else:
            assert r["train_acc"] is None and r["val_acc"] is None
    assert result.best_val_loss == pytest.approx(val_loss, rel=1e-5)
    assert [r["best"] for r in rows] == [True, False, False]  # equal is not better
    assert json.loads((tmp_path / "history.json").read_text()) == rows


@pytest.mark.parametrize("accum", [1, 2])
def test_one_step_follows_the_mean_gradient_of_its_global_batch(tmp_path, accum):
    # 16 reviews, batches of 16 / accum: one optimizer step over all of them either way
    split = UnitSplit(16, 1)
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    want = copy.deepcopy(model)
    batch = split.collate(range(16), torch.device("cpu"))
    loss, _ = logit_loss(want, batch)
    (loss / sum(split.lengths)).backward()  # the mean over units
    with torch.no_grad():
        for p in want.parameters():
            p -= 0.5 * p.grad
    config = StageConfig(name="s", epochs=1, batch_size=16 // accum, grad_accum=accum,
                         evals_per_epoch=1, progress=False)
    train_stage(model, split, split, logit_loss, torch.optim.SGD(model.parameters(), lr=0.5),
                config, DistInfo(), None, History(None))
    for a, b in zip(model.parameters(), want.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_a_finished_stage_resumes_to_its_best_weights_without_training(tmp_path):
    whole_model, whole = run_stage(tmp_path)
    steps = []
    torch.manual_seed(5)
    model = nn.Linear(4, 1)  # other weights: the best ones must be loaded
    config = StageConfig(name="s", epochs=6, batch_size=8, evals_per_epoch=2, early_stopping=3,
                         progress=False)
    again = train_stage(model, VectorSplit(64, 1), VectorSplit(32, 2, flip=True), logit_loss,
                        torch.optim.SGD(model.parameters(), lr=0.5), config, DistInfo(),
                        tmp_path / "checkpoints", History(tmp_path, previous_rows(tmp_path)),
                        resume=True, on_step=steps.append)
    assert steps == [] and again.best_val_loss == whole.best_val_loss
    for a, b in zip(whole_model.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_without_resume_a_run_starts_over(tmp_path):
    _, first = run_stage(tmp_path)
    _, second = run_stage(tmp_path)  # the same folder, its checkpoint there, no resume
    assert [r["val_loss"] for r in second.history] == [r["val_loss"] for r in first.history]
    assert [r["step"] for r in second.history] == [4, 8, 12, 16]


def checkpointed_stage(folder, resume=False, on_step=None):
    """Two epochs of 8 steps, one validation each, a checkpoint every 3 steps."""
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    config = StageConfig(name="s", epochs=2, batch_size=8, evals_per_epoch=1,
                         checkpoint_every=3, progress=False)
    return train_stage(model, UnitSplit(64, 1), UnitSplit(32, 2), logit_loss,
                       torch.optim.SGD(model.parameters(), lr=0.5), config, DistInfo(),
                       folder / "checkpoints",
                       History(folder, previous_rows(folder) if resume else []),
                       resume=resume, on_step=on_step)


def test_resume_between_validations_continues_the_running_sums(tmp_path):
    whole = checkpointed_stage(tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):  # epoch 2, after the checkpoint at step 9
        checkpointed_stage(tmp_path / "cut", on_step=lambda s: s == 11)
    resumed = checkpointed_stage(tmp_path / "cut", resume=True)
    assert len(resumed.history) == len(whole.history) == 2
    for a, b in zip(whole.history, resumed.history, strict=True):
        assert (a["epoch"], a["step"]) == (b["epoch"], b["step"])
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-6)
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-6)


def test_elapsed_time_and_rates_go_on_across_a_resume(tmp_path, monkeypatch):
    from sentireview.training import loop

    clock = {"t": 0.0}
    monkeypatch.setattr(loop.time, "perf_counter", lambda: clock["t"])

    def tick(stop_at):
        def on_step(steps):
            clock["t"] += 1.0  # one second per optimizer step
            return steps == stop_at
        return on_step

    whole = checkpointed_stage(tmp_path / "whole", on_step=tick(None))
    assert [r["elapsed_s"] for r in whole.history] == [8, 16]  # 8 steps an epoch
    assert [r["reviews_per_s"] for r in whole.history] == [8, 8]
    with pytest.raises(KeyboardInterrupt):
        checkpointed_stage(tmp_path / "cut", on_step=tick(11))
    clock["t"] = 1000.0  # a new process: its clock starts anywhere
    resumed = checkpointed_stage(tmp_path / "cut", resume=True, on_step=tick(None))
    assert [r["elapsed_s"] for r in resumed.history] == [8, 16]
    assert [r["reviews_per_s"] for r in resumed.history] == [8, 8]
