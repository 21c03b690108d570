"""PyTorch back end: the artifact's ``model.safetensors`` (or ``model.pth``) on CPU or CUDA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from sentireview.artifact import load_model
from sentireview.backends import Inputs, pad_ids


class TorchBackend:
    """Runs the model in eval mode under ``torch.inference_mode``."""

    name = "torch"

    def __init__(self, run_dir: Path, config: dict[str, Any], device: str | None = None) -> None:
        self.kind = config["kind"]
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = load_model(run_dir, config, device=str(self.device))

    @torch.inference_mode()
    def predict_proba(self, inputs: Inputs) -> np.ndarray:
        if self.kind == "lstm":
            ids, lengths = pad_ids(inputs)  # type: ignore[arg-type]
            logits = self.model(
                torch.from_numpy(ids).to(self.device), torch.from_numpy(lengths).to(self.device)
            )  # (B,)
            return torch.sigmoid(logits.float()).cpu().numpy().astype(np.float64)
        batch = {k: torch.as_tensor(np.asarray(v)).to(self.device) for k, v in inputs.items()}  # type: ignore[union-attr]
        logits = self.model(batch["input_ids"], batch["attention_mask"])  # (B, 2)
        return torch.softmax(logits.float(), dim=-1)[:, 1].cpu().numpy().astype(np.float64)
