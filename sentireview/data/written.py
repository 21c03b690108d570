"""Written reviews: short labelled movie-review-like texts built from a phrase bank written
for this project (``sentireview/resources/written_phrases.json``, see its README).

Why: the data rule of this project allows training only on IMDb and on text written for the
project, and IMDb reviews seldom hinge on one construction, so bag-of-words models get these
wrong: contrast ("X, but Y": the verdict follows Y), concession ("Although X, Y."), negation
("never dull", "not funny"), faint praise, sarcasm, irony, and short verdicts in everyday
style (ratings, emoji, slang, capitals). Each template fixes its label by rule.

Train/dev: each phrase of the bank belongs to one part by a stable hash of its text
(:func:`part_of`, 1 in 5 to dev), so dev reviews use only phrases that train never contains:
dev measures generalisation to unseen wording. Training and development data, never a test set.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import random
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from sentireview.errors import DataError
from sentireview.files import atomic_path

log = logging.getLogger(__name__)

PARTS = ("train", "dev")
POLARITY = {1: "positive", 0: "negative"}
#: Share of each template family among the reviews of each label. Overall (labels are
#: balanced): contrast 30%, negation 20%, concession 10%, faint praise 8%, sarcasm 7%,
#: irony 3%, plain 22%.
MIX: dict[int, dict[str, float]] = {
    0: {"contrast": .30, "concession": .10, "negation": .20, "faint_praise": .16,
        "sarcasm": .14, "plain": .10},
    1: {"contrast": .30, "concession": .10, "negation": .20, "irony": .06, "plain": .34},
}
# Forms. {A}/{B}: a clause capitalised; {a}/{b}: as it is. The label is that of {b}/{B}
# (the verdict); {a} (the conceded clause) always has the opposite polarity.
CONTRAST = ("{A}, but {b}.", "{A}, yet {b}.", "{A}. However, {b}.", "{A}. Still, {b}.",
            "{A}. But {b}.", "Sure, {a}, but {b}.", "{A}. That said, {b}.", "{A}... but {b}.")
MIXED = ("{A} and {a2}, but {b}.", "{A}, and {a2}. Even so, {b}.")
CONCESSION = ("Although {a}, {b}.", "Even though {a}, {b}.", "While {a}, {b}.",
              "{B}, even though {a}.", "{B}, although {a}.", "Despite the fact that {a}, {b}.")
# Negation of an adjective: the label is the opposite of the adjective's polarity.
NEGATION = ("{S} is not {adj}.", "{S} is never {adj}.", "{S} is hardly {adj}.",
            "{S} is far from {adj}.", "{S} is anything but {adj}.", "{S} never feels {adj}.",
            "I would not call {s} {adj}.", "Nothing about {s} is {adj}.",
            "{S} isn't {adj} at all.")
BARE_NEGATION = ("Not {adj} at all.", "Hardly {adj}.", "Never {adj}, not once.",
                 "Not {adj}. Not even a little.")
# Faint praise: a trivial positive as all a review says is a pan (label 0).
FAINT = ("At least {m}.", "{M}, and that's about it.", "The best thing I can say is that {m}.",
         "Well, {m}, I suppose.", "{M}. That's all I've got.", "The only positive: {m}.",
         "{M}. Nothing else to report.", "{M}.", "{S}? Well, {m}.")
WHOLE = ("overall", "tone")  # aspects of clauses that judge the whole film
STYLES = ("", "", "rating", "rating_front", "emoji", "bang", "lower", "caps", "slang")
MAX_MISSES = 100  # families in a row that found no new review: the part is exhausted


@dataclass(frozen=True)
class WrittenReview:
    """One review: its text, label (1 positive, 0 negative) and template family."""

    text: str
    label: int
    template: str


@lru_cache(maxsize=1)
def bank() -> dict[str, Any]:
    """The whole phrase bank, as the JSON file has it (do not modify the result)."""
    path = resources.files("sentireview.resources").joinpath("written_phrases.json")
    return json.loads(path.read_text(encoding="utf-8"))


def part_of(phrase: str) -> str:
    """The part a phrase belongs to: "dev" for 1 in 5 by a stable hash, else "train"."""
    digest = hashlib.blake2b(phrase.encode("utf-8"), digest_size=8).digest()
    return "dev" if int.from_bytes(digest, "big") % 5 == 0 else "train"


def _keep(node: Any, part: str) -> Any:
    """The phrases of ``part`` in a node of the bank (dict: recursively; keys starting with
    "_" are comments; [text, label] pairs go by their text)."""
    if isinstance(node, dict):
        return {k: _keep(v, part) for k, v in node.items() if not k.startswith("_")}
    return [x for x in node if part_of(x if isinstance(x, str) else x[0]) == part]


@lru_cache(maxsize=len(PARTS))
def phrases(part: str) -> dict[str, Any]:
    """The bank restricted to one part: the same keys, each list keeping only the phrases
    of that part (do not modify the result). DataError for an unknown part."""
    if part not in PARTS:
        raise DataError(f"unknown part {part!r}; expected one of {PARTS}")
    return _keep(bank(), part)


def cap(text: str) -> str:
    """``text`` with its first character in upper case (the rest untouched)."""
    return text[:1].upper() + text[1:]


def negation_review(subject: str, adjective: str, adjective_label: int, form: str) -> WrittenReview:
    """A negated adjective ("{S} is never {adj}."): the label is the opposite of the
    adjective's (1 = a positive adjective such as "gripping")."""
    text = form.format(S=cap(subject), s=subject, adj=adjective)
    return WrittenReview(text, 1 - adjective_label, "negation")


class _Draw:
    """One part's phrases arranged for sampling, and a sampler per template family."""

    def __init__(self, p: dict[str, Any], rng: random.Random) -> None:
        self.p, self.rng = p, rng
        self.clauses = {y: [(aspect, c) for aspect, cs in p[f"{POLARITY[y]}_clauses"].items()
                            for c in cs] for y in POLARITY}
        genres = p["genre_adjectives"].values()
        self.subjects = p["subjects"] + [s for g in genres for s in g["subjects"]]
        self.genres = [g for g in genres if g["subjects"] and g["adjectives"]]
        self.negated = {y: [t for t, lab in p["negated_phrases"] if lab == y] for y in POLARITY}

    def clause(self, y: int, avoid: set[str]) -> tuple[str, str] | None:
        """A (aspect, clause) of polarity y whose aspect is not in ``avoid``."""
        pool = [c for c in self.clauses[y] if c[0] not in avoid]
        return self.rng.choice(pool) if pool else None

    def opener(self, text: str, chance: float) -> str:
        """``text``, preceded with this chance by a neutral sentence naming the film (by a
        generic subject: "Saw the sequel last night.", never "... the slasher ...")."""
        if self.p["openers"] and self.p["subjects"] and self.rng.random() < chance:
            first = self.rng.choice(self.p["openers"])
            return f"{first.format(subject=self.rng.choice(self.p['subjects']))} {text}"
        return text

    def contrast(self, y: int, concession: bool = False) -> WrittenReview | None:
        """The verdict (label y) after a conceded clause of the other polarity, on another
        aspect; judgements of the whole film (:data:`WHOLE`) are only ever the verdict."""
        verdict = self.clause(y, set())
        first = verdict and self.clause(1 - y, {verdict[0], *WHOLE})
        if not verdict or not first:
            return None
        second, forms = None, CONCESSION if concession else CONTRAST
        if not concession and verdict[0] in WHOLE and self.rng.random() < 0.5:
            # "{P1} and {P2}, but {N}.": only with a verdict on the whole film
            second, forms = self.clause(1 - y, {verdict[0], first[0], *WHOLE}), MIXED
            if second is None:
                return None
        text = self.rng.choice(forms).format(A=cap(first[1]), a=first[1], B=cap(verdict[1]),
                                             b=verdict[1], a2=second[1] if second else "")
        return WrittenReview(text, y, "concession" if concession else "contrast")

    def concession(self, y: int) -> WrittenReview | None:  # "Although {a}, {b}."
        return self.contrast(y, concession=True)

    def negation(self, y: int) -> WrittenReview | None:
        rng = self.rng
        if rng.random() < 0.35 and self.negated[y]:
            text = self.opener(rng.choice(self.negated[y]), 0.3)
            return WrittenReview(text, y, "negation")
        subjects, forms = self.subjects, NEGATION
        if y == 0 and self.genres and rng.random() < 0.3:  # "This comedy is not funny."
            genre = rng.choice(self.genres)
            subjects, adjectives = genre["subjects"], genre["adjectives"]
        else:  # generic adjectives: "not dull" (1), "hardly gripping" (0)
            adjectives = self.p[f"{POLARITY[1 - y]}_adjectives"]
            forms = BARE_NEGATION if rng.random() < 0.2 else NEGATION
        if not subjects or not adjectives:
            return None
        return negation_review(rng.choice(subjects), rng.choice(adjectives), 1 - y,
                               rng.choice(forms))

    def faint_praise(self, y: int) -> WrittenReview | None:
        if not self.p["minor_praise"] or not self.subjects:
            return None
        m, form = self.rng.choice(self.p["minor_praise"]), self.rng.choice(FAINT)
        text = form.format(m=m, M=cap(m), S=cap(self.rng.choice(self.subjects)))
        return WrittenReview(text if "{S}" in form else self.opener(text, 0.2), 0, "faint_praise")

    def sarcasm(self, y: int, key: str = "sarcastic_pans") -> WrittenReview | None:
        """A sarcastic pan (0), or with key "ironic_praise" a complaint meaning praise (1)."""
        pool, sarcastic = self.p[key], key == "sarcastic_pans"
        if not pool:
            return None
        text = self.opener(self.rng.choice(pool), 0.25)
        return WrittenReview(text, 0 if sarcastic else 1, "sarcasm" if sarcastic else "irony")

    def irony(self, y: int) -> WrittenReview | None:
        return self.sarcasm(y, "ironic_praise")

    def plain(self, y: int) -> WrittenReview | None:
        rng, pol, shape = self.rng, POLARITY[y], self.rng.random()
        first = self.clause(y, set())
        second = first and shape < 0.25 and self.clause(y, {first[0]})
        if not first:
            return None
        if second:
            text = f"{cap(first[1])}{rng.choice((' and ', ', and ', '. Also, '))}{second[1]}."
        elif shape < 0.32 and self.p["slang"][pol]:
            text = rng.choice(self.p["slang"][pol])
        else:
            text = self.opener(f"{cap(first[1])}.", 0.2)
        return WrittenReview(self.style(text, rng.choice(STYLES), y), y, "plain")

    def fresh(self, family: str, y: int, seen: set[str]) -> WrittenReview | None:
        """A review of this family whose lower-cased text is not in ``seen`` (None after 30
        tries); 10% of non-plain reviews get a label-free style (lower case or "!!")."""
        for _ in range(30):
            review = getattr(self, family)(y)
            if review is not None and family != "plain" and self.rng.random() < 0.1:
                text = self.style(review.text, self.rng.choice(("lower", "bang")), y)
                review = WrittenReview(text, review.label, review.template)
            if review is not None and review.text.lower() not in seen:
                return review
        return None

    def style(self, text: str, style: str, y: int) -> str:
        """An everyday decoration; a rating, emoji or slang agrees with the label y."""
        rng = self.rng
        if style == "bang" and text.endswith("."):
            return text[:-1] + "!" * rng.randint(1, 3)
        if style in ("", "bang", "lower", "caps"):
            return {"lower": text.lower(), "caps": text.upper()}.get(style, text)
        pool = self.p["ratings" if style.startswith("rating") else style][POLARITY[y]]
        if not pool:
            return text
        frag = rng.choice(pool)
        dot = "." if frag[-1].isalnum() else ""
        if style == "emoji":
            return f"{text.rstrip('.')} {frag * rng.randint(1, 3)}"
        return f"{frag}{dot} {text}" if style == "rating_front" else f"{text} {frag}{dot}"


def written_reviews(part: str = "train", n: int = 20_000, seed: int = 17) -> list[WrittenReview]:
    """``n`` distinct reviews (case-insensitively) of one part, labels balanced (n // 2
    positive), template families mixed as :data:`MIX` says; the same arguments give the same
    list. DataError: unknown part, n < 1, or n more than the part's phrases can make."""
    p = phrases(part)
    if n < 1:
        raise DataError(f"n must be at least 1, not {n}")
    rng = random.Random(seed)
    draw, reviews, seen, misses = _Draw(p, rng), list[WrittenReview](), set[str](), 0
    while len(reviews) < n:
        y = len(reviews) % 2
        review = draw.fresh(rng.choices(list(MIX[y]), weights=list(MIX[y].values()))[0], y, seen)
        if review is None:
            misses += 1
            if misses > MAX_MISSES:
                raise DataError(f"the {part} phrases make only about {len(reviews)} distinct "
                                f"reviews, fewer than n={n}")
            continue
        misses = 0
        seen.add(review.text.lower())
        reviews.append(review)
    rng.shuffle(reviews)
    log.info("%d written %s reviews: %s", n, part,
             dict(Counter(r.template for r in reviews).most_common()))
    return reviews


def hand_written(part: str = "train") -> list[WrittenReview]:
    """The hand-written short reviews of one part (``resources/written_short.tsv``), in file
    order; ``template`` is ``hand:`` and the line's category."""
    if part not in PARTS:
        raise DataError(f"unknown part {part!r}; expected one of {PARTS}")
    labels = {"positive": 1, "negative": 0}
    path = resources.files("sentireview") / "resources" / "written_short.tsv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            WrittenReview(row["text"], labels[row["label"]], f"hand:{row['category']}")
            for row in rows
            if row["part"] == part
        ]


def write_written_split(path: str | Path, part: str = "train", n: int = 20_000, seed: int = 17,
                        recipe: str = "words", hand: bool = True) -> Path:
    """Write ``n`` written reviews of ``part`` as a parquet split (columns ``text``: plain
    text, ``clean``: cleaned with ``recipe``, ``label``, ``template``), atomically, and with
    ``hand`` the part's hand-written reviews after them. Read it back with
    ``read_split(folder, str(path), column)``."""
    import pandas as pd

    from sentireview.text import RECIPES, clean_many, plain_text

    if recipe not in RECIPES:
        raise DataError(f"unknown recipe {recipe!r}; expected one of {RECIPES}")
    reviews = written_reviews(part, n, seed) + (hand_written(part) if hand else [])
    texts = [plain_text(r.text) for r in reviews]
    frame = pd.DataFrame({"text": texts, "clean": clean_many(texts, recipe),
                          "label": [r.label for r in reviews],
                          "template": [r.template for r in reviews]})
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
    log.info("wrote %s (%d %s reviews, recipe %s)", path, len(reviews), part, recipe)
    return Path(path)
