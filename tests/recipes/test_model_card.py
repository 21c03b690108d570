"""The light model card's summary of what the model reads well and badly."""

from __future__ import annotations

from sentireview.recipes.model_card import MIN_KIND_REVIEWS, strong_and_weak


def kinds(**accuracies: float) -> dict[str, dict[str, float]]:
    return {k: {"n": MIN_KIND_REVIEWS, "accuracy": a} for k, a in accuracies.items()}


def test_best_and_worst_kinds_are_named_most_first():
    strong, weak = strong_and_weak(kinds(plain=0.89, irony=0.31, sarcasm=0.54, negation=0.79,
                                         contrast=0.78))
    assert strong == "plain (89%), negation (79%)"
    assert weak == "irony (31%), sarcasm (54%)"


def test_small_kinds_are_left_out_and_no_kind_is_both():
    few = {"hand:mixed": {"n": MIN_KIND_REVIEWS - 1, "accuracy": 1.0}}
    strong, weak = strong_and_weak({**few, **kinds(plain=0.9, irony=0.3, negation=0.8)})
    assert strong == "plain (90%)" and weak == "irony (30%)"  # three kinds: one each
    assert strong_and_weak({**few, **kinds(plain=0.9)}) == ("", "")
    assert strong_and_weak({}) == ("", "")
