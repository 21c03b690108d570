"""``sentireview ensemble RUN RUN ... --out DIR``: LSTM runs combined into one artifact.

The runs must share their vocabulary, text preparation and shape (the usual case: the same
recipe trained twice, e.g. with two seeds). The result is an
ordinary artifact folder (``config.json`` of kind ``lstm_ensemble``, ``model.safetensors``,
``vocab.json``, ``history.json`` with each member's curves) that ``Predictor.load``, ``sentireview
evaluate`` and ``sentireview export`` open like any other. Its logit is the mean of the members'
logits: each member's weight on its LSTM logit is divided by the number of members, and since
the wide part is linear, the members' wide parts fold into one (one copy when they are equal,
as when they were fitted on the same reviews: then the mean is exact; else the weighted mean
of their weights, exact up to float16 rounding in a half-precision artifact).
The ensemble is not trained further: nothing in it is fitted on any split.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from sentireview import artifact
from sentireview.artifact import weights_digest
from sentireview.backends.torch import load_model, model_config
from sentireview.errors import SentiReviewError
from sentireview.files import building_folder
from sentireview.models.ensemble import EnsembleConfig, LSTMEnsemble
from sentireview.models.lstm import LSTMClassifier
from sentireview.models.wide import WideLSTMClassifier
from sentireview.training.loop import History
from sentireview.vocab import Vocab
from sentireview.weights import HALF, save_weights

log = logging.getLogger(__name__)


def _check_compatible(runs: list[Path], configs: list[dict[str, Any]]) -> None:
    first, first_config = runs[0], configs[0]
    for run, config in zip(runs, configs, strict=True):
        if config["kind"] == "lstm_ensemble":
            raise SentiReviewError(f"{run} is already an ensemble; give its members instead")
        if config["kind"] != "lstm":
            raise SentiReviewError(f"{run} is a {config['kind']} model; only LSTM runs combine")
    first_words = Vocab.load(first / artifact.VOCAB).itos
    for run, config in zip(runs[1:], configs[1:], strict=True):
        for section in ("model", "text"):
            mine, theirs = _settings(first_config, section), _settings(config, section)
            differ = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
            if differ:
                raise SentiReviewError(
                    f"{run} and {first} differ in {section} settings {differ}; an ensemble's "
                    "members share their shape and text preparation"
                )
        if Vocab.load(run / artifact.VOCAB).itos != first_words:
            raise SentiReviewError(f"{run} and {first} have different vocabularies")


def _settings(config: dict[str, Any], section: str) -> dict[str, Any]:
    """A config section with the model's defaults filled in (configs written before a field
    existed lack it)."""
    if section == "model":
        shape = dataclasses.asdict(model_config(config))
        return {"ngram_buckets": 0, "ngram_orders": 3, **shape}
    return dict(config[section])


def _parts(model: LSTMClassifier) -> tuple[float, float, float]:
    """A member's weights on its LSTM logit and its wide logit, and its bias."""
    if not isinstance(model, WideLSTMClassifier):
        return 1.0, 0.0, 0.0
    deep, wide, bias = (float(v) for v in model.mix)
    return deep, wide, bias


@torch.no_grad()
def build_ensemble(models: Sequence[LSTMClassifier]) -> LSTMEnsemble:
    """One module whose logit is the mean of the ``models``' logits (same shape each)."""
    n = len(models)
    shape = dataclasses.asdict(models[0].config)
    ensemble = LSTMEnsemble(EnsembleConfig(**shape, members=n)).eval()
    for target, model in zip(ensemble.members, models, strict=True):
        state = {k: v for k, v in model.state_dict().items() if not k.startswith(("wide.", "mix"))}
        target.load_state_dict(state, strict=True)
    parts = [_parts(m) for m in models]
    wide_scale = 0.0
    if ensemble.wide is not None:
        weights = [m.wide.weight for m in models]  # type: ignore[union-attr]
        scales = [p[1] for p in parts]
        if all(torch.equal(w, weights[0]) for w in weights[1:]):
            ensemble.wide.weight.copy_(weights[0])
            wide_scale = sum(scales) / n
        else:  # the mean of the scaled weights, weighted 1
            ensemble.wide.weight.copy_(sum(s * w for s, w in zip(scales, weights, strict=True)) / n)
            wide_scale = 1.0
    mix = [p[0] / n for p in parts] + [wide_scale, sum(p[2] for p in parts) / n]
    ensemble.mix.copy_(torch.tensor(mix))
    return ensemble


def combine(
    runs: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    name: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the ensemble of the LSTM ``runs`` to ``out`` (see the module docstring); returns
    ``out``. The folder is built beside ``out`` and renamed into place when complete; an
    existing ``out`` is replaced only with ``overwrite``."""
    runs = [Path(r) for r in runs]
    out = Path(out)
    if len(runs) < 2:
        raise SentiReviewError("an ensemble needs at least two runs")
    if len(set(r.resolve() for r in runs)) != len(runs):
        raise SentiReviewError("the same run is given twice")
    if out.exists() and not overwrite:
        raise SentiReviewError(f"{out} exists; choose another --out or pass --overwrite")
    for run in runs:
        if out.resolve() == run.resolve() or out.resolve() in run.resolve().parents:
            raise SentiReviewError(f"--out {out} would replace the run {run}")
    configs = [artifact.read_config(r) for r in runs]
    _check_compatible(runs, configs)
    models = [load_model(r, c) for r, c in zip(runs, configs, strict=True)]
    ensemble = build_ensemble(models)  # type: ignore[arg-type]
    half = all(c.get("weights_dtype") == HALF for c in configs)

    training = {
        "ensemble_of": [str(r) for r in runs],
        "member_weights_sha256": [weights_digest(r) for r in runs],
        "members": [c.get("training", {}) for c in configs],
    }
    config = artifact.make_config(
        "lstm_ensemble", ensemble.config, configs[0]["text"], training=training, name=name
    )
    if half:
        config["weights_dtype"] = HALF
    with building_folder(out) as tmp:
        save_weights(tmp, ensemble, half=half)
        shutil.copy(runs[0] / artifact.VOCAB, tmp / artifact.VOCAB)
        _write_history(tmp, runs)
        artifact.write_config(tmp, config)
    log.info("wrote %s: ensemble of %s, mix %s", out, [str(r) for r in runs], config_mix(out))
    return out


def config_mix(run: Path) -> list[float]:
    """The saved ensemble's ``mix`` (for logs and model cards)."""
    with safe_open(str(run / artifact.WEIGHTS), framework="pt") as f:
        return [round(float(v), 5) for v in f.get_tensor("mix")]


def _write_history(out: Path, runs: list[Path]) -> None:
    """Every member's training history, each as its own stage ("member 1: round3" ...), so
    that the loss-curve plot gets one panel per member."""
    rows = []
    for i, run in enumerate(runs, 1):
        path = run / "history.json"
        if not path.exists():
            continue
        for row in json.loads(path.read_text(encoding="utf-8")):
            rows.append({**row, "stage": f"member {i}: {run.name}"})
    History(out, rows).save()
