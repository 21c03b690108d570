"""Grouped training settings from flat keyword arguments (tests stay short)."""

from __future__ import annotations

import dataclasses

from sentireview.training.lstm import (
    DistillSettings,
    InitSettings,
    InputSettings,
    LSTMTrainConfig,
    ModelSettings,
    OptimSettings,
)

GROUPS = {
    "model": ModelSettings,
    "inputs": InputSettings,
    "optim": OptimSettings,
    "init": InitSettings,
    "distill": DistillSettings,
}


def lstm_config(**flat) -> LSTMTrainConfig:
    """``LSTMTrainConfig`` with each keyword put in the group that has the field."""
    groups: dict[str, dict] = {name: {} for name in GROUPS}
    top = {}
    for key, value in flat.items():
        for name, cls in GROUPS.items():
            if key in {f.name for f in dataclasses.fields(cls)}:
                groups[name][key] = value
                break
        else:
            top[key] = value
    return LSTMTrainConfig(**top, **{n: GROUPS[n](**kw) for n, kw in groups.items()})
