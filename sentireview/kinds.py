"""Model kinds: what each kind of artifact takes as input and gives as output.

The one place that knows, per kind (``config["kind"]``), how texts become the model's input
arrays, what those inputs are called (the ``forward`` arguments in order, and the ONNX graph's
input names) and how its logits become P(positive). The predictor, both back ends and the
ONNX export use it. No torch here (the web process imports it).

* ``lstm``: a vocabulary (``vocab.json``); inputs ``ids`` (B, T) and
  ``lengths`` (B,), int64, right-padded (an empty review is one <unk>); one logit per review.
* ``transformer``: the encoder's ``tokenizer/tokenizer.json``, read with the ``tokenizers``
  library (:mod:`sentireview.subwords`: the artifact's token limit and truncation); inputs
  ``input_ids`` and ``attention_mask`` (B, T) int64; two logits per review.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentireview.errors import SentiReviewError
from sentireview.subwords import SubwordEncoder, load_tokenizer
from sentireview.vocab import Vocab, pad_ids

#: What a kind's encoder returns and a back end takes: the model's named input arrays.
Feed = dict[str, np.ndarray]
Encoder = Callable[[list[str]], Feed]

VOCAB = "vocab.json"
TOKENIZER = "tokenizer"


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function (float64)."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@dataclass(frozen=True)
class Kind:
    """How one kind of model is fed and read."""

    name: str
    inputs: tuple[str, ...]  # forward()'s arguments in order = the ONNX graph's input names
    two_logits: bool  # (B, 2) logits (softmax) instead of one (B,) logit (sigmoid)

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """P(positive) per review, float64 (B,)."""
        logits = np.asarray(logits, dtype=np.float64)
        if self.two_logits:
            return sigmoid(logits[:, 1] - logits[:, 0])
        return sigmoid(logits).reshape(-1)

    def log_odds(self, logits: np.ndarray) -> np.ndarray:
        """log(P(positive) / P(negative)) per review, float64 (B,)."""
        logits = np.asarray(logits, dtype=np.float64)
        if self.two_logits:
            return logits[:, 1] - logits[:, 0]
        return logits.reshape(-1)

    def encoder(self, run_dir: Path, config: dict[str, Any]) -> Encoder:
        """Prepared texts -> the model's input arrays, with the artifact's vocabulary or
        tokenizer and its token limit."""
        max_tokens = config["text"].get("max_tokens")
        if not self.two_logits:
            vocab = Vocab.load(Path(run_dir) / VOCAB)
            pad_id = int(config["model"].get("pad_id", 0))

            def encode_words(texts: list[str]) -> Feed:
                ids, lengths = pad_ids([vocab.encode(t, max_tokens) for t in texts], pad_id)
                return {"ids": ids, "lengths": lengths}

            return encode_words
        folder = Path(run_dir) / TOKENIZER
        if not folder.is_dir():
            raise SentiReviewError(f"{run_dir} has no {TOKENIZER}/ folder")
        encode = SubwordEncoder(
            load_tokenizer(folder),
            int(max_tokens or 512),
            config["text"].get("truncation", "head"),
        )
        pad_id = config["model"].get("encoder_config", {}).get("pad_token_id")

        def encode_tokens(texts: list[str]) -> Feed:
            ids, lengths = pad_ids(encode(texts), int(pad_id or 0))
            mask = (np.arange(ids.shape[1])[None, :] < lengths[:, None]).astype(np.int64)
            return {"input_ids": ids, "attention_mask": mask}

        return encode_tokens

    def example(self, config: dict[str, Any]) -> Feed:
        """Inputs of three reviews of different lengths (the ONNX export traces and checks
        with them; sizes avoid 0 and 1, which torch.export would specialise on)."""
        rng = np.random.default_rng(17)
        if not self.two_logits:
            vocab_size = int(config["model"]["vocab_size"])
            lengths = np.array([11, 3, 7], dtype=np.int64)
            ids = rng.integers(2, vocab_size, size=(3, 11), dtype=np.int64)
            ids[np.arange(11)[None, :] >= lengths[:, None]] = int(config["model"].get("pad_id", 0))
            return {"ids": ids, "lengths": lengths}
        mask = np.ones((3, 12), dtype=np.int64)
        mask[1, 5:] = 0
        mask[2, 9:] = 0
        vocab_size = int(config["model"].get("encoder_config", {}).get("vocab_size", 2000))
        low = 1000 if vocab_size > 2000 else 5  # past the special tokens of any tokenizer
        ids = rng.integers(low, min(vocab_size, 2000), size=(3, 12), dtype=np.int64)
        return {"input_ids": ids, "attention_mask": mask}


_WORDS = ("ids", "lengths")
KINDS: dict[str, Kind] = {
    "lstm": Kind("lstm", _WORDS, two_logits=False),
    "transformer": Kind("transformer", ("input_ids", "attention_mask"), two_logits=True),
}


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        known = tuple(KINDS)
        raise SentiReviewError(f"unknown model kind {name!r}; expected one of {known}") from None
