"""Why a review got its score: the words (or sentences) that pushed it, as character spans.

    from sentireview.predict import Predictor
    from sentireview.explain import Explainer
    Explainer(Predictor.load("webapp/flask/ml_model")).explain("Not bad at all, a delight.")
    # Explanation(score=0.93, log_odds=2.6, spans=[Span(start=0, end=3, weight=-0.4), ...])

Weights are in log-odds (the model's logit scale): a weight above 0 pushes towards positive.
``start``/``end`` index the review as given (Python string indices, i.e. code points).

How, per kind of model (no torch needed: this runs in the web process on ONNX Runtime):

* Word models (``lstm``). Their logit is ``deep + wide + bias`` when they have a wide part
  (hashed n-grams, :mod:`sentireview.models.wide`). The wide part is linear, so its share is
  exact: each distinct n-gram's weight (times the model's mix weight) is split evenly over its
  occurrences and over the words of each occurrence; the word shares add up to the wide logit.
  The deep part (the LSTM) is measured by occlusion: the review is scored again with a group
  of consecutive words left out, all groups in one batch, and the fall in the deep logit is
  that group's share, split evenly over its words. The batch is bounded by
  :data:`TOKEN_BUDGET` words in all (the cost of the LSTM): reviews of up to 74 words are read
  word by word (the short reviews people type), longer ones in groups of consecutive words, at
  least :data:`MAX_VARIANTS` of them. A 230-word review costs 24 extra rows of one batched
  call, not 230 separate calls.
* Transformers (``transformer``): sentence occlusion. Each sentence is left out in turn and
  its span's weight is the fall in log-odds; spans are sentences, not words. Past
  :data:`MAX_SENTENCE_GROUPS` sentences, neighbours are merged into that many groups (each
  variant costs a whole encoder pass).

The cleaned tokens are found back in the original text by a tolerant search (case, an
elongation the cleaner shortened, typographic apostrophes, split contractions); a token that
cannot be found (say, one an HTML entity produced) still counts in the score but gets no span.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sentireview.artifact import WEIGHTS
from sentireview.errors import SentiReviewError
from sentireview.kinds import get_kind
from sentireview.ngram_hash import HASH_PRIMES, ORDER_OFFSET
from sentireview.predict import Predictor
from sentireview.vocab import UNK_ID, pad_ids

#: Fewest groups a long review is cut into for a word model (rows of the one batched call)...
MAX_VARIANTS = 24
#: ... and more, down to single words, while rows x words stays within this many words
#: (24 groups of a 230-word review; word by word up to 74 words).
TOKEN_BUDGET = 5_600
#: Most sentence groups for a transformer: each is a full forward pass of the encoder (about
#: 110 ms for 256 tokens with int8 MiniLM on one core), so 6 + 1 rows keep p50 under 1 s.
MAX_SENTENCE_GROUPS = 6
#: Most spans returned (the largest weights); the page highlights these.
MAX_SPANS = 40

# The wide part's n-gram hash (sentireview.models.wide.ngram_hashes) is repeated on numpy
# int64 for one review, with the same constants; the tests check that both give the same
# buckets.


@dataclass(frozen=True)
class Span:
    """``text[start:end]`` pushed the score by ``weight`` log-odds (> 0: towards positive)."""

    start: int
    end: int
    weight: float


@dataclass(frozen=True)
class Explanation:
    """The prediction of one review and the spans that mattered, in text order."""

    score: float  # P(positive)
    log_odds: float
    spans: list[Span]
    method: str  # how the weights were measured, in a few words


def ngram_occurrences(
    ids: np.ndarray, orders: int, buckets: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(starts, sizes, buckets)``: every n-gram of 1 to ``orders`` words of ``ids`` (one
    review), as three int64 arrays of equal length."""
    ids = np.asarray(ids, dtype=np.int64)
    modulus = buckets - 1
    starts, sizes, found = [], [], []
    h = ids
    for n in range(1, orders + 1):
        if n > 1:
            if len(ids) - n + 1 <= 0:
                break
            h = (h[:-1] * HASH_PRIMES[(n - 2) % 2] + ids[n - 1 :]) % modulus
        found.append((h + n * ORDER_OFFSET) % modulus + 1)
        starts.append(np.arange(len(h), dtype=np.int64))
        sizes.append(np.full(len(h), n, dtype=np.int64))
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(starts), np.concatenate(sizes), np.concatenate(found)


def wide_shares(ids: np.ndarray, weights: np.ndarray, orders: int) -> np.ndarray:
    """Each word's exact share of the wide logit (before the mix weight), (T,) float64.

    Each distinct bucket counts once per review (binary features), so its weight is split
    evenly over its occurrences and then over each occurrence's words."""
    starts, sizes, found = ngram_occurrences(ids, orders, len(weights))
    shares = np.zeros(len(ids), dtype=np.float64)
    if not len(found):
        return shares
    _, inverse, counts = np.unique(found, return_inverse=True, return_counts=True)
    per_word = weights[found].astype(np.float64).reshape(-1) / counts[inverse] / sizes
    for k in range(orders):  # word k of each n-gram that has one
        has = sizes > k
        np.add.at(shares, starts[has] + k, per_word[has])
    return shares


def wide_logit(ids: np.ndarray, weights: np.ndarray, orders: int) -> float:
    """The wide logit of one review (before the mix weight): the distinct buckets' sum."""
    found = np.unique(ngram_occurrences(ids, orders, len(weights))[2])
    return float(weights[found].astype(np.float64).sum())


_APOSTROPHE = "['\u2019\u2018\u02bc]"


def _literal(piece: str) -> str:
    """A pattern for ``piece`` as the tokenizer wrote it: any apostrophe for "'", and a run
    of 3 equal characters for a run of 3 or more (the tokenizer cut such runs to 3)."""
    out = []
    for run in re.finditer(r"(.)\1*", piece, re.DOTALL):
        char, size = run.group(1), len(run.group())
        one = _APOSTROPHE if char == "'" else re.escape(char)
        out.append(f"{one}{{3,}}" if size >= 3 else one * size)
    return "".join(out)


@lru_cache(maxsize=1 << 14)
def _token_pattern(token: str) -> re.Pattern[str]:
    """A pattern that finds ``token`` (as the cleaner wrote it) in the original text; a
    contraction may be split there ("does n't", "it 's"), as some datasets write them."""
    clitic = re.search(r"\w(n't|'(?:s|re|ve|ll|d|m))$", token)
    if clitic is None:
        return re.compile(_literal(token), re.IGNORECASE)
    cut = clitic.start(1)
    return re.compile(f"{_literal(token[:cut])}\\s?{_literal(token[cut:])}", re.IGNORECASE)


#: Unbounded searches one alignment may make (after a token is not found nearby).
_FAR_SEARCHES = 64


def align_tokens(text: str, tokens: Sequence[str]) -> list[tuple[int, int] | None]:
    """Where each cleaned token lies in ``text``: ``(start, end)`` or None, in order, never
    overlapping.

    Each token is looked for a short way past the previous one. When it is not there (the
    cleaner dropped a long stretch before it: a divider line, a run of emoji or spaces), it
    is looked for further on, and taken only if the token after it is found right behind it,
    so that one token missing altogether (say, one an HTML entity produced) cannot pull the
    others out of place. Far searches are bounded per text (:data:`_FAR_SEARCHES`)."""
    spans: list[tuple[int, int] | None] = []
    cursor, far = 0, _FAR_SEARCHES
    for i, token in enumerate(tokens):
        match = _token_pattern(token).search(text, cursor, _window(cursor, token))
        if match is None and far > 0:
            far -= 1
            match = _token_pattern(token).search(text, cursor)
            following = tokens[i + 1] if i + 1 < len(tokens) else None
            if match is not None and following is not None and _token_pattern(
                following
            ).search(text, match.end(), _window(match.end(), following)) is None:
                match = None
        if match is None:
            spans.append(None)
            continue
        spans.append((match.start(), match.end()))
        cursor = match.end()
    return spans


def _window(cursor: int, token: str) -> int:
    """Where the near search for ``token`` from ``cursor`` stops."""
    return cursor + 64 + 8 * len(token)


def groups(count: int, most: int = MAX_VARIANTS) -> list[tuple[int, int]]:
    """``count`` items cut into ``min(count, most)`` runs of consecutive items, ``(start,
    end)``, whose sizes differ by at most one."""
    k = min(count, most)
    bounds = [i * count // k for i in range(k + 1)] if k > 0 else []
    return list(zip(bounds, bounds[1:], strict=False))


_SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?]+|\n+|$)")


def sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, without the whitespace around it."""
    found = []
    for match in _SENTENCE.finditer(text):
        piece = match.group()
        if not piece.strip():
            continue
        start = match.start() + len(piece) - len(piece.lstrip())
        end = match.end() - (len(piece) - len(piece.rstrip()))
        found.append((start, end))
    return found


class Explainer:
    """Explains a :class:`~sentireview.predict.Predictor`'s scores (see the module docstring)."""

    def __init__(self, predictor: Predictor, run_dir: str | Path | None = None) -> None:
        self.predictor = predictor
        self.config = predictor.config
        self.kind = get_kind(self.config["kind"])
        folder = run_dir or predictor.run_dir
        self.words = not self.kind.two_logits
        self.wide: np.ndarray | None = None
        self.wide_mix = 0.0
        self.orders = int(self.config["model"].get("ngram_orders", 3))
        if self.words:
            if folder is None:
                raise SentiReviewError("explaining a word model needs its artifact folder")
            self.wide, self.wide_mix = _read_wide(Path(folder), self.config)
        self.method = (
            "sentence occlusion" if not self.words
            else "exact n-gram weights + LSTM occlusion" if self.wide is not None
            else "word occlusion"
        )

    def explain(self, text: str) -> Explanation:
        """The score of ``text`` and the spans that mattered (see the module docstring)."""
        if not isinstance(text, str):
            raise SentiReviewError(f"explain() takes a string, not {type(text).__name__}")
        if self.words:
            return self._explain_words(text)
        return self._explain_sentences(text)

    # -- word models ----------------------------------------------------------------------

    def _explain_words(self, text: str) -> Explanation:
        # The predictor's own encoding (its vocabulary and word limit): ids of the words read.
        prepared = self.predictor.prepare_text(text)
        feed = self.predictor.encode([prepared])
        tokens = prepared.split()[: int(feed["lengths"][0])]
        ids = feed["ids"][0, : len(tokens)].astype(np.int64)  # none for an empty review
        runs = groups(len(ids), max(MAX_VARIANTS, TOKEN_BUDGET // max(1, len(ids))))
        variants = [ids] + [np.concatenate([ids[:a], ids[b:]]) for a, b in runs]
        pad = int(self.config["model"].get("pad_id", 0))
        batch_ids, lengths = pad_ids([v.tolist() for v in variants], pad, UNK_ID)
        totals = self.predictor.backend.log_odds({"ids": batch_ids, "lengths": lengths})
        shares = np.zeros(len(ids), dtype=np.float64)
        deep = totals.copy()
        if self.wide is not None:
            wides = [
                wide_logit(v if len(v) else np.array([UNK_ID]), self.wide, self.orders)
                for v in variants
            ]
            deep = deep - self.wide_mix * np.asarray(wides)
            if len(ids):
                shares += self.wide_mix * wide_shares(ids, self.wide, self.orders)
        for (a, b), value in zip(runs, deep[1:], strict=True):
            shares[a:b] += (deep[0] - value) / (b - a)
        places = align_tokens(text, tokens)
        spans = [
            Span(place[0], place[1], float(weight))
            for place, weight in zip(places, shares, strict=True)
            if place is not None
        ]
        return self._finish(float(totals[0]), spans)

    # -- transformers ---------------------------------------------------------------------

    def _explain_sentences(self, text: str) -> Explanation:
        found = sentences(text)
        runs = groups(len(found), MAX_SENTENCE_GROUPS)
        pieces = [(found[a][0], found[b - 1][1]) for a, b in runs]
        variants = [text] + [text[:start] + " " + text[end:] for start, end in pieces]
        feed = self.predictor.encode([self.predictor.prepare_text(v) for v in variants])
        totals = self.predictor.backend.log_odds(feed)
        spans = [
            Span(start, end, float(totals[0] - value))
            for (start, end), value in zip(pieces, totals[1:], strict=True)
        ]
        return self._finish(float(totals[0]), spans)

    def _finish(self, log_odds: float, spans: list[Span]) -> Explanation:
        if len(spans) > MAX_SPANS:
            kept = sorted(spans, key=lambda s: -abs(s.weight))[:MAX_SPANS]
            spans = sorted(kept, key=lambda s: s.start)
        score = 1.0 / (1.0 + math.exp(-log_odds)) if log_odds > -700 else 0.0
        return Explanation(score=score, log_odds=log_odds, spans=spans, method=self.method)


def _read_wide(folder: Path, config: dict) -> tuple[np.ndarray | None, float]:
    """The wide part's weights (buckets,) and its mix weight, or ``(None, 0)`` when the model
    has none or its weights are not in ``model.safetensors`` (a tutorial ``model.pth``)."""
    if not config["model"].get("ngram_buckets"):
        return None, 0.0
    path = folder / WEIGHTS
    if not path.is_file():
        return None, 0.0
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="np") as weights:
            wide = weights.get_tensor("wide.weight").reshape(-1)  # as stored (float16: 4 MB)
            _deep, wide_mix, _bias = weights.get_tensor("mix").tolist()  # models.wide's mix
    except Exception as exc:  # safetensors raises its own error types
        raise SentiReviewError(f"cannot read the wide part from {path}: {exc}") from None
    return wide, float(wide_mix)
