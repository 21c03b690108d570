"""sentireview.kinds: one table of what each model kind takes and gives."""

import numpy as np
import pytest

from sentireview.errors import SentiReviewError
from sentireview.kinds import KINDS, get_kind, sigmoid
from sentireview.vocab import Vocab


def test_probabilities_from_one_or_two_logits():
    lstm, transformer = get_kind("lstm"), get_kind("transformer")
    assert lstm.probabilities(np.array([0.0, 2.0])) == pytest.approx([0.5, 1 / (1 + np.exp(-2))])
    two = np.array([[1.0, 3.0], [0.5, 0.5]])
    softmax = np.exp(two) / np.exp(two).sum(axis=1, keepdims=True)
    assert transformer.probabilities(two) == pytest.approx(softmax[:, 1])
    assert sigmoid(np.array([-800.0, 800.0])).tolist() == [0.0, 1.0]  # no overflow


def test_the_word_encoder_pads_and_trims_with_the_artifacts_settings(tmp_path):
    Vocab.build(["good film", "bad film"], min_freq=1).save(tmp_path / "vocab.json")
    config = {"text": {"max_tokens": 2}, "model": {"pad_id": 0}}
    feed = get_kind("lstm").encoder(tmp_path, config)(["good bad film", ""])
    assert set(feed) == {"ids", "lengths"} and feed["ids"].dtype == np.int64
    assert feed["lengths"].tolist() == [2, 1]  # trimmed to 2; empty -> one <unk>
    assert feed["ids"][1].tolist() == [1, 0]


def test_examples_match_the_inputs_and_unknown_kinds_are_refused():
    config = {"model": {"vocab_size": 30}}
    for kind in KINDS.values():
        example = kind.example(config)
        assert list(example) == list(kind.inputs)
        assert len({len(v) for v in example.values()}) == 1  # one batch size
    with pytest.raises(SentiReviewError, match="unknown model kind"):
        get_kind("svm")
