"""Where a training run reports its history besides ``history.csv``: ``--report-to``.

``none`` (the default) writes only the run folder's history files. ``tensorboard`` also writes
TensorBoard event files to ``RUN/tensorboard/`` (``tensorboard --logdir RUN/tensorboard``),
one scalar per number of each history row, tagged ``stage/name`` (``finetune/val_loss``) at
the row's optimizer step. The hook is called where the history is written
(:class:`sentireview.training.loop.History`): ``sentireview train lstm`` and ``train
transformer`` take the option, and both report the same way. It needs the ``tensorboard``
package (in the ``train`` extra).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sentireview.errors import SentiReviewError

log = logging.getLogger(__name__)

REPORT_TO = ("none", "tensorboard")
#: A function called with each new history row.
Hook = Callable[[dict[str, Any]], None]
#: Row fields that are positions, not measurements.
_NOT_SCALARS = ("epoch", "step", "best")


def check_report_to(value: str) -> str:
    if value not in REPORT_TO:
        raise SentiReviewError(f"unknown --report-to {value!r}; expected one of {REPORT_TO}")
    return value


class TensorBoardHook:
    """Writes each history row's numbers as TensorBoard scalars under ``folder``."""

    def __init__(self, folder: Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise SentiReviewError(
                "--report-to tensorboard needs the tensorboard package: "
                "pip install 'sentireview[train]' (or pip install tensorboard)"
            ) from None
        self.folder = Path(folder)
        self.writer = SummaryWriter(log_dir=str(self.folder))

    def __call__(self, row: dict[str, Any]) -> None:
        stage, step = str(row.get("stage", "train")), int(row.get("step", 0))
        for key, value in row.items():
            if key in _NOT_SCALARS or isinstance(value, bool):
                continue
            if isinstance(value, int | float):
                self.writer.add_scalar(f"{stage}/{key}", float(value), global_step=step)
        self.writer.flush()


def history_hooks(report_to: str, run_dir: Path | None) -> list[Hook]:
    """The hooks for ``report_to`` (none for ``none``, or without a run folder: other ranks)."""
    check_report_to(report_to)
    if report_to == "none" or run_dir is None:
        return []
    log.info("reporting to TensorBoard: tensorboard --logdir %s", Path(run_dir) / "tensorboard")
    return [TensorBoardHook(Path(run_dir) / "tensorboard")]
