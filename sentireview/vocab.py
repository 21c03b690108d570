"""Word vocabulary for the LSTM: cleaned text -> token ids, saved as JSON; id lists -> padded
arrays (:func:`pad_ids`).

No torch or pandas on purpose: the web process (no torch, no pandas) loads it to encode reviews.
The cleaned text (the `clean` column, or `sentireview.text.clean` at prediction time) is
already tokenized and joined with single spaces, so tokens are ``text.split()``.

Index 0 is ``<pad>`` and index 1 is ``<unk>``; the remaining words are ordered by decreasing
frequency, ties broken alphabetically, so building twice on the same texts gives the same ids.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sentireview.errors import SentiReviewError
from sentireview.files import write_json

PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0
UNK_ID = 1
FORMAT = 1


@dataclass
class Vocab:
    """An ordered word list (``itos``) with its reverse map; index 0 = <pad>, 1 = <unk>."""

    itos: list[str]
    min_freq: int = 3
    max_size: int | None = None
    stoi: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.itos[:2] != [PAD, UNK]:
            raise SentiReviewError(f"vocabulary must start with {PAD!r}, {UNK!r}")
        self.stoi = {word: i for i, word in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise SentiReviewError("vocabulary has duplicate words")

    @classmethod
    def build(cls, texts: Iterable[str], min_freq: int = 3, max_size: int | None = None) -> Vocab:
        """Count whitespace tokens over ``texts`` (the training split only) and keep words
        seen at least ``min_freq`` times, the ``max_size`` most frequent if given (the two
        special tokens are not counted in ``max_size``)."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(text.split())
        counts.pop(PAD, None)
        counts.pop(UNK, None)
        words = sorted(
            (w for w, c in counts.items() if c >= min_freq), key=lambda w: (-counts[w], w)
        )
        if max_size is not None:
            words = words[:max_size]
        return cls([PAD, UNK, *words], min_freq=min_freq, max_size=max_size)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word: object) -> bool:
        return word in self.stoi

    def encode(self, text: str, max_tokens: int | None = None) -> list[int]:
        """Ids of the first ``max_tokens`` words of ``text`` (all if None); unknown -> 1.

        An empty text gives an empty list; callers that need one token (the model reads at
        least one step) use ``[UNK_ID]`` in its place."""
        words = text.split()
        if max_tokens is not None:
            words = words[:max_tokens]
        get = self.stoi.get
        return [get(w, UNK_ID) for w in words]

    def decode(self, ids: Iterable[int]) -> str:
        return " ".join(self.itos[i] for i in ids)

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "itos": self.itos,
            "min_freq": self.min_freq,
            "max_size": self.max_size,
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write ``vocab.json`` (UTF-8, atomically)."""
        write_json(path, self.to_dict(), indent=None)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SentiReviewError(f"vocabulary not found: {path}") from None
        except json.JSONDecodeError as exc:
            raise SentiReviewError(f"vocabulary {path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("itos"), list):
            raise SentiReviewError(f"vocabulary {path} has no 'itos' list")
        return cls(
            list(data["itos"]), min_freq=int(data.get("min_freq", 3)), max_size=data.get("max_size")
        )


def pad_ids(
    ids: Sequence[Sequence[int]], pad_id: int = PAD_ID, unk_id: int = UNK_ID
) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad id lists into ``ids`` (B, T) int64 and ``lengths`` (B,) int64.

    An empty list becomes ``[unk_id]``: the model reads at least one step."""
    rows = [list(r) if len(r) else [unk_id] for r in ids]
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    out = np.full((len(rows), int(lengths.max(initial=1))), pad_id, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out, lengths
