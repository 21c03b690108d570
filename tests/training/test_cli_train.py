import json

import pytest

from sentireview.cli import main


def test_train_lstm_cli(dataset, tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(
        [
            "train",
            "lstm",
            "--data",
            str(dataset),
            "--out",
            str(out),
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--min-freq",
            "1",
            "--hidden",
            "8",
            "--embed-dim",
            "16",
        ]
    )
    assert rc == 0
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["inputs"]["min_freq"] == 1 and config["model"]["hidden"] == 8
    assert config["training"]["optim"]["batch_size"] == 16
    assert (out / "model.safetensors").exists()


def test_train_lstm_help_shows_the_tutorials_knobs(capsys):
    """The tutorial's knobs and the common run options only: at most 15 (the shipped
    recipe's settings live in its own config)."""
    with pytest.raises(SystemExit):
        main(["train", "lstm", "--help"])
    options = {w for w in capsys.readouterr().out.split() if w.startswith("--")}
    assert "--data" in options and "--init-from" in options
    assert len(options - {"--help"}) <= 15, sorted(options)


def test_init_from_takes_a_word_vector_file(dataset, tmp_path, capsys):
    pytest.importorskip("gensim")
    vectors = tmp_path / "v.bin"
    assert main(["train", "vectors", "--data", str(dataset), "--out", str(vectors), "--dim", "16",
                 "--min-count", "1", "--epochs", "1", "--splits", "train"]) == 0  # fmt: skip
    out = tmp_path / "run"
    args = ["train", "lstm", "--data", str(dataset), "--out", str(out), "--epochs", "1",
            "--min-freq", "1", "--embed-dim", "16", "--hidden", "8"]  # fmt: skip
    assert main([*args, "--init-from", str(vectors)]) == 0
    init = json.loads((out / "config.json").read_text())["training"]["init"]
    assert init == {"word_vectors": str(vectors)}
    # a folder (the removed language models were folders): one line, no training
    capsys.readouterr()
    assert main([*args[:5], str(tmp_path / "other"), *args[6:], "--init-from",
                 str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "word-vector file" in err
    assert not (tmp_path / "other").exists()


def test_train_errors_are_one_line(tmp_path, capsys):
    rc = main(["train", "lstm", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "data folder not found" in err
