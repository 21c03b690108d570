"""The wide part's fit (NB-scaled logistic regression, then frozen) and the mix."""

import pytest
import torch

from sentireview.models.wide import WideLSTMClassifier, WideLSTMConfig
from sentireview.training.wide import fit_mix, fit_wide, wide_logits


def _random_reviews(n: int, seed: int) -> tuple[list[list[int]], list[int]]:
    """Reviews of random words with random labels: nothing to learn but the reviews."""
    g = torch.Generator().manual_seed(seed)
    ids = [torch.randint(2, 400, (int(torch.randint(5, 30, (1,), generator=g)),), generator=g)
           for _ in range(n)]  # fmt: skip
    labels = torch.randint(0, 2, (n,), generator=g).tolist()
    return [r.tolist() for r in ids], labels


def _model() -> WideLSTMClassifier:
    return WideLSTMClassifier(
        WideLSTMConfig(vocab_size=400, embed_dim=8, hidden=4, ngram_buckets=8191)
    )


def test_the_in_sample_fit_memorises_and_freezes_the_wide_part():
    ids, labels = _random_reviews(300, seed=3)
    y = torch.tensor(labels)
    model = _model()
    fit = fit_wide(model, ids, labels, c=4.0)
    in_sample = wide_logits(model, ids) + fit["bias"]
    assert fit["train_accuracy"] >= 0.95  # random labels, memorised through rare n-grams
    assert float(((in_sample > 0).long() == y).float().mean()) >= 0.95
    assert not model.wide.weight.requires_grad and float(model.wide.weight[0]) == 0.0
    again = _model()
    fit_wide(again, ids, labels, c=4.0)
    torch.testing.assert_close(again.wide.weight, model.wide.weight)  # deterministic


def test_the_mix_weighs_the_parts_on_held_out_reviews():
    ids, labels = _random_reviews(300, seed=4)
    for review, label in zip(ids, labels, strict=True):
        review.append(2 if label else 3)  # word 2 marks positives, word 3 negatives
    model = _model()
    fit_wide(model, ids[:200], labels[:200], c=4.0)
    mix = fit_mix(model, ids[200:], labels[200:])
    assert model.mix.tolist() == pytest.approx(mix, abs=1e-5) and mix != [1.0, 1.0, 0.0]
    assert mix[1] > 0  # the wide part carries the signal
