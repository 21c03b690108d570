"""PyTorch back end: the artifact's model built from its config, its weights loaded strictly,
run on CPU or CUDA. :func:`build_model` is the one map from a config to a torch module."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sentireview.artifact import read_config
from sentireview.errors import SentiReviewError
from sentireview.kinds import Feed, get_kind
from sentireview.models.lstm import LSTMClassifier, LSTMConfig
from sentireview.models.wide import WideLSTMClassifier, WideLSTMConfig
from sentireview.weights import load_state_dict


def _fields(cls: type, settings: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in settings.items() if k in names}


def model_config(config: dict[str, Any]) -> Any:
    """The model config dataclass that an artifact's config describes (defaults filled in)."""
    kind, settings = config["kind"], dict(config["model"])
    if kind == "lstm":
        if settings.get("ngram_buckets", 0):  # the wide-and-deep LSTM
            return WideLSTMConfig(**settings)
        return LSTMConfig(**_fields(LSTMConfig, settings))
    raise SentiReviewError(f"no model config for kind {kind!r}")


def build_model(config: dict[str, Any]) -> nn.Module:
    """A freshly initialised model of the artifact's architecture (weights not loaded)."""
    if config["kind"] == "transformer":
        from sentireview.models.transformer import TransformerClassifier

        return TransformerClassifier.from_artifact_config(config["model"])
    shape = model_config(config)
    if isinstance(shape, WideLSTMConfig):
        return WideLSTMClassifier(shape)
    return LSTMClassifier(shape)


def load_model(
    run_dir: str | Path, config: dict[str, Any] | None = None, device: str = "cpu"
) -> nn.Module:
    """Build the artifact's model and load its weights strictly; returned in eval mode."""
    run_dir = Path(run_dir)
    config = config or read_config(run_dir)
    model = build_model(config)
    state = load_state_dict(run_dir)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise SentiReviewError(f"weights in {run_dir} do not fit the model: {first}") from None
    return model.to(device).eval()


class TorchBackend:
    """Runs the model in eval mode under ``torch.inference_mode``."""

    name = "torch"

    def __init__(self, run_dir: Path, config: dict[str, Any], device: str | None = None) -> None:
        self.kind = get_kind(config["kind"])
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = load_model(run_dir, config, device=str(self.device))

    @torch.inference_mode()
    def predict_proba(self, feed: Feed) -> np.ndarray:
        """P(positive) per review, float64 (B,)."""
        args = [torch.from_numpy(np.asarray(feed[n])).to(self.device) for n in self.kind.inputs]
        logits = self.model(*args).float()
        # In float32 as torch computes them (teachers' scores are soft labels: kept exact).
        if self.kind.two_logits:
            proba = torch.softmax(logits, dim=-1)[:, 1]
        else:
            proba = torch.sigmoid(logits)
        return proba.cpu().numpy().astype(np.float64)

    @torch.inference_mode()
    def log_odds(self, feed: Feed) -> np.ndarray:
        """log(P(positive) / P(negative)) per review, float64 (B,)."""
        args = [torch.from_numpy(np.asarray(feed[n])).to(self.device) for n in self.kind.inputs]
        return self.kind.log_odds(self.model(*args).float().cpu().numpy())
