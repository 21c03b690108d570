import json

import pytest
import torch

from sentireview import artifact
from sentireview.backends.torch import load_model
from sentireview.cli import main
from sentireview.errors import SentiReviewError
from sentireview.models.lstm import LSTMClassifier, LSTMConfig
from sentireview.vocab import Vocab
from sentireview.weights import save_weights


def make_lstm_run(run_dir, pth=False):
    torch.manual_seed(0)
    vocab = Vocab.build(["good great fine", "bad awful poor", "good bad"], min_freq=1)
    cfg = LSTMConfig(vocab_size=len(vocab), embed_dim=8, hidden=4)
    model = LSTMClassifier(cfg)
    text = {"recipe": "tutorial", "column": "clean", "max_tokens": 500}
    artifact.write_config(run_dir, artifact.make_config("lstm", cfg, text, {"epochs": 1}))
    save_weights(run_dir, model, pth=pth)
    vocab.save(run_dir / "vocab.json")
    return model.eval(), vocab


def test_round_trip_is_exact(tmp_path):
    torch.set_num_threads(1)
    model, _ = make_lstm_run(tmp_path, pth=True)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["format"] == 1 and config["kind"] == "lstm"
    assert config["labels"] == ["negative", "positive"] and config["model"]["hidden"] == 4
    assert "torch" in config["versions"] and config["text"]["column"] == "clean"
    loaded = load_model(tmp_path)
    assert not loaded.training
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k
    # The tutorial's .pth alone is enough too, and holds a plain state_dict.
    (tmp_path / "model.safetensors").unlink()
    state = torch.load(tmp_path / "model.pth", weights_only=True)
    assert set(state) == set(model.state_dict())
    from_pth = load_model(tmp_path)
    ids, lengths = torch.tensor([[2, 3, 4]]), torch.tensor([3])
    assert torch.equal(from_pth(ids, lengths), model(ids, lengths))


def test_strict_loading_rejects_wrong_weights(tmp_path):
    make_lstm_run(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["model"]["hidden"] = 5
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(SentiReviewError, match="do not fit"):
        load_model(tmp_path)


def test_read_config_errors(tmp_path):
    with pytest.raises(SentiReviewError, match="not found"):
        artifact.read_config(tmp_path / "nope")
    with pytest.raises(SentiReviewError, match="no config.json"):
        artifact.read_config(tmp_path)
    (tmp_path / "config.json").write_text('{"format": 1, "kind": "svm"}')
    with pytest.raises(SentiReviewError, match="kind"):
        artifact.read_config(tmp_path)
    (tmp_path / "config.json").write_text("{")
    with pytest.raises(SentiReviewError, match="cannot read"):
        artifact.read_config(tmp_path)


def test_missing_weights(tmp_path):
    make_lstm_run(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(SentiReviewError, match="no weights"):
        load_model(tmp_path)


def test_flat_settings_of_earlier_lstm_configs_are_read_grouped(tmp_path):
    make_lstm_run(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["model"]["members"] = 1
    config["training"] = {"epochs": 4, "min_freq": 3, "wide_c": 4.0, "init_from": "runs/lm",
                          "word_vectors": "w.bin", "seed": 17, "teacher": None}  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps(config))
    read = artifact.read_config(tmp_path)
    assert read["kind"] == "lstm" and "members" not in read["model"]
    training = read["training"]
    assert training["optim"] == {"epochs": 4, "wide_c": 4.0} and training["seed"] == 17
    assert training["init"] == {"word_vectors": "w.bin", "language_model": "runs/lm"}
    assert training["inputs"] == {"min_freq": 3} and training["distill"] == {"teachers": None}
    assert artifact.read_config(tmp_path)["training"] == training  # the same on every read


@pytest.mark.parametrize(
    ("kind", "model"),
    [("lstm_ensemble", {"members": 2}), ("lstm", {"members": 2}), ("lstm", {"members": "2"}),
     ("lstm_ensemble", None)],
)
def test_lstm_ensembles_are_refused_with_a_clear_message(tmp_path, capsys, kind, model):
    """Ensembles of LSTMs are gone: their kind, or the earlier ``"kind": "lstm"`` with
    ``model.members`` above 1, says so (not "unknown model kind") and names the way out."""
    make_lstm_run(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["kind"] = kind
    if model is None:
        del config["model"]
    else:
        config["model"].update(model)
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(SentiReviewError) as raised:
        artifact.read_config(tmp_path)
    message = str(raised.value)
    assert "LSTM ensembles are no longer supported" in message and "\n" not in message
    assert "sentireview train shipped" in message and "unknown model kind" not in message
    assert main(["predict", str(tmp_path), "a fine film"]) == 2  # the command line: one line
    assert capsys.readouterr().err == f"sentireview: error: {message}\n"
