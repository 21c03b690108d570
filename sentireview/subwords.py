"""Subword ids for a pretrained encoder: one tokenization for training and serving.

A pretrained encoder reads a limited number of tokens. Long reviews are cut either at the end
(``head``: the first tokens, as Hugging Face's ``truncation=True`` does) or in the middle
(``head+tail``: the first quarter of the budget and the last three quarters). Sun et al. 2019
("How to Fine-Tune BERT for Text Classification?", Table 3) found head+tail (128 + 382 of 512
tokens) the best way to cut IMDb reviews: a review's verdict is often in its last lines.

Only the ``tokenizers`` library is used (a ``tokenizer.json``), never ``transformers`` or
torch: the web process imports this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sentireview.errors import SentiReviewError

TRUNCATIONS = ("head", "head+tail")
TOKENIZER_FILE = "tokenizer.json"


def check_truncation(mode: str) -> str:
    if mode not in TRUNCATIONS:
        raise SentiReviewError(f"unknown truncation {mode!r}; expected one of {TRUNCATIONS}")
    return mode


def cut(ids: Sequence[int], budget: int, mode: str) -> list[int]:
    """At most ``budget`` of ``ids``: the first ones (head) or the first quarter of the budget
    and the last three quarters (head+tail)."""
    ids = list(ids)
    if len(ids) <= budget:
        return ids
    if mode == "head" or budget < 2:
        return ids[:budget]
    head = budget // 4
    return ids[:head] + ids[len(ids) - (budget - head) :]


def load_tokenizer(folder: str | Path) -> Any:
    """The ``tokenizers.Tokenizer`` saved in ``folder/tokenizer.json``."""
    from tokenizers import Tokenizer

    path = Path(folder) / TOKENIZER_FILE
    if not path.is_file():
        raise SentiReviewError(f"{folder} has no {TOKENIZER_FILE} (a fast tokenizer's file)")
    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:  # the Rust side raises plain Exception on a bad file
        raise SentiReviewError(f"cannot read {path}: {exc}") from None


class SubwordEncoder:
    """Texts -> token ids with the encoder's special tokens, at most ``max_length`` each."""

    def __init__(self, tokenizer: Any, max_length: int, truncation: str = "head") -> None:
        self.tokenizer = tokenizer
        self.truncation = check_truncation(truncation)
        tokenizer.no_truncation()
        tokenizer.no_padding()
        # The special tokens around one sequence ([CLS] ... [SEP], <s> ... </s>): find where
        # a one-word text lands inside its encoding with them.
        bare = tokenizer.encode("movie", add_special_tokens=False).ids
        full = tokenizer.encode("movie", add_special_tokens=True).ids
        at = next(
            (i for i in range(len(full) - len(bare) + 1) if full[i : i + len(bare)] == bare), None
        )
        if not bare or at is None:
            raise SentiReviewError("cannot find the tokenizer's special-token template")
        self.prefix, self.suffix = full[:at], full[at + len(bare) :]
        self.budget = max_length - len(self.prefix) - len(self.suffix)
        if self.budget < 1:
            raise SentiReviewError(f"max length {max_length} leaves no room for the review")
        self.max_length = max_length

    def __call__(self, texts: Sequence[str]) -> list[list[int]]:
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [
            self.prefix + cut(e.ids, self.budget, self.truncation) + self.suffix for e in encodings
        ]
