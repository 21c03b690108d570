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
