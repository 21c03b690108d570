"""sentireview.data.pieces: sentence-level pieces of long reviews."""

import random

from sentireview.data.pieces import review_pieces, sample_pieces, sentences


def test_sentences_end_at_punctuation_before_a_capital_not_at_abbreviations():
    text = 'He said "Go away!" Then Mr. Smith left. It was 10 p.m. and dark... Really? 9 out of 10.'
    assert sentences(text) == [
        'He said "Go away!"',
        "Then Mr. Smith left.",
        "It was 10 p.m. and dark...",
        "Really?",
        "9 out of 10.",
    ]
    assert sentences("no capitals. so one sentence") == ["no capitals. so one sentence"]
    assert sentences("   ") == []


def test_pieces_are_runs_of_sentences_within_the_word_limits():
    text = " ".join(f"Sentence number {i} is here." for i in range(8))  # 5 words each
    rng = random.Random(0)
    pieces = review_pieces(text, rng, per_review=5, min_words=6, max_words=12)
    assert len(pieces) == 5 and len(set(pieces)) == 5
    for piece in pieces:
        assert piece in text and 6 <= len(piece.split()) <= 12  # two sentences, never one
    assert review_pieces("Too short.", rng, per_review=2) == []
    assert review_pieces("word " * 50 + ".", rng, per_review=2) == []  # over 40 words


def test_sample_pieces_is_seeded_and_keeps_a_repeated_piece_once():
    reviews = ["A fine little film. Highly recommended to all.", "Highly recommended to all."]
    assert sample_pieces(reviews, per_review=3, seed=1) == sample_pieces(reviews, 3, seed=1)
    pieces = sample_pieces(reviews, per_review=3)
    assert pieces.count("Highly recommended to all.") == 1
    assert set(pieces) == {
        "A fine little film.",
        "Highly recommended to all.",
        "A fine little film. Highly recommended to all.",
    }
    many = [f"Review {i} starts here. It ends right here, {i}." for i in range(50)]
    assert sample_pieces(many, 1, seed=1) != sample_pieces(many, 1, seed=2)
