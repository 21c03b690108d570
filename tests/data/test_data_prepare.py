"""`sentireview.data.prepare` on tiny invented sources: folder, archive, CSV (Kaggle's and the
tutorial's layout), bad input."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sentireview.data.prepare import (
    SCHEMA,
    clean_parallel,
    prepare,
    stratified_split,
)
from sentireview.data.sources import NAMED_ROWS
from sentireview.errors import DataError
from sentireview.text import clean_recommended, clean_tutorial, plain_text


def _read(out: Path, split: str) -> pa.Table:
    return pq.read_table(out / f"{split}.parquet")


def _write_csv(path: Path, rows: list[list[str]], header=("review", "sentiment")) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _csv_rows(n: int) -> list[list[str]]:
    rows = []
    for i in range(n):
        label = "positive" if i % 2 else "negative"
        mood = "loved it :)" if i % 2 else "it was not good :("
        rows.append([f'Film number {i}, "quoted", {mood}<br /><br />The end.', label])
    rows.append(rows[0])  # a duplicate, kept
    return rows


def _write_tutorial_csv(path: Path, rows: list[tuple[int, str, int]]) -> Path:
    """The tutorial's prepared layout: an unnamed pandas index column, ``review``, ``label``."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["", "review", "label"])
        writer.writerows(rows)
    return path


def _tutorial_rows(n: int) -> list[tuple[int, str, int]]:
    """``n`` invented labelled reviews, then three empty ones and two repeats, with a shuffled
    index as the tutorial's split leaves it."""
    rows = []
    for i in range(n):
        mood = "a joy from start to end :)" if i % 2 else "a dreary slog, skip it :("
        rows.append((1000 - 7 * i, f"Picture {i} <br />was {mood}", i % 2))
    rows.insert(3, (501, "", 1))  # data row 4
    rows.insert(9, (502, "   ", 0))  # data row 10
    rows.insert(20, (503, "\t \n", 1))  # data row 21
    rows += [rows[0], rows[5]]  # repeats, kept
    return rows


def test_aclimdb_folder_official_split(tmp_path, aclimdb):
    out = tmp_path / "prepared"
    manifest = prepare(aclimdb, out, workers=1)
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "test.parquet",
        "train.parquet",
        "unsup.parquet",
        "valid.parquet",
    ]
    assert json.loads((out / "manifest.json").read_text("utf-8")) == manifest
    assert manifest["split"] == "official" and manifest["seed"] == 17
    assert manifest["recipe"] == "tutorial"
    assert manifest["source"]["kind"] == "aclimdb" and len(manifest["source"]["sha256"]) == 64
    assert "layout" not in manifest["source"]  # only a CSV has one
    assert manifest["skipped"] == {"empty_review": 0, "first_rows": []}
    # 12 labelled train reviews -> 90/10 per label; test = the 9 test reviews (one duplicate).
    assert manifest["counts"] == {
        "train": {"0": 5, "1": 5},
        "valid": {"0": 1, "1": 1},
        "test": {"0": 4, "1": 5},
        "unsup": {"-1": 3},
    }
    assert manifest["duplicates"]["across_splits"] == 1  # test/pos/99 repeats train/pos/0
    test = _read(out, "test")
    assert test.schema == SCHEMA
    row = test.to_pylist()[0]
    assert row["id"] == "test/neg/0" and row["rating"] == 1 and row["label"] == 0
    assert row["text"] == plain_text(row["raw"]) and "<br" not in row["text"]
    assert row["clean"] == clean_tutorial(row["raw"])
    assert row["raw"].endswith("caf\u00e9.")
    unsup = _read(out, "unsup").to_pylist()
    assert {r["label"] for r in unsup} == {-1} and {r["rating"] for r in unsup} == {0}
    assert [r["id"] for r in unsup] == ["train/unsup/0", "train/unsup/1", "train/unsup/2"]


def test_archive_gives_the_same_tables_as_the_folder(tmp_path, aclimdb, aclimdb_tar):
    prepare(aclimdb, tmp_path / "a", workers=1)
    manifest = prepare(aclimdb_tar, tmp_path / "b", workers=1)
    assert manifest["source"]["path"] == str(aclimdb_tar)
    for split in ("train", "valid", "test", "unsup"):
        assert _read(tmp_path / "a", split).equals(_read(tmp_path / "b", split))


def test_tutorial_split_and_recommended_recipe(tmp_path, aclimdb):
    manifest = prepare(aclimdb, tmp_path / "p", split="tutorial", recipe="recommended", workers=1)
    counts = manifest["counts"]
    assert sum(sum(c.values()) for k, c in counts.items() if k != "unsup") == 21
    assert counts["train"] == {"0": 7, "1": 8} and counts["test"] == {"0": 2, "1": 2}
    rows = _read(tmp_path / "p", "train").to_pylist()
    assert all(r["clean"] == clean_recommended(r["raw"]) for r in rows)
    assert {r["id"].split("/")[0] for r in rows} == {"train", "test"}  # pooled


def test_csv_gets_the_tutorial_split(tmp_path):
    source = _write_csv(tmp_path / "IMDB Dataset.csv", _csv_rows(40))
    manifest = prepare(source, tmp_path / "p", workers=1)
    assert manifest["split"] == "tutorial" and "no official test set" in manifest["split_note"]
    assert manifest["source"]["kind"] == "csv" and manifest["source"]["layout"] == "kaggle"
    assert manifest["skipped"] == {"empty_review": 0, "first_rows": []}
    assert manifest["counts"] == {
        "train": {"0": 15, "1": 14},
        "valid": {"0": 2, "1": 2},
        "test": {"0": 4, "1": 4},
    }
    assert manifest["duplicates"]["extra_copies"] == 1
    rows = [r for s in ("train", "valid", "test") for r in _read(tmp_path / "p", s).to_pylist()]
    assert sorted(int(r["id"].removeprefix("csv/")) for r in rows) == list(range(1, 42))
    first = next(r for r in rows if r["id"] == "csv/1")
    assert first["raw"] == 'Film number 0, "quoted", it was not good :(<br /><br />The end.'
    assert first["rating"] == -1 and first["label"] == 0
    with pytest.raises(DataError, match="no official test set"):
        prepare(source, tmp_path / "q", split="official")


def test_tutorial_csv_layout_skips_empty_reviews_and_keeps_repeats(tmp_path, caplog):
    rows = _tutorial_rows(40)
    source = _write_tutorial_csv(tmp_path / "train_prepared.csv", rows)
    with caplog.at_level(logging.WARNING, logger="sentireview.data.sources"):
        manifest = prepare(source, tmp_path / "p", workers=1)
    assert manifest["source"]["kind"] == "csv" and manifest["source"]["layout"] == "tutorial"
    assert manifest["split"] == "tutorial"
    assert manifest["skipped"] == {"empty_review": 3, "first_rows": [4, 10, 21]}
    assert manifest["duplicates"]["extra_copies"] == 2
    assert sum(sum(c.values()) for c in manifest["counts"].values()) == 42  # 45 rows - 3 empty
    out = [r for s in ("train", "valid", "test") for r in _read(tmp_path / "p", s).to_pylist()]
    assert len(out) == 42 and {"csv/4", "csv/10", "csv/21"}.isdisjoint(r["id"] for r in out)
    for r in out:  # label 1 is positive, 0 negative, whatever the row's place
        assert r["label"] == (1 if "a joy" in r["raw"] else 0)
        assert r["label"] == rows[int(r["id"].removeprefix("csv/")) - 1][2]
    assert {r["label"] for r in out} == {0, 1}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"{source}: skipped 3 row(s) with an empty review: "
        "row 4 (index 501), row 10 (index 502), row 21 (index 503)"
    ]


def test_many_skipped_rows_are_named_up_to_a_bound(tmp_path, caplog, monkeypatch):
    rows = [(i, "" if i % 3 == 0 else f"Scene {i} felt {'bright' if i % 2 else 'flat'}", i % 2)
            for i in range(60)]  # fmt: skip
    source = _write_tutorial_csv(tmp_path / "messy.csv", rows)
    monkeypatch.setattr("sentireview.data.prepare.SKIPPED_ROWS_LISTED", 5)
    with caplog.at_level(logging.WARNING, logger="sentireview.data.sources"):
        manifest = prepare(source, tmp_path / "p", workers=1)
    assert manifest["skipped"] == {"empty_review": 20, "first_rows": [1, 4, 7, 10, 13]}
    [message] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    named = ", ".join(f"row {i + 1} (index {i})" for i in range(0, 30, 3))
    assert NAMED_ROWS == 10
    assert message == f"{source}: skipped 20 row(s) with an empty review: {named} and 10 more"


def test_tutorial_csv_without_the_index_column(tmp_path, caplog):
    source = tmp_path / "no_index.csv"
    source.write_text("review,label\nA warm little film,1\n,0\nA cold dull film,0\n", "utf-8")
    with caplog.at_level(logging.WARNING, logger="sentireview.data.sources"):
        manifest = prepare(source, tmp_path / "p", workers=1)
    assert manifest["source"]["layout"] == "tutorial" and manifest["skipped"]["empty_review"] == 1
    assert caplog.records[-1].getMessage().endswith("empty review: row 2")
    rows = [r for s in ("train", "valid", "test") for r in _read(tmp_path / "p", s).to_pylist()]
    assert sorted((r["id"], r["label"]) for r in rows) == [("csv/1", 1), ("csv/3", 0)]


def test_split_is_deterministic_and_stratified():
    labels = np.array([0] * 50 + [1] * 30)
    a = stratified_split(labels, (0.7, 0.1, 0.2), seed=17)
    b = stratified_split(labels, (0.7, 0.1, 0.2), seed=17)
    c = stratified_split(labels, (0.7, 0.1, 0.2), seed=18)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
    assert np.array_equal(np.sort(np.concatenate(a)), np.arange(80))
    assert [int((labels[p] == 1).sum()) for p in a] == [21, 3, 6]
    assert [len(p) for p in a] == [56, 8, 16]


def test_existing_output_needs_force(tmp_path):
    source = _write_csv(tmp_path / "r.csv", _csv_rows(20))
    out = tmp_path / "p"
    prepare(source, out, workers=1)
    with pytest.raises(DataError, match="--force"):
        prepare(source, out, workers=1)
    manifest = prepare(source, out, workers=1, recipe="recommended", force=True)
    assert json.loads((out / "manifest.json").read_text("utf-8"))["recipe"] == "recommended"
    assert manifest["recipe"] == "recommended"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p", "r.csv"]  # no temp folders


def test_force_replaces_only_a_prepared_dataset(tmp_path):
    folder = tmp_path / "precious"
    folder.mkdir()
    (folder / "thesis.txt").write_text("years of work", "utf-8")
    source = _write_csv(folder / "r.csv", _csv_rows(20))
    with pytest.raises(DataError, match="not a prepared dataset"):
        prepare(source, folder, workers=1, force=True)
    assert sorted(p.name for p in folder.iterdir()) == ["r.csv", "thesis.txt"]
    out = tmp_path / "p"
    prepare(source, out, workers=1)
    inside = _write_csv(out / "more.csv", _csv_rows(20))  # the source lies inside --out
    with pytest.raises(DataError, match="inside the output folder"):
        prepare(inside, out, workers=1, force=True)
    assert inside.exists()


BAD_CSV = {
    "missing column": (b"text,sentiment\nnice,positive\n", "header row: missing column 'review'"),
    "unknown label": (b"review,sentiment\ngood,positive\nmeh,neutral\n", "row 2: unknown"),
    "empty file": (b"", "empty file"),
    "blank file": (b"\n\n", "empty file"),
    "header only": (b"review,sentiment\n", "no data rows"),
    "undecodable": (
        b"review,sentiment\nok,negative\nfine,positive\nbad \xff\xfe,positive\n",
        "row 3: not valid UTF-8",
    ),
    "ragged row": (b"review,sentiment\nok,negative,extra\n", "row 1: 3 fields"),
    "empty review": (b"review,sentiment\n  ,negative\n", "row 1: empty review"),
    "both label columns": (
        b"review,sentiment,label\ngood,positive,1\n",
        "header row: both 'sentiment' \\(Kaggle layout\\) and 'label' \\(tutorial layout\\)",
    ),
    "no label column": (b",review,stars\n0,good,9\n", "header row: no label column"),
    "tutorial without review": (b",text,label\n0,good,1\n", "missing column 'review'"),
    "repeated column": (b"review,label,label\ngood,1,1\n", "column 'label' appears twice"),
    "tutorial label 2": (
        b",review,label\n0,good,1\n1,meh,2\n",
        "row 2: unknown label '2' \\(expected 0 or 1\\)",
    ),
    "tutorial label word": (b",review,label\n0,good,positive\n", "row 1: unknown label"),
    "tutorial all empty": (b",review,label\n0,,1\n1, ,0\n", "all 2 data rows have an empty"),
}


@pytest.mark.parametrize("case", BAD_CSV)
def test_bad_csv_is_refused_and_nothing_is_written(tmp_path, case):
    data, message = BAD_CSV[case]
    source = tmp_path / "bad.csv"
    source.write_bytes(data)
    with pytest.raises(DataError, match=message) as info:
        prepare(source, tmp_path / "out", workers=1)
    assert str(source) in str(info.value) and "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_folder_that_is_not_aclimdb(tmp_path):
    (tmp_path / "src" / "train" / "pos").mkdir(parents=True)
    with pytest.raises(DataError, match=r"not an aclImdb folder \(no train/neg/"):
        prepare(tmp_path / "src", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_undecodable_review_file_is_named(tmp_path, aclimdb):
    bad = aclimdb / "train" / "neg" / "3_2.txt"
    bad.write_bytes(b"caf\xe9 in latin-1")
    with pytest.raises(DataError, match="3_2.txt: not valid UTF-8"):
        prepare(aclimdb, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_archive_that_is_not_aclimdb(tmp_path, make_tar_gz):
    archive = make_tar_gz({"reviews/a.txt": b"hello"}, tmp_path / "x.tar.gz")
    with pytest.raises(DataError, match="not an aclImdb archive"):
        prepare(archive, tmp_path / "out")


def test_missing_source(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        prepare(tmp_path / "nope.csv", tmp_path / "out")


def test_parallel_cleaning_keeps_order():
    texts = [f"Review {i}: not bad at all!!! :) <br />" for i in range(40)]
    assert clean_parallel(texts, "tutorial", workers=2, chunk_size=5) == [
        clean_tutorial(t) for t in texts
    ]
