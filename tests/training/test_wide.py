"""The wide part's fits: in-sample and out of fold (for stacking)."""

import torch

from sentireview.models.lstm import LSTMClassifier, LSTMConfig
from sentireview.training.wide import fit_wide, out_of_fold_logits, wide_logits


def _random_reviews(n: int, seed: int) -> tuple[list[list[int]], list[int]]:
    """Reviews of random words with random labels: nothing to learn but the reviews."""
    g = torch.Generator().manual_seed(seed)
    ids = [torch.randint(2, 400, (int(torch.randint(5, 30, (1,), generator=g)),), generator=g)
           for _ in range(n)]  # fmt: skip
    labels = torch.randint(0, 2, (n,), generator=g).tolist()
    return [r.tolist() for r in ids], labels


def _model() -> LSTMClassifier:
    return LSTMClassifier(LSTMConfig(vocab_size=400, embed_dim=8, hidden=4, ngram_buckets=8191))


def test_out_of_fold_logits_are_honest_where_the_in_sample_fit_memorises():
    ids, labels = _random_reviews(300, seed=3)
    y = torch.tensor(labels)
    model = _model()
    fit = fit_wide(model, ids, labels, c=4.0)
    in_sample = wide_logits(model, ids) + fit["bias"]
    assert fit["train_accuracy"] >= 0.95  # random labels, memorised through rare n-grams
    assert float(((in_sample > 0).long() == y).float().mean()) >= 0.95

    oof = out_of_fold_logits(_model(), ids, labels, c=4.0, folds=5, seed=1)
    assert oof.shape == (300,)
    oof_accuracy = float(((oof > 0).long() == y).float().mean())
    assert 0.35 <= oof_accuracy <= 0.65  # chance: no fold saw the review it scores
    # The same folds again give the same logits (seeded), other seeds other folds.
    again = out_of_fold_logits(_model(), ids, labels, c=4.0, folds=5, seed=1)
    torch.testing.assert_close(oof, again)
    assert not torch.allclose(oof, out_of_fold_logits(_model(), ids, labels, 4.0, 5, seed=2))


def test_out_of_fold_logits_learn_a_real_signal():
    ids, labels = _random_reviews(300, seed=4)
    for review, label in zip(ids, labels, strict=True):
        review.append(2 if label else 3)  # word 2 marks positives, word 3 negatives
    oof = out_of_fold_logits(_model(), ids, labels, c=4.0, folds=3)
    assert float(((oof > 0).long() == torch.tensor(labels)).float().mean()) >= 0.95
