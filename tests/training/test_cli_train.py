import json

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
            "--no-progress",
            "--save-pth",
            "--limit-train",
            "48",
            "--recurrence",
            "fused",
        ]
    )
    assert rc == 0
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["limit_train"] == 48 and (out / "model.pth").exists()
    assert config["training"]["recurrence"] == "fused"


def test_train_errors_are_one_line(tmp_path, capsys):
    rc = main(["train", "lstm", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "data folder not found" in err
