import json

import pytest

from sentireview.errors import SentiReviewError
from sentireview.vocab import PAD_ID, UNK_ID, Vocab

TEXTS = ["good film good", "bad film", "good bad film the", "film"]


def test_build_min_freq_and_order():
    v = Vocab.build(TEXTS, min_freq=2)
    assert v.itos[:2] == ["<pad>", "<unk>"]
    # film 4, good 3, bad 2; "the" once -> dropped
    assert v.itos[2:] == ["film", "good", "bad"]
    assert "the" not in v


def test_max_size_and_ties_are_deterministic():
    v1 = Vocab.build(["b a c", "c a b"], min_freq=1, max_size=2)
    v2 = Vocab.build(["c a b", "b a c"], min_freq=1, max_size=2)
    assert v1.itos == v2.itos == ["<pad>", "<unk>", "a", "b"]


def test_encode_unknown_and_trim():
    v = Vocab.build(TEXTS, min_freq=2)
    assert v.encode("good unseen film") == [v.stoi["good"], UNK_ID, v.stoi["film"]]
    assert v.encode("good bad film good", max_tokens=2) == [v.stoi["good"], v.stoi["bad"]]
    assert v.encode("") == []
    assert PAD_ID not in v.encode("good bad film the x")
    assert v.decode(v.encode("good film")) == "good film"


def test_save_load_round_trip(tmp_path):
    v = Vocab.build(TEXTS, min_freq=1, max_size=10)
    v.save(tmp_path / "vocab.json")
    data = json.loads((tmp_path / "vocab.json").read_text())
    assert (
        data["itos"][:2] == ["<pad>", "<unk>"] and data["min_freq"] == 1 and data["max_size"] == 10
    )
    w = Vocab.load(tmp_path / "vocab.json")
    assert w.itos == v.itos and w.stoi == v.stoi and w.min_freq == 1


def test_load_errors(tmp_path):
    with pytest.raises(SentiReviewError, match="not found"):
        Vocab.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(SentiReviewError):
        Vocab.load(tmp_path / "bad.json")
    with pytest.raises(SentiReviewError):
        Vocab(["a", "b"])


def test_no_torch_import():
    import subprocess
    import sys

    code = "import sys, sentireview.vocab; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
