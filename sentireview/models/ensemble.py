"""Several LSTM classifiers read each review and one wide part is added: an ensemble that is
still one module, one ``state_dict`` and one ONNX graph with the LSTM's inputs and output
(model kind ``lstm_ensemble``).

``forward(ids, lengths) -> logits (B,)`` = ``mix[0] * lstm_0 + ... + mix[M-1] * lstm_{M-1} +
mix[M] * wide + mix[M+1]``, where ``lstm_i`` is member ``i``'s logit and ``wide`` the hashed
n-gram sum of :mod:`sentireview.models.wide`. The members are trained apart (same vocabulary
and shape) and combined by :func:`sentireview.ensemble.combine`, which sets ``mix`` so that
the output is the mean of the members' own logits (the wide part being linear, the members'
wide parts fold into one).

State dict: ``members.{i}.embedding.weight``, ``members.{i}.lstm.*``, ``members.{i}.fc.*``,
``wide.weight`` (with a wide part) and ``mix``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from sentireview.models.lstm import LSTMClassifier, LSTMConfig
from sentireview.models.wide import check_ngrams, hashed_ngram_logits, wide_embedding


@dataclass
class EnsembleConfig(LSTMConfig):
    """Each member's shape, how many members, and the shared wide part (0 buckets: none)."""

    members: int = 2
    ngram_buckets: int = 0
    ngram_orders: int = 3

    def __post_init__(self) -> None:
        super().__post_init__()
        check_ngrams(self.ngram_buckets, self.ngram_orders, allow_none=True)
        if self.members < 2:
            raise ValueError("an ensemble has at least two members")

    def member(self) -> LSTMConfig:
        """One member's shape."""
        names = {f.name for f in dataclasses.fields(LSTMConfig)}
        return LSTMConfig(**{k: v for k, v in dataclasses.asdict(self).items() if k in names})


class LSTMEnsemble(nn.Module):
    """``config.members`` LSTM classifiers and one wide part, weighted by ``mix``."""

    def __init__(self, config: EnsembleConfig) -> None:
        super().__init__()
        self.config = config
        n = config.members
        self.members = nn.ModuleList(LSTMClassifier(config.member()) for _ in range(n))
        self.wide = wide_embedding(config.ngram_buckets) if config.ngram_buckets else None
        # Set by sentireview.ensemble.combine; by default the members' mean, wide weight 1.
        weights = [1.0 / n] * n + [1.0 if self.wide is not None else 0.0, 0.0]
        self.mix = nn.Parameter(torch.tensor(weights), requires_grad=False)

    def forward(
        self, ids: torch.Tensor, lengths: torch.Tensor, parts: bool = False
    ) -> torch.Tensor:
        """Logits (B,); ``parts=True``: the members' logits and the wide one, (B, M + 1)."""
        lengths = lengths.clamp(min=1)
        logits = [member(ids, lengths) for member in self.members]
        if self.wide is not None:
            logits.append(hashed_ngram_logits(self.wide, ids, lengths, self.config.ngram_orders))
        else:
            logits.append(torch.zeros_like(logits[0]))
        stacked = torch.stack(logits, dim=-1)
        if parts:
            return stacked
        return stacked @ self.mix[:-1] + self.mix[-1]
