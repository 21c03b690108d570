import json

import pandas as pd
import pytest
import torch

from sentireview.cli import main
from tests.helpers.fake_reviews import write_dataset


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from sentireview.training.lstm import train_lstm
    from tests.helpers.configs import lstm_config

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("eval")
    data = write_dataset(root / "prepared")
    out = root / "run"
    train_lstm(
        lstm_config(
            data=data,
            out=out,
            epochs=2,
            batch_size=8,
            min_freq=1,
            embed_dim=16,
            hidden=8,
            lr=1e-2,
            progress=False,
        )
    )
    return data, out


def test_evaluate_writes_report_and_plots(trained, capsys):
    data, out = trained
    assert main(["evaluate", str(out), "--data", str(data)]) == 0
    assert "positive" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["split"] == "test" and metrics["n"] == 32
    assert sum(map(sum, metrics["confusion_matrix"])) == 32
    assert 0 <= metrics["accuracy"] <= 1 and "positive" in metrics["report"]
    for name in ("confusion_matrix.png", "loss_curves.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


def test_evaluating_another_split_leaves_the_test_metrics_alone(trained, capsys):
    data, out = trained
    assert main(["evaluate", str(out), "--data", str(data)]) == 0
    test_metrics = (out / "metrics.json").read_text()
    assert main(["evaluate", str(out), "--data", str(data), "--split", "valid"]) == 0
    assert (out / "metrics.json").read_text() == test_metrics
    valid = json.loads((out / "metrics_valid.json").read_text())
    assert valid["split"] == "valid" and valid["n"] == 32
    assert (out / "confusion_matrix_valid.png").read_bytes()[:4] == b"\x89PNG"
    assert "positive" in (out / "classification_report_valid.txt").read_text()


def test_an_evaluation_cut_off_resumes_where_it_stopped(trained, monkeypatch):
    import sentireview.predict as predict_module
    from sentireview.evaluate import evaluate_run

    data, out = trained
    whole = evaluate_run(out, data)
    monkeypatch.setattr(predict_module, "CHUNK", 10)
    real, calls = predict_module.score_texts, []

    def cut_off(predictor, texts, *rest):
        calls.append(len(texts))
        if len(calls) == 3:
            raise KeyboardInterrupt  # stopped during the third chunk of 32 reviews
        return real(predictor, texts, *rest)

    monkeypatch.setattr(predict_module, "score_texts", cut_off)
    with pytest.raises(KeyboardInterrupt):
        evaluate_run(out, data)
    progress = out / ".metrics.final.partial.npz"
    assert progress.exists()
    calls.clear()
    monkeypatch.setattr(predict_module, "score_texts", lambda p, t, *r: calls.append(len(t)) or
                        real(p, t, *r))
    again = evaluate_run(out, data)
    assert calls == [10, 2]  # the first 20 reviews were not scored again
    assert again["accuracy"] == whole["accuracy"] and again["loss"] == pytest.approx(whole["loss"])
    assert again["reviews_per_s"] > 0 and not progress.exists()
    assert again["limit"] is None and again["weights_sha256"] == whole["weights_sha256"]


def test_predict_cli(trained, tmp_path, capsys):
    _, out = trained
    assert main(["predict", str(out), "good great loved", "awful bad"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["sentiment"] for x in lines] == ["positive", "negative"]
    pd.DataFrame({"review": ["good great", "bad awful"]}).to_csv(tmp_path / "in.csv", index=False)
    assert (
        main(
            [
                "predict",
                str(out),
                "--input",
                str(tmp_path / "in.csv"),
                "--output",
                str(tmp_path / "out.csv"),
            ]
        )
        == 0
    )
    result = pd.read_csv(tmp_path / "out.csv")
    assert list(result.columns) == ["review", "sentiment", "score"] and len(result) == 2


def test_errors_are_one_line(trained, tmp_path, capsys):
    data, out = trained
    assert main(["predict", str(out)]) == 2
    assert main(["predict", str(tmp_path / "none"), "text"]) == 2
    assert main(["evaluate", str(out), "--data", str(data), "--split", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("sentireview: error:") for line in err)


def test_confusion_plots_put_stages_side_by_side_without_touching_pyplot(tmp_path):
    import matplotlib
    from PIL import Image

    from sentireview.evaluate import plot_confusions

    backend = matplotlib.get_backend()
    one = plot_confusions({"final": [[5, 1], [2, 6]]}, tmp_path / "one.png")
    stages = {"stage 1": [[4, 2], [3, 5]], "stage 2": [[5, 1], [2, 6]]}
    two = plot_confusions(stages, tmp_path / "two.png")
    with Image.open(one) as a, Image.open(two) as b:
        assert b.width > 1.8 * a.width and b.height == a.height
    assert matplotlib.get_backend() == backend  # a notebook's inline back end stays
