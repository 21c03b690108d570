"""Several LSTM classifiers read each review and one wide part is added: an ensemble that is
still one module, one ``state_dict`` and one ONNX graph with the LSTM's inputs and output.

``forward(ids, lengths) -> logits (B,)`` = ``mix[0] * lstm_0 + ... + mix[M-1] * lstm_{M-1} +
mix[M] * wide + mix[M+1]``, where ``lstm_i`` is member ``i``'s logit without a wide part and
``wide`` is the hashed n-gram sum of :class:`~sentireview.models.lstm.LSTMClassifier`. The
members are trained apart (same vocabulary and shape) and combined by
:func:`sentireview.ensemble.combine`, which sets ``mix`` so that the output is the mean of the
members' own logits (the wide part being linear, the members' wide parts fold into one).

State dict: ``members.{i}.embedding.weight``, ``members.{i}.lstm.*``, ``members.{i}.fc.*``,
``wide.weight`` (with a wide part) and ``mix``.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from sentireview.models.lstm import LSTMClassifier, LSTMConfig, hashed_ngram_logits


def build_lstm(config: LSTMConfig) -> nn.Module:
    """The model an artifact's LSTM config describes: one classifier, or an ensemble when
    ``config.members > 1``."""
    return LSTMClassifier(config) if config.members == 1 else LSTMEnsemble(config)


def member_config(config: LSTMConfig) -> LSTMConfig:
    """One member's shape: the ensemble's, without the (shared) wide part."""
    return dataclasses.replace(config, members=1, ngram_buckets=0)


class LSTMEnsemble(nn.Module):
    """``config.members`` LSTM classifiers and one wide part, weighted by ``mix``."""

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        self.config = config
        n = config.members
        self.members = nn.ModuleList(LSTMClassifier(member_config(config)) for _ in range(n))
        self.wide = None
        if config.ngram_buckets:
            self.wide = nn.Embedding(config.ngram_buckets, 1, padding_idx=0)
            nn.init.zeros_(self.wide.weight)
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
            logits.append(hashed_ngram_logits(self.wide, ids, lengths, self.config))
        else:
            logits.append(torch.zeros_like(logits[0]))
        stacked = torch.stack(logits, dim=-1)
        if parts:
            return stacked
        return stacked @ self.mix[:-1] + self.mix[-1]
