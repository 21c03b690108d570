import torch

from sentireview.training.loop import n_correct


def test_n_correct_counts_hard_and_soft_labels():
    logits = torch.tensor([2.0, -1.0, -0.5, 0.3])
    assert int(n_correct(logits, torch.tensor([1, 0, 1, 1]))) == 3
    # Distillation's soft labels (a teacher's P(positive)) count as their rounded class.
    soft = torch.tensor([0.9, 0.2, 0.6, 0.4])
    assert int(n_correct(logits, soft)) == 2
    # One logit per class (the transformer's head).
    two = torch.tensor([[0.1, 0.9], [2.0, -1.0]])
    assert int(n_correct(two, torch.tensor([1, 1]))) == 1
