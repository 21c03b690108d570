import warnings

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from sentireview.models.lstm import LSTMClassifier, LSTMConfig


def _batch(lengths, vocab=50, pad=0):
    T = max(lengths)
    ids = torch.full((len(lengths), T), pad, dtype=torch.int64)
    for i, n in enumerate(lengths):
        ids[i, :n] = torch.randint(2, vocab, (n,))
    return ids, torch.tensor(lengths)


def _model(**kw):
    model = LSTMClassifier(LSTMConfig(vocab_size=50, embed_dim=8, hidden=6, **kw))
    return model.eval()


def test_shapes_and_tutorial_defaults():
    cfg = LSTMConfig(vocab_size=10)
    assert (cfg.embed_dim, cfg.hidden, cfg.dropout, cfg.bidirectional) == (500, 128, 0.3, True)
    m = LSTMClassifier(cfg)
    assert m.fc.in_features == 256 and m.lstm.num_layers == 1 and m.lstm.bidirectional
    ids, lengths = _batch([5, 3], vocab=10)
    assert m.eval()(ids, lengths).shape == (2,)


@pytest.mark.parametrize("pooling", ["last", "last_max"])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_padding_does_not_change_the_result(bidirectional, pooling):
    m = _model(bidirectional=bidirectional, pooling=pooling)
    ids, lengths = _batch([7, 3, 1, 5])
    with torch.no_grad():
        batched = m(ids, lengths)
        alone = torch.stack(
            [m(ids[i : i + 1, : lengths[i]], lengths[i : i + 1])[0] for i in range(4)]
        )
        padded_more = m(torch.cat([ids, torch.zeros(4, 9, dtype=torch.int64)], 1), lengths)
    torch.testing.assert_close(batched, alone)
    torch.testing.assert_close(batched, padded_more)


def test_reads_every_token():
    m = _model()
    ids, lengths = _batch([6])
    with torch.no_grad():
        base = m(ids, lengths)
        for pos in (0, 5):
            changed = ids.clone()
            changed[0, pos] = (changed[0, pos] + 1 - 2) % 48 + 2
            assert not torch.equal(m(changed, lengths), base)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_final_states_equal_packed_sequences(bidirectional):
    """The one forward path gives what nn.LSTM gives on packed sequences (the textbook way of
    stopping each review at its length), with the same weights."""
    m = _model(bidirectional=bidirectional)
    ids, lengths = _batch([7, 3, 1, 5, 7])
    with torch.no_grad():
        packed = pack_padded_sequence(
            m.embedding(ids), lengths, batch_first=True, enforce_sorted=False
        )
        _, (h, _) = m.lstm(packed)  # (directions, B, H)
        want = m.fc(torch.cat(list(h), dim=-1)).squeeze(-1)
        torch.testing.assert_close(m(ids, lengths), want, rtol=1e-5, atol=1e-6)


def test_gradients_reach_embedding_and_empty_review():
    m = _model()
    m.train()
    ids, lengths = _batch([4, 2])
    lengths[1] = 0  # clamped to one step, no crash
    m(ids, lengths).sum().backward()
    assert m.embedding.weight.grad.abs().sum() > 0


@pytest.mark.slow
def test_onnx_export_matches_torch(tmp_path):
    """The web engineer exports with torch.onnx.export; the exported graph must read lengths."""
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    m = _model()
    ids, lengths = _batch([7, 3, 5])
    path = tmp_path / "m.onnx"
    dims = {"ids": {0: "batch", 1: "time"}, "lengths": {0: "batch"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's own deprecation noise, not ours
        torch.onnx.export(
            m,
            (ids, lengths),
            str(path),
            input_names=["ids", "lengths"],
            output_names=["logits"],
            dynamic_shapes=dims,
            dynamo=True,
        )
    session = ort.InferenceSession(str(path))
    for lens in ([7, 3, 5], [2, 11], [1]):
        ids2, l2 = _batch(lens)
        got = session.run(None, {"ids": ids2.numpy(), "lengths": l2.numpy()})[0]
        with torch.no_grad():
            want = m(ids2, l2).numpy()
        assert abs(got - want).max() < 1e-5
