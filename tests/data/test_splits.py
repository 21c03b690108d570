"""Reading prepared splits (sentireview.data.splits), for training and everything else."""

import pandas as pd
import pytest

from sentireview.data.splits import read_split
from sentireview.errors import DataError


def _write(folder, labels):
    folder.mkdir(exist_ok=True)
    rows = [
        {"id": f"x/{i}", "rating": -1, "raw": f"r{i}", "text": f"t{i}", "clean": f"c{i}",
         "label": y}
        for i, y in enumerate(labels)
    ]
    pd.DataFrame(rows).to_parquet(folder / "train.parquet")
    return folder


def test_limit_samples_both_labels_even_when_the_file_is_sorted_by_label(tmp_path):
    data = _write(tmp_path / "d", [0] * 100 + [1] * 100)  # as prepare writes them: by source
    texts, labels = read_split(data, "train", "clean", limit=40)
    assert len(texts) == 40 and 10 < sum(labels) < 30
    assert texts == sorted(texts, key=lambda t: int(t[1:]))  # file order kept
    assert read_split(data, "train", "clean", limit=40) == (texts, labels)  # seeded


def test_unlabelled_rows_are_skipped_and_an_empty_split_is_an_error(tmp_path):
    data = _write(tmp_path / "d", [-1, 1, 0, -1])
    assert read_split(data, "train", "text") == (["t1", "t2"], [1, 0])
    _write(tmp_path / "e", [-1, -1])
    with pytest.raises(DataError, match="no labelled reviews"):
        read_split(tmp_path / "e", "train", "text")


def test_soft_labels_stay_probabilities(tmp_path):
    """A teacher's probabilities (distillation data) are kept; 0/1 floats become ints."""
    _, soft = read_split(_write(tmp_path / "s", [0.0, 1.0, 0.25, -1.0]), "train", "clean")
    assert soft == [0.0, 1.0, 0.25]
    _, hard = read_split(_write(tmp_path / "h", [0.0, 1.0, -1.0]), "train", "clean")
    assert hard == [0, 1] and all(type(y) is int for y in hard)


def test_a_scored_split_round_trips_with_soft_labels(tmp_path):
    from sentireview.data.splits import read_frame, write_scored_split

    data = _write(tmp_path / "d", [0, 1])
    path = write_scored_split(
        tmp_path / "s" / "scored.parquet", {"clean": ["a b", ""], "text": ["A b", ""]}, [0.25, 0.9]
    )
    texts, labels = read_split(data, str(path), "clean")
    assert texts == ["a b", ""] and labels == [0.25, 0.9]
    assert read_split(data, str(path), "text")[0] == ["A b", ""]
    assert list(read_frame(data, str(path), ["label"])["label"]) == [0.25, 0.9]
    with pytest.raises(DataError, match=r"2 texts \(clean\) but 1 scores"):
        write_scored_split(tmp_path / "bad.parquet", {"clean": ["a", "b"]}, [0.5])
    with pytest.raises(DataError, match="not found"):
        read_frame(data, "valid", ["clean"])
