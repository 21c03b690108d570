"""Inference back ends: the small protocol that the PyTorch and ONNX Runtime back ends share.

``sentireview.predict.Predictor`` turns texts into the model's named input arrays (see
:mod:`sentireview.kinds`) and asks a back end for P(positive). A back end module exposes one
class constructed as ``Backend(run_dir: Path, config: dict)`` (``config`` is the artifact's
parsed ``config.json``):

* ``sentireview.backends.torch.TorchBackend``: ``model.safetensors`` (or ``model.pth``).
* ``sentireview.backends.onnx.OnnxBackend``: ``model.onnx`` (no torch in the process).

Both return a float64 numpy array (B,) of P(positive) (``predict_proba``) or of log-odds
(``log_odds``). This module imports only numpy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sentireview.errors import SentiReviewError
from sentireview.kinds import Feed

BACKENDS = ("torch", "onnx")


class Backend(Protocol):
    """What ``Predictor`` needs from a back end."""

    name: str

    def __init__(self, run_dir: Path, config: dict[str, Any]) -> None: ...

    def predict_proba(self, feed: Feed) -> np.ndarray:
        """P(positive) for each review, shape (B,), float."""
        ...

    def log_odds(self, feed: Feed) -> np.ndarray:
        """log(P(positive) / P(negative)) for each review, shape (B,), float64 (the model's
        logit, or the difference of its two logits): explanations add and subtract these."""
        ...


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
