"""Training text written for the project stays clear of the project's short test sets.

Writers of short reviews reach for the same idioms, so a line written for training can come
out nearly equal to a test line written months apart. The rule, for
``sentireview/resources/written_short.tsv`` and the phrase bank's reviews
(:mod:`sentireview.data.written`): no text equal to a test line once lowercased without
punctuation, none with a character similarity above 0.7 (difflib), none holding half or more
of the word trigrams of a test line of five words or more, and no line or phrase of five
words or more half of whose trigrams come from one test line.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections import defaultdict
from importlib import resources
from pathlib import Path

import pytest

from sentireview.data.written import PARTS, bank, written_reviews

ROOT = Path(__file__).resolve().parents[1]
TEST_SETS = (ROOT / "bench" / "short_own.tsv", ROOT / "bench" / "short_reviews.tsv")
SIMILARITY = 0.7
CONTAINMENT = 0.5


def read_texts(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as f:
        return [row["text"] for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


def normal(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def trigrams(text: str) -> set[tuple[str, ...]]:
    words = text.split()
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


class HeldOut:
    """The test sets' lines, normalised, with an index of their trigrams."""

    def __init__(self) -> None:
        self.lines = sorted({normal(t) for path in TEST_SETS for t in read_texts(path)})
        self.grams = [trigrams(line) for line in self.lines]
        self.by_gram: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i, grams in enumerate(self.grams):
            for gram in grams:
                self.by_gram[gram].append(i)

    def contained(self, text: str) -> str | None:
        """A test line (5+ words) half of whose trigrams are in ``text``, or one equal to it."""
        norm = normal(text)
        grams = trigrams(norm)
        shared: dict[int, int] = defaultdict(int)
        for gram in grams:
            for i in self.by_gram.get(gram, ()):
                shared[i] += 1
        for i, count in shared.items():
            if len(self.grams[i]) >= 3 and count / len(self.grams[i]) >= CONTAINMENT:
                return self.lines[i]
        return norm if norm in self.lines else None

    def inside(self, text: str) -> str | None:
        """A test line holding half or more of the trigrams of ``text`` (5+ words): a phrase
        lifted from a test line."""
        grams = trigrams(normal(text))
        if len(grams) < 3:
            return None
        shared: dict[int, int] = defaultdict(int)
        for gram in grams:
            for i in self.by_gram.get(gram, ()):
                shared[i] += 1
        best = max(shared, key=shared.__getitem__, default=None)
        if best is not None and shared[best] / len(grams) >= CONTAINMENT:
            return self.lines[best]
        return None

    def similar(self, text: str) -> str | None:
        """A test line whose characters match ``text``'s above the similarity limit."""
        norm = normal(text)
        matcher = difflib.SequenceMatcher(None, b=norm)
        for line in self.lines:
            matcher.set_seq1(line)
            if matcher.real_quick_ratio() > SIMILARITY and matcher.quick_ratio() > SIMILARITY:
                if matcher.ratio() > SIMILARITY:
                    return line
        return None


@pytest.fixture(scope="module")
def test_lines() -> HeldOut:
    return HeldOut()


def test_the_check_catches_a_near_copy(test_lines):
    line = read_texts(TEST_SETS[0])[0]
    assert test_lines.similar(line.upper() + "!") is not None
    assert test_lines.contained("Honestly, " + line.lower()) is not None
    assert test_lines.inside(" ".join(normal(line).split()[:6]) + " zebra") is not None
    assert test_lines.similar("Zebras quietly audit the lighthouse budget.") is None
    assert test_lines.inside("Zebras quietly audit the lighthouse budget.") is None


def test_written_short_reviews_are_not_near_copies_of_test_lines(test_lines):
    path = resources.files("sentireview") / "resources" / "written_short.tsv"
    offenders = []
    for text in read_texts(Path(str(path))):
        hit = test_lines.contained(text) or test_lines.inside(text) or test_lines.similar(text)
        if hit:
            offenders.append((text, hit))
    assert not offenders, offenders[:10]


def test_phrase_bank_sentences_are_not_near_copies_of_test_lines(test_lines):
    """Every phrase of the bank (character similarity), and the reviews built from them
    (shared trigrams and equality), in both parts."""
    def strings(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for value in node.values():
                yield from strings(value)
        elif isinstance(node, list):
            for value in node:
                yield from strings(value)

    offenders = [(p, hit) for p in strings(bank()) if len(p.split()) >= 3
                 for hit in [test_lines.similar(p) or test_lines.inside(p)] if hit]
    for part, n in zip(PARTS, (20_000, 4_000), strict=True):
        for review in written_reviews(part, n=n):
            hit = test_lines.contained(review.text)
            if hit:
                offenders.append((review.text, hit))
    assert not offenders, offenders[:10]
