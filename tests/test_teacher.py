"""sentireview.teacher: a teacher's scores of a split, written for a student to train on."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from sentireview.data.splits import read_split
from sentireview.errors import SentiReviewError
from sentireview.predict import Predictor
from sentireview.teacher import mean_scores, score_pieces, score_split, teacher_scores
from sentireview.text import clean
from sentireview.training.lstm import train_lstm
from tests.helpers.configs import lstm_config
from tests.helpers.fake_reviews import build_tiny_transformer, make_reviews, write_dataset


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
    columns = {"clean": texts, "text": unsup["text"].tolist()}
    scores = teacher_scores(teacher, columns, "tutorial")
    assert scores == pytest.approx(Predictor.load(teacher).predict_proba(texts, prepared=True))
    with pytest.raises(SentiReviewError, match="recipe"):
        teacher_scores(teacher, columns, "words")
    with pytest.raises(SentiReviewError, match="reads the 'clean' column"):
        teacher_scores(teacher, {"text": columns["text"]}, "tutorial")

    # several teachers: the mean of their scores
    other = tmp_path / "other"
    train_lstm(small(dataset, other, epochs=1, lr=1e-2, seed=5))
    mean = mean_scores([teacher, other], columns, "tutorial")
    other_scores = teacher_scores(other, columns, "tutorial")
    assert other_scores != pytest.approx(scores)  # two different teachers
    assert mean == pytest.approx([(a + b) / 2 for a, b in zip(scores, other_scores, strict=True)])
    assert mean_scores([teacher], columns, "tutorial") == pytest.approx(scores)
    with pytest.raises(SentiReviewError, match="at least one teacher"):
        mean_scores([], columns, "tutorial")

    # the scoring step writes a split whose labels are the mean scores; a student trains on it
    scored = score_split([teacher, other], dataset, tmp_path / "scored.parquet")
    frame = pd.read_parquet(scored)
    assert frame["clean"].tolist() == texts and frame["label"].tolist() == pytest.approx(mean)
    assert frame["text"].tolist() == columns["text"]  # a transformer student reads this one
    assert read_split(dataset, str(scored), "clean")[1] == pytest.approx(mean)  # soft labels
    student = tmp_path / "student"
    train_lstm(small(dataset, student, epochs=1, min_freq=3, scored=[scored]))
    config = json.loads((student / "config.json").read_text())
    assert config["training"]["distill"]["scored"] == [str(scored)]
    itos = json.loads((student / "vocab.json").read_text())["itos"]
    assert "zzzunlabelledword" in itos  # the unlabelled reviews are training text
    preds = Predictor.load(student).predict(["good great film loved", "awful bad boring plot"])
    assert len(preds) == 2


def test_pieces_are_scored_on_their_own_text_not_their_reviews_label(dataset, tmp_path):
    """Sentence-level pieces of the train and unlabelled reviews, cleaned with the dataset's
    recipe, each labelled with the teacher's score of the piece itself."""
    reviews = [
        "Good great film. Awful boring plot the end. Loved the music!",
        "The actor was bad. The story was wonderful and brilliant.",
    ]
    unsup = make_reviews(4, seed=3).assign(label=-1)
    unsup["text"] = reviews + ["Fine.", ""]  # too short or empty: no piece
    unsup.to_parquet(dataset / "unsup.parquet", index=False)
    teacher = tmp_path / "teacher"
    train_lstm(small(dataset, teacher, epochs=2, lr=1e-2))
    out = score_pieces([teacher], dataset, tmp_path / "pieces.parquet", splits=["unsup"],
                       per_review=6)
    frame = pd.read_parquet(out)
    first = ["Good great film.", "Awful boring plot the end.", "Loved the music!"]
    second = ["The actor was bad.", "The story was wonderful and brilliant."]
    want = {" ".join(s[i:j]) for s in (first, second) for i in range(3) for j in range(i + 1, 4)}
    assert sorted(frame["text"]) == sorted(want - {""})  # every run of 1-3 sentences, once
    assert frame["clean"].tolist() == [clean(t, "tutorial") for t in frame["text"]]
    probs = Predictor.load(teacher).predict_proba(frame["clean"].tolist(), prepared=True)
    assert frame["label"].tolist() == pytest.approx(probs)
    by_text = dict(zip(frame["text"], frame["label"], strict=True))
    assert by_text["Good great film."] > by_text["Awful boring plot the end."]
    make_reviews(2, seed=4).assign(text=["Ok.", "Fine."]).to_parquet(dataset / "tiny.parquet")
    with pytest.raises(SentiReviewError, match="no pieces"):
        score_pieces([teacher], dataset, tmp_path / "none.parquet", splits=["tiny"])
    assert not (tmp_path / "none.parquet").exists()


def test_a_transformer_teacher_reads_the_plain_text(tmp_path):
    """A teacher trained on the ``text`` column scores that column (case and punctuation
    kept), whatever the dataset's cleaning recipe."""
    run = build_tiny_transformer(tmp_path / "run", recipe="words")
    columns = {"text": ["Good great film", "Awful boring plot"], "clean": ["x", "y"]}
    got = teacher_scores(run, columns, "tutorial")
    want = Predictor.load(run).predict_proba(columns["text"], prepared=True)
    assert got == pytest.approx(want)
    assert got != pytest.approx(Predictor.load(run).predict_proba(["x", "y"], prepared=True))
    with pytest.raises(SentiReviewError, match="reads the 'text' column"):
        teacher_scores(run, {"clean": ["x", "y"]}, "words")


def test_an_interrupted_scoring_pass_resumes_from_its_progress_file(dataset, tmp_path, monkeypatch):
    import sentireview.predict as predict_module

    unsup = make_reviews(25, seed=4).assign(label=-1)
    unsup.to_parquet(dataset / "unsup.parquet", index=False)
    teacher = tmp_path / "teacher"
    train_lstm(small(dataset, teacher, epochs=1, lr=1e-2))
    monkeypatch.setattr(predict_module, "CHUNK", 10)
    out = tmp_path / "scored.parquet"
    progress = out.with_name("scored.parquet.teacher0.partial.npz")

    calls = []
    real = predict_module.score_texts

    def cut_off_after_one_chunk(predictor, texts, *rest):
        calls.append(len(texts))
        if len(calls) == 2:
            raise KeyboardInterrupt  # the pass is stopped during its second chunk
        return real(predictor, texts, *rest)

    monkeypatch.setattr(predict_module, "score_texts", cut_off_after_one_chunk)
    with pytest.raises(KeyboardInterrupt):
        score_split([teacher], dataset, out)
    assert progress.exists() and not out.exists()

    calls.clear()
    counted = lambda p, t, *r: calls.append(len(t)) or real(p, t, *r)  # noqa: E731
    monkeypatch.setattr(predict_module, "score_texts", counted)
    score_split([teacher], dataset, out)
    assert calls == [10, 5]  # the first 10 were not scored again
    expected = Predictor.load(teacher).predict_proba(unsup["clean"].tolist(), prepared=True)
    assert pd.read_parquet(out)["label"].tolist() == pytest.approx(expected)
    assert not progress.exists()  # done: the progress file is gone

    # a progress file of another teacher (or other texts) is not used
    np.savez(progress, scores=np.zeros(10), key=np.array("another teacher"))
    calls.clear()
    score_split([teacher], dataset, out)
    assert calls == [10, 10, 5]
    assert pd.read_parquet(out)["label"].tolist() == pytest.approx(expected)
