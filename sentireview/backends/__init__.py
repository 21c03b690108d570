"""Inference back ends: the small protocol that the PyTorch and ONNX Runtime back ends share.

``sentireview.predict.Predictor`` turns texts into model inputs (vocabulary ids for the LSTM,
tokenizer arrays for transformers) and asks a back end for P(positive). A back end module
exposes one class constructed as ``Backend(run_dir: Path, config: dict)`` (``config`` is the
artifact's parsed ``config.json``):

* ``sentireview.backends.torch.TorchBackend``: ``model.safetensors`` (or ``model.pth``).
* ``sentireview.backends.onnx.OnnxBackend``: ``model.onnx`` (no torch in the process).

Inputs given to ``predict_proba``:

* ``kind == "lstm"``: ``list[list[int]]``, one id list per review, already trimmed to
  ``config["text"]["max_tokens"]``; possibly empty. :func:`pad_ids` turns them into the model's
  ``ids`` (B, T) int64 and ``lengths`` (B,) int64 arrays (an empty review becomes one <unk>).
  The LSTM graph's inputs are named ``ids`` and ``lengths``, its output ``logits`` (B,).
* ``kind == "transformer"``: ``dict[str, np.ndarray]`` from the tokenizer
  (``input_ids``, ``attention_mask``; int64, (B, T)); the graph outputs ``logits`` (B, 2).

Both return a float numpy array (B,) of P(positive). This module imports only numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sentireview.errors import SentiReviewError

BACKENDS = ("torch", "onnx")

#: lstm: one id list per review; transformer: tokenizer arrays.
Inputs = Sequence[Sequence[int]] | Mapping[str, np.ndarray]


class Backend(Protocol):
    """What ``Predictor`` needs from a back end."""

    name: str

    def __init__(self, run_dir: Path, config: dict[str, Any]) -> None: ...

    def predict_proba(self, inputs: Inputs) -> np.ndarray:
        """P(positive) for each review, shape (B,), float."""
        ...


def pad_ids(
    ids: Sequence[Sequence[int]], pad_id: int = 0, unk_id: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad id lists into ``ids`` (B, T) int64 and ``lengths`` (B,) int64.

    An empty list becomes ``[unk_id]``: the model reads at least one step."""
    rows = [list(r) if len(r) else [unk_id] for r in ids]
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    out = np.full((len(rows), int(lengths.max(initial=1))), pad_id, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out, lengths


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax_positive(logits: np.ndarray) -> np.ndarray:
    """P(class 1) from (B, 2) logits."""
    logits = np.asarray(logits, dtype=np.float64)
    return sigmoid(logits[:, 1] - logits[:, 0])


def load_backend(name: str, run_dir: Path, config: dict[str, Any]) -> Backend:
    """Construct the named back end (``torch`` or ``onnx``) for an artifact folder."""
    if name == "torch":
        from sentireview.backends.torch import TorchBackend

        return TorchBackend(run_dir, config)
    if name == "onnx":
        try:
            from sentireview.backends.onnx import OnnxBackend
        except ModuleNotFoundError as exc:
            raise SentiReviewError(f"the ONNX back end is not available: {exc}") from None
        return OnnxBackend(run_dir, config)
    raise SentiReviewError(f"unknown back end {name!r}; expected one of {BACKENDS} or 'auto'")
