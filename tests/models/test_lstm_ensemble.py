"""LSTMEnsemble: several LSTMs and one wide part in one module."""

import pytest
import torch

from sentireview.backends.torch import build_model
from sentireview.models.ensemble import EnsembleConfig, LSTMEnsemble
from sentireview.models.lstm import LSTMClassifier


def _batch():
    ids = torch.randint(2, 40, (3, 9))
    return ids, torch.tensor([9, 4, 1])


def test_the_kind_builds_a_classifier_or_an_ensemble():
    shape = {"vocab_size": 40, "embed_dim": 4, "hidden": 3}
    assert type(build_model({"kind": "lstm", "model": shape})) is LSTMClassifier
    ensemble = build_model({"kind": "lstm_ensemble", "model": {**shape, "members": 3}})
    assert isinstance(ensemble, LSTMEnsemble) and len(ensemble.members) == 3
    assert all(type(m) is LSTMClassifier for m in ensemble.members)  # the wide part is shared


def test_members_are_checked():
    with pytest.raises(ValueError, match="members"):
        EnsembleConfig(vocab_size=40, members=1)
    with pytest.raises(ValueError, match="ngram_buckets"):
        EnsembleConfig(vocab_size=40, ngram_buckets=1)


def test_logit_is_the_mix_of_the_parts():
    torch.manual_seed(0)
    cfg = EnsembleConfig(vocab_size=40, embed_dim=4, hidden=3, ngram_buckets=101, members=2)
    model = LSTMEnsemble(cfg).eval()
    with torch.no_grad():
        model.wide.weight.normal_()
        model.wide.weight[0] = 0
        model.mix.copy_(torch.tensor([0.3, 0.5, 0.9, -0.2]))
    ids, lengths = _batch()
    parts = model(ids, lengths, parts=True)
    assert parts.shape == (3, 3)
    for i, member in enumerate(model.members):
        assert torch.allclose(parts[:, i], member(ids, lengths))
    want = 0.3 * parts[:, 0] + 0.5 * parts[:, 1] + 0.9 * parts[:, 2] - 0.2
    assert torch.allclose(model(ids, lengths), want, atol=1e-6)
    assert parts[:, 0].ne(parts[:, 1]).any()  # two different LSTMs


def test_without_a_wide_part_the_default_is_the_members_mean():
    model = LSTMEnsemble(EnsembleConfig(vocab_size=40, embed_dim=4, hidden=3, members=2)).eval()
    ids, lengths = _batch()
    parts = model(ids, lengths, parts=True)
    assert torch.equal(parts[:, 2], torch.zeros(3))
    assert torch.allclose(model(ids, lengths), parts[:, :2].mean(dim=1), atol=1e-6)
    assert {k.split(".")[0] for k in model.state_dict()} == {"members", "mix"}
