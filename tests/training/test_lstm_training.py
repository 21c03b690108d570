import json

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from sentireview.errors import DataError, SentiReviewError
from sentireview.predict import Predictor
from sentireview.training.lstm import train_lstm
from tests.helpers.configs import lstm_config


def small(dataset, out, **kw):
    base = dict(
        data=dataset,
        out=out,
        epochs=2,
        batch_size=8,
        min_freq=1,
        embed_dim=16,
        hidden=8,
        progress=False,
    )
    base.update(kw)
    return lstm_config(**base)


def test_train_writes_a_working_run(dataset, tmp_path):
    out = tmp_path / "run"
    summary = train_lstm(small(dataset, out, epochs=3, lr=1e-2))
    for name in ("config.json", "model.safetensors", "vocab.json", "history.csv", "history.json"):
        assert (out / name).exists(), name
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["optim"]["lr"] == 1e-2 and config["training"]["seed"] == 17
    assert config["kind"] == "lstm" and config["text"] == {
        "recipe": "tutorial",
        "column": "clean",
        "max_tokens": 500,
    }
    history = pd.read_csv(out / "history.csv")
    assert len(history) == 6  # validated twice per epoch
    assert list(history["epoch"]) == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    assert summary["best_val_loss"] == pytest.approx(history["val_loss"].min())
    assert history["val_acc"].max() >= 0.8  # an easy task
    preds = Predictor.load(out).predict(["good great film loved", "awful bad boring plot"])
    assert [p["sentiment"] for p in preds] == ["positive", "negative"]


def test_vocabulary_comes_from_train_only(dataset, tmp_path):
    valid = pd.read_parquet(dataset / "valid.parquet")
    valid.loc[0, "clean"] = "zzzonlyinvalid " * 5
    valid.to_parquet(dataset / "valid.parquet")
    train_lstm(small(dataset, tmp_path / "run", epochs=1))
    itos = json.loads((tmp_path / "run" / "vocab.json").read_text())["itos"]
    assert "zzzonlyinvalid" not in itos and itos[:2] == ["<pad>", "<unk>"]


def test_resume_gives_the_uninterrupted_result(dataset, tmp_path):
    full = tmp_path / "full"
    train_lstm(small(dataset, full, epochs=2))

    part = tmp_path / "part"
    with pytest.raises(KeyboardInterrupt):  # stop mid-epoch, between two validations
        train_lstm(small(dataset, part, epochs=2), on_step=lambda step: step == 9)
    assert (part / "checkpoints" / "lstm.pt").exists()
    assert not (part / "checkpoints" / "lstm.pt.tmp").exists()
    train_lstm(small(dataset, part, epochs=2, resume=True))

    a, b = load_file(full / "model.safetensors"), load_file(part / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    last = torch.load(part / "checkpoints" / "lstm.pt", weights_only=True)
    ref = torch.load(full / "checkpoints" / "lstm.pt", weights_only=True)
    for k in ref["model"]:
        assert torch.equal(last["model"][k], ref["model"][k]), k
    assert last["done"] and last["steps"] == ref["steps"]


def test_a_longer_run_repeats_a_shorter_one_up_to_its_end(dataset, tmp_path):
    """The learning rate is constant and the batches are seeded epoch by epoch, so a run of
    more epochs passes through the same weights as a shorter one: capping the epochs at the
    one with the best validation loss gives the same model (the shipped recipe's epochs)."""
    train_lstm(small(dataset, tmp_path / "two", epochs=2))
    train_lstm(small(dataset, tmp_path / "three", epochs=3))
    two = pd.read_csv(tmp_path / "two" / "history.csv")
    three = pd.read_csv(tmp_path / "three" / "history.csv")
    assert three["lr"].nunique() == 1
    columns = ["epoch", "train_loss", "val_loss", "val_acc"]
    assert three[columns].iloc[: len(two)].equals(two[columns])


def test_early_stopping(dataset, tmp_path):
    out = tmp_path / "run"
    summary = train_lstm(small(dataset, out, epochs=20, lr=0.5, early_stopping=1))
    assert summary["stopped_early"]
    assert len(pd.read_csv(out / "history.csv")) < 40


def test_bad_data(tmp_path, dataset):
    with pytest.raises(DataError, match="not found"):
        train_lstm(small(tmp_path / "missing", tmp_path / "run"))
    empty = pd.read_parquet(dataset / "valid.parquet").head(0)
    empty.to_parquet(dataset / "valid.parquet")
    with pytest.raises(DataError, match="no labelled"):
        train_lstm(small(dataset, tmp_path / "run"))


def test_fused_adam_matches_plain_adam():
    """make_optimizer's fused Adam takes the same steps as torch.optim.Adam(params, lr)."""
    import torch

    from sentireview.models.lstm import LSTMClassifier, LSTMConfig
    from sentireview.training.lstm import make_optimizer

    models = []
    for fused in (True, False):
        torch.manual_seed(0)
        m = LSTMClassifier(LSTMConfig(vocab_size=40, embed_dim=6, hidden=4, dropout=0.0))
        opt = make_optimizer(m, 1e-2) if fused else torch.optim.Adam(m.parameters(), lr=1e-2)
        torch.manual_seed(1)
        for _ in range(5):
            ids = torch.randint(1, 40, (3, 7))
            m(ids, torch.tensor([7, 4, 2])).pow(2).sum().backward()
            opt.step()
            opt.zero_grad()
        models.append(m)
    for (name, a), b in zip(
        models[0].state_dict().items(), models[1].state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)


def test_shipped_model_options_train_a_working_artifact(dataset, tmp_path):
    """Max pooling, the wide n-gram part fitted first, word vectors, half-precision weights."""
    pytest.importorskip("gensim")
    from sentireview.training.word_vectors import WordVectorConfig, train_word_vectors

    vectors = train_word_vectors(
        WordVectorConfig(
            data=dataset, out=tmp_path / "v.bin", splits=("train",), dim=16, min_count=1
        )
    )
    out = tmp_path / "run"
    summary = train_lstm(
        small(
            dataset,
            out,
            epochs=2,
            lr=1e-2,
            pooling="last_max",
            ngram_buckets=4099,
            word_vectors=vectors,
            half_weights=True,
        )
    )
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["ngram_buckets"] == 4099 and config["model"]["pooling"] == "last_max"
    assert config["weights_dtype"] == "float16"
    state = load_file(str(out / "model.safetensors"))
    assert state["embedding.weight"].dtype == torch.float16
    assert state["wide.weight"].abs().sum() > 0 and float(state["wide.weight"][0]) == 0
    assert summary["wide_fit"]["train_accuracy"] >= 0.95  # an easy task for n-grams
    assert summary["mix"] == pytest.approx(state["mix"].float().tolist(), abs=1e-2)
    assert summary["mix"] != [1.0, 1.0, 0.0]  # fitted on the validation split
    preds = Predictor.load(out).predict(["good great film loved", "awful bad boring plot"])
    assert [p["sentiment"] for p in preds] == ["positive", "negative"]
    # The wide part is fitted before the LSTM and frozen: the best checkpoint keeps it.
    best = load_file(str(out / "checkpoints" / "lstm-best.safetensors"))
    torch.testing.assert_close(best["wide.weight"].half(), state["wide.weight"])


def test_nb_ratio_points_at_the_label_words(dataset):
    from sentireview.data.splits import read_split
    from sentireview.models.wide import WideLSTMClassifier, WideLSTMConfig, ngram_hashes
    from sentireview.training.wide import nb_log_ratio, ngram_matrix
    from sentireview.vocab import Vocab

    texts, labels = read_split(dataset, "train", "clean")
    vocab = Vocab.build(texts, min_freq=1)
    ids = [vocab.encode(t) for t in texts]
    model = WideLSTMClassifier(WideLSTMConfig(len(vocab), 8, 4, ngram_buckets=4099, ngram_orders=1))
    x = ngram_matrix(model, ids)
    assert x.shape == (len(texts), 4099)
    assert float(x.to_dense().max()) == 1.0  # binary: a repeated word counts once
    ratio = nb_log_ratio(x, torch.tensor(labels, dtype=torch.float32))

    def r(word):
        bucket = ngram_hashes(torch.tensor([[vocab.stoi[word]]]), torch.tensor([1]), 1, 4099)
        return float(ratio[bucket[0, 0]])

    assert r("great") > 0.5 and r("awful") < -0.5 and abs(r("film")) < 0.5


def _cpu_bf16() -> bool:
    from sentireview.training.loop import _cpu_has_bf16

    return _cpu_has_bf16()


@pytest.mark.skipif(not _cpu_bf16(), reason="this CPU has no bfloat16 instructions")
def test_bf16_autocast_on_cpu_trains_in_mixed_precision(dataset, tmp_path, monkeypatch):
    """--amp bf16 on a CPU: the forward runs in bfloat16, the stored weights stay float32,
    and the run learns the easy task as the float32 one does."""
    import sentireview.training.lstm as lstm_module

    seen: list[torch.dtype] = []
    original = lstm_module.lstm_loss

    def spy(model, batch):
        loss, logits = original(model, batch)
        seen.append(logits.dtype)
        return loss, logits

    monkeypatch.setattr(lstm_module, "lstm_loss", spy)
    out = tmp_path / "bf16"
    train_lstm(small(dataset, out, epochs=3, lr=1e-2, amp="bf16"))
    assert torch.bfloat16 in seen  # the forward really ran under autocast
    assert all(w.dtype == torch.float32 for w in load_file(out / "model.safetensors").values())
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["amp_used"] == "bf16"
    assert pd.read_csv(out / "history.csv")["val_acc"].max() >= 0.8
    preds = Predictor.load(out).predict(["good great film loved", "awful bad boring plot"])
    assert [p["sentiment"] for p in preds] == ["positive", "negative"]


def test_amp_choices_on_cpu(dataset, tmp_path):
    from sentireview.training.loop import resolve_amp

    cpu = torch.device("cpu")
    assert resolve_amp(cpu, "auto") is None  # float32 on a CPU: the tutorial's numbers
    assert resolve_amp(cpu, "none") is None
    with pytest.raises(SentiReviewError, match="fp16 is for CUDA"):
        resolve_amp(cpu, "fp16")
    with pytest.raises(SentiReviewError, match="unknown --amp"):
        resolve_amp(cpu, "int8")
    train_lstm(small(dataset, tmp_path / "fp32", epochs=1))
    config = json.loads((tmp_path / "fp32" / "config.json").read_text())
    assert config["training"]["amp_used"] is None
