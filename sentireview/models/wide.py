"""The shipped model's "wide" part beside the LSTM (as in wide-and-deep models).

Every distinct word n-gram of 1 to ``ngram_orders`` words is hashed, from the word ids inside
the model, into one of ``ngram_buckets`` weights; their sum is the wide logit, and the output
is a weighted sum of the LSTM's logit and the wide one (``mix``). The hashing is integer
arithmetic on the ids, so the model's inputs (and the ONNX graph's) stay the LSTM's. How the
parts are trained: :mod:`sentireview.training.wide`.

State dict: the LSTM's (``embedding.*``, ``lstm.*``, ``fc.*``), ``wide.weight`` and ``mix``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from sentireview.models.lstm import LSTMClassifier, LSTMConfig
from sentireview.ngram_hash import HASH_PRIMES, ORDER_OFFSET


@dataclass
class WideLSTMConfig(LSTMConfig):
    """An LSTM's shape and its wide part's."""

    ngram_buckets: int = 2**21  # hashed n-gram weights
    ngram_orders: int = 3  # n-grams of 1 to this many words

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.ngram_buckets < 2 or self.ngram_orders < 1:
            raise ValueError("ngram_buckets must be at least 2, ngram_orders at least 1")


class WideLSTMClassifier(LSTMClassifier):
    """An :class:`LSTMClassifier` plus the wide part: logit = ``mix[0] * deep + mix[1] * wide
    + mix[2]``."""

    def __init__(self, config: WideLSTMConfig) -> None:
        super().__init__(config)
        # One weight per bucket, starting at zero (bucket 0: padding).
        self.wide = nn.Embedding(config.ngram_buckets, 1, padding_idx=0)
        nn.init.zeros_(self.wide.weight)
        # How the two parts' logits are weighted: [deep, wide] and a bias. Not trained by the
        # optimizer: fitted on held-out reviews after training (see training.wide).
        self.mix = nn.Parameter(torch.tensor([1.0, 1.0, 0.0]), requires_grad=False)

    def forward(
        self, ids: torch.Tensor, lengths: torch.Tensor, parts: bool = False
    ) -> torch.Tensor:
        """Logits (B,); ``parts=True``: the two parts' logits (B, 2), [deep, wide]."""
        lengths = lengths.clamp(min=1)
        deep = super().forward(ids, lengths)
        wide = self.wide_logits(ids, lengths)
        if parts:
            return torch.stack([deep, wide], -1)
        return self.mix[0] * deep + self.mix[1] * wide + self.mix[2]

    def wide_logits(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The summed weights of every distinct n-gram of each review, (B,)."""
        hashes = ngram_hashes(ids, lengths, self.config.ngram_orders, self.wide.num_embeddings)
        return self.wide(hashes).squeeze(-1).sum(dim=1)


def ngram_hashes(
    ids: torch.Tensor, lengths: torch.Tensor, orders: int, buckets: int
) -> torch.Tensor:
    """Bucket ids in ``[1, buckets)`` of the distinct word n-grams of 1 to ``orders`` words of
    each review, sorted, (B, N); repeats, and n-grams that run past a review's length, get
    bucket 0 (the wide part's zero padding row).
    The hash of an n-gram is a polynomial in its word ids, reduced modulo ``buckets - 1``
    after every step, so intermediate values stay below 2**55 (exact in int64, also in ONNX
    Runtime); each order adds its own offset so that "good" and the pair ("good", <pad>) differ.
    """
    B, T = ids.shape
    modulus = buckets - 1
    positions = torch.arange(T, device=ids.device).view(1, T)
    pieces = []
    h = ids
    for n in range(1, orders + 1):
        if n > 1:
            if T - n + 1 <= 0:
                break
            h = (h[:, :-1] * HASH_PRIMES[(n - 2) % 2] + ids[:, n - 1 :]) % modulus
        width = T - n + 1
        bucket = (h + n * ORDER_OFFSET) % modulus + 1
        valid = positions[:, :width] + n <= lengths.view(B, 1)
        pieces.append(torch.where(valid, bucket, torch.zeros_like(bucket)))
    hashes = torch.cat(pieces, dim=1)
    # Each distinct n-gram counts once per review (binary features, as in NBSVM): after
    # sorting, a bucket equal to its left neighbour becomes 0.
    hashes = hashes.sort(dim=1).values
    first = torch.zeros_like(hashes[:, :1], dtype=torch.bool)
    repeat = torch.cat([first, hashes[:, 1:] == hashes[:, :-1]], dim=1)
    return hashes.masked_fill(repeat, 0)
