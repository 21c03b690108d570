"""sentireview.files: atomic writes, folder swaps and file hashes."""

import hashlib
import json

import pytest

from sentireview.files import atomic_path, building_folder, sha256_file, write_json


def test_a_failed_write_leaves_the_previous_file(tmp_path):
    path = tmp_path / "sub" / "a.json"
    write_json(path, {"n": 1})
    assert json.loads(path.read_text()) == {"n": 1}
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half a fi")
        raise RuntimeError("interrupted")
    assert json.loads(path.read_text()) == {"n": 1}
    assert [p.name for p in path.parent.iterdir()] == ["a.json"]  # no temporary file left
    write_json(path, {"é": [1, 2]}, indent=None)
    assert path.read_text(encoding="utf-8") == '{"é": [1, 2]}'


def test_a_folder_is_swapped_in_whole_or_not_at_all(tmp_path):
    out = tmp_path / "out"
    with building_folder(out) as tmp:
        (tmp / "one.txt").write_text("1")
    assert sorted(p.name for p in out.iterdir()) == ["one.txt"]
    with pytest.raises(KeyboardInterrupt), building_folder(out) as tmp:
        (tmp / "two.txt").write_text("2")
        raise KeyboardInterrupt
    assert sorted(p.name for p in out.iterdir()) == ["one.txt"]  # the previous folder stays
    with building_folder(out) as tmp:
        (tmp / "two.txt").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == ["two.txt"]  # replaced, nothing stale
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # nothing left beside it


def test_sha256_file(tmp_path):
    path = tmp_path / "blob"
    data = bytes(range(256)) * 5000  # more than one read block
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
