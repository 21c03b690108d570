"""``sentireview export RUN_DIR --format onnx``: add ``model.onnx`` to a run folder."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export", help="export a trained model for serving (ONNX Runtime, no torch needed)"
    )
    p.add_argument("run", type=Path, help="run folder (the artifact); model.onnx is written there")
    p.add_argument("--format", choices=("onnx",), default="onnx", help="export format")
    p.add_argument(
        "--quantize",
        choices=("int8",),
        default=None,
        help="transformer artifacts: ONNX Runtime's dynamic int8 quantization (about 4x smaller)",
    )
    p.add_argument("--opset", type=int, default=None, help="ONNX opset (default: the exporter's)")
    p.add_argument(
        "--no-verify", dest="verify", action="store_false",
        help="skip the check that ONNX Runtime and PyTorch agree",
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from sentireview.export import export_onnx

    path = export_onnx(args.run, opset=args.opset, verify=args.verify, quantize=args.quantize)
    print(path)
    return 0
