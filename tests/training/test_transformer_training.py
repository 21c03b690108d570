import json

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from sentireview.cli import main
from sentireview.errors import SentiReviewError
from sentireview.predict import Predictor
from sentireview.training.transformer import TransformerTrainConfig, train_transformer
from tests.helpers.fake_reviews import make_tiny_encoder


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    return make_tiny_encoder(tmp_path_factory.mktemp("tiny-roberta"))


def config(dataset, encoder_dir, out, **kw):
    base = dict(
        data=dataset,
        out=out,
        encoder=str(encoder_dir),
        max_length=32,
        batch_size=16,
        pretrain_epochs=4,
        finetune_epochs=2,
        lr=1e-2,
        progress=False,
    )
    base.update(kw)
    return TransformerTrainConfig.from_recipe("tutorial", **base)


def test_recipes():
    t = TransformerTrainConfig.from_recipe("tutorial", data="d", out="o", encoder="e")
    assert (t.max_length, t.batch_size, t.lr, t.pretrain_epochs, t.finetune_epochs) == (
        256,
        32,
        1e-4,
        12,
        20,
    )
    assert t.dropout == (0.4, 0.3) and t.warmup_epochs == 1.0 and t.column == "clean"
    r = TransformerTrainConfig.from_recipe("recommended", data="d", out="o", encoder="e")
    assert r.column == "text" and r.lr == 2e-5 and r.head_lr == 1e-3 and r.warmup_ratio == 0.06
    with pytest.raises(SentiReviewError):
        TransformerTrainConfig.from_recipe("magic", data="d", out="o", encoder="e")


@pytest.mark.slow
def test_two_stages(dataset, encoder_dir, tmp_path):
    out = tmp_path / "run"
    summary = train_transformer(config(dataset, encoder_dir, out))
    assert set(summary["stages"]) == {"pretrain", "finetune"}
    original = load_file(encoder_dir / "model.safetensors")
    stage1 = load_file(out / "checkpoints" / "pretrain-best.safetensors")
    final = load_file(out / "model.safetensors")
    enc_keys = [k for k in stage1 if k.startswith("encoder.")]
    assert enc_keys
    # Stage 1: the encoder is bit-identical to the pretrained one, every tensor of it
    # (the same names on both sides: none is skipped)...
    assert {k.removeprefix("encoder.") for k in enc_keys} == set(original)
    for k in enc_keys:
        assert torch.equal(stage1[k], original[k.removeprefix("encoder.")]), k
    # ...and the head moved from its initialisation (its loss went down).
    history = pd.read_csv(out / "history.csv")
    s1 = history[history["stage"] == "pretrain"]
    s2 = history[history["stage"] == "finetune"]
    assert len(s1) == 4 and len(s2) == 2
    assert s1["train_loss"].iloc[-1] < s1["train_loss"].iloc[0] - 0.05
    # Stage 2 changed the encoder.
    assert any(not torch.equal(final[k], stage1[k]) for k in enc_keys)
    assert s2["val_loss"].min() < s1["val_loss"].iloc[0]
    config_json = json.loads((out / "config.json").read_text())
    assert config_json["kind"] == "transformer" and config_json["model"]["dropout"] == 0.3
    assert config_json["model"]["hidden_size"] == 32 and (out / "tokenizer").is_dir()

    # Artifact round trip: the predictor reproduces the trained model exactly.
    from transformers import AutoTokenizer

    from sentireview.models.transformer import TransformerClassifier

    model = TransformerClassifier.from_artifact_config(config_json["model"])
    model.load_state_dict(final, strict=True)
    model.eval()
    tok = AutoTokenizer.from_pretrained(str(out / "tokenizer"))
    texts = ["good great film", "awful boring plot the end"]
    enc = tok(texts, padding=True, truncation=True, max_length=32, return_tensors="pt")
    with torch.no_grad():
        want = torch.softmax(model(enc["input_ids"], enc["attention_mask"]), -1)[:, 1]
    got = Predictor.load(out).predict_proba(texts, prepared=True)
    assert got == pytest.approx(want.tolist(), abs=1e-6)

    # metrics.json holds both stages side by side.
    from sentireview.evaluate import evaluate_run

    metrics = evaluate_run(out, dataset)
    assert set(metrics["stages"]) == {"pretrain", "finetune"}


def test_bad_arguments_are_one_line(dataset, encoder_dir, tmp_path, capsys):
    argv = ["train", "transformer", "--out", str(tmp_path / "r"), "--no-progress"]
    assert main([*argv, "--data", str(tmp_path / "nope"), "--encoder", str(encoder_dir)]) == 2
    assert main([*argv, "--data", str(dataset), "--encoder", str(tmp_path / "no-encoder")]) == 2
    pd.read_parquet(dataset / "train.parquet").head(0).to_parquet(dataset / "train.parquet")
    assert main([*argv, "--data", str(dataset), "--encoder", str(encoder_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3, err
    assert "data folder not found" in err[0] and "encoder" in err[1] and "no labelled" in err[2]


def test_float_labels_are_probabilities_in_the_loss():
    from sentireview.training.transformer import transformer_loss

    logits = torch.tensor([[0.2, 1.1], [1.5, -0.3], [0.0, 0.4]])

    class Fixed(torch.nn.Module):
        def forward(self, input_ids, attention_mask):
            return logits

    batch = {"input_ids": torch.zeros(3, 2), "attention_mask": torch.ones(3, 2)}
    hard, _ = transformer_loss(Fixed(), {**batch, "labels": torch.tensor([1, 0, 1])})
    same, _ = transformer_loss(Fixed(), {**batch, "labels": torch.tensor([1.0, 0.0, 1.0])})
    assert same.item() == pytest.approx(hard.item(), abs=1e-6)
    soft, _ = transformer_loss(Fixed(), {**batch, "labels": torch.tensor([0.3, 0.9, 0.5])})
    logp = torch.log_softmax(logits, -1)
    p = torch.tensor([0.3, 0.9, 0.5])
    want = -((1 - p) * logp[:, 0] + p * logp[:, 1]).sum()
    assert soft.item() == pytest.approx(want.item(), abs=1e-6)


@pytest.mark.slow
def test_start_from_a_trained_run_with_extra_training_texts(dataset, encoder_dir, tmp_path):
    from sentireview.data.splits import write_scored_split

    base = tmp_path / "base"
    train_transformer(config(dataset, encoder_dir, base, pretrain_epochs=1, finetune_epochs=1))
    extra = write_scored_split(
        tmp_path / "extra.parquet",
        {"clean": ["good great film"] * 32 + ["awful boring plot"] * 32},
        [0.9] * 32 + [0.2] * 32,
    )
    # Learning rates 0: the weights stay those of the run it starts from, bit for bit.
    still = tmp_path / "still"
    kw = dict(init_from=base, extra_train=[extra], pretrain_epochs=4, finetune_epochs=1)
    train_transformer(config(dataset, encoder_dir, still, lr=0.0, head_lr=0.0, **kw))
    before, after = load_file(base / "model.safetensors"), load_file(still / "model.safetensors")
    assert set(before) == set(after)
    assert all(torch.equal(before[k], after[k]) for k in before)
    history = pd.read_csv(still / "history.csv")
    assert set(history["stage"]) == {"finetune"}  # stage 1 skipped: the head is trained
    # 96 training reviews + 64 extra texts in batches of 16: 10 steps an epoch (6 without)
    assert history["step"].max() == 10
    training = json.loads((still / "config.json").read_text())["training"]
    assert training["init_from"] == str(base) and training["extra_train"] == [str(extra)]

    # It learns from the extra texts' soft labels: closer to them than where it started.
    moved = tmp_path / "moved"
    train_transformer(config(dataset, encoder_dir, moved, lr=3e-3, **{**kw, "finetune_epochs": 3}))
    texts, target = ["good great film", "awful boring plot"], torch.tensor([0.9, 0.2])
    start = torch.tensor(Predictor.load(base).predict_proba(texts, prepared=True))
    end = torch.tensor(Predictor.load(moved).predict_proba(texts, prepared=True))
    assert (end - target).abs().sum() < (start - target).abs().sum() - 0.2


def test_start_from_refuses_a_run_that_does_not_fit(dataset, encoder_dir, tmp_path, capsys):
    from tests.helpers.fake_reviews import build_tiny_transformer

    other = build_tiny_transformer(tmp_path / "other")  # its own encoder, mean pooling
    capsys.readouterr()
    argv = ["train", "transformer", "--data", str(dataset), "--encoder", str(encoder_dir),
            "--out", str(tmp_path / "r"), "--no-progress", "--finetune-epochs", "1"]
    assert main([*argv, "--init-from", str(other)]) == 2  # pooler here, mean there
    assert "pools with 'mean'" in last_line(capsys.readouterr().err)
    assert main([*argv, "--pooling", "mean", "--init-from", str(tmp_path / "missing")]) == 2
    assert "not found" in last_line(capsys.readouterr().err)
    from safetensors.torch import save_file

    weights = load_file(other / "model.safetensors")
    weights.pop(sorted(weights)[0])  # a tensor short: not this model's weights
    save_file(weights, other / "model.safetensors")
    assert main([*argv, "--pooling", "mean", "--init-from", str(other)]) == 2
    assert "does not fit this encoder" in last_line(capsys.readouterr().err)


def last_line(err: str) -> str:
    """The CLI's one-line error (loading an encoder prints progress bars before it)."""
    lines = [line for line in err.strip().splitlines() if "it/s]" not in line and line]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.slow
def test_resuming_after_stage_1_needs_no_encoder_features(dataset, encoder_dir, tmp_path):
    """A run resumed once stage 1 has finished goes straight to stage 2 from stage 1's best
    weights: the features are not encoded again (a changed cache key would cost a whole
    encoder pass over the training reviews)."""
    out = tmp_path / "run"
    train_transformer(config(dataset, encoder_dir, out, pretrain_epochs=1, finetune_epochs=0))
    stage1 = load_file(out / "checkpoints" / "pretrain-best.safetensors")
    import shutil

    shutil.rmtree(out / "features")
    summary = train_transformer(
        config(dataset, encoder_dir, out, pretrain_epochs=1, finetune_epochs=1, resume=True,
               lr=0.0)
    )
    assert not (out / "features").exists()
    assert set(summary["stages"]) == {"finetune"}
    final = load_file(out / "model.safetensors")
    assert all(torch.equal(final[k], stage1[k]) for k in stage1)  # lr 0: stage 1's weights
    history = pd.read_csv(out / "history.csv")
    assert list(history["stage"]) == ["pretrain", "finetune"]


@pytest.mark.slow
def test_a_finished_stage_1_run_run_again_keeps_its_trained_head(dataset, encoder_dir, tmp_path):
    """``--finetune-epochs 0 --resume`` on a run whose stage 1 has finished saves stage 1's best
    weights again, not a freshly initialised head (it once did: the re-saved model scored at
    chance and its evaluation's progress no longer matched)."""
    out = tmp_path / "run"
    train_transformer(config(dataset, encoder_dir, out, pretrain_epochs=2, finetune_epochs=0))
    first = load_file(out / "model.safetensors")
    stage1 = load_file(out / "checkpoints" / "pretrain-best.safetensors")
    assert all(torch.equal(first[k], stage1[k]) for k in stage1)
    train_transformer(
        config(dataset, encoder_dir, out, pretrain_epochs=2, finetune_epochs=0, resume=True)
    )
    again = load_file(out / "model.safetensors")
    assert set(again) == set(first)
    assert all(torch.equal(again[k], first[k]) for k in first)
    # evaluated, it is scored once: stage 1 is the model, there is no stage 2
    from sentireview.evaluate import evaluate_run

    metrics = evaluate_run(out, dataset, split="test")
    assert set(metrics["stages"]) == {"pretrain"}
    assert metrics["stages"]["pretrain"]["accuracy"] == metrics["accuracy"]
