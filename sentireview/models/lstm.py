"""The tutorial's starter model: Embedding -> bidirectional LSTM -> Dropout -> Linear -> logit.

The sigmoid is applied outside (``BCEWithLogitsLoss`` in training, the predictor at serving
time), which is numerically safer than the tutorial's ``sigmoid`` + ``BCELoss``.

Every token of every review is read: the review's representation is the final hidden state
of the forward direction (after its last real token) concatenated with the final state of the
backward direction (after its first token), whatever the padding. Two equivalent paths:

* packed (``model.packed = True``): ``pack_padded_sequence`` so the LSTM stops at each length.
* unpacked (``model.packed = False``, and automatically under ONNX export, where packed
  sequences do not export): each direction runs over a plain (B, T, E) tensor, the backward
  one over the reviews reversed within their lengths; the states are gathered at position
  ``length - 1``. The LSTM is causal, so padding after a review's end never reaches them.
  Same numbers as the packed path up to float rounding (tested), and on CPU several times
  faster (packed sequences miss the fused kernel): the default.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence


@dataclass
class LSTMConfig:
    """Shape of the LSTM classifier (defaults: the tutorial's)."""

    vocab_size: int
    embed_dim: int = 500
    hidden: int = 128
    dropout: float = 0.3
    bidirectional: bool = True
    pad_id: int = 0


def _exporting() -> bool:
    return bool(torch.onnx.is_in_onnx_export() or torch.compiler.is_exporting())


class LSTMClassifier(nn.Module):
    """``forward(ids (B, T) int64, lengths (B,) int64) -> logits (B,)``; P(positive) = sigmoid."""

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        self.config = config
        self.packed = False  # True: pack_padded_sequence (same results, slower on CPU)
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
        self.fc = nn.Linear(directions * config.hidden, 1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # An empty review still has one step (the collate functions give it <unk>).
        lengths = lengths.clamp(min=1)
        x = self.embedding(ids)  # (B, T, E)
        if self.packed and not _exporting():
            features = self._final_states_packed(x, lengths)
        else:
            features = self._final_states_masked(x, lengths)
        return self.fc(self.dropout(features)).squeeze(-1)  # (B,)

    def _final_states_packed(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)  # h: (directions, B, H), in the caller's batch order
        return torch.cat(list(h), dim=-1)  # (B, directions * H)

    def _final_states_masked(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        H = self.config.hidden
        last = (lengths - 1).view(B, 1, 1).expand(B, 1, H)  # last real token, right-padded
        h0 = x.new_zeros(1, B, H)
        fwd = self._direction(x, h0, "")  # (B, T, H); the LSTM is causal: padding after a
        feats = [fwd.gather(1, last).squeeze(1)]  # review's last token never reaches it
        if self.config.bidirectional:
            # Each review reversed within its length: x_rev[t] = x[length - 1 - t]; positions
            # past the length hold copies of the first token, never read (causality again).
            positions = torch.arange(T, device=x.device).view(1, T)
            source = ((lengths - 1).view(B, 1) - positions).clamp(min=0)  # (B, T)
            x_rev = x.gather(1, source.unsqueeze(-1).expand_as(x))  # (B, T, E)
            bwd = self._direction(x_rev, h0, "_reverse")  # the backward weights, run forward
            feats.append(bwd.gather(1, last).squeeze(1))
        return torch.cat(feats, dim=-1)  # (B, directions * H)

    def _direction(self, x: torch.Tensor, h0: torch.Tensor, suffix: str) -> torch.Tensor:
        """One direction of ``self.lstm`` run left to right over ``x`` (the same fused
        kernel nn.LSTM uses for unpacked input: far faster on CPU than packed sequences)."""
        lstm = self.lstm
        weights = [
            getattr(lstm, f"{n}_l0{suffix}")
            for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        ]
        out, _, _ = torch.lstm(x, (h0, h0), weights, True, 1, 0.0, self.training, False, True)
        return out  # (B, T, H)
