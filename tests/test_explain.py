"""sentireview.explain: exact wide shares, occlusion shares, token alignment, sentences."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from sentireview import artifact, explain
from sentireview.explain import Explainer, align_tokens, groups, sentences
from sentireview.models.wide import WideLSTMClassifier, WideLSTMConfig, ngram_hashes
from sentireview.predict import Predictor
from sentireview.text import clean_words
from sentireview.vocab import Vocab
from sentireview.weights import HALF, round_to_half, save_weights
from tests.test_export import build_tiny_lstm, build_tiny_transformer

REVIEWS = [
    "A wonderful film, I loved every minute of it.",
    "Boring and badly acted; a waste of two hours.",
    "The plot is thin but the cast is great and the music is lovely.",
]


def make_wide_run(folder: Path, half: bool = False) -> Path:
    """An LSTM artifact with a wide part (random weights, a mix of its own)."""
    vocab = Vocab.build([clean_words(r) for r in REVIEWS], min_freq=1)
    cfg = WideLSTMConfig(
        vocab_size=len(vocab), embed_dim=6, hidden=4, pooling="last_max", ngram_buckets=211
    )
    torch.manual_seed(1)
    model = WideLSTMClassifier(cfg)
    with torch.no_grad():
        model.wide.weight.copy_(torch.randn(211, 1))
        model.wide.weight[0] = 0
        model.mix.copy_(torch.tensor([0.7, 0.4, 0.1]))
    text = {"recipe": "words", "column": "clean", "max_tokens": 80}
    config = artifact.make_config("lstm", cfg, text, training={"seed": 1})
    if half:
        config["weights_dtype"] = HALF
        round_to_half(model)
    artifact.write_config(folder, config)
    save_weights(folder, model, half=half)
    vocab.save(folder / artifact.VOCAB)
    return folder


def logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


def count_rows(predictor: Predictor, monkeypatch, input_name: str) -> list[int]:
    """The batch size of each call the explainer makes to the back end, as they happen."""
    rows: list[int] = []
    real = predictor.backend.log_odds
    monkeypatch.setattr(predictor.backend, "log_odds",
                        lambda feed: rows.append(len(feed[input_name])) or real(feed))
    return rows


# -- the wide part, exactly -------------------------------------------------------------


@given(st.lists(st.integers(0, 40), min_size=1, max_size=30), st.integers(1, 3),
       st.sampled_from([2, 7, 211]))
def test_numpy_ngrams_are_the_models_buckets(ids, orders, buckets):
    """Same distinct buckets as the model's own hashing (repeats included)."""
    ids_t = torch.tensor([ids])
    theirs = ngram_hashes(ids_t, torch.tensor([len(ids)]), orders, buckets)[0]
    theirs = {int(b) for b in theirs if b != 0}
    ours = set(explain.ngram_occurrences(np.array(ids), orders, buckets)[2].tolist())
    assert ours == theirs


@given(st.lists(st.integers(0, 12), min_size=1, max_size=25), st.integers(1, 3))
def test_wide_shares_add_up_to_the_wide_logit(ids, orders):
    weights = np.random.default_rng(len(ids)).normal(size=97)
    shares = explain.wide_shares(np.array(ids), weights, orders)
    assert shares.shape == (len(ids),)
    assert shares.sum() == pytest.approx(explain.wide_logit(np.array(ids), weights, orders))


def test_a_repeated_word_shares_its_weight():
    weights = np.zeros(97)
    bucket = explain.ngram_occurrences(np.array([5]), 1, 97)[2][0]
    weights[bucket] = 1.2
    shares = explain.wide_shares(np.array([5, 3, 5]), weights, 1)
    assert shares.tolist() == pytest.approx([0.6, 0.0, 0.6])


@pytest.mark.parametrize("half", [False, True])
def test_wide_model_explanation_matches_its_parts(tmp_path, half):
    """The wide shares of a review add up to mix * the model's own wide logit, and the score
    is the predictor's; the wide weights are kept as stored."""
    run = make_wide_run(tmp_path / "run", half=half)
    predictor = Predictor.load(run, backend="torch")
    explainer = Explainer(predictor)
    assert explainer.method == "exact n-gram weights + LSTM occlusion"
    review = "A great film, great cast; the plot is thin but the ending is wonderful!"
    found = explainer.explain(review)
    assert found.score == pytest.approx(predictor.predict_proba([review])[0], abs=1e-6)
    model = predictor.backend.model
    feed = predictor.encode([clean_words(review)])
    with torch.no_grad():
        parts = model(torch.from_numpy(feed["ids"]), torch.from_numpy(feed["lengths"]), parts=True)
    ids = feed["ids"][0]
    wide = explainer.wide_mix * explain.wide_shares(ids, explainer.wide, explainer.orders)
    assert wide.sum() == pytest.approx(float(model.mix[1] * parts[0, 1]), abs=1e-4)
    assert explainer.wide_mix == pytest.approx(float(model.mix[1]))
    assert explainer.wide.dtype == (np.float16 if half else np.float32)


# -- occlusion ---------------------------------------------------------------------------


def test_word_weights_of_a_plain_lstm_are_leave_one_out(tmp_path, monkeypatch):
    monkeypatch.setattr(explain, "MAX_SPANS", 1000)  # every word's span
    run = build_tiny_lstm(tmp_path / "run")
    predictor = Predictor.load(run, backend="torch")
    explainer = Explainer(predictor)
    assert explainer.method == "word occlusion"
    # over 24 words but within TOKEN_BUDGET: still word by word
    review = "A wonderful film with a great cast " + " ".join(
        ["story", "music", "scene", "actor", "ending", "plot", "dull"] * 8)
    found = explainer.explain(review)
    words = predictor.prepare_text(review).split()
    full = logit(predictor.predict_proba([" ".join(words)], prepared=True)[0])
    assert [review[s.start : s.end].lower() for s in found.spans] == words
    for i, (word, span) in enumerate(zip(words, found.spans, strict=True)):
        rest = " ".join(words[:i] + words[i + 1 :])
        expected = full - logit(predictor.predict_proba([rest], prepared=True)[0])
        assert span.weight == pytest.approx(expected, abs=1e-4), word


def test_long_reviews_are_read_in_at_most_max_variants_groups(tmp_path, monkeypatch):
    predictor = Predictor.load(build_tiny_lstm(tmp_path / "run"), backend="torch")
    rows = count_rows(predictor, monkeypatch, "ids")
    found = Explainer(predictor).explain("good film and a bad plot " * 80)
    words = min(200, len(predictor.prepare_text("good film and a bad plot " * 80).split()))
    groups_ = max(explain.MAX_VARIANTS, explain.TOKEN_BUDGET // words)
    assert groups_ < words  # long enough to be read in groups (max_tokens 200)
    assert rows == [1 + groups_]  # one batched call
    assert 0 < len(found.spans) <= explain.MAX_SPANS


def test_transformer_spans_are_sentences(tmp_path):
    run = build_tiny_transformer(tmp_path / "run")
    predictor = Predictor.load(run, backend="torch")
    explainer = Explainer(predictor)
    review = "Great film. The plot was awful!  But I loved the music?"
    found = explainer.explain(review)
    assert [review[s.start : s.end] for s in found.spans] == [
        "Great film.", "The plot was awful!", "But I loved the music?"]
    full = logit(predictor.predict_proba([review])[0])
    without = logit(predictor.predict_proba(["Great film.   But I loved the music?"])[0])
    assert found.spans[1].weight == pytest.approx(full - without, abs=1e-4)
    assert found.method == "sentence occlusion"


# -- finding the tokens in the text ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LOVED it!!!", ["LOVED", "it", "!", "!", "!"]),
        ("Sooooo good", ["Sooooo", "good"]),
        ("It doesn’t work", ["It", "doesn’t", "work"]),
        ("it does n't work", ["it", "does n't", "work"]),
        ("😀 Café naïve 👍🏽 plot", ["Café", "naïve", "plot"]),
        ("great<br /><br />cast :D", ["great", "cast", ":D"]),
    ],
)
def test_tokens_are_found_in_the_text(text, expected):
    tokens = clean_words(text).split()
    spans = align_tokens(text, tokens)
    assert [text[a:b] for a, b in spans] == expected


def test_a_missing_token_does_not_shift_the_others():
    spans = align_tokens("good film, bad plot", ["good", "café", "film", "bad", "plot"])
    assert spans == [(0, 4), None, (5, 9), (11, 14), (15, 19)]


@given(st.text(max_size=80))
def test_spans_are_ordered_and_disjoint(text):
    spans = [s for s in align_tokens(text, clean_words(text).split()) if s is not None]
    for a, b in spans:
        assert 0 <= a < b <= len(text)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:], strict=False))


def test_groups_cover_everything_in_order():
    assert groups(5, 24) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    assert groups(0) == []
    runs = groups(230, 24)
    assert len(runs) == 24 and runs[0][0] == 0 and runs[-1][1] == 230
    assert {b - a for a, b in runs} == {9, 10}
    assert all(b == c for (_, b), (c, _) in zip(runs, runs[1:], strict=False))


def test_sentences_without_surrounding_space():
    text = "  One. Two!!\nThree?  four"
    assert [text[a:b] for a, b in sentences(text)] == ["One.", "Two!!", "Three?", "four"]


def test_many_sentences_are_merged_into_a_few_groups(tmp_path, monkeypatch):
    predictor = Predictor.load(build_tiny_transformer(tmp_path / "run"), backend="torch")
    rows = count_rows(predictor, monkeypatch, "input_ids")
    review = " ".join(f"Sentence number {i} is here." for i in range(10))
    found = Explainer(predictor).explain(review)
    assert rows == [1 + explain.MAX_SENTENCE_GROUPS]
    assert len(found.spans) == explain.MAX_SENTENCE_GROUPS
    assert found.spans[0].start == 0 and found.spans[-1].end == len(review)
    assert review[found.spans[1].start : found.spans[1].end] == (
        "Sentence number 1 is here. Sentence number 2 is here.")


@pytest.mark.parametrize("gap", ["=" * 90, " " * 150, "😀" * 80, "-----\n" * 30])
def test_tokens_after_a_long_dropped_stretch_are_found(gap):
    text = f"A wonderful film. {gap} The plot was awful and boring."
    tokens = clean_words(text).split()
    spans = align_tokens(text, tokens)
    assert [text[a:b] for a, b in spans] == [
        "A", "wonderful", "film", "The", "plot", "was", "awful", "and", "boring"]


def test_the_shipped_models_wide_shares_are_its_wide_part():
    """On the shipped wide-and-deep LSTM: the words' wide shares add up to its mix weight
    times its own wide logit (``parts=True``, computed by torch)."""
    from sentireview.backends.torch import load_model

    folder = Path(__file__).resolve().parents[1] / "webapp" / "flask" / "ml_model"
    predictor = Predictor.load(folder, backend="onnx")
    explainer = Explainer(predictor)
    review = "Not bad at all: a funny, warm film, though the ending is weak."
    feed = predictor.encode([predictor.prepare_text(review)])
    model = load_model(folder)
    with torch.no_grad():
        parts = model(torch.from_numpy(feed["ids"]), torch.from_numpy(feed["lengths"]),
                      parts=True)
    want = float(model.mix[1] * parts[0, 1])
    shares = explainer.wide_mix * explain.wide_shares(feed["ids"][0], explainer.wide, 3)
    assert shares.sum() == pytest.approx(want, abs=1e-3)
    assert explainer.wide.dtype == np.float16  # kept as stored: 4 MB, not 16
