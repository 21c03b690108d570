"""The `sentireview` command line: one sub-command group per module of this package.

Each ``sentireview.cli.<name>`` module exposes ``register(subparsers)``; the parser it adds
sets ``func`` to a callable taking the parsed ``argparse.Namespace`` and returning an exit code.
Modules are imported lazily-enough: heavy libraries (torch, pandas) are imported inside the
commands, so ``sentireview --help`` stays fast and works without the ``[train]`` extra.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from sentireview import __version__
from sentireview.errors import SentiReviewError

# Order = order in `--help`.
COMMAND_MODULES = ("data", "train", "evaluate", "predict", "export")

log = logging.getLogger("sentireview")


def positive_int(value: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sentireview",
        description="IMDb sentiment with transfer learning: data, training, evaluation, serving.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"sentireview.cli.{name}")
        except ModuleNotFoundError as exc:  # a sub-command whose module is not written yet
            if exc.name == f"sentireview.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def _os_error_line(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{exc.filename}: {reason}" if exc.filename else reason


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def main(argv: Sequence[str] | None = None) -> int:
    # Batch work (a teacher's pass, an evaluation) on ONNX Runtime uses every usable CPU unless
    # SENTIREVIEW_THREADS says otherwise; the web process keeps its one thread per worker.
    # Scoring 512 unlabelled reviews with the int8 MiniLM on 2 cores: 11.9 reviews/s with one
    # thread, 18.5 with two (2026-12-02).
    os.environ.setdefault("SENTIREVIEW_THREADS", str(usable_cpus()))
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except SentiReviewError as exc:
        print(f"sentireview: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # unwritable output, a full disk, a vanished file: one line too
        log.debug("OS error", exc_info=True)
        print(f"sentireview: error: {_os_error_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sentireview: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
