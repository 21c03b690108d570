"""Resumable checkpoints, written atomically (temporary file + ``os.replace``).

A checkpoint holds everything needed to continue a stage to the same result as an
uninterrupted run: model, optimizer, scheduler and grad-scaler states, the position in the
epoch (global batches consumed), the random-number-generator states of every rank, the best
validation loss so far and the history. Only tensors and plain Python values are stored, so
it loads with ``torch.load(weights_only=True)``; the best weights of a stage are a separate
safetensors file (:func:`sentireview.weights.save_tensors`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from sentireview.files import atomic_path


def atomic_torch_save(obj: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_checkpoint(path: Path) -> dict[str, Any] | None:
    """The checkpoint at ``path``, or None when there is none."""
    if not Path(path).exists():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)


def rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, torch.Tensor], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)
