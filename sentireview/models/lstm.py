"""The tutorial's starter model: Embedding -> bidirectional LSTM -> Dropout -> Linear -> logit.

The sigmoid is applied outside (``BCEWithLogitsLoss`` in training, the predictor at serving
time), which is numerically safer than the tutorial's ``sigmoid`` + ``BCELoss``.

Every token of every review is read: the review's representation is the final hidden state
of the forward direction (after its last real token) concatenated with the final state of the
backward direction (after its first token), whatever the padding. Each direction runs over a
plain (B, T, E) tensor, the backward one over the reviews reversed within their lengths, and
the states are gathered at position ``length - 1``; the LSTM is causal, so padding after a
review's end never reaches them. This is the same as packing the sequences, and on a CPU
several times faster (packed sequences miss the fused kernel; docs/training.md), and it
exports to ONNX as it is.

``pooling="last_max"`` (used by the shipped model) adds, per direction, the element-wise
maximum of the outputs over the review's real tokens: what a long review says anywhere, not
only what survives to its ends.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

POOLINGS = ("last", "last_max")


@dataclass
class LSTMConfig:
    """Shape of the LSTM classifier (defaults: the tutorial's)."""

    vocab_size: int
    embed_dim: int = 500
    hidden: int = 128
    dropout: float = 0.3
    bidirectional: bool = True
    pad_id: int = 0
    pooling: str = "last"  # last: the tutorial's final states | last_max: + max over time

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {self.pooling!r}; expected one of {POOLINGS}")


class LSTMClassifier(nn.Module):
    """``forward(ids (B, T) int64, lengths (B,) int64) -> logits (B,)``; P(positive) = sigmoid."""

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(
            config.vocab_size, config.embed_dim, padding_idx=config.pad_id
        )
        self.lstm = nn.LSTM(
            config.embed_dim,
            config.hidden,
            num_layers=1,
            batch_first=True,
            bidirectional=config.bidirectional,
        )
        self.dropout = nn.Dropout(config.dropout)
        directions = 2 if config.bidirectional else 1
        pools = 2 if config.pooling == "last_max" else 1
        self.fc = nn.Linear(pools * directions * config.hidden, 1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits (B,). An empty review still has one step (the collate functions give it
        <unk>)."""
        lengths = lengths.clamp(min=1)
        B, T = ids.shape
        H = self.config.hidden
        outputs = self.direction_outputs(self.embedding(ids), lengths)  # each (B, T, H)
        last = (lengths - 1).view(B, 1, 1).expand(B, 1, H)  # last real token, right-padded
        features = [out.gather(1, last).squeeze(1) for out in outputs]
        if self.config.pooling == "last_max":
            padding = torch.arange(T, device=ids.device).view(1, T, 1) >= lengths.view(B, 1, 1)
            features += [out.masked_fill(padding, float("-inf")).amax(dim=1) for out in outputs]
        return self.fc(self.dropout(torch.cat(features, dim=-1))).squeeze(-1)  # (B,)

    def direction_outputs(self, x: torch.Tensor, lengths: torch.Tensor) -> list[torch.Tensor]:
        """Each direction's outputs over the embedded reviews ``x`` (B, T, E), (B, T, H) each:
        the forward one at position t has read tokens 0..t; the backward one ran over each
        review reversed within its length, so at position t it has read the last t + 1
        tokens (right to left). Positions past a review's length hold no meaning."""
        h0 = x.new_zeros(1, x.shape[0], self.config.hidden)
        outputs = [self._direction(x, h0, "")]
        if self.config.bidirectional:
            outputs.append(self._direction(reverse_within(x, lengths), h0, "_reverse"))
        return outputs

    def _direction(self, x: torch.Tensor, h0: torch.Tensor, suffix: str) -> torch.Tensor:
        """One direction of ``self.lstm`` run left to right over ``x``: (B, T, H)."""
        lstm = self.lstm
        weights = [
            getattr(lstm, f"{n}_l0{suffix}")
            for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        ]
        out, _, _ = torch.lstm(x, (h0, h0), weights, True, 1, 0.0, self.training, False, True)
        return out


def reverse_within(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each review reversed within its length along dim 1 of ``x`` ((B, T) ids or (B, T, E)):
    x_rev[t] = x[length - 1 - t]; positions past the length hold copies of the first token,
    never read (the LSTM is causal)."""
    B, T = x.shape[:2]
    positions = torch.arange(T, device=x.device).view(1, T)
    source = ((lengths.to(x.device) - 1).view(B, 1) - positions).clamp(min=0)  # (B, T)
    if x.ndim == 3:
        source = source.unsqueeze(-1).expand_as(x)
    return x.gather(1, source)
