"""ONNX Runtime back end: serves ``model.onnx`` (from ``sentireview export``) without torch.

This module imports numpy and onnxruntime only, so the web process stays small. Each
worker runs one compute thread by default (``SENTIREVIEW_THREADS`` or ``threads=``): with
one gunicorn worker per core, more threads per worker would only fight over the cores.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from sentireview.artifact import ONNX, WEIGHTS
from sentireview.errors import SentiReviewError
from sentireview.files import sha256_file
from sentireview.kinds import Feed, get_kind

log = logging.getLogger(__name__)

#: ONNX metadata written by ``sentireview.export.link_to_weights``: the weights file whose
#: bytes the graph reads as external data, and that file's SHA-256 at export time.
WEIGHTS_KEY = "sentireview.weights"
WEIGHTS_SHA256_KEY = "sentireview.weights_sha256"


def default_threads() -> int:
    """Intra-op threads: ``SENTIREVIEW_THREADS`` if set to a positive integer, else 1."""
    raw = os.environ.get("SENTIREVIEW_THREADS", "").strip()
    try:
        value = int(raw)
    except ValueError:
        return 1
    return value if value > 0 else 1


def make_session(path: Path, threads: int | None = None) -> ort.InferenceSession:
    """A CPU inference session with ``threads`` intra-op threads and full graph optimisation."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: no per-session info chatter in server logs
    try:
        return ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own exception types
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SentiReviewError(f"cannot load {path}: {first}") from None


def check_linked_weights(path: Path, session: ort.InferenceSession) -> None:
    """Refuse a ``model.onnx`` whose external weights file changed since the export (the
    graph would compute with a mix of old and new weights)."""
    meta = session.get_modelmeta().custom_metadata_map
    expected = meta.get(WEIGHTS_SHA256_KEY)
    if not expected:
        return
    weights = path.parent / meta.get(WEIGHTS_KEY, "")
    if not weights.is_file():  # the session loaded, so the graph holds its weights itself
        return
    try:
        digest = sha256_file(weights)
    except OSError as exc:
        raise SentiReviewError(f"cannot read {weights}: {exc.strerror or exc}") from None
    if digest != expected:
        raise SentiReviewError(
            f"{path} was exported from another {weights.name} than the one beside it; "
            f"export it again: `sentireview export {path.parent} --format onnx`"
        )


class OnnxBackend:
    """Runs the artifact's ``model.onnx`` on CPU with ONNX Runtime."""

    name = "onnx"

    def __init__(self, run_dir: Path, config: dict[str, Any], threads: int | None = None) -> None:
        path = Path(run_dir) / ONNX
        if not path.is_file():
            raise SentiReviewError(
                f"{run_dir} has no {ONNX}; create it with "
                f"`sentireview export {run_dir} --format onnx`"
            )
        self.kind = get_kind(config["kind"])
        try:
            self.session = make_session(path, threads)
        except SentiReviewError as exc:
            if (Path(run_dir) / WEIGHTS).exists():
                raise SentiReviewError(
                    f"{exc} (model.onnx reads its large weights from {WEIGHTS}: if that "
                    f"file changed, export again: `sentireview export {run_dir} --format onnx`)"
                ) from None
            raise
        check_linked_weights(path, self.session)
        names = [i.name for i in self.session.get_inputs()]
        if not set(self.kind.inputs) <= set(names):
            raise SentiReviewError(
                f"{path} takes inputs {names}, expected {sorted(self.kind.inputs)} "
                f"for a {self.kind.name} model"
            )

    def predict_proba(self, feed: Feed) -> np.ndarray:
        """P(positive) per review, float64 (B,)."""
        return self.kind.probabilities(self._logits(feed))

    def log_odds(self, feed: Feed) -> np.ndarray:
        """log(P(positive) / P(negative)) per review, float64 (B,)."""
        return self.kind.log_odds(self._logits(feed))

    def _logits(self, feed: Feed) -> np.ndarray:
        (logits,) = self.session.run(["logits"], {n: feed[n] for n in self.kind.inputs})
        return logits
