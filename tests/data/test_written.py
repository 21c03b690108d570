"""Written reviews (sentireview.data.written): the phrase bank, the train/dev partition, the
label rules of the templates, and the parquet writer."""

import re
import unicodedata
from collections import Counter

import pytest

from sentireview.data import written
from sentireview.data.splits import read_frame, read_split
from sentireview.data.written import (
    MIX,
    PARTS,
    WrittenReview,
    bank,
    hand_written,
    negation_review,
    part_of,
    phrases,
    write_written_split,
    written_reviews,
)
from sentireview.errors import DataError

MINIMUM = {"positive_clauses": 160, "negative_clauses": 160, "positive_adjectives": 40,
           "negative_adjectives": 40, "subjects": 30, "minor_praise": 40,
           "sarcastic_pans": 60, "ironic_praise": 25, "negated_phrases": 60}
CONCESSIVE = re.compile(r"(?:although|even though|while|despite the fact that) $")


def leaves(node, path=()):
    """(path of keys, text) of every phrase under a node of the bank."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not key.startswith("_"):
                yield from leaves(value, (*path, key))
    else:
        for item in node:
            yield path, item if isinstance(item, str) else item[0]


def norm(text):
    return text.lower().rstrip(".!?")


def polarity_map(positive, negative):
    pairs = [(positive, 1), (negative, 0)]
    return {norm(t): y for node, y in pairs for _, t in leaves(node)}


@pytest.fixture(scope="module")
def corpus():
    return {"train": written_reviews("train", 4000, seed=5), "dev": written_reviews("dev", 2000)}


def test_the_bank_has_its_minimum_counts_and_every_phrase_once():
    b = bank()
    for key, minimum in MINIMUM.items():
        assert len(list(leaves(b[key]))) >= minimum, key
    texts = [norm(t) for _, t in leaves(b)]
    repeated = [t for t, k in Counter(texts).items() if k > 1]
    assert not repeated
    for key in ("clauses", "adjectives"):
        pos = {norm(t) for _, t in leaves(b[f"positive_{key}"])}
        assert not pos & {norm(t) for _, t in leaves(b[f"negative_{key}"])}
    long = [t for t in texts if len(t.split()) >= 3]  # no phrase hides inside another one
    assert not [(a, c) for a in long for c in long if a != c and a in c]
    assert {label for _, label in b["negated_phrases"]} == {0, 1}
    assert all("{subject}" in opener for opener in b["openers"])


def test_clauses_can_follow_but_and_although():
    for key in ("positive_clauses", "negative_clauses"):
        for _, clause in leaves(bank()[key]):
            assert clause[0].islower() or clause.startswith("I "), clause
            assert len(clause.split()) >= 3, clause  # what found() below looks for
            assert clause[-1].isalnum() and "," not in clause, clause
            assert not re.search(r"\b(but|yet|although|however|though)\b", clause), clause


def test_every_phrase_is_in_one_part_and_each_list_has_some_in_both():
    assert part_of("8 out of 10") == "dev" and part_of("7.5/10") == "train"  # the hash is pinned
    train, dev = ({t for _, t in leaves(phrases(p))} for p in PARTS)
    assert not train & dev and train | dev == {t for _, t in leaves(bank())}
    for key in (*MINIMUM, "openers"):
        assert all(list(leaves(phrases(p)[key])) for p in PARTS), key
    for key in ("ratings", "emoji", "slang"):
        for polarity in ("positive", "negative"):
            assert all(phrases(p)[key][polarity] for p in PARTS), (key, polarity)
    with pytest.raises(DataError, match="unknown part 'test'"):
        phrases("test")


def test_the_parts_share_no_phrase_in_their_reviews(corpus):
    text_of = {p: "\n".join(r.text.lower() for r in corpus[p]) for p in PARTS}
    for mine, other in (("train", "dev"), ("dev", "train")):
        own = [norm(t) for _, t in leaves(phrases(mine)) if len(t.split()) >= 3]
        assert sum(t in text_of[mine] for t in own) > len(own) // 2  # the check can see them
        assert not [t for t in own if t in text_of[other]]


def test_the_same_seed_gives_the_same_reviews():
    assert written_reviews("dev", 300, seed=3) == written_reviews("dev", 300, seed=3)
    assert written_reviews("dev", 300, seed=3) != written_reviews("dev", 300, seed=4)


def test_reviews_are_balanced_distinct_mixed_and_well_formed(corpus):
    for part, reviews in corpus.items():
        assert 0.45 <= sum(r.label for r in reviews) / len(reviews) <= 0.55
        assert len({r.text.lower() for r in reviews}) == len(reviews)
        shares = Counter(r.template for r in reviews)
        for family in {f for mix in MIX.values() for f in mix}:
            target = sum(mix.get(family, 0) for mix in MIX.values()) / 2
            assert abs(shares[family] / len(reviews) - target) < 0.03, (part, family)
        for r in reviews:
            first, last = r.text[:1], r.text[-1:]
            assert r.label in (0, 1) and r.text.strip() == r.text != ""
            assert (first.isupper() or first.isdigit() or first in "\"'"
                    or unicodedata.category(first) == "So" or r.text == r.text.lower()), r.text
            assert unicodedata.category(last)[0] in "PS", r.text


def found(text, polarity):
    """(position, polarity) of every bank phrase in a review, in order."""
    low = text.lower()
    return sorted((low.index(t), y) for t, y in polarity.items()
                  if len(t.split()) >= 3 and t in low)


def test_contrast_and_concession_follow_the_verdict_clause(corpus):
    for part, reviews in corpus.items():
        b = phrases(part)
        clauses = polarity_map(b["positive_clauses"], b["negative_clauses"])
        for r in reviews:
            with_clauses = r.template in ("contrast", "concession", "plain")
            hits = found(r.text, clauses) if with_clauses else []
            if r.template == "contrast":  # "{A}, but {b}.": the last clause decides
                assert len(hits) in (2, 3) and hits[-1][1] == r.label, r.text
                assert all(y != r.label for _, y in hits[:-1]), r.text
            elif r.template == "concession":  # the clause after "although" is conceded
                assert sorted(y for _, y in hits) == [0, 1], r.text
                conceded = [y for at, y in hits if CONCESSIVE.search(r.text[:at].lower())]
                assert conceded == [1 - r.label], r.text
            elif r.template == "plain":
                assert all(y == r.label for _, y in hits), r.text


def test_faint_praise_sarcasm_irony_and_negated_phrases_keep_their_labels(corpus):
    for part, reviews in corpus.items():
        b = phrases(part)
        fixed = {**{norm(t): 0 for t in b["sarcastic_pans"]},
                 **{norm(t): 1 for t in b["ironic_praise"]},
                 **{norm(t): y for t, y in b["negated_phrases"]}}
        minor = [t.lower() for t in b["minor_praise"]]
        for r in reviews:
            if r.template == "faint_praise":
                assert r.label == 0 and any(m in r.text.lower() for m in minor), r.text
            elif r.template in ("sarcasm", "irony"):
                assert [y for _, y in found(r.text, fixed)] == [r.label], r.text
                assert r.label == (r.template == "irony")


def test_a_negated_adjective_takes_the_opposite_label(corpus):
    assert negation_review("the sequel", "dull", 0, "{S} is never {adj}.") == WrittenReview(
        "The sequel is never dull.", 1, "negation")
    assert negation_review("this comedy", "funny", 1, "I would not call {s} {adj}.") == (
        WrittenReview("I would not call this comedy funny.", 0, "negation"))
    for part, reviews in corpus.items():
        b = phrases(part)
        genre = [a for g in b["genre_adjectives"].values() for a in g["adjectives"]]
        adjectives = {**{a: 0 for a in b["positive_adjectives"] + genre},
                      **{a: 1 for a in b["negative_adjectives"]}}  # the label each one gives
        negated = {norm(t) for t, _ in b["negated_phrases"]}
        for r in reviews:
            low = r.text.lower()
            if r.template != "negation" or any(t in low for t in negated):
                continue
            labels = {y for a, y in adjectives.items() if re.search(rf"\b{re.escape(a)}\b", low)}
            assert labels == {r.label}, r.text


def test_ratings_and_emoji_agree_with_the_label(corpus):
    emoji = {y: set(bank()["emoji"][name]) for y, name in ((1, "positive"), (0, "negative"))}
    for reviews in corpus.values():
        for r in reviews:
            for score, scale in re.findall(r"(\d+(?:\.\d)?)/(10|5)\b", r.text):
                high = float(score) / float(scale) >= 0.7
                assert float(score) / float(scale) <= 0.4 or high, r.text
                assert high == (r.label == 1), r.text
            assert not emoji[1 - r.label] & set(r.text), r.text


def test_the_written_split_round_trips_through_read_split(tmp_path):
    path = write_written_split(tmp_path / "out" / "written_dev.parquet", "dev", 120, recipe="words")
    reviews = written_reviews("dev", 120) + hand_written("dev")
    texts, labels = read_split(tmp_path, str(path), "text")
    assert texts == [r.text for r in reviews] and labels == [r.label for r in reviews]
    frame = read_frame(tmp_path, str(path), ["text", "clean", "label", "template"])
    assert list(frame["template"]) == [r.template for r in reviews]
    assert frame["clean"].str.len().gt(0).all() and frame["label"].dtype.kind == "i"
    assert not list((tmp_path / "out").glob("*.tmp"))
    bare = write_written_split(tmp_path / "bare.parquet", "dev", 120, hand=False)
    assert read_split(tmp_path, str(bare), "text")[0] == [r.text for r in reviews[:120]]


def test_hand_written_reviews_come_in_two_parts_of_every_category():
    train, dev = hand_written("train"), hand_written("dev")
    assert len(train) >= 400 and len(dev) >= 120
    assert not {r.text.lower() for r in train} & {r.text.lower() for r in dev}
    for reviews in (train, dev):
        assert 0.45 <= sum(r.label for r in reviews) / len(reviews) <= 0.55
        categories = {r.template for r in reviews}
        assert categories == {f"hand:{c}" for c in
                              ("negation", "contrast", "sarcasm", "faint", "mixed", "everyday")}
        assert all(r.text.strip() == r.text and r.text for r in reviews)
    with pytest.raises(DataError, match="unknown part"):
        hand_written("test")


def test_bad_arguments_are_data_errors(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="unknown part"):
        written_reviews("test", 10)
    with pytest.raises(DataError, match="at least 1"):
        written_reviews("train", 0)
    with pytest.raises(DataError, match="unknown recipe"):
        write_written_split(tmp_path / "x.parquet", "dev", 10, recipe="nope")

    def first_only(node):  # one phrase per list and one aspect per polarity
        if isinstance(node, dict):
            keys = list(node)[:1] if "acting" in node else list(node)
            return {k: first_only(node[k]) for k in keys}
        return node[:1]

    tiny = first_only(phrases("train"))
    monkeypatch.setattr(written, "phrases", lambda part: tiny)
    assert len(written_reviews("train", 50)) == 50
    with pytest.raises(DataError, match="make only about .* fewer than n=5000"):
        written_reviews("train", 5000)
    assert not (tmp_path / "x.parquet").exists()
