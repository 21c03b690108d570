"""The tutorial's starter model: Embedding -> bidirectional LSTM -> Dropout -> Linear -> logit.

The sigmoid is applied outside (``BCEWithLogitsLoss`` in training, the predictor at serving
time), which is numerically safer than the tutorial's ``sigmoid`` + ``BCELoss``.

Every token of every review is read: the review's representation is the final hidden state
of the forward direction (after its last real token) concatenated with the final state of the
backward direction (after its first token), whatever the padding. Two equivalent paths:

* ``packed`` (training, default): ``pack_padded_sequence`` so the LSTM stops at each length.
* export-friendly (``model.packed = False``, and automatically under ONNX export, where packed
  sequences do not export): the batch is run once right-padded and once left-padded (as one
  batch of 2B rows); the forward direction's state is gathered at position ``length - 1`` of
  the right-padded copy and the backward direction's at position ``T - length`` of the
  left-padded copy, so neither direction ever reads padding before a real token.
  Same numbers as the packed path up to float rounding (tested).
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
        self.packed = True  # False: the export-friendly path (same results)
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
        last = (lengths - 1).view(B, 1, 1)  # index of the last real token, right-padded
        if not self.config.bidirectional:
            out, _ = self.lstm(x)  # (B, T, H)
            return out.gather(1, last.expand(B, 1, H)).squeeze(1)
        # Left-padded copy: row b shifted right by T - length[b] (padding rolls to the front).
        positions = torch.arange(T, device=x.device).view(1, T)  # (1, T)
        shift = (T - lengths).view(B, 1)  # (B, 1)
        # left-padded[t] = right-padded[t - shift] for t >= shift, <pad> before. (A clamp, not a
        # modulo: the ONNX exporter cannot take a remainder by a symbolic length.)
        source = (positions - shift).clamp(min=0)  # (B, T)
        left = x.gather(1, source.unsqueeze(-1).expand_as(x))  # (B, T, E)
        is_pad = (positions < shift).unsqueeze(-1)  # (B, T, 1)
        left = torch.where(is_pad, self.embedding.weight[self.config.pad_id].view(1, 1, -1), left)
        out, _ = self.lstm(torch.cat([x, left], dim=0))  # (2B, T, 2H)
        fwd = out[:B].gather(1, last.expand(B, 1, 2 * H))[:, 0, :H]  # after the last token
        first = shift.view(B, 1, 1).expand(B, 1, 2 * H)
        bwd = out[B:].gather(1, first)[:, 0, H:]  # backward direction after the first token
        return torch.cat([fwd, bwd], dim=-1)  # (B, 2H)
