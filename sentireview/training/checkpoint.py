"""Resumable checkpoints, written atomically (temporary file + ``os.replace``).

A checkpoint holds everything needed to continue a stage to the same result as an
uninterrupted run: model, optimizer, scheduler and grad-scaler states, the position in the
epoch (global batches consumed), the random-number-generator states of every rank, the best
validation loss so far and the history. Only tensors and plain Python values are stored, so
it loads with ``torch.load(weights_only=True)``; the best weights of a stage are a separate
safetensors file.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

log = logging.getLogger(__name__)


def atomic_torch_save(obj: Any, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict[str, Any] | None:
    """The checkpoint at ``path``, or None when there is none."""
    if not Path(path).exists():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)


def save_weights_atomic(state: dict[str, torch.Tensor], path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(tmp))
    os.replace(tmp, path)


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path))


def rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, torch.Tensor], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)
