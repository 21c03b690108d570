"""Helpers the notebooks use to *show* what the library does; nothing here trains or predicts.

- :func:`cleaning_steps`: the tutorial's cleaner (``sentireview.text.clean_tutorial``) taken
  apart, one row per step, so a notebook can show what each substitution changed. The last
  row's text is exactly ``clean_tutorial(text)`` (tested).
- :func:`lost_words`: the words the stopword step threw away, negations marked.
- :func:`plot_stage_confusions`: the confusion matrices of several stages (or models) side by
  side, from the ``metrics.json`` that ``sentireview.evaluate.evaluate_run`` writes.

No torch here; pandas and matplotlib only inside the functions that need them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sentireview import text

__all__ = ["STEP_NOTES", "cleaning_steps", "lost_words", "plot_stage_confusions"]

#: One short note per row of ``text.TUTORIAL_SUBSTITUTIONS``, in the same order.
STEP_NOTES: tuple[str, ...] = (
    "web addresses become <url>",
    "slashes get a space on each side",
    "@handles become <user>",
    "happy emoticons such as :) or :D become <smile>",
    "tongue-out emoticons such as :p become <lolface>",
    "sad emoticons such as :( become <sadface>",
    "flat emoticons such as :| or :/ become <neutralface>",
    "<3 becomes <heart>",
    "numbers (also 7.5 or 1,000) become <number>",
    "runs of ! ? . keep one mark and add <repeat>",
    "a letter repeated 3+ times at a word's end is cut to one, plus <elong>",
)

_FLAGS = re.MULTILINE | re.DOTALL


def cleaning_steps(review: str) -> list[dict[str, Any]]:
    """The tutorial's cleaning of ``review``, one dict per step: ``step`` (1-based, 0 for the
    input), ``what`` (a short note), ``text`` (after the step) and ``changed`` (bool).

    Steps: the input; the 11 substitutions; stopword removal (case-sensitive, before
    lowercasing, as the tutorial did it); lowercasing; ``TweetTokenizer`` and re-joining.
    """
    rows = [{"step": 0, "what": "the review as written", "text": review, "changed": False}]

    def add(what: str, new: str) -> None:
        rows.append(
            {"step": len(rows), "what": what, "text": new, "changed": new != rows[-1]["text"]}
        )

    current = review
    for (pattern, repl), note in zip(text.TUTORIAL_SUBSTITUTIONS, STEP_NOTES, strict=True):
        current = re.sub(pattern, repl, current, flags=_FLAGS)
        add(note, current)
    stop = text.stopwords()
    current = " ".join(w for w in current.split() if w not in stop)
    add("NLTK stopwords dropped (exact, case-sensitive match)", current)
    current = current.lower()
    add("lowercased", current)
    add("TweetTokenizer tokens joined by spaces", " ".join(text.tweet_tokenize(current)))
    return rows


def lost_words(review: str) -> list[tuple[str, bool]]:
    """Words of ``review`` (after the 11 substitutions) that the tutorial's stopword step
    drops, in order, each with True when it is a negation (``text.NEGATIONS``)."""
    stop = text.stopwords()
    words = text.tutorial_substitutions(review).split()
    return [(w, w in text.NEGATIONS) for w in words if w in stop]


def plot_stage_confusions(
    matrices: dict[str, list[list[int]]], path: str | Path, labels: list[str] | None = None
) -> Path:
    """Confusion matrices of several stages (or models) side by side: the plot
    ``sentireview evaluate`` draws (:func:`sentireview.evaluate.plot_confusions`)."""
    from sentireview.evaluate import plot_confusions  # pulls in pandas: only when plotting

    return plot_confusions(matrices, path, labels)
