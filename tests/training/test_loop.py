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
    """As a language model's split: the loss is averaged over units, not reviews."""

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
    # a language model's loss gives no logits (no accuracy)
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


@pytest.mark.parametrize("split", [VectorSplit, UnitSplit], ids=["classifier", "language-model"])
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
