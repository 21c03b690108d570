"""The run folder is the artifact: config, weights, vocabulary or tokenizer, metrics.

Layout (see docs/ARCHITECTURE.md)::

    config.json        {"format": 1, "kind", "name", "version", "model": {...}, "text": {...},
                        "labels": ["negative", "positive"], "training": {...}, "versions": {...}}
    model.safetensors  the model's state_dict, loaded strictly
    model.pth          optional, the tutorial's format: torch.save(model.state_dict()), strict
    vocab.json         lstm;  tokenizer/: transformer

Reading the config needs no torch (the web process serves ONNX); building and loading the
model imports torch inside the functions.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentireview import __version__
from sentireview.errors import SentiReviewError

if TYPE_CHECKING:
    from torch import nn

log = logging.getLogger(__name__)

FORMAT = 1
KINDS = ("lstm", "transformer")
LABELS = ["negative", "positive"]
CONFIG = "config.json"
WEIGHTS = "model.safetensors"
PTH = "model.pth"
ONNX = "model.onnx"
VOCAB = "vocab.json"
TOKENIZER = "tokenizer"


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temporary file + os.replace): readers never see half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def jsonable(value: object) -> object:
    """A settings value as JSON can hold it: paths as strings, tuples as lists."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    import hashlib

    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions recorded in config.json (what trained the model)."""
    versions = {"sentireview": __version__, "python": platform.python_version()}
    for name in ("torch", "transformers", "tokenizers", "numpy"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        versions[name] = str(getattr(module, "__version__", "unknown"))
    return versions


def make_config(
    kind: str,
    model: Any,
    text: dict[str, Any],
    training: dict[str, Any] | None = None,
    name: str | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """The content of config.json. ``model`` is the model's config dataclass (or a dict);
    ``text`` is ``{"recipe", "column", "max_tokens"}``."""
    if kind not in KINDS:
        raise SentiReviewError(f"unknown model kind {kind!r}; expected one of {KINDS}")
    if dataclasses.is_dataclass(model) and not isinstance(model, type):
        model = dataclasses.asdict(model)
    return {
        "format": FORMAT,
        "kind": kind,
        "name": name or f"sentireview-{kind}",
        "version": version or __version__,
        "model": dict(model),
        "text": dict(text),
        "labels": list(LABELS),
        "training": dict(training or {}),
        "versions": library_versions(),
    }


def write_config(run_dir: Path, config: dict[str, Any]) -> None:
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    write_json(Path(run_dir) / CONFIG, config)


def read_config(run_dir: str | os.PathLike) -> dict[str, Any]:
    """Parse and check ``config.json`` of an artifact folder (no torch needed)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise SentiReviewError(f"run folder not found: {run_dir}")
    path = run_dir / CONFIG
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SentiReviewError(f"{run_dir} is not a run folder (no {CONFIG})") from None
    except (OSError, ValueError) as exc:
        raise SentiReviewError(f"cannot read {path}: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise SentiReviewError(f"{path}: unsupported artifact format {config.get('format')!r}")
    if config.get("kind") not in KINDS:
        raise SentiReviewError(f"{path}: unknown model kind {config.get('kind')!r}")
    for key in ("model", "text"):
        if not isinstance(config.get(key), dict):
            raise SentiReviewError(f"{path}: missing {key!r} section")
    return config


def build_model(config: dict[str, Any]) -> nn.Module:
    """A freshly initialised model of the artifact's architecture (weights not loaded)."""
    if config["kind"] == "lstm":
        from sentireview.models.ensemble import build_lstm
        from sentireview.models.lstm import LSTMConfig

        return build_lstm(LSTMConfig(**config["model"]))
    from sentireview.models.transformer import TransformerClassifier

    return TransformerClassifier.from_artifact_config(config["model"])


#: ``config["weights_dtype"]`` of an artifact whose float weights are stored in half precision.
HALF = "float16"


def state_dict_for_saving(model: nn.Module, half: bool = False) -> dict[str, Any]:
    """Contiguous CPU copies of the state_dict tensors (what safetensors accepts); with
    ``half``, float32 tensors are stored as float16 (loading casts them back), except the few
    numbers of a ``mix`` (how the parts are weighted), kept exact."""
    import torch

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
    from safetensors.torch import save_file

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    state = state_dict_for_saving(model, half=half)
    tmp = run_dir / (WEIGHTS + ".tmp")
    save_file(state, str(tmp), metadata={"format": "pt"})
    os.replace(tmp, run_dir / WEIGHTS)
    if pth:
        save_pth(run_dir / PTH, model, half=half)


def save_pth(path: Path, model: nn.Module, half: bool = False) -> None:
    """The tutorial's format: a bare state_dict saved with torch.save (tensors only)."""
    import torch

    tmp = Path(path).with_name(Path(path).name + ".tmp")
    torch.save(state_dict_for_saving(model, half=half), tmp)
    os.replace(tmp, path)


def round_to_half(model: nn.Module) -> None:
    """Round the model's float32 parameters and buffers to float16 values in place (they
    stay float32): what a model saved with ``half=True`` computes once loaded."""
    import torch

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
        import torch

        state = torch.load(run_dir / PTH, map_location="cpu", weights_only=True)
        # The tutorial's stage-1 checkpoints wrapped the state_dict; accept that one layout too.
        if isinstance(state, dict) and set(state) == {"model_state_dict"}:
            state = state["model_state_dict"]
        return state
    if (run_dir / WEIGHTS).exists():
        from safetensors.torch import load_file

        return load_file(str(run_dir / WEIGHTS))
    raise SentiReviewError(f"{run_dir} has no weights ({WEIGHTS} or {PTH})")


def load_model(
    run_dir: str | os.PathLike, config: dict[str, Any] | None = None, device: str = "cpu"
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
