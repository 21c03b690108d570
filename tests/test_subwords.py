"""Subword ids: truncation keeps the right tokens, special tokens wrap every review."""

import pytest

from sentireview.errors import SentiReviewError
from sentireview.subwords import SubwordEncoder, check_truncation, cut, load_tokenizer
from tests.helpers.fake_reviews import make_tiny_encoder


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    words = [f"w{i}" for i in range(40)]
    return make_tiny_encoder(tmp_path_factory.mktemp("enc"), words=words)


def test_cut_keeps_head_or_head_and_tail():
    ids = list(range(100))
    assert cut(ids, 8, "head") == [0, 1, 2, 3, 4, 5, 6, 7]
    # a quarter of the budget from the start, the rest from the end
    assert cut(ids, 8, "head+tail") == [0, 1, 94, 95, 96, 97, 98, 99]
    assert cut(ids, 10, "head+tail") == [0, 1, 92, 93, 94, 95, 96, 97, 98, 99]
    assert cut([5, 6, 7], 8, "head+tail") == [5, 6, 7]  # short reviews are whole
    assert cut(ids, 1, "head+tail") == [0]


def test_encoder_wraps_and_cuts_reviews(tokenizer_dir):
    tok = load_tokenizer(tokenizer_dir)
    vocab = tok.get_vocab()
    text = " ".join(f"w{i}" for i in range(20))
    head = SubwordEncoder(tok, max_length=10, truncation="head")
    both = SubwordEncoder(tok, max_length=10, truncation="head+tail")
    w = [vocab[f"w{i}"] for i in range(20)]
    s, e = vocab["<s>"], vocab["</s>"]
    assert head([text]) == [[s, *w[:8], e]]
    assert both([text]) == [[s, w[0], w[1], *w[14:], e]]
    assert head(["w3 w4", ""]) == [[s, w[3], w[4], e], [s, e]]


def test_head_matches_hugging_face_truncation(tokenizer_dir):
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    texts = [" ".join(f"w{(i * 7 + k) % 40}" for k in range(n)) for i, n in enumerate((3, 15, 31))]
    ours = SubwordEncoder(load_tokenizer(tokenizer_dir), 12, "head")(texts)
    assert ours == hf(texts, truncation=True, max_length=12)["input_ids"]


def test_bad_settings_are_errors(tokenizer_dir, tmp_path):
    with pytest.raises(SentiReviewError, match="unknown truncation"):
        check_truncation("middle")
    with pytest.raises(SentiReviewError, match="no room"):
        SubwordEncoder(load_tokenizer(tokenizer_dir), 2)
    with pytest.raises(SentiReviewError, match="tokenizer.json"):
        load_tokenizer(tmp_path)
    (tmp_path / "tokenizer.json").write_text("{not json")
    with pytest.raises(SentiReviewError, match="cannot read"):
        load_tokenizer(tmp_path)
