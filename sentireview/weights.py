"""A model's weights in the artifact: ``model.safetensors`` (and the tutorial's ``model.pth``).

Written atomically; loaded strictly by :func:`sentireview.backends.torch.load_model`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from sentireview.artifact import PTH, WEIGHTS
from sentireview.errors import SentiReviewError
from sentireview.files import atomic_path

#: ``config["weights_dtype"]`` of an artifact whose float weights are stored in half precision.
HALF = "float16"


def state_dict_for_saving(model: nn.Module, half: bool = False) -> dict[str, torch.Tensor]:
    """Contiguous CPU copies of the state_dict tensors (what safetensors accepts); with
    ``half``, float32 tensors are stored as float16 (loading casts them back), except the few
    numbers of a ``mix`` (how the parts are weighted), kept exact."""
    state = {}
    for k, v in model.state_dict().items():
        v = v.detach().to("cpu")
        if half and v.dtype == torch.float32 and k.rsplit(".", 1)[-1] != "mix":
            v = v.to(torch.float16)
        state[k] = v.contiguous()
    return state


def save_weights(run_dir: Path, model: nn.Module, pth: bool = False, half: bool = False) -> None:
    """Write ``model.safetensors`` (and the tutorial's ``model.pth`` when asked), atomically.
    ``half``: float weights stored as float16 (half the size; the model computes in float32
    with the rounded weights, see :func:`round_to_half`)."""
    state = state_dict_for_saving(model, half=half)
    save_tensors(state, Path(run_dir) / WEIGHTS)
    if pth:
        with atomic_path(Path(run_dir) / PTH) as tmp:
            torch.save(state, tmp)


def save_tensors(state: dict[str, torch.Tensor], path: Path) -> None:
    """A safetensors file of these tensors (CPU, contiguous), written atomically."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in state.items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"format": "pt"})


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path))


def round_to_half(model: nn.Module) -> None:
    """Round the model's float32 parameters and buffers to float16 values in place (they
    stay float32): what a model saved with ``half=True`` computes once loaded."""
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            if tensor.dtype == torch.float32:
                tensor.copy_(tensor.to(torch.float16))


def load_state_dict(run_dir: Path) -> dict[str, Any]:
    """Weights from ``model.pth`` when there is one (a state dict dropped in the tutorial's
    way, read with weights_only=True; it wins over the folder's other weights), else from
    ``model.safetensors``."""
    run_dir = Path(run_dir)
    if (run_dir / PTH).exists():
        state = torch.load(run_dir / PTH, map_location="cpu", weights_only=True)
        # The tutorial's stage-1 checkpoints wrapped the state_dict; accept that one layout too.
        if isinstance(state, dict) and set(state) == {"model_state_dict"}:
            state = state["model_state_dict"]
        return state
    if (run_dir / WEIGHTS).exists():
        return load_tensors(run_dir / WEIGHTS)
    raise SentiReviewError(f"{run_dir} has no weights ({WEIGHTS} or {PTH})")
