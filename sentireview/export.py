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
import hashlib
import io
import json
import logging
import multiprocessing
import os
import struct
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from sentireview.artifact import ONNX, WEIGHTS, read_config
from sentireview.backends.onnx import WEIGHTS_KEY, WEIGHTS_SHA256_KEY, make_session
from sentireview.backends.torch import load_model
from sentireview.errors import SentiReviewError
from sentireview.files import atomic_path, sha256_file
from sentireview.kinds import get_kind
from sentireview.weights import HALF

log = logging.getLogger(__name__)

FORMATS = ("onnx",)
QUANTIZE = ("int8",)
#: Largest difference in P(positive) between PyTorch and ONNX Runtime accepted by the check.
TOLERANCE = 1e-5
#: The int8 check only catches a broken quantization: its accuracy is measured on a test set.
INT8_TOLERANCE = 0.2
#: What the int8 check reads (written for it), through the artifact's own tokenizer. Random
#: token ids, which the float32 check uses, are far from any text a fine-tuned encoder saw:
#: there int8 moved P(positive) by 0.21 for a MiniLM whose answers on 300 validation reviews
#: moved by 0.016 on average (0.13 at most, 1.3% flipped).
INT8_CHECK_REVIEWS = (
    "I loved every minute of this film, the cast is wonderful.",
    "A dull, badly written mess. I want my two hours back.",
    "Not bad at all.",
    "The first half drags, but the ending makes up for it and then some.",
    "It was fine, I suppose, though I doubt I will remember it next week.",
    "Oh great, another remake nobody asked for, and it is exactly as bad as it sounds.",
    "The photography is lovely and the music is beautiful, yet the story never comes alive "
    "and the characters stay strangers from the first scene to the last, which is a shame "
    "because the actors clearly try hard with what little they were given.",
)
#: Kinds whose ONNX graph dynamic int8 quantization serves (matrix products of a transformer).
QUANTIZABLE = ("transformer",)
QUANTIZE_KEY = "sentireview.quantize"


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


def halve_initializers(path: Path, min_elements: int = 4096) -> None:
    """Store the large float32 initializers of an ONNX file as float16, each followed by a
    Cast back to float32 (computation stays float32). For artifacts saved in half precision,
    whose weights are float16 values already, so the results do not change."""
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
        digest = sha256_file(weights)
        props = {p.key: p for p in model.metadata_props}
        for key, value in ((WEIGHTS_KEY, weights.name), (WEIGHTS_SHA256_KEY, digest)):
            entry = props.get(key) or model.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(model, str(path))
    return saved


def export_onnx(
    run_dir: str | os.PathLike,
    opset: int | None = None,
    verify: bool = True,
    quantize: str | None = None,
) -> Path:
    """Export the artifact in ``run_dir`` to ``run_dir/model.onnx``; returns its path.

    ``quantize="int8"`` (transformer artifacts): ONNX Runtime's dynamic quantization of the
    float32 export (weights of the matrix products stored as int8, activations quantized on
    the fly); the float32 graph is checked against PyTorch first, then the int8 one loosely.
    The int8 file holds all its weights (it needs no ``model.safetensors``).

    The file appears only when the export (and, with ``verify``, the parity check against
    PyTorch on batches of different lengths and shapes) succeeded; an older ``model.onnx``
    stays until then.

    The export runs in a fresh interpreter: in torch 2.13 a second ``torch.onnx.export`` of the
    LSTM in one process silently fixes the sequence length to the example's (seen in this
    project's tests), so every export gets a process of its own.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_export_here, str(run_dir), opset, verify, quantize).result()


def check_quantize(quantize: str | None, kind: str) -> None:
    if quantize is None:
        return
    if quantize not in QUANTIZE:
        raise SentiReviewError(f"unknown --quantize {quantize!r}; expected one of {QUANTIZE}")
    if kind not in QUANTIZABLE:
        raise SentiReviewError(
            f"--quantize {quantize} is for {', '.join(QUANTIZABLE)} artifacts, not {kind}"
        )


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantization of an ONNX file (all its weights inline) into ``target``.

    Per output channel: one scale per row of each weight matrix. On a MiniLM fine-tuned on
    256 IMDb reviews, per-tensor scales moved P(positive) by 0.055 on average over 64
    validation reviews and flipped 12.5% of the answers; per-channel scales 0.030 and 4.7%.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    noisy = logging.getLogger()  # onnxruntime.quantization warns through the root logger
    level = noisy.level
    noisy.setLevel(logging.ERROR)
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        noisy.setLevel(level)
    model = onnx.load(str(target))
    entry = model.metadata_props.add()
    entry.key, entry.value = QUANTIZE_KEY, "int8"
    onnx.save(model, str(target))


def _difference(kind, model, session, inputs, names) -> float:
    """Largest difference in P(positive) between PyTorch and an ONNX Runtime session on one
    batch. The float32 check runs the example and batches of other sizes and lengths (a
    dimension the exporter fixed by mistake shows up there, not in the web process)."""
    with torch.inference_mode():
        tensors = tuple(torch.from_numpy(inputs[n]) for n in names)
        expected = kind.probabilities(model(*tensors).float().numpy())
    (logits,) = session.run(["logits"], dict(inputs))
    return float(np.max(np.abs(kind.probabilities(logits) - expected)))


def _export_here(
    run_dir: str | os.PathLike, opset: int | None, verify: bool, quantize: str | None = None
) -> Path:
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    check_quantize(quantize, config["kind"])
    kind = get_kind(config["kind"])
    model = load_model(run_dir, config, device="cpu")  # eval mode
    example = kind.example(config)
    names = list(kind.inputs)
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    dynamic_shapes = {
        n: ({0: batch, 1: seq} if example[n].ndim == 2 else {0: batch}) for n in names
    }
    args = tuple(torch.from_numpy(example[n]) for n in names)
    target = run_dir / ONNX
    chatter = io.StringIO()
    noisy = [logging.getLogger(name) for name in ("onnxscript", "onnx_ir", "torch.onnx")]
    levels = [logger.level for logger in noisy]
    with atomic_path(target) as tmp:  # in place only when exported and checked
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
            if (run_dir / WEIGHTS).exists() and not quantize:
                saved = link_to_weights(tmp, run_dir / WEIGHTS)
                log.info("model.onnx reads %.1f MB of its weights from %s", saved / 1e6, WEIGHTS)

            def check(limit: float, what: str, feeds: list[dict[str, np.ndarray]]) -> None:
                """``tmp`` against PyTorch: an error past ``limit``, else a log line."""
                session = make_session(tmp, threads=1)
                diff = max(_difference(kind, model, session, f, names) for f in feeds)
                if not diff <= limit:
                    raise SentiReviewError(
                        f"{what} export of {run_dir} disagrees with PyTorch by {diff:.2e} in "
                        f"P(positive) (limit {limit:.0e}); model.onnx not written"
                    )
                log.info("%s ONNX Runtime vs PyTorch: max difference %.1e", what, diff)

            if verify:
                check(TOLERANCE, "ONNX", [example, *_other_shapes(example)])
            if quantize:
                float32 = tmp.with_name(tmp.name + ".float32")
                tmp.replace(float32)
                try:
                    quantize_int8(float32, tmp)
                finally:
                    float32.unlink(missing_ok=True)
                if verify:
                    encode = kind.encoder(run_dir, config)
                    check(INT8_TOLERANCE, "int8", [encode(list(INT8_CHECK_REVIEWS))])
        except SentiReviewError:
            raise
        except Exception as exc:
            log.debug("torch.onnx.export said:\n%s", chatter.getvalue())
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise SentiReviewError(f"ONNX export of {run_dir} failed: {first}") from exc
        finally:
            for logger, level in zip(noisy, levels, strict=True):
                logger.setLevel(level)
    log.info("wrote %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return target
