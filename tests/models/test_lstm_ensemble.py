"""LSTMEnsemble: several LSTMs and one wide part in one module."""

import pytest
import torch

from sentireview.models.ensemble import LSTMEnsemble, build_lstm
from sentireview.models.lstm import LSTMClassifier, LSTMConfig


def _batch():
    ids = torch.randint(2, 40, (3, 9))
    return ids, torch.tensor([9, 4, 1])


def test_build_gives_a_classifier_or_an_ensemble():
    assert type(build_lstm(LSTMConfig(vocab_size=40, embed_dim=4, hidden=3))) is LSTMClassifier
    ensemble = build_lstm(LSTMConfig(vocab_size=40, embed_dim=4, hidden=3, members=3))
    assert isinstance(ensemble, LSTMEnsemble) and len(ensemble.members) == 3
    assert all(m.wide is None for m in ensemble.members)  # the wide part is shared


def test_members_are_checked():
    with pytest.raises(ValueError, match="members"):
        LSTMConfig(vocab_size=40, members=0)
    with pytest.raises(ValueError, match="ensemble"):
        LSTMClassifier(LSTMConfig(vocab_size=40, members=2))


def test_logit_is_the_mix_of_the_parts():
    torch.manual_seed(0)
    cfg = LSTMConfig(vocab_size=40, embed_dim=4, hidden=3, ngram_buckets=101, members=2)
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
    model = LSTMEnsemble(LSTMConfig(vocab_size=40, embed_dim=4, hidden=3, members=2)).eval()
    ids, lengths = _batch()
    parts = model(ids, lengths, parts=True)
    assert torch.equal(parts[:, 2], torch.zeros(3))
    assert torch.allclose(model(ids, lengths), parts[:, :2].mean(dim=1), atol=1e-6)
    assert {k.split(".")[0] for k in model.state_dict()} == {"members", "mix"}
