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
import json
import logging
import multiprocessing
import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from sentireview.artifact import HALF, ONNX, WEIGHTS, file_sha256, load_model, read_config
from sentireview.backends.onnx import WEIGHTS_KEY, WEIGHTS_SHA256_KEY
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


_SAFETENSORS_DTYPES = {"F16": "float16", "F32": "float32", "BF16": None, "I64": "int64"}


def safetensors_index(path: Path) -> dict[tuple[str, tuple[int, ...], str], tuple[int, int]]:
    """Where each tensor's bytes lie in a safetensors file: (dtype, shape, SHA-256 of the
    bytes) -> (offset from the file's start, length). The format: an 8-byte little-endian
    header length, a JSON header naming each tensor's dtype, shape and data offsets
    (relative to the end of the header), then the little-endian data."""
    import hashlib
    import struct

    data = Path(path).read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    start = 8 + header_len
    index = {}
    for name, info in header.items():
        dtype = _SAFETENSORS_DTYPES.get(info.get("dtype")) if name != "__metadata__" else None
        if dtype is None:
            continue
        begin, end = info["data_offsets"]
        digest = hashlib.sha256(data[start + begin : start + end]).hexdigest()
        index[(dtype, tuple(info["shape"]), digest)] = (start + begin, end - begin)
    return index


def link_to_weights(path: Path, weights: Path, min_bytes: int = 1 << 16) -> int:
    """Make the ONNX file at ``path`` read its large initializers from ``weights`` (the
    artifact's ``model.safetensors``, in the same folder) as ONNX external data, wherever
    that file holds the same values with the same dtype and shape; returns the bytes saved.

    The weights are then stored once instead of twice (the embeddings are most of an LSTM
    artifact). The file's SHA-256 goes into the ONNX metadata, so that the ONNX back end can
    refuse a ``model.onnx`` whose ``model.safetensors`` was replaced since the export."""
    import hashlib

    import onnx
    from onnx import TensorProto, numpy_helper

    index = safetensors_index(weights)
    model = onnx.load(str(path))
    saved = 0
    for init in model.graph.initializer:
        if init.data_location == TensorProto.EXTERNAL:
            continue
        array = numpy_helper.to_array(init)
        if array.nbytes < min_bytes:
            continue
        raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        key = (array.dtype.name, tuple(array.shape), hashlib.sha256(raw).hexdigest())
        if key not in index:
            continue
        offset, length = index[key]
        tensor = TensorProto()
        tensor.name, tensor.data_type = init.name, init.data_type
        tensor.dims.extend(init.dims)
        tensor.data_location = TensorProto.EXTERNAL
        for k, v in (("location", weights.name), ("offset", offset), ("length", length)):
            entry = tensor.external_data.add()
            entry.key, entry.value = k, str(v)
        init.CopyFrom(tensor)
        saved += length
    if saved:
        digest = file_sha256(weights)
        props = {p.key: p for p in model.metadata_props}
        for key, value in ((WEIGHTS_KEY, weights.name), (WEIGHTS_SHA256_KEY, digest)):
            entry = props.get(key) or model.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(model, str(path))
    return saved


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
        if (run_dir / WEIGHTS).exists():
            saved = link_to_weights(tmp, run_dir / WEIGHTS)
            log.info("model.onnx reads %.1f MB of its weights from %s", saved / 1e6, WEIGHTS)
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
