import dataclasses
import json

import pytest
import torch

from sentireview.cli import main
from sentireview.errors import SentiReviewError
from sentireview.models.lstm import LSTMClassifier, LSTMConfig
from sentireview.training import language_model
from sentireview.training.language_model import (
    CHECKPOINT,
    CONFIG,
    WEIGHTS,
    BidirectionalLM,
    LMConfig,
    SampledSoftmax,
    is_trained,
    load_pretrained,
    train_language_model,
)
from sentireview.training.lstm import train_lstm
from sentireview.vocab import Vocab
from sentireview.weights import load_tensors as load_weights
from tests.helpers.configs import lstm_config


def lm_config(dataset, out, **kw):
    settings = dict(
        data=dataset,
        out=out,
        splits=("train",),
        embed_dim=8,
        hidden=6,
        min_freq=1,
        epochs=6,
        batch_size=16,
        lr=3e-2,
        negatives=8,
        valid_reviews=32,
        checkpoint_every=2,
    )
    settings.update(kw)
    return LMConfig(**settings)


def test_sampled_loss_with_every_word_as_negative_is_the_full_softmax():
    torch.manual_seed(0)
    head = SampledSoftmax(hidden=5, vocab_size=11)
    h, target = torch.randn(7, 5), torch.randint(0, 11, (7,))
    every = torch.arange(11)
    sampled = head.sampled_loss(h, target, every, torch.zeros(11))
    assert torch.allclose(sampled, head.full_loss(h, target, chunk=3), atol=1e-5)
    # fewer negatives: a smaller partition sum, so a smaller loss
    assert head.sampled_loss(h, target, every[:3], torch.zeros(11)) < sampled
    # the correction shifts every logit by log Q: a constant Q changes nothing
    shifted = head.sampled_loss(h, target, every, torch.full((11,), 2.5))
    assert torch.allclose(shifted, sampled, atol=1e-5)


def test_the_correction_is_the_log_of_each_words_expected_count_among_the_negatives():
    counts = torch.tensor([0.0, 5.0, 100.0, 10.0])
    lm = BidirectionalLM(LSTMClassifier(LSTMConfig(4, 3, 2)), counts, 0.0, negatives=8)
    p = counts.clamp(min=1) ** 0.75
    p[0] = 0
    p = p / p.sum()
    assert lm.negatives == 3  # at most the vocabulary less the padding
    assert torch.allclose(lm.log_q[1:], (3 * p[1:]).log())
    assert lm.sampling[0] == 0  # padding is never drawn


def test_language_model_learns_and_writes_the_folder(dataset, tmp_path):
    out = tmp_path / "lm"
    summary = train_language_model(lm_config(dataset, out))
    history = summary["history"]
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5, 6]
    vocab = Vocab.load(out / "vocab.json")
    # better than a uniform guess over the vocabulary, and better than after one epoch
    assert history[-1]["valid_perplexity"] < len(vocab) - 1
    assert history[-1]["valid_perplexity"] < history[0]["valid_perplexity"]
    weights = load_weights(out / WEIGHTS)
    assert weights["embedding.weight"].shape == (len(vocab), 8)
    assert "lstm.weight_hh_l0_reverse" in weights and not any(k.startswith("fc.") for k in weights)
    assert not (out / CHECKPOINT).exists() and not list(out.glob("*.tmp"))
    saved = json.loads((out / "lm_config.json").read_text())
    assert saved["config"]["hidden"] == 6 and saved["summary"]["history"] == history
    # a finished folder is not trained again
    assert train_language_model(lm_config(dataset, out))["history"] == history


def test_an_interrupted_run_resumes_to_the_same_weights(dataset, tmp_path, monkeypatch):
    whole = tmp_path / "whole"
    train_language_model(lm_config(dataset, whole))

    steps = {"n": 0}
    real_step = torch.optim.Adam.step

    def step_then_stop(self, *a, **kw):
        steps["n"] += 1
        if steps["n"] == 9:  # epoch 2 (6 batches each), after its checkpoint at batch 2
            raise KeyboardInterrupt
        return real_step(self, *a, **kw)

    cut = tmp_path / "cut"
    monkeypatch.setattr(torch.optim.Adam, "step", step_then_stop)
    with pytest.raises(KeyboardInterrupt):
        train_language_model(lm_config(dataset, cut))
    monkeypatch.setattr(torch.optim.Adam, "step", real_step)
    assert (cut / CHECKPOINT).exists() and not (cut / WEIGHTS).exists()
    train_language_model(lm_config(dataset, cut))
    a, b = load_weights(whole / WEIGHTS), load_weights(cut / WEIGHTS)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-6), name
    history = [json.loads((d / "history.json").read_text()) for d in (whole, cut)]
    for row_a, row_b in zip(*history, strict=True):
        assert row_a["epoch"] == row_b["epoch"]
        assert row_a["train_loss"] == pytest.approx(row_b["train_loss"], abs=1e-4)
        assert row_a["val_loss"] == pytest.approx(row_b["val_loss"], abs=1e-4)


def test_resuming_with_other_settings_is_refused(dataset, tmp_path, monkeypatch):
    out = tmp_path / "lm"
    real_step = torch.optim.Adam.step
    steps = {"n": 0}

    def step_then_stop(self, *a, **kw):
        steps["n"] += 1
        if steps["n"] == 5:
            raise KeyboardInterrupt
        return real_step(self, *a, **kw)

    monkeypatch.setattr(torch.optim.Adam, "step", step_then_stop)
    with pytest.raises(KeyboardInterrupt):
        train_language_model(lm_config(dataset, out))
    monkeypatch.setattr(torch.optim.Adam, "step", real_step)
    with pytest.raises(SentiReviewError, match="other settings \\(hidden\\)"):
        train_language_model(lm_config(dataset, out, hidden=7))
    assert (out / CHECKPOINT).exists()  # nothing lost: the same settings still resume
    train_language_model(lm_config(dataset, out))
    assert is_trained(out)


def test_a_run_stopped_while_writing_its_results_finishes_on_the_next_call(
    dataset, tmp_path, monkeypatch
):
    whole = tmp_path / "whole"
    train_language_model(lm_config(dataset, whole, epochs=2))
    out = tmp_path / "lm"
    real_write = language_model.write_json

    def stop_at_config(path, data):
        if path.name == CONFIG:
            raise KeyboardInterrupt
        real_write(path, data)

    monkeypatch.setattr(language_model, "write_json", stop_at_config)
    with pytest.raises(KeyboardInterrupt):
        train_language_model(lm_config(dataset, out, epochs=2))
    monkeypatch.setattr(language_model, "write_json", real_write)
    assert (out / WEIGHTS).exists() and not is_trained(out)
    train_language_model(lm_config(dataset, out, epochs=2))
    assert is_trained(out)
    a, b = load_weights(whole / WEIGHTS), load_weights(out / WEIGHTS)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_load_pretrained_maps_words_and_copies_the_lstm(dataset, tmp_path):
    out = tmp_path / "lm"
    train_language_model(lm_config(dataset, out, epochs=1))
    weights = load_weights(out / WEIGHTS)
    lm_vocab = Vocab.load(out / "vocab.json")
    vocab = Vocab(["<pad>", "<unk>", "zzznew", "good", "film"])
    model = LSTMClassifier(LSTMConfig(len(vocab), 8, 6, pooling="last_max"))
    before = model.embedding.weight.detach().clone()
    assert load_pretrained(model, vocab, out) == 4  # pad, unk, good, film
    emb = model.embedding.weight.detach()
    assert torch.equal(emb[3], weights["embedding.weight"][lm_vocab.stoi["good"]])
    assert torch.equal(emb[2], before[2])  # not in the language model's vocabulary
    assert torch.equal(model.lstm.weight_ih_l0, weights["lstm.weight_ih_l0"])
    with pytest.raises(SentiReviewError, match="does not fit"):
        load_pretrained(LSTMClassifier(LSTMConfig(len(vocab), 8, 7)), vocab, out)
    with pytest.raises(SentiReviewError, match="cannot read a language model"):
        load_pretrained(model, vocab, tmp_path / "missing")
    (out / WEIGHTS).write_bytes(b"not a safetensors file")
    with pytest.raises(SentiReviewError, match="cannot read a language model"):
        load_pretrained(model, vocab, out)


def test_lstm_training_starts_from_the_language_model(dataset, tmp_path, monkeypatch):
    lm = tmp_path / "lm"
    train_language_model(lm_config(dataset, lm, epochs=1))
    started = {}

    import sentireview.training.lstm as lstm_module

    real = lstm_module.load_pretrained

    def spy(model, vocab, folder):
        found = real(model, vocab, folder)
        started["lstm"] = model.lstm.weight_hh_l0.detach().clone()
        return found

    monkeypatch.setattr(lstm_module, "load_pretrained", spy)
    cfg = lstm_config(
        data=dataset,
        out=tmp_path / "run",
        epochs=1,
        batch_size=16,
        min_freq=1,
        embed_dim=8,
        hidden=6,
        pooling="last_max",
        language_model=lm,
        progress=False,
    )
    train_lstm(cfg)
    assert torch.equal(started["lstm"], load_weights(lm / WEIGHTS)["lstm.weight_hh_l0"])
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["training"]["init"]["language_model"] == str(lm)
    other = dataclasses.replace(
        cfg, out=tmp_path / "r2", model=dataclasses.replace(cfg.model, hidden=5)
    )
    with pytest.raises(SentiReviewError, match="does not fit"):
        train_lstm(other)


def test_train_lm_cli(dataset, tmp_path, capsys):
    out = tmp_path / "lm"
    args = ["train", "lm", "--data", str(dataset), "--out", str(out), "--splits", "train"]
    args += ["--device", "cpu"]
    rc = main([*args, "--epochs", "1", "--embed-dim", "8", "--hidden", "4", "--limit", "40"])
    assert rc == 0 and (out / WEIGHTS).exists()
    run = tmp_path / "run"
    rc = main(
        ["train", "lstm", "--data", str(dataset), "--out", str(run), "--init-from", str(out)]
        + ["--embed-dim", "8", "--hidden", "4", "--epochs", "1", "--min-freq", "1"]
    )
    assert rc == 0
    init = json.loads((run / "config.json").read_text())["training"]["init"]
    assert init["language_model"] == str(out)
    rc = main(["train", "lm", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert rc != 0 and err.count("\n") == 1 and "not found" in err
