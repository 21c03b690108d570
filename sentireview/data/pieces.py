"""Short pieces of long reviews: one to three neighbouring sentences.

IMDb reviews are long (median 173 words in the training split), while people type one or two
sentences on the web page. Cut into sentence-level pieces, each scored by a teacher
(:func:`sentireview.teacher.score_pieces`), the training and unlabelled reviews become short
texts with graded labels: a piece's own verdict, not its review's.

Sentences are found with a rule (end punctuation, then a space and a capital, a digit or an
opening quote), not a trained splitter: NLTK's punkt model is a download this project avoids,
and a piece cut at a wrong place is still text from a review.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

# A sentence ends at . ! ? (repeated, maybe followed by closing quotes or brackets) before a
# space and what can start a sentence.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
# Words that end with a full stop without ending the sentence ("Mr. Smith", "vs. the world").
_ABBREVIATION = re.compile(r"(?:^|\s)(?:mr|mrs|ms|dr|st|vs|jr|sr|prof|no|vol|etc|i\.e|e\.g)\.$",
                           re.IGNORECASE)
#: How many sentences a piece takes, and how often (singles most: typed reviews are short).
SPANS = (1, 2, 3)
SPAN_WEIGHTS = (0.5, 0.3, 0.2)


def sentences(text: str) -> list[str]:
    """The sentences of a review, in order, stripped (an abbreviation does not end one)."""
    out: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        head = text[start : match.start()]
        if _ABBREVIATION.search(head[-12:]):
            continue
        out.append(text[start : match.end()].strip())
        start = match.end()
    out.append(text[start:].strip())
    return [s for s in out if s]


def review_pieces(
    text: str, rng: random.Random, per_review: int, min_words: int = 3, max_words: int = 40
) -> list[str]:
    """Up to ``per_review`` different pieces of one review, each 1-3 neighbouring sentences
    of ``min_words`` to ``max_words`` words (fewer when the review has fewer such pieces)."""
    found = sentences(text)
    candidates = [
        (start, span)
        for span in SPANS
        for start in range(len(found) - span + 1)
        if min_words <= sum(len(s.split()) for s in found[start : start + span]) <= max_words
    ]
    if len(candidates) <= per_review:  # every piece the review has
        return [" ".join(found[start : start + span]) for start, span in candidates]
    weights = [SPAN_WEIGHTS[span - 1] for _, span in candidates]
    chosen: list[str] = []
    for _ in range(4 * per_review):  # a few draws more than needed: some repeat
        if len(chosen) == per_review or len(chosen) == len(candidates):
            break
        start, span = rng.choices(candidates, weights)[0]
        piece = " ".join(found[start : start + span])
        if piece not in chosen:
            chosen.append(piece)
    return chosen


def sample_pieces(
    texts: Iterable[str],
    per_review: int = 2,
    seed: int = 17,
    min_words: int = 3,
    max_words: int = 40,
) -> list[str]:
    """Pieces of every review (``per_review`` each at most), seeded; a piece that occurs
    again (a common line such as "Highly recommended.") is kept once."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    for text in texts:
        for piece in review_pieces(text, rng, per_review, min_words, max_words):
            if piece not in seen:
                seen.add(piece)
                out.append(piece)
    return out
