"""sentireview.ensemble.combine and `sentireview ensemble`: runs combined into one artifact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from sentireview import artifact
from sentireview.cli import main
from sentireview.ensemble import combine
from sentireview.errors import SentiReviewError
from sentireview.models.wide import WideLSTMClassifier, WideLSTMConfig
from sentireview.predict import Predictor
from sentireview.text import clean_words
from sentireview.vocab import Vocab
from sentireview.weights import HALF, round_to_half, save_weights

REVIEWS = [
    "A wonderful film, I loved every minute of it.",
    "Boring and badly acted; a waste of two hours.",
    "not bad at all",
    "",
    "The plot is thin but the cast is great and the music is lovely. " * 5,
]
TEXT = {"recipe": "words", "column": "clean", "max_tokens": 80}


def make_run(folder: Path, seed: int, wide_seed: int = 0, half: bool = False, **shape) -> Path:
    """An LSTM artifact with a wide part; ``wide_seed`` picks its wide weights (equal seeds,
    equal wide parts, as in runs fitted on the same reviews)."""
    vocab = Vocab.build([clean_words(r) for r in REVIEWS * 2], min_freq=1)
    cfg = WideLSTMConfig(
        **{
            "vocab_size": len(vocab),
            "embed_dim": 6,
            "hidden": 4,
            "pooling": "last_max",
            "ngram_buckets": 211,
            **shape,
        }  # fmt: skip
    )
    torch.manual_seed(seed)
    model = WideLSTMClassifier(cfg)
    with torch.no_grad():
        model.wide.weight.copy_(
            torch.randn(211, 1, generator=torch.Generator().manual_seed(wide_seed))
        )
        model.wide.weight[0] = 0
        model.mix.copy_(torch.tensor([0.6 + seed / 10, 0.3 + seed / 10, 0.1 * seed]))
    config = artifact.make_config("lstm", cfg, TEXT, training={"seed": seed})
    if half:
        config["weights_dtype"] = HALF
        round_to_half(model)
    artifact.write_config(folder, config)
    save_weights(folder, model, half=half)
    vocab.save(folder / artifact.VOCAB)
    rows = [{"stage": "lstm", "epoch": 1, "train_loss": 0.5, "val_loss": 0.4 + seed / 100}]
    (folder / "history.json").write_text(json.dumps(rows))
    return folder


def logits(run: Path) -> torch.Tensor:
    """The run's logits on REVIEWS, through the predictor (P -> logit)."""
    p = torch.tensor(
        Predictor.load(run, backend="torch").predict_proba(REVIEWS), dtype=torch.float64
    )
    return torch.log(p / (1 - p))


@pytest.mark.parametrize("same_wide", [True, False])
def test_the_ensemble_outputs_the_mean_of_the_members_logits(tmp_path, same_wide):
    a = make_run(tmp_path / "a", seed=1)
    b = make_run(tmp_path / "b", seed=2, wide_seed=0 if same_wide else 5)
    out = combine([a, b], tmp_path / "ens")
    want = (logits(a) + logits(b)) / 2
    got = logits(out)
    assert torch.allclose(got, want, atol=1e-4)
    assert not torch.allclose(logits(a), logits(b), atol=1e-3)  # the members differ
    config = artifact.read_config(out)
    assert config["kind"] == "lstm_ensemble" and config["model"]["members"] == 2
    assert config["training"]["ensemble_of"] == [str(a), str(b)]
    digests = config["training"]["member_weights_sha256"]
    assert len(set(digests)) == 2 and all(len(d) == 64 for d in digests)
    assert [m["seed"] for m in config["training"]["members"]] == [1, 2]
    history = json.loads((out / "history.json").read_text())
    assert [r["stage"] for r in history] == ["member 1: a", "member 2: b"]
    assert (out / "history.csv").exists() and not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize("same_wide", [True, False])
def test_a_half_precision_ensemble_keeps_the_mean(tmp_path, same_wide):
    a = make_run(tmp_path / "a", seed=1, half=True)
    b = make_run(tmp_path / "b", seed=2, wide_seed=0 if same_wide else 5, half=True)
    out = combine([a, b], tmp_path / "ens")
    error = (logits(out) - (logits(a) + logits(b)) / 2).abs().max()
    assert error < (1e-5 if same_wide else 5e-3)  # folded different wide parts: float16


def test_equal_wide_parts_are_stored_once_and_half_stays_half(tmp_path):
    from safetensors.torch import load_file

    a = make_run(tmp_path / "a", seed=1, half=True)
    b = make_run(tmp_path / "b", seed=2, half=True)
    out = combine([a, b], tmp_path / "ens")
    stored = load_file(str(out / artifact.WEIGHTS))
    assert torch.equal(stored["wide.weight"], load_file(str(a / artifact.WEIGHTS))["wide.weight"])
    assert stored["members.1.embedding.weight"].dtype == torch.float16
    assert artifact.read_config(out)["weights_dtype"] == HALF
    assert not any(k.startswith("members.0.wide") for k in stored)


@pytest.mark.slow
def test_the_ensemble_exports_and_serves_with_onnx(tmp_path):
    from sentireview.export import export_onnx

    out = combine(
        [make_run(tmp_path / "a", seed=1), make_run(tmp_path / "b", seed=2)], tmp_path / "e"
    )
    export_onnx(out)  # verified against PyTorch inside
    a = Predictor.load(out, backend="torch").predict_proba(REVIEWS)
    b = Predictor.load(out, backend="onnx").predict_proba(REVIEWS)
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 1e-5


def test_runs_that_do_not_fit_together_are_refused(tmp_path):
    a = make_run(tmp_path / "a", seed=1)
    with pytest.raises(SentiReviewError, match="at least two"):
        combine([a], tmp_path / "x")
    with pytest.raises(SentiReviewError, match="twice"):
        combine([a, tmp_path / "a"], tmp_path / "x")
    wider = make_run(tmp_path / "wider", seed=2, hidden=5)
    with pytest.raises(SentiReviewError, match=r"model settings \['hidden'\]"):
        combine([a, wider], tmp_path / "x")
    other_vocab = make_run(tmp_path / "v", seed=2)
    Vocab(
        ["<pad>", "<unk>", *[f"w{i}" for i in range(len(Vocab.load(a / "vocab.json").itos) - 2)]]
    ).save(other_vocab / "vocab.json")
    with pytest.raises(SentiReviewError, match="different vocabularies"):
        combine([a, other_vocab], tmp_path / "x")
    ens = combine([a, make_run(tmp_path / "b", seed=3)], tmp_path / "ens")
    with pytest.raises(SentiReviewError, match="already an ensemble"):
        combine([ens, a], tmp_path / "x")
    with pytest.raises(SentiReviewError, match="exists"):
        combine([a, tmp_path / "b"], ens)
    with pytest.raises(SentiReviewError, match="would replace the run"):
        combine([a, tmp_path / "b"], a, overwrite=True)
    assert (a / "model.safetensors").exists()
    assert not (tmp_path / "x").exists()


def test_configs_of_the_earlier_format_still_combine_and_load(tmp_path):
    """Runs written before the ensemble had a kind of its own said ``members: 1``, and their
    ensembles ``"kind": "lstm"`` with ``members: 2``."""
    a, b = make_run(tmp_path / "a", seed=1), make_run(tmp_path / "b", seed=2)
    config = json.loads((a / "config.json").read_text())
    config["model"]["members"] = 1
    (a / "config.json").write_text(json.dumps(config))
    assert artifact.read_config(a)["kind"] == "lstm"
    e = combine([a, b], tmp_path / "e")
    new = json.loads((e / "config.json").read_text())
    assert new["kind"] == "lstm_ensemble" and new["model"]["members"] == 2
    want = logits(e)
    old = {**new, "kind": "lstm"}
    (e / "config.json").write_text(json.dumps(old))
    assert artifact.read_config(e)["kind"] == "lstm_ensemble"
    assert torch.equal(logits(e), want)


def test_cli(tmp_path, capsys):
    a, b = make_run(tmp_path / "a", seed=1), make_run(tmp_path / "b", seed=2)
    assert main(["ensemble", str(a), str(b), "--out", str(tmp_path / "e"), "--name", "duo"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "e")
    assert artifact.read_config(tmp_path / "e")["name"] == "duo"
    assert main(["ensemble", str(a), str(b), "--out", str(tmp_path / "e")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sentireview: error:") and "exists" in err and "\n" not in err
    assert main(["ensemble", str(a), str(b), "--out", str(tmp_path / "e"), "--overwrite"]) == 0
