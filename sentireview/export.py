"""``sentireview export RUN_DIR --format onnx``: write ``model.onnx`` next to the weights.

The export traces the artifact's own model with ``torch.onnx.export`` (the dynamo exporter:
the TorchScript one is deprecated and cannot trace packed sequences). The LSTM switches to its
export-friendly path (no ``pack_padded_sequence``) by itself while exporting. (Running each
direction once instead, as packing does, measured no faster in ONNX Runtime: its LSTM kernel
costs the same either way.) Batch and sequence length are dynamic. Before the file is moved
into place (atomically), ONNX Runtime runs it on a batch of different lengths and its
probabilities must match PyTorch's.
"""

from __future__ import annotations

import contextlib
import io
import logging
import multiprocessing
import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from sentireview.artifact import HALF, ONNX, load_model, read_config
from sentireview.errors import SentiReviewError

log = logging.getLogger(__name__)

FORMATS = ("onnx",)
#: Largest difference in P(positive) between PyTorch and ONNX Runtime accepted by the check.
TOLERANCE = 1e-5


def _example_inputs(config: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Inputs of several lengths in one batch, and the dynamic axes of each input.

    Sizes avoid 0 and 1, which torch.export would specialise on."""
    import torch

    rng = np.random.default_rng(17)
    if config["kind"] == "lstm":
        vocab_size = int(config["model"]["vocab_size"])
        lengths = np.array([11, 3, 7], dtype=np.int64)
        ids = rng.integers(2, vocab_size, size=(3, 11), dtype=np.int64)
        ids[np.arange(11)[None, :] >= lengths[:, None]] = int(config["model"].get("pad_id", 0))
        batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
        return {"ids": ids, "lengths": lengths}, {"ids": {0: batch, 1: seq}, "lengths": {0: batch}}
    mask = np.ones((3, 12), dtype=np.int64)
    mask[1, 5:] = 0
    mask[2, 9:] = 0
    ids = rng.integers(1000, 2000, size=(3, 12), dtype=np.int64)
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    axes = {0: batch, 1: seq}
    return {"input_ids": ids, "attention_mask": mask}, {"input_ids": axes, "attention_mask": axes}


def _other_shapes(example: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    """The example's rows, shorter (first 5 positions) and longer (tiled to 2x), and alone."""
    first = next(iter(example.values()))
    batch, seq = first.shape
    out = []
    for length in (5, 2 * seq):
        inputs = {}
        for name, value in example.items():
            if value.ndim == 2:
                value = np.tile(value, (1, 2))[:, :length] if length > seq else value[:, :length]
            else:  # lengths
                value = np.minimum(value, length)
            inputs[name] = np.ascontiguousarray(value)
        out.append(inputs)
    out.append({name: value[:1] for name, value in example.items()})
    return out


def _probabilities(kind: str, logits: np.ndarray) -> np.ndarray:
    from sentireview.backends import sigmoid, softmax_positive

    return sigmoid(logits).reshape(-1) if kind == "lstm" else softmax_positive(logits)


def halve_initializers(path: Path, min_elements: int = 4096) -> None:
    """Store the large float32 initializers of an ONNX file as float16, each followed by a
    Cast back to float32 (computation stays float32). For artifacts saved in half precision,
    whose weights are float16 values already, so the results do not change."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    casts = []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT or int(np.prod(init.dims)) < min_elements:
            continue
        name = init.name
        half = numpy_helper.from_array(
            numpy_helper.to_array(init).astype(np.float16), name + "_f16"
        )
        init.CopyFrom(half)
        casts.append(helper.make_node("Cast", [name + "_f16"], [name], to=TensorProto.FLOAT))
    if casts:
        nodes = casts + list(graph.node)
        del graph.node[:]
        graph.node.extend(nodes)
        onnx.save(model, str(path))


def export_onnx(run_dir: str | os.PathLike, opset: int | None = None, verify: bool = True) -> Path:
    """Export the artifact in ``run_dir`` to ``run_dir/model.onnx``; returns its path.

    The file appears only when the export (and, with ``verify``, the parity check against
    PyTorch on batches of different lengths and shapes) succeeded; an older ``model.onnx``
    stays until then.

    The export runs in a fresh interpreter: in torch 2.13 a second ``torch.onnx.export`` of the
    LSTM in one process silently fixes the sequence length to the example's (seen in this
    project's tests), so every export gets a process of its own.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_export_here, str(run_dir), opset, verify).result()


def _export_here(run_dir: str | os.PathLike, opset: int | None, verify: bool) -> Path:
    import torch

    from sentireview.backends.onnx import make_session

    run_dir = Path(run_dir)
    config = read_config(run_dir)
    model = load_model(run_dir, config, device="cpu")  # eval mode
    example, dynamic_shapes = _example_inputs(config)
    names = list(example)
    args = tuple(torch.from_numpy(example[n]) for n in names)
    target = run_dir / ONNX
    tmp = run_dir / (ONNX + ".partial")
    chatter = io.StringIO()
    noisy = [logging.getLogger(name) for name in ("onnxscript", "onnx_ir", "torch.onnx")]
    levels = [logger.level for logger in noisy]
    try:
        # The exporter prints progress, logs every optimisation step at INFO and raises
        # third-party warnings: keep them out of the way (what it prints goes to the debug log).
        for logger in noisy:
            logger.setLevel(logging.WARNING)
        with warnings.catch_warnings(), contextlib.redirect_stdout(chatter):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                args,
                str(tmp),
                dynamo=True,
                input_names=names,
                output_names=["logits"],
                dynamic_shapes=dynamic_shapes,
                opset_version=opset,
                external_data=False,
            )
        log.debug("torch.onnx.export said:\n%s", chatter.getvalue())
        if config.get("weights_dtype") == HALF:
            halve_initializers(tmp)
        if verify:
            session = make_session(tmp, threads=1)
            diff = 0.0
            # The example's own shape, then other batch sizes and lengths: a dimension the
            # exporter fixed by mistake shows up here, not in the web process.
            for inputs in (example, *_other_shapes(example)):
                with torch.inference_mode():
                    tensors = tuple(torch.from_numpy(inputs[n]) for n in names)
                    expected = _probabilities(config["kind"], model(*tensors).float().numpy())
                (logits,) = session.run(["logits"], dict(inputs))
                got = _probabilities(config["kind"], logits)
                diff = max(diff, float(np.max(np.abs(got - expected))))
            if not diff <= TOLERANCE:
                raise SentiReviewError(
                    f"ONNX export of {run_dir} disagrees with PyTorch by {diff:.2e} "
                    f"(tolerance {TOLERANCE:.0e}); model.onnx not written"
                )
            log.info("ONNX Runtime matches PyTorch (max difference %.1e)", diff)
        os.replace(tmp, target)
    except SentiReviewError:
        raise
    except Exception as exc:
        log.debug("torch.onnx.export said:\n%s", chatter.getvalue())
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SentiReviewError(f"ONNX export of {run_dir} failed: {first}") from exc
    finally:
        tmp.unlink(missing_ok=True)
        for logger, level in zip(noisy, levels, strict=True):
            logger.setLevel(level)
    log.info("wrote %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return target
