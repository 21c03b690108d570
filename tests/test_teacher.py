"""sentireview.teacher: a teacher's scores of a split, written for a student to train on."""

import json

import pandas as pd
import pytest
import torch

from sentireview.data.splits import read_split
from sentireview.errors import SentiReviewError
from sentireview.predict import Predictor
from sentireview.teacher import mean_scores, score_split, teacher_scores
from sentireview.training.lstm import train_lstm
from tests.helpers.configs import lstm_config
from tests.helpers.fake_reviews import make_reviews, write_dataset


@pytest.fixture
def dataset(tmp_path):
    torch.set_num_threads(1)
    return write_dataset(tmp_path / "prepared")


def small(dataset, out, **kw):
    base = dict(data=dataset, out=out, epochs=2, batch_size=8, min_freq=1, embed_dim=16)
    return lstm_config(**{**base, "hidden": 8, "progress": False, **kw})


def test_distillation_adds_the_unlabelled_reviews_with_the_teachers_scores(dataset, tmp_path):
    unsup = make_reviews(40, seed=9).assign(label=-1)
    unsup.loc[0, "clean"] = "zzzunlabelledword " * 4 + "good"
    unsup.to_parquet(dataset / "unsup.parquet", index=False)
    teacher = tmp_path / "teacher"
    train_lstm(small(dataset, teacher, epochs=2, lr=1e-2))
    texts = unsup["clean"].tolist()
    scores = teacher_scores(teacher, texts, "tutorial")
    assert scores == pytest.approx(Predictor.load(teacher).predict_proba(texts, prepared=True))
    with pytest.raises(SentiReviewError, match="recipe"):
        teacher_scores(teacher, texts, "words")

    # several teachers: the mean of their scores
    other = tmp_path / "other"
    train_lstm(small(dataset, other, epochs=1, lr=1e-2, seed=5))
    mean = mean_scores([teacher, other], texts, "tutorial")
    other_scores = teacher_scores(other, texts, "tutorial")
    assert other_scores != pytest.approx(scores)  # two different teachers
    assert mean == pytest.approx([(a + b) / 2 for a, b in zip(scores, other_scores, strict=True)])
    assert mean_scores([teacher], texts, "tutorial") == pytest.approx(scores)
    with pytest.raises(SentiReviewError, match="at least one teacher"):
        mean_scores([], texts, "tutorial")

    # the scoring step writes a split whose labels are the mean scores; a student trains on it
    scored = score_split([teacher, other], dataset, tmp_path / "scored.parquet")
    frame = pd.read_parquet(scored)
    assert frame["clean"].tolist() == texts and frame["label"].tolist() == pytest.approx(mean)
    assert read_split(dataset, str(scored), "clean")[1] == pytest.approx(mean)  # soft labels
    student = tmp_path / "student"
    train_lstm(small(dataset, student, epochs=1, min_freq=3, scored=[scored]))
    config = json.loads((student / "config.json").read_text())
    assert config["training"]["distill"]["scored"] == [str(scored)]
    itos = json.loads((student / "vocab.json").read_text())["itos"]
    assert "zzzunlabelledword" in itos  # the unlabelled reviews are training text
    preds = Predictor.load(student).predict(["good great film loved", "awful bad boring plot"])
    assert len(preds) == 2
