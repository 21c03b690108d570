"""The run folder is the artifact: config, weights, vocabulary or tokenizer, metrics.

Layout (see docs/ARCHITECTURE.md)::

    config.json        {"format": 1, "kind", "name", "version", "model": {...}, "text": {...},
                        "labels": ["negative", "positive"], "training": {...}, "versions": {...}}
    model.safetensors  the model's state_dict, loaded strictly
    model.pth          optional, the tutorial's format: torch.save(model.state_dict()), strict
    model.onnx         optional, from `sentireview export` (served without torch)
    vocab.json         lstm kinds;  tokenizer/: transformer

This module is the torch-free part: the file layout and the config. The weights are written
by :mod:`sentireview.weights` and loaded into a model by :mod:`sentireview.backends.torch`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
from pathlib import Path
from typing import Any

from sentireview import __version__
from sentireview.errors import SentiReviewError
from sentireview.files import sha256_file, write_json
from sentireview.kinds import KINDS, TOKENIZER, VOCAB  # noqa: F401 (layout names)

log = logging.getLogger(__name__)

FORMAT = 1
LABELS = ["negative", "positive"]
CONFIG = "config.json"
WEIGHTS = "model.safetensors"
PTH = "model.pth"
ONNX = "model.onnx"


def jsonable(value: object) -> object:
    """A settings value as JSON can hold it: paths as strings, tuples as lists, nested
    settings (dicts) converted throughout."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


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
        raise SentiReviewError(f"unknown model kind {kind!r}; expected one of {tuple(KINDS)}")
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
    if _is_ensemble(config):
        raise SentiReviewError(
            f"{path}: LSTM ensembles are no longer supported; retrain with "
            "`sentireview train shipped`"
        )
    if config.get("kind") not in KINDS:
        raise SentiReviewError(f"{path}: unknown model kind {config.get('kind')!r}")
    for key in ("model", "text"):
        if not isinstance(config.get(key), dict):
            raise SentiReviewError(f"{path}: missing {key!r} section")
    return _upgrade(config)


def _is_ensemble(config: dict[str, Any]) -> bool:
    """An ensemble of LSTMs (removed): kind ``lstm_ensemble``, or, before 2026-12-01,
    ``"kind": "lstm"`` with ``model.members`` above 1."""
    if config.get("kind") == "lstm_ensemble":
        return True
    model = config.get("model")
    members = model.get("members", 1) if isinstance(model, dict) else 1
    return config.get("kind") == "lstm" and members != 1  # 2, "2", 2.5: not one LSTM


def _upgrade(config: dict[str, Any]) -> dict[str, Any]:
    """Configs of LSTM runs written before 2026-12-01: a single LSTM said ``model.members:
    1``, and the training settings were flat."""
    if config["kind"] == "lstm":
        config["model"].pop("members", None)
        if isinstance(config.get("training"), dict):
            config["training"] = _grouped(config["training"])
    return config


#: Where the flat LSTM settings of earlier configs went (``training.lstm.LSTMTrainConfig``).
_GROUPS = {
    "model": ("embed_dim", "hidden", "dropout", "pooling", "ngram_buckets", "ngram_orders"),
    "inputs": ("max_words", "min_freq", "max_vocab", "limit_train", "limit_valid"),
    "optim": ("epochs", "batch_size", "lr", "evals_per_epoch", "early_stopping", "amp", "wide_c"),
    "init": ("word_vectors", "init_from"),
    "distill": ("teacher",),
}
_RENAMED = {"init_from": "language_model", "teacher": "teachers"}


def _grouped(training: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(training, dict) or "optim" in training or "epochs" not in training:
        return training  # already grouped, or not an LSTM run's settings
    out = {k: v for k, v in training.items() if not any(k in keys for keys in _GROUPS.values())}
    for group, keys in _GROUPS.items():
        out[group] = {_RENAMED.get(k, k): training[k] for k in keys if k in training}
    return out


def weights_path(run_dir: Path) -> Path:
    """The file a run's weights load from (``model.pth`` when there is one, as in loading)."""
    return run_dir / PTH if (run_dir / PTH).exists() else run_dir / WEIGHTS


def weights_digest(run_dir: Path) -> str | None:
    """SHA-256 of the weights a run loads (:func:`weights_path`; a folder served by ONNX
    Runtime alone, as an int8 export, holds them in ``model.onnx``); None: there are none."""
    for path in (weights_path(run_dir), run_dir / "model.onnx"):
        if path.is_file():
            return sha256_file(path)
    return None
