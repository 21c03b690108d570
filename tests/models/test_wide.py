"""The shipped model's options: max pooling (models/lstm.py) and the wide hashed n-gram part
(models/wide.py)."""

import pytest
import torch

from sentireview.models.lstm import LSTMClassifier, LSTMConfig
from sentireview.models.wide import WideLSTMClassifier, WideLSTMConfig, ngram_hashes
from sentireview.weights import HALF, round_to_half, save_weights


def _batch(lengths, vocab=50):
    ids = torch.zeros((len(lengths), max(lengths)), dtype=torch.int64)
    for i, n in enumerate(lengths):
        ids[i, :n] = torch.randint(2, vocab, (n,))
    return ids, torch.tensor(lengths)


def _wide_model(**kw):
    cfg = dict(vocab_size=50, embed_dim=8, hidden=6, pooling="last_max", ngram_buckets=101)
    cfg.update(kw)
    if not cfg["ngram_buckets"]:
        del cfg["ngram_buckets"]
        return LSTMClassifier(LSTMConfig(**cfg)).eval()
    m = WideLSTMClassifier(WideLSTMConfig(**cfg))
    with torch.no_grad():
        m.wide.weight.normal_()
        m.wide.weight[0] = 0  # the padding row, as training keeps it
    return m.eval()


def test_defaults_are_the_tutorials_model():
    m = LSTMClassifier(LSTMConfig(vocab_size=10))
    assert not hasattr(m, "wide") and m.fc.in_features == 256
    assert not any("mix" in k or "wide" in k for k in m.state_dict())


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="pooling"):
        LSTMConfig(vocab_size=10, pooling="mean")
    with pytest.raises(ValueError, match="ngram_buckets"):
        WideLSTMConfig(vocab_size=10, ngram_buckets=1)
    with pytest.raises(TypeError):  # the tutorial's model has no wide part
        LSTMConfig(vocab_size=10, ngram_buckets=8)


def test_hashes_count_each_ngram_once_and_stop_at_the_length():
    ids = torch.tensor([[5, 6, 5, 6, 0, 0]])
    h = ngram_hashes(ids, torch.tensor([4]), orders=3, buckets=1000)
    kept = h[h > 0].tolist()
    # distinct n-grams of "5 6 5 6": 5, 6, (5 6), (6 5), (5 6 5), (6 5 6)
    assert len(kept) == len(set(kept)) == 6
    assert all(0 < b < 1000 for b in kept)
    alone = ngram_hashes(ids[:, :4], torch.tensor([4]), orders=3, buckets=1000)
    assert sorted(kept) == sorted(alone[alone > 0].tolist())
    # word order matters: "5 6" and "6 5" are different features
    pair = ngram_hashes(torch.tensor([[5, 6]]), torch.tensor([2]), 2, 1000)
    swapped = ngram_hashes(torch.tensor([[6, 5]]), torch.tensor([2]), 2, 1000)
    assert set(pair[0].tolist()) != set(swapped[0].tolist())


def test_padding_and_batching_do_not_change_the_result():
    torch.manual_seed(0)
    m = _wide_model()
    ids, lengths = _batch([7, 3, 1, 5])
    with torch.no_grad():
        batched = m(ids, lengths)
        alone = torch.stack(
            [m(ids[i : i + 1, : lengths[i]], lengths[i : i + 1])[0] for i in range(4)]
        )
        longer = m(torch.cat([ids, torch.zeros(4, 6, dtype=torch.int64)], 1), lengths)
    torch.testing.assert_close(batched, alone)
    torch.testing.assert_close(batched, longer)


def test_max_pooling_reads_the_middle_of_a_review():
    torch.manual_seed(1)
    m = _wide_model(ngram_buckets=0)
    assert m.fc.in_features == 4 * 6  # final states and maxima, both directions
    ids, lengths = _batch([9])
    with torch.no_grad():
        base = m(ids, lengths)
        changed = ids.clone()
        changed[0, 4] = 2 if ids[0, 4] != 2 else 3
        assert not torch.equal(m(changed, lengths), base)


def test_parts_and_mix():
    torch.manual_seed(2)
    m = _wide_model()
    ids, lengths = _batch([6, 4])
    with torch.no_grad():
        parts = m(ids, lengths, parts=True)
        assert parts.shape == (2, 2)
        torch.testing.assert_close(m(ids, lengths), parts.sum(-1))  # mix starts at 1, 1, 0
        m.mix.copy_(torch.tensor([0.5, 2.0, -1.0]))
        torch.testing.assert_close(m(ids, lengths), 0.5 * parts[:, 0] + 2 * parts[:, 1] - 1)
    assert not m.mix.requires_grad


@pytest.mark.slow
@pytest.mark.parametrize("half", [False, True])
def test_wide_model_exports_to_onnx_with_the_same_predictions(tmp_path, half):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from sentireview import artifact
    from sentireview.export import export_onnx
    from sentireview.predict import Predictor
    from sentireview.text import clean_words
    from sentireview.vocab import Vocab

    reviews = [
        "A wonderful film , I loved it !",
        "Terrible . It does n't work and the acting is awful .",
        "ok",
        "",
        "The first half drags but the ending is great and the music is good . " * 8,
    ]
    torch.manual_seed(5)
    vocab = Vocab.build([clean_words(t) for t in reviews], min_freq=1)
    m = _wide_model(vocab_size=len(vocab), ngram_buckets=5003)  # a table big enough to halve
    with torch.no_grad():
        m.mix.copy_(torch.tensor([0.7, 1.3, 0.2]))
    text = {"recipe": "words", "column": "clean", "max_tokens": 60}
    config = artifact.make_config("lstm", m.config, text)
    if half:
        config["weights_dtype"] = HALF
        round_to_half(m)
    artifact.write_config(tmp_path, config)
    save_weights(tmp_path, m, pth=True, half=half)
    vocab.save(tmp_path / artifact.VOCAB)
    with torch.no_grad():
        direct = torch.sigmoid(m(*_encode(vocab, [clean_words(r) for r in reviews]))).tolist()
    want = Predictor.load(tmp_path, backend="torch").predict_proba(reviews)  # from model.pth
    assert max(abs(a - b) for a, b in zip(direct, want, strict=True)) < 1e-6
    (tmp_path / artifact.PTH).unlink()
    export_onnx(tmp_path)  # verifies several shapes against PyTorch itself
    got = Predictor.load(tmp_path, backend="onnx").predict_proba(reviews)
    assert max(abs(a - b) for a, b in zip(got, want, strict=True)) < 1e-5
    assert len({round(p, 6) for p in want}) > 1
    import onnx

    types = {i.name: i.data_type for i in onnx.load(str(tmp_path / "model.onnx")).graph.initializer}
    assert (onnx.TensorProto.FLOAT16 in types.values()) == half
    from safetensors.torch import load_file

    stored = load_file(str(tmp_path / artifact.WEIGHTS))
    assert (stored["embedding.weight"].dtype == torch.float16) == half


def _encode(vocab, texts):
    from sentireview.vocab import pad_ids

    ids, lengths = pad_ids([vocab.encode(t, 60) for t in texts])
    return torch.from_numpy(ids), torch.from_numpy(lengths)
